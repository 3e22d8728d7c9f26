/**
 * The SQL-only errors (`WarehouseError`, `QueryError`, `ResultDecodeError`)
 * and the shared errors, re-exported.
 *
 * @since 0.1.0
 */
export * as SqlError from "./SqlError.js"
