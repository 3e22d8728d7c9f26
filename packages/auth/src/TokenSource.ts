/**
 * The contract every credential layer provides: a way to get a bearer token
 * for the workspace, and a way to say that the last one was refused.
 *
 * `make` is the one caching wrapper that every OAuth layer is built on:
 * single-flight, refresh-ahead in the background, failures not cached,
 * expiry from `expires_in` or the JWT `exp` claim, and time from `Clock` so
 * `TestClock` drives it.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"

import { AuthenticationError, ConfigurationError } from "./DatabricksError.js"
import * as internal from "./internal/tokenCache.js"
import * as TokenValue from "./internal/tokenValue.js"

/**
 * A bearer token and, when known, when it expires.
 *
 * @since 0.1.0
 * @category models
 */
export interface AccessToken {
  readonly value: Redacted.Redacted<string>
  readonly expiresAt: Option.Option<DateTime.Utc>
}

/**
 * The service every credential layer provides.
 *
 * - `authType` names the credential (`"pat"`, `"oauth-m2m"`, ...), for logs
 *   and the user agent.
 * - `token` returns a token that is valid now. Call it for every request: it
 *   is cheap when the token is cached.
 * - `invalidate` drops the cached token after the server refused it (401, or
 *   a 403 for an expired token), so the next `token` fetches a new one.
 *
 * @since 0.1.0
 * @category models
 */
export interface TokenSource {
  readonly authType: string
  readonly token: Effect.Effect<AccessToken, AuthenticationError>
  readonly invalidate: Effect.Effect<void>
  /**
   * Headers this credential sends with every request besides `Authorization`,
   * when it has any: Azure's `X-Databricks-Azure-SP-Management-Token` and
   * `X-Databricks-Azure-Workspace-Resource-Id`. `WorkspaceClient` and
   * `toDriverAuthentication` (so `SqlClient`) send them. Their values are
   * secrets, like the token.
   *
   * @since 0.3.0
   */
  readonly headers?: Effect.Effect<Readonly<Record<string, string>>, AuthenticationError> | undefined
}

/**
 * @since 0.1.0
 * @category tags
 */
export const TokenSource: Context.Tag<TokenSource, TokenSource> = Context.GenericTag<TokenSource>(
  "@effect-databricks/auth/TokenSource"
)

/**
 * What a token endpoint returns, before `make` works out the expiry: from
 * `expiresAt` if given, else from `expiresIn` (OAuth `expires_in`), else from
 * the JWT `exp` claim of `value`, else the token never expires.
 *
 * @since 0.1.0
 * @category models
 */
export interface IssuedToken {
  readonly value: Redacted.Redacted<string>
  readonly expiresIn?: Duration.DurationInput | undefined
  readonly expiresAt?: DateTime.DateTime | undefined
}

/**
 * @since 0.1.0
 * @category options
 */
export interface MakeOptions {
  readonly authType: string
  /**
   * Refresh in the background once less than this is left before expiry.
   * Defaults to 5 minutes; values under 60 seconds are raised to 60 seconds,
   * because Databricks rejects tokens that expire within 30 seconds. A token
   * whose whole lifetime is shorter than this is refreshed at half-life.
   */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /**
   * The wait before the next attempt after consecutive failed fetches,
   * doubling from `initial` (500 ms) up to `max` (10 s). Failures are never
   * cached: the next call after the wait fetches again.
   */
  readonly failureBackoff?: {
    readonly initial?: Duration.DurationInput | undefined
    readonly max?: Duration.DurationInput | undefined
  } | undefined
}

/**
 * Wraps a token fetch in the shared cache.
 *
 * - Concurrent callers on a cold cache share one fetch.
 * - Inside the refresh window the current token is served while exactly one
 *   background refresh runs; nobody waits while the token is still valid.
 * - A failed fetch is not cached: the next call fetches again, after a
 *   bounded backoff that grows with consecutive failures.
 * - `invalidate` makes the next call fetch.
 * - An expiry beyond the end of year 9999 (`expires_in: 1e20`, a JWT
 *   `exp: 1e20`) is clamped there, one before 1970 to the epoch; it never
 *   throws.
 * - A token that cannot be sent in an HTTP header (a line break or other
 *   control character, a character beyond Latin-1, more than 8 KiB) fails
 *   the fetch with an `AuthenticationError` that does not show it.
 * - A defect in `fetch`, or the scope closing while callers wait, fails
 *   every waiting caller with an `AuthenticationError`; no caller is left
 *   waiting.
 *
 * The background refresh runs in the scope of `make`, so it ends with the
 * layer that built the source.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <R>(
  fetch: Effect.Effect<IssuedToken, AuthenticationError, R>,
  options: MakeOptions
) => Effect.Effect<TokenSource, never, Scope.Scope | R> = internal.make

/**
 * Checks a token (or API key) that the user configured before it is used in
 * an `Authorization` header, the same way every credential layer does:
 * surrounding whitespace is trimmed (a file's final newline is fine); a
 * value that is missing, blank, not a string, contains a line break or
 * another control character, contains a character beyond Latin-1, or is
 * longer than 8 KiB is a `ConfigurationError` naming `setting` (default
 * `"token"`) that never shows the value. A plain string (from untyped code) is
 * accepted and wrapped in `Redacted`.
 *
 * Use it for a token read by your own code, for example before building a
 * custom `TokenSource`.
 *
 * @since 0.2.0
 * @category validation
 */
