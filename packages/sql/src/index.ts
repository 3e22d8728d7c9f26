/**
 * The SQL-only errors (`WarehouseError`, `QueryError`, `ResultDecodeError`)
 * and the shared errors, re-exported.
 *
 * @since 0.1.0
 */
export * as SqlError from "./SqlError.js"

/**
 * Run SQL on a Databricks SQL warehouse.
 *
 * @since 0.1.0
 */
export * as SqlClient from "./SqlClient.js"

/**
 * The only place retry decisions are made.
 *
 * @since 0.1.0
 */
export * as RetryPolicy from "./RetryPolicy.js"

/**
 * Statement parameters and typed helpers.
 *
 * @since 0.1.0
 */
export * as SqlParam from "./SqlParam.js"

/**
 * The metrics a `SqlClient` records: statements by outcome, their duration,
 * retries by reason and sessions open.
 *
 * @since 0.3.0
 */
export * as SqlMetrics from "./SqlMetrics.js"
