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
import type * as Duration from "effect/Duration"
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
