/**
 * `oauth-m2m` with the secret held here: a service principal's client id and
 * OAuth secret, which this process holds ("local", unlike `ConnectContent`,
 * where Posit Connect holds the credential), exchanged for short-lived tokens
 * with the `client_credentials` grant.
 *
 * - The token endpoint comes from OIDC discovery at
 *   `{host}/oidc/.well-known/oauth-authorization-server` (cached after the
 *   first success), or from `tokenEndpoint` when given.
 * - Client authentication is HTTP Basic; `scopes` default to `["all-apis"]`.
 * - Tokens are cached by `TokenSource.make`: refreshed ahead of expiry in the
 *   background, one request at a time.
 * - 429, 5xx, timeouts and network failures are retried with exponential
 *   backoff and jitter; an OAuth error (4xx) fails at once, as an
 *   `AuthenticationError` that carries the OAuth `error`, its description and
 *   a hint.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { ConfigurationError } from "./DatabricksError.js"
import * as Credential from "./internal/credential.js"
import * as internal from "./internal/m2m.js"
import * as OptionChecks from "./internal/options.js"
import type * as Retry from "./internal/retry.js"
import * as TokenValue from "./internal/tokenValue.js"
import type * as TokenSource from "./TokenSource.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The workspace URL, for example `https://adb-123.4.azuredatabricks.net`. */
  readonly host: string
  /** The service principal's application (client) id. */
  readonly clientId: string
  /** An OAuth secret of the service principal. */
  readonly clientSecret: Redacted.Redacted<string>
  /** Default `["all-apis"]`. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Skip discovery and use this token endpoint (for example `{host}/oidc/v1/token`). */
  readonly tokenEndpoint?: string | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** Deadline for one HTTP request to the identity provider. Default 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Transient-failure retries: `times` (default 4), `base` (250 ms), `maxDelay` (5 s). */
  readonly retry?: Retry.RetryOptions | undefined
}

/**
 * The default `layerConfig` reads: `DATABRICKS_HOST`, `DATABRICKS_CLIENT_ID`
 * and `DATABRICKS_CLIENT_SECRET`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  host: Config.string("DATABRICKS_HOST"),
  clientId: Config.string("DATABRICKS_CLIENT_ID"),
  clientSecret: Config.redacted("DATABRICKS_CLIENT_SECRET")
}

/**
 * Checks the options' types and the values sent in headers before anything
 * else, so untyped callers get a `ConfigurationError` naming the option, never
 * a defect. The client id and secret go into HTTP Basic authentication, so
 * they follow the one rule for header values (`internal/tokenValue.ts`).
 */
const checked = (
  options: Options,
  names: internal.Names
): Effect.Effect<Options, ConfigurationError> =>
  Effect.gen(function*() {
    yield* OptionChecks.optionalString(options.host, names.host, "Set it to the workspace URL")
    const verb = names === internal.envNames ? "Set it to" : "Use"
    const clientId = yield* TokenValue.configuredText(options.clientId, {
      name: names.clientId,
      hint: `${verb} the service principal's application (client) id`
    })
    const clientSecret = yield* TokenValue.configuredSecret(options.clientSecret, {
      name: names.clientSecret,
      hint: `${verb} an OAuth secret of the service principal`
    })
    yield* OptionChecks.optionalString(options.tokenEndpoint, "tokenEndpoint", "Pass the token endpoint's URL")
    yield* OptionChecks.durations(options, ["refreshAhead", "requestTimeout"])
    const scopes: unknown = options.scopes
    if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((scope) => typeof scope === "string"))) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "scopes",
          message: "scopes must be an array of strings",
          hint: "Leave it out for [\"all-apis\"]"
        })
      )
    }
    return { ...options, clientId, clientSecret }
  })

const credential = Credential.make({
  build: (options: Options, names: internal.Names) =>
    Effect.flatMap(checked(options, names), (valid) => internal.make(valid, names)),
  optionNames: internal.optionNames,
  envNames: internal.envNames,
  config,
  hints: {
    DATABRICKS_HOST: "Set it to the workspace URL",
    DATABRICKS_CLIENT_ID: "Set it to the service principal's application (client) id",
    DATABRICKS_CLIENT_SECRET: "Set it to an OAuth secret of the service principal"
  },
  notAnObject: {
    message: "LocalM2M needs an options object with host, clientId and clientSecret",
    hint: "Pass { host, clientId, clientSecret: Redacted.make(...) }, or use LocalM2M.layerConfig()"
  }
})

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> => credential.make(options)

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layer(options)

/**
 * Reads the options through `Config`: by default `config`, the Databricks
 * names. A setting that is missing or unreadable is a `ConfigurationError`
 * naming it. Other options go in the same `Config`, for example
 * `LocalM2M.layerConfig({ ...LocalM2M.config, scopes: Config.succeed(["sql"]) })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layerConfig(options)
