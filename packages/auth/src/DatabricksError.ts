/**
 * The errors that REST calls and SQL calls share, defined once.
 *
 * Every error is a `Schema.TaggedError` whose `_tag` equals its class name, so
 * callers handle failures with `Effect.catchTag("AuthenticationError", ...)`
 * and never by reading message text.
 *
 * Each error carries a `message` that says what went wrong and, where there
 * is something the user can do, a `hint` that says what. Neither ever
 * contains a secret: secrets are `Redacted` from the moment they are read and
 * are never interpolated into text.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-databricks/auth/DatabricksError")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

const common = {
  message: Schema.String,
  hint: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}

/**
 * The credentials were missing, invalid, expired or refused by the identity
 * provider. A 401 from Databricks, an OAuth error from a token endpoint, or a
 * failed Posit Connect exchange.
 *
 * `oauthError` and `oauthErrorDescription` carry the identity provider's
 * `error` and `error_description` when it sent them; `connectCode` carries
 * Posit Connect's error code for a failed credential exchange.
 *
 * @since 0.1.0
 * @category errors
 */
export class AuthenticationError extends Schema.TaggedError<AuthenticationError>()("AuthenticationError", {
  ...common,
  status: Schema.optional(Schema.Number),
  oauthError: Schema.optional(Schema.String),
  oauthErrorDescription: Schema.optional(Schema.String),
  /** Posit Connect's numeric error `code`, for a failed credential exchange. */
  connectCode: Schema.optional(Schema.Number)
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * The credentials are valid, but the principal may not do this (HTTP 403 or
 * a SQL permission failure).
 *
 * @since 0.1.0
 * @category errors
 */
export class PermissionError extends Schema.TaggedError<PermissionError>()("PermissionError", {
  ...common,
  status: Schema.optional(Schema.Number)
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * The server asked us to slow down (HTTP 429). `retryAfter` is the server's
 * `Retry-After`, when it sent one; retry policies treat it as a floor.
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimitError extends Schema.TaggedError<RateLimitError>()("RateLimitError", {
  ...common,
  retryAfter: Schema.OptionFromSelf(Schema.DurationFromSelf).pipe(
    Schema.propertySignature,
    Schema.withConstructorDefault(() => Option.none<Duration.Duration>())
  )
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * The server failed (HTTP 5xx other than a warehouse that is starting).
 * Retried for idempotent calls; `status` is the HTTP status.
 *
 * @since 0.1.0
 * @category errors
 */
export class ServerError extends Schema.TaggedError<ServerError>()("ServerError", {
  ...common,
  status: Schema.Number
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * The request never got an HTTP answer: connection refused or reset, DNS, or
 * TLS failure. `code` is the system error code (`ECONNRESET`, ...) if known.
 *
 * @since 0.1.0
 * @category errors
 */
export class NetworkError extends Schema.TaggedError<NetworkError>()("NetworkError", {
  ...common,
  code: Schema.optional(Schema.String)
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * An operation did not finish within its deadline. `operation` names what
 * timed out and `timeout` is the deadline that was exceeded.
 *
 * @since 0.1.0
 * @category errors
 */
export class TimeoutError extends Schema.TaggedError<TimeoutError>()("TimeoutError", {
  ...common,
  operation: Schema.String,
  timeout: Schema.optional(Schema.DurationFromSelf)
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * A setting is missing or malformed. `setting` names it (an environment
 * variable such as `DATABRICKS_HOST`, or an option such as `host`), and the
 * message says how to fix it.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConfigurationError extends Schema.TaggedError<ConfigurationError>()("ConfigurationError", {
  ...common,
  setting: Schema.String
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * Any of the shared errors.
 *
 * @since 0.1.0
 * @category models
 */
export type DatabricksError =
  | AuthenticationError
  | PermissionError
  | RateLimitError
  | ServerError
  | NetworkError
  | TimeoutError
  | ConfigurationError

/**
 * @since 0.1.0
 * @category refinements
 */
export const isDatabricksError = (u: unknown): u is DatabricksError => Predicate.hasProperty(u, TypeId)

/**
 * A `Retry-After` header as a duration from `now` (epoch milliseconds): delta-seconds (`120`) or an HTTP-date
 * (RFC 9110 §10.2.3), a date in the past being zero. `None` when absent or unreadable. It is what
 * `RateLimitError.retryAfter` holds, for the REST calls and the SQL driver alike.
 *
 * @since 0.3.0
 * @category parsing
 */
export const parseRetryAfter = (
  value: string | null | undefined,
  now: number
): Option.Option<Duration.Duration> => {
  if (typeof value !== "string") return Option.none()
  const trimmed = value.trim()
  if (/^\d+$/.test(trimmed)) return Option.some(Duration.seconds(Number(trimmed)))
  // Every HTTP-date names its month; without that check `Date.parse` would read "-1" or "1.5" as dates.
  if (!/[A-Za-z]{3}/.test(trimmed)) return Option.none()
  const date = Date.parse(trimmed)
  return Number.isNaN(date) ? Option.none() : Option.some(Duration.millis(Math.max(0, date - now)))
}

/**
 * Databricks' words for a token it no longer accepts: "Invalid access token." (an expired or revoked token),
 * "Token is expiring within 30 seconds" (its refusal margin), "token expired", "expired token".
 */
const expiredTokenWords = /invalid access token|\btoken\b[^.]{0,20}\bexpir|\bexpired\b[^.]{0,20}\btoken\b/i

/**
 * Whether an answer is Databricks refusing an expired token. Databricks answers one with HTTP 403, not 401
 * ("Invalid access token.", or "Token is expiring within 30 seconds" inside its refusal margin), so a 403
 * with those words is worth one token refresh and one retry, while any other 403 is a `PermissionError`.
 * `text` is the answer's body or message, as sent.
 *
 * @since 0.3.0
 * @category refinements
 */
export const isExpiredTokenAnswer = (status: number, text: string): boolean =>
  status === 403 && expiredTokenWords.test(text)
