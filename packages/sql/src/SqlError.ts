/**
 * The SQL-only errors, and every shared error re-exported, so SQL users
 * import all of them from one place and match them with `Effect.catchTag`.
 *
 * @since 0.1.0
 */
import type * as DatabricksError from "@effect-databricks/auth/DatabricksError"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

export {
  /**
   * @since 0.1.0
   * @category errors
   */
  AuthenticationError,
  /**
   * @since 0.1.0
   * @category errors
   */
  ConfigurationError,
  /**
   * @since 0.1.0
   * @category errors
   */
  NetworkError,
  /**
   * @since 0.1.0
   * @category errors
   */
  PermissionError,
  /**
   * @since 0.1.0
   * @category errors
   */
  RateLimitError,
  /**
   * @since 0.1.0
   * @category errors
   */
  ServerError,
  /**
   * @since 0.1.0
   * @category errors
   */
  TimeoutError
} from "@effect-databricks/auth/DatabricksError"

/**
 * @since 0.1.0
 * @category type ids
 */
export const TypeId: unique symbol = Symbol.for("@effect-databricks/sql/SqlError")

/**
 * @since 0.1.0
 * @category type ids
 */
export type TypeId = typeof TypeId

/**
 * The warehouse cannot run statements right now: it is `"Starting"` (a cold
 * start, which takes from seconds to minutes) or `"Unavailable"` (stopped,
 * deleted, or answering 503).
 *
 * @since 0.1.0
 * @category errors
 */
export class WarehouseError extends Schema.TaggedError<WarehouseError>()("WarehouseError", {
  reason: Schema.Literal("Starting", "Unavailable"),
  message: Schema.String,
  hint: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * A result file could not be downloaded because its link had expired or
 * was refused (HTTP 403 from cloud storage). Large results come as
 * CloudFetch links to files in cloud storage, each valid for a short time
 * (Databricks: about 15 minutes); a reader that falls that far behind, or a
 * clock far off, finds them expired. `rowsDelivered` is how many rows the
 * caller had already received: 0 for `query`, which re-runs the statement
 * once by itself when it is a read; a `stream` that already emitted rows
 * fails with this error rather than end short or repeat rows.
 *
 * @since 0.2.0
 * @category errors
 */
export class ResultExpiredError extends Schema.TaggedError<ResultExpiredError>()("ResultExpiredError", {
  message: Schema.String,
  rowsDelivered: Schema.Number,
  hint: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  /**
   * @since 0.2.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * The warehouse ran the statement and reported an error. `errorClass` is the
 * documented `[ERROR_CLASS]` of the message (for example
 * `TABLE_OR_VIEW_NOT_FOUND`) and `sqlState` the five-character SQLSTATE.
 *
 * @since 0.1.0
 * @category errors
 */
export class QueryError extends Schema.TaggedError<QueryError>()("QueryError", {
  message: Schema.String,
  errorClass: Schema.optional(Schema.String),
  sqlState: Schema.optional(Schema.String),
  statementId: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId

  /**
   * Builds a `QueryError` from a server message, reading `errorClass` from
   * its `[ERROR_CLASS]` and, when `sqlState` is not given, the SQLSTATE from
   * its `SQLSTATE: xxxxx` suffix.
   *
   * @since 0.1.0
   */
  static fromServerMessage(
    message: string,
    options?: {
      readonly sqlState?: string | undefined
      readonly statementId?: string | undefined
      readonly cause?: unknown
    }
  ): QueryError {
    const sqlState = options?.sqlState ?? sqlStatePattern.exec(message)?.[1]
    const errorClass = errorClassPattern.exec(message)?.[1]
    return new QueryError({
      message,
      ...(errorClass === undefined ? {} : { errorClass }),
      ...(sqlState === undefined || sqlState === "" ? {} : { sqlState }),
      ...(options?.statementId === undefined ? {} : { statementId: options.statementId }),
      ...(options?.cause === undefined ? {} : { cause: options.cause })
    })
  }
}

// `[TABLE_OR_VIEW_NOT_FOUND]`, `[UNRESOLVED_COLUMN.WITH_SUGGESTION]`: upper case, dotted sub-classes.
const errorClassPattern = /\[([A-Z][A-Z0-9_]*(?:\.[A-Z][A-Z0-9_]*)*)\]/
const sqlStatePattern = /SQLSTATE:\s*([0-9A-Z]{5})\b/

/**
 * A row did not match the schema it was decoded with. `row` is the 0-based
 * row index and `column` the column that failed.
 *
 * @since 0.1.0
 * @category errors
 */
export class ResultDecodeError extends Schema.TaggedError<ResultDecodeError>()("ResultDecodeError", {
  message: Schema.String,
  row: Schema.Number,
  column: Schema.optional(Schema.String),
  cause: Schema.optional(Schema.Defect)
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * A statement parameter cannot be sent (an array, an object, a non-finite
 * number, a malformed typed value). Caught before the driver sees it,
 * because a bad value corrupts the driver's next request.
 *
 * @since 0.1.0
 * @category errors
 */
export class ParameterError extends Schema.TaggedError<ParameterError>()("ParameterError", {
  message: Schema.String,
  parameter: Schema.String,
  hint: Schema.optional(Schema.String)
}) {
  /**
   * @since 0.1.0
   */
  readonly [TypeId]: TypeId = TypeId
}

/**
 * The SQL-only errors.
 *
 * @since 0.1.0
 * @category models
 */
export type SqlError = WarehouseError | QueryError | ResultDecodeError | ParameterError | ResultExpiredError

/**
 * @since 0.1.0
 * @category refinements
 */
export const isSqlError = (u: unknown): u is SqlError => Predicate.hasProperty(u, TypeId)

/**
 * Everything a SqlClient call can fail with: the shared errors and the SQL-only ones. `ResultDecodeError`: a
 * value the warehouse sent that the client cannot represent (a DATE beyond JavaScript's range), or, from
 * `querySchema`, a row that does not match the schema. `ResultExpiredError`: a CloudFetch result file whose
 * link expired before it was downloaded.
 *
 * @since 0.3.0
 * @category models
 */
export type SqlClientError =
  | DatabricksError.AuthenticationError
  | DatabricksError.PermissionError
  | DatabricksError.RateLimitError
  | DatabricksError.NetworkError
  | DatabricksError.TimeoutError
  | DatabricksError.ConfigurationError
  | DatabricksError.ServerError
  | WarehouseError
  | QueryError
  | ParameterError
  | ResultDecodeError
  | ResultExpiredError
