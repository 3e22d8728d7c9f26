/**
 * Workload identity federation (`env-oidc`) with the federated token in an
 * environment variable: `DATABRICKS_OIDC_TOKEN`, or the variable that
 * `DATABRICKS_OIDC_TOKEN_ENV` names.
 *
 * - The JWT (RS256 or ES256, from an issuer that a federation policy of the
 *   account trusts) is exchanged at the workspace's OIDC token endpoint with
 *   RFC 8693 token exchange; the workspace token is cached and refreshed ahead
 *   of expiry by `TokenSource.make`.
 * - With `clientId` (`DATABRICKS_CLIENT_ID`) the exchange is for that service
 *   principal's federation policy; without, for the account-wide policy.
 * - The variable is read when the layer is built (a missing or malformed
 *   token is a `ConfigurationError` naming it) and again for every exchange.
 * - The token never appears in an error, a log line or a span.
 *
 * @since 0.3.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as ConfigProvider from "effect/ConfigProvider"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { AuthenticationError, ConfigurationError } from "./DatabricksError.js"
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
  /** The environment variable that holds the token. Default `DATABRICKS_OIDC_TOKEN`. */
  readonly tokenEnv?: string | undefined
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

/**
 * The default `layerConfig` reads: `DATABRICKS_HOST`, and when set
 * `DATABRICKS_CLIENT_ID` and `DATABRICKS_OIDC_TOKEN_ENV`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  host: Config.string("DATABRICKS_HOST"),
  clientId: Credential.optional("DATABRICKS_CLIENT_ID"),
  tokenEnv: Credential.optional("DATABRICKS_OIDC_TOKEN_ENV")
}

const defaultEnv = "DATABRICKS_OIDC_TOKEN"

const names = { host: "host", clientId: "clientId" }
const envNames = { host: "DATABRICKS_HOST", clientId: "DATABRICKS_CLIENT_ID" }

const read = (provider: ConfigProvider.ConfigProvider, name: string) =>
  provider.load(Config.redacted(name).pipe(Config.option)).pipe(
    Effect.map((value) =>
      Option.match(value, {
        onNone: () => Either.left(`${name} is not set`),
        onSome: (jwt) => Federation.checkedJwt(Redacted.value(jwt), name)
      })
    ),
    Effect.orElseSucceed(() => Either.left(`${name} could not be read`))
  )

const build = (options: Options, settingNames: { readonly host: string; readonly clientId: string }) =>
  Effect.gen(function*() {
    const { clientId } = yield* Federation.checkCommon(options, settingNames)
    const tokenEnv = options.tokenEnv === undefined || options.tokenEnv.trim() === ""
      ? defaultEnv
      : options.tokenEnv.trim()
    // Read through the ConfigProvider of the layer's construction, so a refresh in the background reads the same.
    const provider = yield* Effect.configProviderWith(Effect.succeed)
    const first = yield* read(provider, tokenEnv)
    if (Either.isLeft(first)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: tokenEnv,
          message: first.left,
          hint:
            `Set ${tokenEnv} to the workload's ID token (a JWT), or set DATABRICKS_OIDC_TOKEN_ENV to the variable that holds it`
        })
      )
    }
    return yield* Federation.make({
      authType: "env-oidc",
      host: options.host,
      hostSetting: settingNames.host,
      clientId,
      clientIdSetting: settingNames.clientId,
      scopes: options.scopes,
      tokenEndpoint: options.tokenEndpoint,
      audience: undefined,
      audienceSetting: undefined,
      source: tokenEnv,
      freshHint:
        `An environment variable cannot change inside a running process: restart with a fresh token in ${tokenEnv}, or use file-oidc with a token file the platform renews`,
      idToken: () =>
        Effect.flatMap(read(provider, tokenEnv), (jwt) =>
          Either.isRight(jwt)
            ? Effect.succeed(jwt.right)
            : Effect.fail(
              new AuthenticationError({ message: jwt.left, hint: `Set ${tokenEnv} to the workload's ID token` })
            )),
      refreshAhead: options.refreshAhead,
      requestTimeout: options.requestTimeout,
      retry: options.retry
    })
  })

const credential = Credential.make({
  build,
  optionNames: names,
  envNames,
  config,
  hints: { DATABRICKS_HOST: "Set it to the workspace URL" },
  notAnObject: {
    message: "EnvOidc needs an options object with host",
    hint: "Pass { host }, or use EnvOidc.layerConfig()"
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
 * variable's name passed explicitly.
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