export const validateToken = (
  token: Redacted.Redacted<string> | string,
  options?: { readonly setting?: string | undefined }
): Effect.Effect<Redacted.Redacted<string>, ConfigurationError> =>
  TokenValue.configuredSecret(token, {
    name: typeof options?.setting === "string" && options.setting !== "" ? options.setting : "token",
    hint: "Pass the bearer token alone, as a Redacted string"
  })

/** The token of `static`/`layerStatic`, checked like any configured token. */
const staticToken = (
  token: Redacted.Redacted<string> | AccessToken,
  options: { readonly authType?: string | undefined } | undefined
): Effect.Effect<TokenSource, ConfigurationError> =>
  Effect.suspend(() => {
    const authType = typeof options?.authType === "string" ? options.authType : "static"
    const isAccess = typeof token === "object" && token !== null && !Redacted.isRedacted(token) && "value" in token
    const expiresAt = isAccess ? (token as AccessToken).expiresAt : Option.none()
    if (!Option.isOption(expiresAt)) {
      return Effect.fail(
        new ConfigurationError({
          setting: "expiresAt",
          message: "expiresAt must be an Option<DateTime.Utc>",
          hint: "Pass Option.none() when the token does not expire"
        })
      )
    }
    return Effect.map(
      validateToken(isAccess ? (token as AccessToken).value : token as Redacted.Redacted<string>),
      (value): TokenSource => ({
        authType,
        token: Effect.succeed({ value, expiresAt }),
        invalidate: Effect.void
      })
    )
  })

/** A source that always returns the same token; exported as `static`, a reserved word. */
const static_ = (
  token: Redacted.Redacted<string> | AccessToken,
  options?: { readonly authType?: string | undefined }
): TokenSource => {
  const checked = Effect.runSync(Effect.either(staticToken(token, options)))
  if (Either.isRight(checked)) return checked.right
  // `static` returns the source itself, so a bad token can only show when it is asked for.
  const error = checked.left
  return {
    authType: typeof options?.authType === "string" ? options.authType : "static",
    token: Effect.fail(
      new AuthenticationError({ message: error.message, ...(error.hint ? { hint: error.hint } : {}) })
    ),
    invalidate: Effect.void
  }
}

export {
  /**
   * A source that always returns the same token, for tests. `invalidate`
   * does nothing. The token is checked as `validateToken` does; a bad one
   * makes every `token` call fail with an `AuthenticationError` (use
   * `layerStatic` to get a `ConfigurationError` at construction instead).
   *
   * @since 0.1.0
   * @category constructors
   */
  static_ as static
}

/**
 * `static` as a layer. A token that `validateToken` refuses fails the layer
 * with a `ConfigurationError` (setting `token`) that does not show it.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStatic = (
  token: Redacted.Redacted<string> | AccessToken,
  options?: { readonly authType?: string | undefined }
): Layer.Layer<TokenSource, ConfigurationError> => Layer.effect(TokenSource, staticToken(token, options))

/**
 * The `Authorization` header for a token.
 *
 * @since 0.1.0
 * @category utils
 */
export const bearerHeader = (token: AccessToken): { readonly Authorization: string } => ({
  Authorization: `Bearer ${Redacted.value(token.value)}`
})

/**
 * Adapts a source to the `authenticate()` provider shape of
 * `@databricks/sql` (`authType: "custom"`), for users of the plain driver.
 * The source's `headers`, if it has any, go with every RPC too.
 *
 * The driver calls `authenticate()` once per RPC, so the cache in the source
 * decides how often a token is really fetched. A failure rejects with the
 * tagged error itself (the driver passes it through unchanged), so it can
 * still be matched by `_tag`.
 *
 * @since 0.1.0
 * @category conversions
 */
export const toDriverAuthentication = (
  source: TokenSource,
  options?: { readonly runtime?: Runtime.Runtime<never> | undefined }
): {
  /** The headers for one RPC: `Authorization: Bearer …`, from the source's current token. */
  readonly authenticate: () => Promise<Record<string, string>>
} => {
  const run = Runtime.runPromiseExit(options?.runtime ?? Runtime.defaultRuntime)
  // A custom source may hand out anything: a token that cannot be a header value fails typed, never quoted.
  const headers = Effect.flatMap(
    source.token,
    (token): Effect.Effect<Record<string, string>, AuthenticationError> =>
      Effect.zipWith(
        TokenValue.issued(token.value, `The ${source.authType} TokenSource`),
        // The driver sends whatever headers `authenticate()` returns on every Thrift RPC (dbsql-driver.md).
        source.headers ?? Effect.succeed({}),
        (value, extra) => ({ ...extra, Authorization: `Bearer ${Redacted.value(value)}` })
      )
  )
  return {
    authenticate: () =>
      run(headers).then((exit) =>
        Exit.isSuccess(exit)
          ? exit.value
          : Promise.reject(Option.getOrElse(Cause.failureOption(exit.cause), () => Cause.squash(exit.cause)))
      )
  }
}
