/**
 * Workload identity federation (`file-oidc`) with the federated token in a
 * file (`DATABRICKS_OIDC_TOKEN_FILEPATH`), such as a Kubernetes projected
 * service-account token that the kubelet renews.
 *
 * - The file is read when the layer is built (missing, empty or not a JWT is
 *   a `ConfigurationError` naming the setting) and read again for every
 *   exchange, so a renewed token is picked up.
 * - The JWT is exchanged at the workspace's OIDC token endpoint with RFC 8693
 *   token exchange; the workspace token is cached and refreshed ahead of
 *   expiry by `TokenSource.make`.
 * - With `clientId` (`DATABRICKS_CLIENT_ID`) the exchange is for that service
 *   principal's federation policy; without, for the account-wide policy.
 * - Only a regular file of at most 64 KiB is read, within 5 seconds; the token
 *   never appears in an error, a log line or a span.
 *
 * @since 0.3.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import * as ConfigError from "effect/ConfigError"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { AuthenticationError, ConfigurationError } from "./DatabricksError.js"
import * as BoundedRead from "./internal/boundedRead.js"
import * as Credential from "./internal/credential.js"
import * as Federation from "./internal/federation.js"
import type * as Retry from "./internal/retry.js"
import type * as TokenSource from "./TokenSource.js"

/**
 * @since 0.3.0
 * @category options
 */
export interface Options {
  /** The workspace URL. */
  readonly host: string
  /** The service principal whose federation policy trusts the token; leave it out for an account-wide policy. */
  readonly clientId?: string | undefined
  /** The file that holds the token. */
  readonly tokenFilepath: string
  /** Default `["all-apis"]`. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Skip discovery and use this token endpoint (for example `{host}/oidc/v1/token`). */
  readonly tokenEndpoint?: string | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** Deadline for one HTTP request to the workspace. Default 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Transient-failure retries: `times` (default 4), `base` (250 ms), `maxDelay` (5 s). */
  readonly retry?: Retry.RetryOptions | undefined
}

const optional = Credential.optional

/**
 * The default `layerConfig` reads: `DATABRICKS_HOST`,
 * `DATABRICKS_OIDC_TOKEN_FILEPATH` (or the older `DATABRICKS_OIDC_TOKEN_FILE`
 * that databricks-sdk-py still reads), and when set `DATABRICKS_CLIENT_ID`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  host: Config.string("DATABRICKS_HOST"),
  clientId: optional("DATABRICKS_CLIENT_ID"),
  tokenFilepath: Config.string("DATABRICKS_OIDC_TOKEN_FILEPATH").pipe(
    // The alias only stands in for a missing variable: one the provider cannot read fails, naming it. When
    // neither is set, the error names the first: the current variable, not the alias.
    Config.orElseIf({
      if: ConfigError.isMissingDataOnly,
      orElse: () => Config.string("DATABRICKS_OIDC_TOKEN_FILE")
    })
  )
}

const maxBytes = Federation.maxJwtLength

const read = (path: string) =>
  BoundedRead.readTextFile(path, { maxBytes }).pipe(
    Effect.map((text) => Federation.checkedJwt(text, `the file ${path}`)),
    Effect.catchAll((refusal) =>
      Effect.succeed(Either.left(
        refusal._tag === "TooLarge"
          ? `The federated token in the file ${path} is larger than ${maxBytes} bytes, more than a JWT`
          : BoundedRead.describe(path, refusal)
      ))
    )
  )

const build = (
  options: Options,
  names: { readonly host: string; readonly clientId: string; readonly tokenFilepath: string }
) =>
  Effect.gen(function*() {
    const { clientId } = yield* Federation.checkCommon(options, names)
    const path = typeof options.tokenFilepath === "string" ? options.tokenFilepath.trim() : ""
    const hint =
      `Set ${names.tokenFilepath} to the file that holds the workload's ID token (a JWT), such as a Kubernetes projected service-account token`
    if (path === "") {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: names.tokenFilepath,
          message: `${names.tokenFilepath} is not set. ${hint}.`,
          hint
        })
      )
    }
    const first = yield* read(path)
    if (Either.isLeft(first)) {
      return yield* Effect.fail(new ConfigurationError({ setting: names.tokenFilepath, message: first.left, hint }))
    }
    return yield* Federation.make({
      authType: "file-oidc",
      host: options.host,
      hostSetting: names.host,
      clientId,
      clientIdSetting: names.clientId,
      scopes: options.scopes,
      tokenEndpoint: options.tokenEndpoint,
      audience: undefined,
      audienceSetting: undefined,
      source: `the file ${path}`,
      freshHint:
        `The file is read again for every exchange: have the platform renew it (a Kubernetes projected token is renewed by the kubelet) before the token expires`,
      idToken: () =>
        Effect.flatMap(read(path), (jwt) =>
          Either.isRight(jwt)
            ? Effect.succeed(jwt.right)
            : Effect.fail(new AuthenticationError({ message: jwt.left, hint: `${names.tokenFilepath}: ${hint}` }))),
      refreshAhead: options.refreshAhead,
      requestTimeout: options.requestTimeout,
      retry: options.retry
    })
  })

const names = { host: "host", clientId: "clientId", tokenFilepath: "tokenFilepath" }
const envNames = {
  host: "DATABRICKS_HOST",
  clientId: "DATABRICKS_CLIENT_ID",
  tokenFilepath: "DATABRICKS_OIDC_TOKEN_FILEPATH"
}

const credential = Credential.make({
  build,
  optionNames: names,
  envNames,
  config,
  hints: {
    DATABRICKS_HOST: "Set it to the workspace URL",
    DATABRICKS_OIDC_TOKEN_FILEPATH: "Set it to the file that holds the workload's ID token (a JWT)"
  },
  notAnObject: {
    message: "FileOidc needs an options object with host and tokenFilepath",
    hint: "Pass { host, tokenFilepath }, or use FileOidc.layerConfig()"
  }
})

/**
 * @since 0.3.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> => credential.make(options)

/**
 * The entry point for a resolved configuration: host, client id and the
 * file's path passed explicitly.
 *
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layer(options)

/**
 * Reads the options through `Config`: by default `config`, the Databricks
 * names. A setting that is missing or unreadable is a `ConfigurationError`
 * naming it.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layerConfig(options)
