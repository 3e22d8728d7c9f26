/**
 * The Databricks Apps runtime: where an app learns that it runs there, who
 * it is (its own service principal), who is looking at it (the viewer whose
 * token the Apps proxy forwards), and where to listen.
 *
 * - **Detection**: Databricks sets `DATABRICKS_APP_NAME` (and
 *   `DATABRICKS_APP_PORT`, `DATABRICKS_HOST`, `DATABRICKS_WORKSPACE_ID`,
 *   `DATABRICKS_CLIENT_ID`, `DATABRICKS_CLIENT_SECRET`) in every app.
 * - **The app's identity**: `layerServicePrincipal` is `LocalM2M` over the
 *   service principal Databricks creates for the app and injects as
 *   `DATABRICKS_CLIENT_ID`/`DATABRICKS_CLIENT_SECRET`.
 * - **The viewer**: with user authorization enabled, the proxy in front of
 *   the app forwards the viewer's own workspace token in
 *   `X-Forwarded-Access-Token`, with `X-Forwarded-User`, `-Email` and
 *   `-Preferred-Username`. `viewerFromHeaders` reads them. The token is used
 *   as is (it is already a workspace token, scoped to what the app asked
 *   for); its expiry comes from its JWT `exp` when it is a JWT. The app
 *   cannot refresh it: a refusal from the workspace is the viewer's
 *   `AuthenticationError`, never retried as the app.
 * - **Never the app's identity by accident**: on the platform, a request
 *   without the forwarded token fails with an `AuthenticationError` that
 *   says user authorization must be enabled; it never falls back to the
 *   service principal.
 * - **Where to listen**: `serverAddress` gives `0.0.0.0` and
 *   `DATABRICKS_APP_PORT` on the platform, `127.0.0.1` and port 8000 off it.
 *
 * The forwarded headers are trusted only on the platform, where the proxy sets
 * them and removes any a client sent. Off the platform anyone can send them,
 * so `viewerFromHeaders` ignores them there.
 *
 * @since 0.3.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { AuthenticationError, ConfigurationError } from "./DatabricksError.js"
import * as Settings from "./internal/config.js"
import * as Expiry from "./internal/expiry.js"
import type * as Retry from "./internal/retry.js"
import * as TokenValue from "./internal/tokenValue.js"
import * as LocalM2M from "./LocalM2M.js"
import type * as TokenSource from "./TokenSource.js"

/**
 * The headers the Databricks Apps proxy adds to every request it forwards to
 * the app (lower case, as Node and `@effect/platform` present them).
 * `accessToken` comes only with user authorization enabled.
 *
 * @since 0.3.0
 * @category constants
 */
export const headerNames = {
  accessToken: "x-forwarded-access-token",
  user: "x-forwarded-user",
  email: "x-forwarded-email",
  preferredUsername: "x-forwarded-preferred-username",
  host: "x-forwarded-host",
  realIp: "x-real-ip",
  requestId: "x-request-id"
} as const

/**
 * The port an app listens on off the platform: the Databricks CLI's
 * `apps run-local` default.
 *
 * @since 0.3.0
 * @category constants
 */
export const defaultLocalPort = 8000

/**
 * The authType of a viewer's forwarded token source.
 *
 * @since 0.3.0
 * @category constants
 */
export const viewerAuthType = "databricks-apps-user"

/**
 * What the runtime tells the app about itself.
 *
 * @since 0.3.0
 * @category models
 */
export interface Runtime {
  /** `DATABRICKS_APP_NAME`. */
  readonly appName: string
  /** `DATABRICKS_APP_PORT`, when set. */
  readonly port: Option.Option<number>
  /** `DATABRICKS_HOST`: the workspace the app belongs to. */
  readonly workspaceHost: Option.Option<string>
  /** `DATABRICKS_WORKSPACE_ID`. */
  readonly workspaceId: Option.Option<string>
  /** `DATABRICKS_CLIENT_ID`: the app's service principal. */
  readonly clientId: Option.Option<string>
}

const present = (value: string | undefined): Option.Option<string> =>
  value === undefined || value.trim() === "" ? Option.none() : Option.some(value.trim())

