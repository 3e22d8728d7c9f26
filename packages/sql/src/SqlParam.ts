/**
 * Statement parameters. Plain values bind as you would expect (`string`,
 * `number`, `bigint`, `boolean`, `Date`, `null`); these helpers send the
 * types plain values cannot express.
 *
 * Parameters are checked before the driver sees them, because the driver
 * would otherwise corrupt its next request: anything that cannot be bound
 * exactly (an array, an object, `NaN`, an invalid `Date`, a string with a lone
 * surrogate, a date that is not on the calendar, a DECIMAL of more than 38
 * digits, a bad name) is a `ParameterError` naming the parameter, from
 * `query`, `execute` or `stream`, and nothing is sent.
 *
 * The helpers never throw: they stay synchronous (`SqlParam.date(d)` inside
 * a params record), so a helper given something unusable returns a value that
 * the binder rejects, and the `ParameterError` surfaces where the statement
 * runs.
 *
 * @since 0.1.0
 */
import * as Internal from "./internal/typed.js"

/**
 * A typed parameter, made by `date`, `timestamp`, `decimal` or `binary`. An
 * object of this shape made by hand is checked like any other value: a wrong
 * `type` or a `value` that is not text is a `ParameterError`.
 *
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
 * Named parameters (`:name` in the SQL, a plain object) or ordinal ones (`?`,
 * an array); never both.
 *
 * @since 0.1.0
 * @category models
 */
export type Params = Readonly<Record<string, Value>> | ReadonlyArray<Value>

const types: ReadonlyArray<Typed["type"]> = ["DATE", "TIMESTAMP", "DECIMAL", "BINARY"]

const typed = (type: Typed["type"], value: string): Typed => Object.freeze({ _tag: "SqlParam", type, value })

const refused = (type: Typed["type"], problem: string): Typed =>
  Internal.refuse(typed(type, Internal.unusable), problem)

/** The time of a real `Date` (also one from another realm), NaN for an invalid one, undefined for anything else. */
const timeOf = (u: unknown): number | undefined => {
  try {
    return Object.prototype.toString.call(u) === "[object Date]" ? Date.prototype.getTime.call(u) : undefined
  } catch {
    // An object posing as a Date (`Object.create(Date.prototype)`, a proxy).
    return undefined
  }
}

/** A `Date`'s ISO text, or the typed value refused with the reason. */
const fromDate = (
  helper: string,
  type: Typed["type"],
  value: unknown,
  text: (iso: string) => string
): Typed => {
  const time = timeOf(value)
  if (time === undefined) {
    return refused(type, `SqlParam.${helper} was given ${Internal.describe(value)}, not a string or a Date`)
  }
  if (Number.isNaN(time)) return refused(type, `SqlParam.${helper} was given an invalid Date`)
  // Years beyond 0001..9999 come out as "+010000-..." or "-000001-...", which the binder reports as out of range.
  return typed(type, text(new Date(time).toISOString()))
}

/**
 * A DATE, from `YYYY-MM-DD` text or a `Date` (its UTC day).
 *
 * The text must be a real calendar day from `0001-01-01` to `9999-12-31`
 * (`2024-02-30` is refused, not moved to March). Never throws: anything else
 * (an invalid `Date`, text that is not a date) is a `ParameterError` naming
 * the parameter when the statement runs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const date = (value: string | Date): Typed =>
  typeof value === "string" ? typed("DATE", value) : fromDate("date", "DATE", value, (iso) => iso.slice(0, 10))

/**
 * A TIMESTAMP, from a `Date` or ISO 8601 text:
 * `YYYY-MM-DD`, or `YYYY-MM-DDTHH:MM[:SS[.ffffff]]` (`T` or a space) with an
 * optional `Z` or `±HH:MM` offset; without one the warehouse reads it in the
 * session time zone. Years 0001 to 9999, at most microseconds (TIMESTAMP's
 * precision).
 *
 * Never throws: an invalid `Date`, or text that is not such a time (`"1"`,
 * `"2024-02-30T00:00"`), is a `ParameterError` naming the parameter when the
 * statement runs; nothing is guessed.
 *
 * @since 0.1.0
 * @category constructors
 */
export const timestamp = (value: string | Date): Typed =>
  typeof value === "string" ? typed("TIMESTAMP", value) : fromDate("timestamp", "TIMESTAMP", value, (iso) => iso)

/**
 * An exact DECIMAL, from its decimal text (`"-1234.5678"`, no exponent) or a
 * bigint. It is sent as `DECIMAL(p, s)` with the precision and scale of the
 * text, as the official Python connector does, so no digit is lost; at most
 * 38 digits (Databricks' DECIMAL(38, s)).
 *
 * Never throws: anything else is a `ParameterError` naming the parameter
 * when the statement runs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const decimal = (value: string | bigint): Typed =>
  typeof value === "string"
    ? typed("DECIMAL", value)
    : typeof value === "bigint"
    ? typed("DECIMAL", value.toString())
    : refused("DECIMAL", `SqlParam.decimal was given ${Internal.describe(value)}, not decimal text or a bigint`)

/**
 * Bytes, sent as hexadecimal text: write `unhex(:name)` in the SQL.
 *
 * Never throws: anything but a `Uint8Array` (a `Buffer` is one) is a
 * `ParameterError` naming the parameter when the statement runs.
 *
 * @since 0.1.0
 * @category constructors
 */
export const binary = (value: Uint8Array): Typed => {
  try {
    // By its internal tag, not instanceof: a Uint8Array from another realm (a vm context, a worker's copy) is one too.
    if (ArrayBuffer.isView(value) && Object.prototype.toString.call(value) === "[object Uint8Array]") {
      return typed("BINARY", Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString("hex"))
    }
  } catch {
    // A proxy or a detached buffer: refused below.
  }
  return refused("BINARY", `SqlParam.binary was given ${Internal.describe(value)}, not a Uint8Array`)
}

/**
 * Whether `u` has the shape of a typed parameter: `_tag` `"SqlParam"`, a
 * known `type` and text as `value`. Never throws, whatever `u` is.
 *
 * @since 0.1.0
 * @category refinements
 */
export const isTyped = (u: unknown): u is Typed => {
  try {
    if (typeof u !== "object" || u === null) return false
    const { _tag, type, value } = u as Record<string, unknown>
    return _tag === "SqlParam" && types.includes(type as Typed["type"]) && typeof value === "string"
  } catch {
    return false
  }
}
