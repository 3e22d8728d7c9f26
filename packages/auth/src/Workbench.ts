/**
 * Posit Workbench: the Databricks credentials Workbench manages for a
 * session, two ways.
 *
 * - **Managed Databricks credentials** (`layerDatabricks`): when the user
 *   picks a Databricks workspace in the New Session dialog, Workbench writes
 *   a `.databrickscfg` in a temporary directory, points the session's
 *   `DATABRICKS_CONFIG_FILE` at it, sets `DATABRICKS_CONFIG_PROFILE=workbench`,
 *   and keeps the OAuth token of its `[workbench]` profile (`host`, `token`)
 *   refreshed while the session is active. `AuthConfig.layer()` resolves that
 *   profile on its own (as the Databricks SDKs do); `layerDatabricks` reads
 *   only it. Either way the file is read again whenever a new token is needed
 *   (near the token's expiry, or after a refusal), so a long-running process
 *   follows Workbench's refreshes.
 * - **The OAuth integration API** (`layerOAuthIntegration`, Workbench
 *   2026.01.0 and later, in Preview): a session asks Workbench for the
 *   current access token of an OAuth integration the administrator set up
 *   (for example a Databricks workspace as a custom OAuth integration), by
 *   its GUID, with the session's RPC cookie. Workbench refreshes the token.
 *
 * Both act as the session's user; a Workbench session has one user, so there
 * is no per-viewer identity here (see `Viewer` for Connect and Databricks
 * Apps).
 *
 * @since 0.3.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { AuthenticationError, ConfigurationError } from "./DatabricksError.js"
import * as Settings from "./internal/config.js"
import * as HttpErrors from "./internal/httpErrors.js"
import * as Profile from "./internal/profile.js"
import * as ProfileToken from "./internal/profileToken.js"
import * as Redirects from "./internal/redirects.js"
import * as Retry from "./internal/retry.js"
import * as TokenSource from "./TokenSource.js"

/**
 * The profile Workbench writes its managed Databricks credentials to.
 *
 * @since 0.3.0
 * @category constants
 */
export const profileName = "workbench"

/**
 * The `authType` of both sources (posit-sdk-py's `POSIT_WORKBENCH_AUTH_TYPE`).
 *
 * @since 0.3.0
 * @category constants
 */
export const authType = "posit-workbench"

/**
 * The first Workbench version with the OAuth integration API.
 *
 * @since 0.3.0
 * @category constants
 */
export const oauthIntegrationsSince = "2026.01.0"

/**
 * The header that carries the session's RPC cookie to Workbench.
 *
 * @since 0.3.0
 * @category constants
 */
export const rpcCookieHeader = "X-RS-Session-Server-RPC-Cookie"

const staleHint =
  "Workbench refreshes managed Databricks credentials only while the session is active: sign in to the workspace again from the Workbench home page, or start a new session"

/**
 * True when this session has Workbench-managed Databricks credentials:
 * `DATABRICKS_CONFIG_PROFILE=workbench` and `DATABRICKS_CONFIG_FILE` set.
 *
 * @since 0.3.0
 * @category detection
 */
export const hasManagedDatabricks: Effect.Effect<boolean> = Effect.gen(function*() {
  // Public with no error channel: an unreadable variable counts as unset here (envOrUnset).
  const profile = (yield* Settings.envOrUnset("DATABRICKS_CONFIG_PROFILE"))?.trim()
  const file = (yield* Settings.envOrUnset("DATABRICKS_CONFIG_FILE"))?.trim()
  return profile === profileName && file !== undefined && file !== ""
})

/**
 * The workspace of the managed credentials and a source for their token.
 *
 * @since 0.3.0
 * @category models
 */
export interface ManagedDatabricks {
  readonly host: string
  readonly tokenSource: TokenSource.TokenSource
}

/**
 * Reads the `workbench` profile of `DATABRICKS_CONFIG_FILE` (or `configFile`):
 * its `host`, and a `TokenSource` that reads its `token` again whenever a
 * new one is needed. Nothing else (no other variable, no other profile) is
 * consulted. Outside such a session it is a `ConfigurationError` that says
 * how to start one.
 *
 * @since 0.3.0
 * @category constructors
 */
export const makeDatabricks = (
  options?: { readonly configFile?: string | undefined }
): Effect.Effect<ManagedDatabricks, ConfigurationError, Scope.Scope> =>
  Effect.gen(function*() {
    const setting = options?.configFile === undefined ? "DATABRICKS_CONFIG_FILE" : "configFile"
    const given = options?.configFile ?? (yield* Settings.env("DATABRICKS_CONFIG_FILE"))?.trim()
    const notManaged = (problem: string) =>
      new ConfigurationError({
        setting,
        message: `No Workbench-managed Databricks credentials: ${problem}`,
        hint:
          "In Posit Workbench, choose a Databricks workspace in the New Session dialog and sign in (the administrator must enable the Databricks integration); elsewhere use AuthConfig.layer()"
      })
    if (given === undefined || given === "") return yield* Effect.fail(notManaged(`${setting} is not set`))
    const path = Profile.expandHome(given)
    const file = yield* Profile.load(path, setting)
    if (file === undefined) return yield* Effect.fail(notManaged(`${path} does not exist`))
    const section = file.sections.get(profileName)
    if (section === undefined) return yield* Effect.fail(notManaged(`${path} has no [${profileName}] profile`))
    const host = section.get("host")?.trim()
    if (host === undefined || host === "") {
      return yield* Effect.fail(notManaged(`the [${profileName}] profile of ${path} has no host`))
    }
    // The first read is checked now, so a session without a usable token fails at startup.
    yield* ProfileToken.read({ file: path, profile: profileName, authType, staleHint }).pipe(
      Effect.mapError((error) => notManaged(error.message))
    )
    const tokenSource = yield* ProfileToken.make({ file: path, profile: profileName, authType, staleHint })
    return { host, tokenSource }
  })