/** `DATABRICKS_APP_PORT` as a TCP port, or a `ConfigurationError` naming it. */
const appPort: Effect.Effect<Option.Option<number>, ConfigurationError> = Effect.flatMap(
  Settings.env("DATABRICKS_APP_PORT"),
  (raw) => {
    const text = present(raw)
    if (Option.isNone(text)) return Effect.succeed(Option.none())
    const port = /^\d{1,5}$/.test(text.value) ? Number(text.value) : Number.NaN
    return port >= 1 && port <= 65535
      ? Effect.succeed(Option.some(port))
      : Effect.fail(
        new ConfigurationError({
          setting: "DATABRICKS_APP_PORT",
          message: "DATABRICKS_APP_PORT is not a TCP port (an integer from 1 to 65535)",
          hint: "Databricks Apps sets it; locally, set it to a free port or leave it unset for 8000"
        })
      )
  }
)

/**
 * True when the app runs on Databricks Apps (or under `databricks apps
 * run-local`, which sets the same variables): `DATABRICKS_APP_NAME` is set.
 * Read through Effect's `ConfigProvider`, so tests can swap it.
 *
 * @since 0.3.0
 * @category detection
 */
export const isDatabricksApps: Effect.Effect<boolean> = Effect.map(
  // Public with no error channel: an unreadable DATABRICKS_APP_NAME counts as unset here (`detect` fails on it).
  Settings.envOrUnset("DATABRICKS_APP_NAME"),
  (name) => Option.isSome(present(name))
)

/**
 * The runtime's description, or `None` off the platform. A malformed
 * `DATABRICKS_APP_PORT` is a `ConfigurationError`.
 *
 * @since 0.3.0
 * @category detection
 */
export const detect: Effect.Effect<Option.Option<Runtime>, ConfigurationError> = Effect.gen(function*() {
  const appName = present(yield* Settings.env("DATABRICKS_APP_NAME"))
  if (Option.isNone(appName)) return Option.none()
  return Option.some({
    appName: appName.value,
    port: yield* appPort,
    workspaceHost: present(yield* Settings.env("DATABRICKS_HOST")),
    workspaceId: present(yield* Settings.env("DATABRICKS_WORKSPACE_ID")),
    clientId: present(yield* Settings.env("DATABRICKS_CLIENT_ID"))
  })
})

/**
 * Where the app's HTTP server listens.
 *
 * @since 0.3.0
 * @category models
 */
export interface ServerAddress {
  readonly host: string
  readonly port: number
}

/**
 * Where to listen: on the platform `0.0.0.0` (the proxy reaches the app from
 * outside its container) and `DATABRICKS_APP_PORT`, which is required there;
 * off it `127.0.0.1` (nothing else should reach a development server) and
 * `DATABRICKS_APP_PORT` if set, else `defaultPort` (8000).
 *
 * Pass the result to `NodeHttpServer.layer(() => Http.createServer(), address)`.
 *
 * @since 0.3.0
 * @category server
 */
export const serverAddress = (
  options?: { readonly defaultPort?: number | undefined }
): Effect.Effect<ServerAddress, ConfigurationError> =>
  Effect.gen(function*() {
    const fallback = options?.defaultPort ?? defaultLocalPort
    if (!Number.isInteger(fallback) || fallback < 0 || fallback > 65535) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "defaultPort",
          message: "defaultPort must be an integer from 0 to 65535",
          hint: "Leave it out for 8000, or pass 0 for any free port"
        })
      )
    }
    const port = yield* appPort
    if (yield* isDatabricksApps) {
      if (Option.isNone(port)) {
        return yield* Effect.fail(
          new ConfigurationError({
            setting: "DATABRICKS_APP_PORT",
            message:
              "DATABRICKS_APP_PORT is not set, although DATABRICKS_APP_NAME says the app runs on Databricks Apps",
            hint: "Databricks Apps sets it for every app; outside the platform, unset DATABRICKS_APP_NAME"
          })
        )
      }
      return { host: "0.0.0.0", port: port.value }
    }
    return { host: "127.0.0.1", port: Option.getOrElse(port, () => fallback) }
  })

/**
 * Options of the app's own credential: everything of `LocalM2M.Options` but
 * the host and the client id and secret, which the runtime provides.
 *
 * @since 0.3.0
 * @category options
 */
export interface ServicePrincipalOptions {
  /** Default `["all-apis"]`. */
  readonly scopes?: ReadonlyArray<string> | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** Deadline for one HTTP request to the identity provider. Default 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly retry?: Retry.RetryOptions | undefined
}

