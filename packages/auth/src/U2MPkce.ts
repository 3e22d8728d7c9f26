/**
 * OAuth user-to-machine: a person logs in once in a browser (authorization
 * code with PKCE S256), and the app keeps a refreshable token for them.
 *
 * - **No app registration needed.** Without a `clientId`, the Databricks
 *   CLI's public OAuth app (`databricks-cli`) is used with the redirect
 *   `http://localhost:8020`, or the next free port up to 8040, as the CLI does.
 * - **Login.** A loopback server answers only the redirect path of
 *   `redirectUri` (other requests, such as a favicon, get 404 and do not end
 *   the wait); `state` is 32 random bytes compared in constant time; the login
 *   URL is always logged and `openBrowser` is called with it; no callback
 *   within `loginTimeout` (120 s) fails with an `AuthenticationError`. The
 *   server and its sockets close when the login ends, however it ends.
 * - **Refresh.** Before expiry, in the background, with the `refresh_token`
 *   grant. A refresh never binds a port and never opens a browser. A rejected
 *   refresh token starts a new login only when `interactive` (default: on a
 *   terminal); otherwise the error says to log in again.
 * - **Cache.** Tokens are saved in `tokenCache` (a 0600 file under the user's
 *   config directory by default), so a valid cached login means no browser at
 *   all, and refreshed or rotated tokens are written back.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { ConfigurationError } from "./DatabricksError.js"
import * as Credential from "./internal/credential.js"
import * as OptionChecks from "./internal/options.js"
import type * as Retry from "./internal/retry.js"
import * as TokenValue from "./internal/tokenValue.js"
import * as internal from "./internal/u2m.js"
import type * as TokenCache from "./TokenCache.js"
import type * as TokenSource from "./TokenSource.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The workspace URL. */
  readonly host: string
  /**
   * The OAuth app's client id. Default `databricks-cli`, the Databricks CLI's public app, which every workspace
   * knows (with it, the redirect defaults to `http://localhost:8020`, or the next free port up to 8040).
   */
  readonly clientId?: string | undefined
  /** For a confidential app only. */
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  /**
   * A loopback URL with a port, registered with the app, used as given. Default: `http://localhost:8020` (then
   * 8021 to 8040 when busy) for `databricks-cli`, `http://localhost:8080/callback` for an app of one's own.
   */
  readonly redirectUri?: string | undefined
  /** Default `["all-apis", "offline_access"]`; without `offline_access` there is no refresh token. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** Opens the login URL. Default: the platform's opener (`open`, `xdg-open`, `start`). Failures are logged. */
  readonly openBrowser?: ((url: string) => Effect.Effect<void>) | undefined
  /** How long to wait for the browser login. Default 120 seconds. */
  readonly loginTimeout?: Duration.DurationInput | undefined
  /** Where tokens are kept between runs. Default: a file under the user's config directory. */
  readonly tokenCache?: TokenCache.TokenCache | undefined
  /** May a login be started when there is no usable token? Default: when stdin and stdout are a terminal. */
  readonly interactive?: boolean | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** Deadline for one HTTP request to the identity provider. Default 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Transient-failure retries for token requests. */
  readonly retry?: Retry.RetryOptions | undefined
}

/** A blank optional setting counts as unset, so the default applies (as it always has for these two). */
const unlessBlank = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === "" ? undefined : value

/**
 * The default `layerConfig` reads: `DATABRICKS_HOST`, and optionally
 * `DATABRICKS_U2M_CLIENT_ID` (unset or blank: `databricks-cli`),
 * `DATABRICKS_U2M_CLIENT_SECRET` and `DATABRICKS_REDIRECT_URI` (unset or
 * blank: the default redirect).
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  host: Config.string("DATABRICKS_HOST"),
  clientId: Credential.optional("DATABRICKS_U2M_CLIENT_ID").pipe(Config.map(unlessBlank)),
  clientSecret: Config.redacted("DATABRICKS_U2M_CLIENT_SECRET").pipe(Config.option, Config.map(Option.getOrUndefined)),
  redirectUri: Credential.optional("DATABRICKS_REDIRECT_URI").pipe(Config.map(unlessBlank))
}

/**
 * Checks the options' types and the values that go into headers (the client
 * id and secret of HTTP Basic, for a confidential app) before anything else,
 * so untyped callers get a `ConfigurationError` naming the option, never a
 * defect.
 */
const checked = (options: Options, names: internal.Names): Effect.Effect<Options, ConfigurationError> =>
  Effect.gen(function*() {
    yield* OptionChecks.optionalString(options.host, names.host, "Set it to the workspace URL")
    yield* OptionChecks.optionalString(
      options.redirectUri,
      names.redirectUri,
      `Use a loopback URL such as ${internal.defaultRedirectUri}`
    )
    const clientId = options.clientId === undefined ? undefined : yield* TokenValue.configuredText(options.clientId, {
      name: names.clientId,
      hint: "Use the client id of the OAuth app registered for user login, or leave it out for databricks-cli"
    })
    const clientSecret = options.clientSecret === undefined ? undefined : yield* TokenValue.configuredSecret(
      options.clientSecret,
      { name: names.clientSecret, hint: "Use the OAuth app's secret, or leave it out for a public app" }
    )
    yield* OptionChecks.durations(options, ["loginTimeout", "refreshAhead", "requestTimeout"])
    const scopes: unknown = options.scopes
    if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((scope) => typeof scope === "string"))) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "scopes",
          message: "scopes must be an array of strings",
          hint: "Leave it out for [\"all-apis\", \"offline_access\"]"
        })
      )
    }
    return {
      ...options,
      ...(clientId === undefined ? {} : { clientId }),
      ...(clientSecret === undefined ? {} : { clientSecret })
    }
  })

const credential = Credential.make({
  build: (options: Options, names: internal.Names) =>
    Effect.flatMap(checked(options, names), (valid) => internal.make(valid, names)),
  optionNames: internal.optionNames,
  envNames: internal.envNames,
  config,
  hints: { DATABRICKS_HOST: "Set it to the workspace URL" },
  notAnObject: {
    message: "U2MPkce needs an options object with host",
    hint: "Pass { host }, or use U2MPkce.layerConfig()"
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
 * `U2MPkce.layerConfig({ ...U2MPkce.config, loginTimeout: Config.succeed("3 minutes") })`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layerConfig(options)