/**
 * The managed credentials as the `TokenSource`.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerDatabricks = (
  options?: { readonly configFile?: string | undefined }
): Layer.Layer<TokenSource.TokenSource, ConfigurationError> =>
  Layer.scoped(TokenSource.TokenSource, Effect.map(makeDatabricks(options), (managed) => managed.tokenSource))

/**
 * @since 0.3.0
 * @category options
 */
export interface OAuthIntegrationOptions {
  /** The integration's GUID (its "Integration ID" in Workbench's Managed Credentials settings). */
  readonly audience: string
  /** Workbench's address for the session. Default `RS_SERVER_ADDRESS`. */
  readonly server?: string | undefined
  /**
   * The session's RPC cookie. Default: `$PWB_SESSION_RUNTIME_DIR/rpc_cookie`,
   * read for every request (Workbench renews it), else `RS_SESSION_RPC_COOKIE`.
   */
  readonly rpcCookie?: Redacted.Redacted<string> | undefined
  /** Default 10 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly refreshAhead?: Duration.DurationInput | undefined
  readonly retry?: Retry.RetryOptions | undefined
}

const Answer = Schema.Struct({
  access_token: Schema.optional(Schema.String),
  expiry: Schema.optional(Schema.String),
  error: Schema.optional(Schema.Unknown)
})

/** `2025.12.0-daily+324.pro1` → [2025, 12, 0]; `undefined` for a dev build or an unreadable version. */
const versionOf = (text: string): ReadonlyArray<number> | undefined => {
  if (/dev/i.test(text)) return undefined
  const parts = text.split(/[-+]/)[0].split(".").map(Number)
  return parts.length >= 2 && parts.every(Number.isInteger) ? parts : undefined
}

const older = (a: ReadonlyArray<number>, b: ReadonlyArray<number>): boolean => {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0
    const y = b[i] ?? 0
    if (x !== y) return x < y
  }
  return false
}

/**
 * The session's RPC cookie, as posit-sdk-py's `CookieReader` finds it: where to look is read from the
 * environment once, at construction; the file, for every request.
 */
const rpcCookie = (given: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function*() {
    const runtimeDir = (yield* Settings.env("PWB_SESSION_RUNTIME_DIR"))?.trim()
    const fromEnv = yield* Settings.envSecret("RS_SESSION_RPC_COOKIE")
    return Effect.gen(function*() {
      if (given !== undefined) return given
      if (runtimeDir !== undefined && runtimeDir !== "") {
        const fromFile = yield* Effect.promise(() =>
          Fs.readFile(Path.join(runtimeDir, "rpc_cookie"), "utf8").then((text) => text.trim(), () => "")
        )
        if (fromFile !== "") return Redacted.make(fromFile)
      }
      if (fromEnv !== undefined && Redacted.value(fromEnv).trim() !== "") return fromEnv
      return yield* Effect.fail(
        new AuthenticationError({
          message:
            "The Workbench session's RPC cookie was not found (neither PWB_SESSION_RUNTIME_DIR/rpc_cookie nor RS_SESSION_RPC_COOKIE)",
          hint: "Run this inside a Posit Workbench session, or pass rpcCookie"
        })
      )
    })
  })

/**
 * A `TokenSource` over Workbench's OAuth integration API: the current access
 * token of the integration `audience`, cached until its `expiry` (refreshed
 * ahead, as every source here). Checked at construction: `RS_SERVER_ADDRESS`
 * (or `server`) must be an http(s) URL, and `RSTUDIO_VERSION`, when it is
 * readable, at least 2026.01.0. Workbench's `{"error"}` answer, and `{}`
 * (the user has not signed in to the integration), are `AuthenticationError`s
 * that say what to do; the cookie and the token never appear in one.
 *
 * @since 0.3.0
 * @category constructors
 */