/**
 * The app acting as itself: OAuth M2M (`LocalM2M`) with the service
 * principal Databricks created for the app, from `DATABRICKS_HOST`,
 * `DATABRICKS_CLIENT_ID` and `DATABRICKS_CLIENT_SECRET`. Use it for work
 * that belongs to the app (shared data, background jobs), and a viewer's
 * token for what the viewer may see.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerServicePrincipal = (
  options?: ServicePrincipalOptions
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> =>
  Layer.unwrapEffect(Effect.gen(function*() {
    const onPlatform = yield* isDatabricksApps
    const hint = (what: string) =>
      onPlatform
        ? `Databricks Apps sets it for every app (the ${what} of the app's service principal); check the app's environment`
        : `Databricks Apps sets it on the platform; locally, set it to the ${what} of a service principal`
    const host = yield* Settings.nonBlank(yield* Settings.env("DATABRICKS_HOST"), {
      name: "DATABRICKS_HOST",
      hint: onPlatform ? "Databricks Apps sets it for every app" : "Set it to the workspace URL"
    })
    const clientId = yield* Settings.nonBlank(yield* Settings.env("DATABRICKS_CLIENT_ID"), {
      name: "DATABRICKS_CLIENT_ID",
      hint: hint("client id")
    })
    const clientSecret = yield* Settings.nonBlankSecret(yield* Settings.envSecret("DATABRICKS_CLIENT_SECRET"), {
      name: "DATABRICKS_CLIENT_SECRET",
      hint: hint("OAuth secret")
    })
    return LocalM2M.layer({ ...options, host, clientId, clientSecret })
  }))

/**
 * The viewer of one request, as the Apps proxy forwarded them.
 *
 * @since 0.3.0
 * @category models
 */
export interface ForwardedViewer {
  /**
   * A stable key for the viewer across requests: `X-Forwarded-User`, the
   * identifier the workspace's identity provider gives the user. The token
   * changes from request to request; this does not.
   */
  readonly key: string
  /** `X-Forwarded-User`. */
  readonly user: string
  /** `X-Forwarded-Email`. */
  readonly email: Option.Option<string>
  /** `X-Forwarded-Preferred-Username`. */
  readonly preferredUsername: Option.Option<string>
  /** The forwarded token, and its expiry from the JWT `exp` when it is a JWT. */
  readonly token: TokenSource.AccessToken
  /** The token as a `TokenSource` (see `forwardedTokenSource`). */
  readonly tokenSource: TokenSource.TokenSource
  /** `X-Request-Id`: the proxy's id of this request, for logs. */
  readonly requestId: Option.Option<string>
  /** `X-Real-Ip`: the client's address. */
  readonly realIp: Option.Option<string>
  /** `X-Forwarded-Host`: the host the client asked for. */
  readonly forwardedHost: Option.Option<string>
}

/**
 * Request headers as servers present them: Node's `IncomingHttpHeaders`,
 * `@effect/platform`'s `Headers`, or a Fetch `Headers` object.
 *
 * @since 0.3.0
 * @category models
 */
export type RequestHeaders =
  | Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  | {
    /** A header's value by name, as the Fetch API's `Headers.get`. */
    readonly get: (name: string) => string | null
  }

/** A header's first value, trimmed; `None` when absent or blank. Any letter case. */
const header = (headers: RequestHeaders, name: string): Option.Option<string> => {
  if (typeof headers !== "object" || headers === null) return Option.none()
  if (typeof (headers as { get?: unknown }).get === "function" && !Array.isArray(headers)) {
    const got: unknown = (headers as { get: (name: string) => unknown }).get(name)
    if (typeof got === "string" || got === null || got === undefined) {
      return present(typeof got === "string" ? got : undefined)
    }
  }
  for (const [key, value] of Object.entries(headers as Record<string, unknown>)) {
    if (key.toLowerCase() !== name) continue
    const first: unknown = Array.isArray(value) ? value[0] : value
    if (typeof first === "string") return present(first)
  }
  return Option.none()
}

/**
 * The error of a request that reached the app on the platform without the
 * viewer's token.
 *
 * @since 0.3.0
 * @category errors
 */
