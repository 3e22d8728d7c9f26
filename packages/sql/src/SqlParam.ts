/**
 * Statement parameters. Plain values bind as you would expect (`string`,
 * `number`, `bigint`, `boolean`, `Date`, `null`); these helpers send the
 * types plain values cannot express.
 *
 * Parameters are checked before the driver sees them: an array, an object or
 * a non-finite number is a `ParameterError` up front, because the driver
 * would otherwise corrupt its next request.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export interface Typed {
  readonly _tag: "SqlParam"
  readonly type: "DATE" | "TIMESTAMP" | "DECIMAL" | "BINARY"
  readonly value: string
}

/**
 * A parameter value.
 *
 * @since 0.1.0
 * @category models
 */
export type Value = string | number | bigint | boolean | Date | null | undefined | Typed

/**
 * Named parameters (`:name` in the SQL) or ordinal ones (`?`).
 *
 * @since 0.1.0
 * @category models
 */
export type Params = Readonly<Record<string, Value>> | ReadonlyArray<Value>

const typed = (type: Typed["type"], value: string): Typed => ({ _tag: "SqlParam", type, value })

/**
 * A DATE, from `YYYY-MM-DD` or a `Date` (its UTC day).
 *
 * @since 0.1.0
 * @category constructors
 */
export const date = (value: string | Date): Typed =>
  typed("DATE", typeof value === "string" ? value : value.toISOString().slice(0, 10))

/**
 * A TIMESTAMP, from a `Date` or an ISO 8601 string.
 *
 * @since 0.1.0
 * @category constructors
 */
export const timestamp = (value: string | Date): Typed =>
  typed("TIMESTAMP", typeof value === "string" ? value : value.toISOString())

/**
 * An exact DECIMAL, from its decimal text (or a bigint).
 *
 * @since 0.1.0
 * @category constructors
 */
export const decimal = (value: string | bigint): Typed => typed("DECIMAL", String(value))

/**
 * Bytes, sent as hexadecimal text: write `unhex(:name)` in the SQL.
 *
 * @since 0.1.0
 * @category constructors
 */
export const binary = (value: Uint8Array): Typed => typed("BINARY", Buffer.from(value).toString("hex"))

/**
 * @since 0.1.0
 * @category refinements
 */
export const isTyped = (u: unknown): u is Typed =>
  typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SqlParam"