export const makeOAuthIntegration = (
  options: OAuthIntegrationOptions
): Effect.Effect<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient | Scope.Scope> =>
  Effect.gen(function*() {
    const audience = typeof options?.audience === "string" ? options.audience.trim() : ""
    if (audience === "") {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "audience",
          message: "audience (the OAuth integration's GUID) is required",
          hint: "Copy the Integration ID from Workbench's Managed Credentials settings"
        })
      )
    }
    const setting = options.server === undefined ? "RS_SERVER_ADDRESS" : "server"
    const server = (options.server ?? (yield* Settings.env("RS_SERVER_ADDRESS")))?.trim() ?? ""
    let base: URL | undefined
    try {
      base = new URL(server)
    } catch {
      base = undefined
    }
    if (base === undefined || (base.protocol !== "http:" && base.protocol !== "https:")) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting,
          message: server === "" ? `${setting} is not set` : `${setting} is not an http(s) URL`,
          hint:
            "Workbench sets RS_SERVER_ADDRESS in sessions when launcher-sessions-callback-address is configured; ask the administrator"
        })
      )
    }
    const version = (yield* Settings.env("RSTUDIO_VERSION"))?.trim()
    const parsed = version === undefined ? undefined : versionOf(version)
    if (parsed !== undefined && older(parsed, versionOf(oauthIntegrationsSince)!)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "RSTUDIO_VERSION",
          message:
            `The OAuth integration API is not available in Posit Workbench ${version}; it needs ${oauthIntegrationsSince} or later`,
          hint: "Upgrade Workbench, or use Workbench-managed Databricks credentials (layerDatabricks)"
        })
      )
    }
    const url = `${base.origin}${base.pathname.replace(/\/+$/, "")}/oauth_token`
    const what = `Posit Workbench at ${base.origin}`
    const requestTimeout = Duration.decode(options.requestTimeout ?? Duration.seconds(10))
    const cookieNow = yield* rpcCookie(options.rpcCookie)
    const fetch = Effect.gen(function*() {
      const http = yield* HttpClient.HttpClient
      const cookie = yield* cookieNow
      // posit-sdk-py sends a GET with a JSON-RPC style body; Workbench's session RPC expects exactly that.
      const request = HttpClientRequest.get(url).pipe(
        HttpClientRequest.acceptJson,
        HttpClientRequest.setHeader(rpcCookieHeader, Redacted.value(cookie)),
        HttpClientRequest.bodyUnsafeJson({ method: "/oauth_token", kwparams: { uuid: audience } })
      )
      const response = yield* Redirects.execute(http, request).pipe(
        Effect.mapError((error) => HttpErrors.fromTransport(error, what)),
        Effect.timeoutFail({ duration: requestTimeout, onTimeout: () => HttpErrors.timeout(what, requestTimeout) })
      )
      if (response.status !== 200) {
        const details = yield* HttpErrors.errorDetails(response, [cookie])
        const shared = details.status === 429 || details.status >= 500
          ? HttpErrors.fromStatus(details, what)
          : undefined
        return yield* Effect.fail(
          shared ?? new AuthenticationError({
            message: `${what} refused the credentials request (HTTP ${details.status})${
              details.description === undefined ? "" : `: ${details.description}`
            }`,
            status: details.status,
            hint: details.status === 401 || details.status === 403
              ? "The session's RPC cookie was refused: run inside the Workbench session that owns it"
              : "Check RS_SERVER_ADDRESS"
          })
        )
      }
      const body = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
      const answer = Schema.decodeUnknownOption(Answer)(body)
      if (Option.isNone(answer)) {
        return yield* Effect.fail(new AuthenticationError({ message: `${what} answered 200 without a JSON object` }))
      }
      const { access_token, error, expiry } = answer.value
      if (error !== undefined) {
        return yield* Effect.fail(
          new AuthenticationError({
            message: `${what} could not give credentials for integration ${audience}: ${
              typeof error === "string" ? error : JSON.stringify(error)
            }`,
            hint: "Check the integration's GUID (its Integration ID in Managed Credentials settings)"
          })
        )
      }
      if (access_token === undefined || access_token === "") {
        return yield* Effect.fail(
          new AuthenticationError({
            message: `${what} holds no credentials for integration ${audience}: the user has not signed in to it`,
            hint: "Sign in to the integration in Workbench's Managed Credentials settings"
          })
        )
      }
      const at = expiry === undefined ? Number.NaN : Date.parse(expiry)
      const now = yield* Clock.currentTimeMillis
      return {
        value: Redacted.make(access_token),
        ...(Number.isFinite(at) ? { expiresIn: Math.max(0, at - now) } : {})
      } satisfies TokenSource.IssuedToken
    }).pipe(
      Effect.retry(Retry.transient(what, options.retry)),
      Effect.mapError((error) =>
        error._tag === "AuthenticationError"
          ? error
          : new AuthenticationError({
            message: `Could not obtain credentials from ${what}: ${error.message}`,
            hint: "Check that the Workbench session is running and RS_SERVER_ADDRESS is reachable",
            cause: error
          })
      ),
      Effect.withSpan("Workbench.oauthToken")
    )
    return yield* TokenSource.make(fetch, { authType, refreshAhead: options.refreshAhead })
  })

/**
 * @since 0.3.0
 * @category layers
 */
export const layerOAuthIntegration = (
  options: OAuthIntegrationOptions
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> =>
  Layer.scoped(TokenSource.TokenSource, makeOAuthIntegration(options))