export const userAuthorizationRequired: AuthenticationError = new AuthenticationError({
  message:
    "The request has no X-Forwarded-Access-Token: user authorization is not enabled for this Databricks app, so the app cannot act as the viewer",
  hint:
    "Enable user authorization for the app (app settings, Configure, User authorization; a workspace admin may need to enable the feature first) and add the scopes it needs, for example sql to query SQL warehouses and iam.current-user.read to read the current user. It is never replaced by the app's own service principal: use DatabricksApps.layerServicePrincipal where acting as the app is intended"
})

const notThroughProxy = new AuthenticationError({
  message:
    "The request has an X-Forwarded-Access-Token but no X-Forwarded-User, so it did not come through the Databricks Apps proxy",
  hint: "Send requests to the app's URL, not to its port inside the platform"
})

const refused = new AuthenticationError({
  message: "The workspace refused the viewer's forwarded access token (expired or revoked)",
  hint:
    "The app cannot refresh a viewer's token: the Databricks Apps proxy forwards a fresh one with the viewer's next request, so ask them to reload. It is not retried as the app's service principal"
})

/**
 * A viewer's forwarded token as a `TokenSource`, used as is: its expiry is
 * the JWT `exp` when it is a JWT (otherwise unknown). The app cannot refresh
 * it, so `invalidate` (which the clients call after a 401, or a 403 for an
 * expired token) marks it refused: every later `token` fails with the
 * viewer's `AuthenticationError` instead of sending it again. A token that
 * cannot be sent in a header is an `AuthenticationError` that does not show it.
 *
 * @since 0.3.0
 * @category constructors
 */
export const forwardedTokenSource = (
  token: Redacted.Redacted<string>
): Effect.Effect<TokenSource.TokenSource, AuthenticationError> =>
  Effect.gen(function*() {
    const value = yield* TokenValue.issued(token, "The Databricks Apps proxy")
    const now = yield* Clock.currentTimeMillis
    const expiresAt: Option.Option<DateTime.Utc> = yield* Expiry.resolve({ token: Redacted.value(value) }, now)
    let isRefused = false
    const accessToken: TokenSource.AccessToken = { value, expiresAt }
    return {
      authType: viewerAuthType,
      token: Effect.suspend(() => isRefused ? Effect.fail(refused) : Effect.succeed(accessToken)),
      invalidate: Effect.sync(() => {
        isRefused = true
      })
    }
  })

/**
 * @since 0.3.0
 * @category options
 */
export interface ViewerOptions {
  /**
   * Whether the app runs on Databricks Apps. Default: detected
   * (`isDatabricksApps`). Off the platform the forwarded headers are ignored.
   */
  readonly onPlatform?: boolean | undefined
}

/**
 * The viewer of a request, from the headers the Apps proxy forwarded.
 *
 * - On the platform: `Some(viewer)`; a request without
 *   `X-Forwarded-Access-Token` fails with `userAuthorizationRequired` (user
 *   authorization is not enabled), one with a token but no
 *   `X-Forwarded-User` with an `AuthenticationError` too. Never the app's
 *   identity.
 * - Off the platform: `None`, whatever the headers say (anyone can send
 *   them there); the caller uses its local credential.
 *
 * The token is checked only for what a header can carry; the workspace
 * checks the rest when it is used.
 *
 * @since 0.3.0
 * @category viewers
 */
export const viewerFromHeaders = (
  headers: RequestHeaders,
  options?: ViewerOptions
): Effect.Effect<Option.Option<ForwardedViewer>, AuthenticationError> =>
  Effect.gen(function*() {
    const onPlatform = typeof options?.onPlatform === "boolean" ? options.onPlatform : yield* isDatabricksApps
    if (!onPlatform) return Option.none()
    const token = header(headers, headerNames.accessToken)
    if (Option.isNone(token)) return yield* Effect.fail(userAuthorizationRequired)
    const user = header(headers, headerNames.user)
    if (Option.isNone(user)) return yield* Effect.fail(notThroughProxy)
    const tokenSource = yield* forwardedTokenSource(Redacted.make(token.value))
    return Option.some({
      key: user.value,
      user: user.value,
      email: header(headers, headerNames.email),
      preferredUsername: header(headers, headerNames.preferredUsername),
      token: yield* tokenSource.token,
      tokenSource,
      requestId: header(headers, headerNames.requestId),
      realIp: header(headers, headerNames.realIp),
      forwardedHost: header(headers, headerNames.host)
    })
  })
