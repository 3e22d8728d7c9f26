/**
 * The one rule for statement parameters: every value is bound exactly as given or refused with a
 * `ParameterError` that names the parameter and says what is allowed, before the driver sees it. The driver
 * is never handed anything it could choke on: a value its serializer cannot write leaves partial bytes in its
 * transport that spoil the next request (reference/dbsql-driver.md §7.2), and what it would accept but change
 * (a lone surrogate sent as U+FFFD, `2024-02-30` read as March 1st, a DECIMAL read as DECIMAL(10,0)) is refused
 * too. Whatever the caller passes (proxies, getters that throw, forged objects), this never throws: reading
 * the parameters happens under one guard that turns anything thrown into a `ParameterError`.
 *
 * @internal
 */
import { DBSQLParameter, DBSQLParameterType } from "@databricks/sql"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { ParameterError } from "../SqlError.js"
import type * as SqlParam from "../SqlParam.js"
import * as Typed from "./typed.js"

export interface DriverParams {
  readonly namedParameters?: Record<string, DBSQLParameter>
  readonly ordinalParameters?: Array<DBSQLParameter>
}

const allowed = "a string, number, bigint, boolean, Date, null, undefined or a SqlParam value (date, timestamp, " +
  "decimal, binary)"

/** A refusal, thrown inside the binder and turned into its `ParameterError` at the boundary. */
class Refusal {
  constructor(readonly error: ParameterError) {}
}

const refuse = (parameter: string, message: string, hint?: string): never => {
  throw new Refusal(
    new ParameterError({
      parameter,
      message: `Parameter ${parameter} ${message}`,
      ...(hint === undefined ? {} : { hint })
    })
  )
}

/** Some text the caller gave, shown short and escaped (JSON quoting shows control characters and lone surrogates). */
const shown = (text: string) => JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)

/** A lone UTF-16 surrogate: the driver's UTF-8 encoder would send U+FFFD instead (a `u` regex skips valid pairs). */
const loneSurrogate = /[\uD800-\uDFFF]/u

/**
 * A parameter name as Databricks accepts it for a `:name` marker: an unqualified, non-delimited identifier,
 * `{ letter | '_' } [ letter | digit | '_' ] [ ... ]` with ASCII letters and digits
 * (https://docs.databricks.com/sql/language-manual/sql-ref-parameter-marker.html,
 * https://docs.databricks.com/sql/language-manual/sql-ref-identifiers.html).
 */
const validName = /^[A-Za-z_][A-Za-z0-9_]*$/

// ---- DATE and TIMESTAMP -------------------------------------------------------------------------------------

/**
 * Years 0001 to 9999: what `YYYY` writes without a sign, and where every system involved (Databricks, JS
 * `Date`, ISO 8601 without expansion) agrees on the calendar. Databricks stores a wider range
 * (https://docs.databricks.com/sql/language-manual/data-types/date-type.html); write those as SQL literals.
 */
const isCalendarDay = (year: number, month: number, day: number) => {
  if (year < 1 || month < 1 || month > 12 || day < 1) return false
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
  return day <= days
}

const dateText = /^(\d{4})-(\d{2})-(\d{2})$/
const dateRule = "a DATE is a calendar day YYYY-MM-DD from 0001-01-01 to 9999-12-31"

const checkDate = (text: string, parameter: string): string => {
  const match = dateText.exec(text)
  if (match === null || !isCalendarDay(Number(match[1]), Number(match[2]), Number(match[3]))) {
    refuse(parameter, `is the DATE ${shown(text)}, which is not a calendar day: ${dateRule}`)
  }
  return text
}

/**
 * ISO 8601 as Spark's string-to-timestamp cast reads it, narrowed to one unambiguous form: a date, or a date and
 * a time (`T` or a space), seconds and up to 6 fraction digits optional (TIMESTAMP holds microseconds:
 * https://docs.databricks.com/sql/language-manual/data-types/timestamp-type.html), then `Z` or `±HH:MM` (a zone
 * offset is at most ±18:00, as java.time.ZoneOffset, which Spark uses, allows).
 */
const timestampText =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-](\d{2}):(\d{2}))?)?$/
const timestampRule = "a TIMESTAMP is YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|±HH:MM]] with a year from 0001 to 9999 " +
  "and at most 6 fraction digits"

/** The timestamp in one canonical form (`T`, seconds written out), the same instant as given. */
const checkTimestamp = (text: string, parameter: string): string => {
  const match = timestampText.exec(text)
  const [, year, month, day, hour = "00", minute = "00", second = "00", fraction, zone = "", zoneHours, zoneMinutes] =
    match ?? []
  const valid = match !== null &&
    isCalendarDay(Number(year), Number(month), Number(day)) &&
    Number(hour) <= 23 && Number(minute) <= 59 && Number(second) <= 59 &&
    (zoneHours === undefined || Number(zoneHours) * 60 + Number(zoneMinutes) <= 18 * 60 && Number(zoneMinutes) <= 59)
  if (!valid) refuse(parameter, `is the TIMESTAMP ${shown(text)}, which is not a valid time: ${timestampRule}`)
  return `${year}-${month}-${day}T${hour}:${minute}:${second}${fraction === undefined ? "" : `.${fraction}`}${zone}`
}

// ---- DECIMAL ------------------------------------------------------------------------------------------------

const decimalText = /^([+-]?)(\d+)(?:\.(\d+))?$/
/** Databricks' DECIMAL(p, s) holds at most 38 digits (https://docs.databricks.com/sql/language-manual/data-types/decimal-type.html). */
const maxPrecision = 38

/**
 * Exact decimal text, sent typed `DECIMAL(p,s)` with the value's own precision and scale, as the official Python
 * connector does (databricks-sql-python, parameters/native.py, `DecimalParameter._cast_expr`): a bare `DECIMAL`
 * is DECIMAL(10,0) on the warehouse, which would round the fraction away.
 */
const checkDecimal = (text: string, parameter: string): DBSQLParameter => {
  const match = decimalText.exec(text)
  if (match === null) {
    return refuse(
      parameter,
      `is the DECIMAL ${shown(text)}, which is not decimal text: write digits with an optional sign and fraction ` +
        `("-1234.5678"), no exponent`
    )
  }
  const [, sign, whole, fraction = ""] = match
  const integer = whole.replace(/^0+/, "")
  const precision = Math.max(integer.length + fraction.length, 1)
  if (precision > maxPrecision) {
    refuse(
      parameter,
      `is a DECIMAL of ${precision} digits: a DECIMAL holds at most ${maxPrecision} (DECIMAL(38, s))`,
      "Round it, or send it as a string and keep it as text"
    )
  }
  const value = `${sign === "-" ? "-" : ""}${integer === "" ? "0" : integer}${fraction === "" ? "" : `.${fraction}`}`
  return new DBSQLParameter({ type: `DECIMAL(${precision},${fraction.length})` as DBSQLParameterType, value })
}

// ---- one value ----------------------------------------------------------------------------------------------

const bigintRange = (n: bigint) => n >= -(2n ** 63n) && n < 2n ** 63n
const int32 = (n: number) => Number.isInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647

/** A typed parameter (made by a SqlParam helper, or by hand): its fields read once, then checked. */
const typedParameter = (value: object, parameter: string): DBSQLParameter => {
  const problem = Typed.problemOf(value)
  if (problem !== undefined) return refuse(parameter, `cannot be bound: ${problem}`)
  const { type, value: text } = value as Record<string, unknown>
  if (typeof text !== "string" || !["DATE", "TIMESTAMP", "DECIMAL", "BINARY"].includes(type as string)) {
    return refuse(
      parameter,
      `looks like a SqlParam value but is not one (its type must be DATE, TIMESTAMP, DECIMAL or BINARY and its ` +
        `value text)`,
      "Make it with SqlParam.date, SqlParam.timestamp, SqlParam.decimal or SqlParam.binary"
    )
  }
  switch (type as SqlParam.Typed["type"]) {
    case "DATE":
      return new DBSQLParameter({ type: DBSQLParameterType.DATE, value: checkDate(text, parameter) })
    case "TIMESTAMP":
      return new DBSQLParameter({ type: DBSQLParameterType.TIMESTAMP, value: checkTimestamp(text, parameter) })
    case "DECIMAL":
      return checkDecimal(text, parameter)
    case "BINARY":
      if (!/^(?:[0-9A-Fa-f]{2})*$/.test(text)) {
        refuse(parameter, "is a BINARY whose value is not hexadecimal bytes", "Make it with SqlParam.binary(bytes)")
      }
      // Hex text, for `unhex(:name)` in the SQL: the driver has no binary parameter type.
      return new DBSQLParameter({ type: DBSQLParameterType.STRING, value: text })
  }
}

const date = (value: object, parameter: string): DBSQLParameter => {
  // Date.prototype's own methods: a subclass or a forged object cannot answer for the Date.
  const time = Date.prototype.getTime.call(value)
  if (Number.isNaN(time)) return refuse(parameter, `is an invalid Date: ${allowed}`)
  const iso = Date.prototype.toISOString.call(value)
  if (!/^\d{4}-/.test(iso) || iso.startsWith("0000")) {
    refuse(parameter, `is a Date in the year ${new Date(time).getUTCFullYear()}: ${timestampRule}`)
  }
  return new DBSQLParameter({ type: DBSQLParameterType.TIMESTAMP, value: iso })
}

const number = (value: number, parameter: string): DBSQLParameter => {
  if (!Number.isFinite(value)) {
    return refuse(parameter, `is ${value}, which a SQL number cannot hold: pass a finite number`)
  }
  // -0 as DOUBLE text: the driver writes numbers with toString(), which drops the sign of -0.
  if (Object.is(value, -0)) return new DBSQLParameter({ type: DBSQLParameterType.DOUBLE, value: "-0.0" })
  return new DBSQLParameter({
    type: int32(value)
      ? DBSQLParameterType.INTEGER
      : Number.isSafeInteger(value)
      ? DBSQLParameterType.BIGINT
      : DBSQLParameterType.DOUBLE,
    value
  })
}

const object = (value: object, parameter: string): DBSQLParameter => {
  if (Array.isArray(value)) {
    return refuse(
      parameter,
      `is an array, which cannot be bound: pass ${allowed}`,
      "Bind each element as its own parameter, or pass a delimited string and use array_contains(split(:p, ','), column)"
    )
  }
  const tag = Object.prototype.toString.call(value)
  if (tag === "[object Date]") return date(value, parameter)
  if ((value as { _tag?: unknown })._tag === "SqlParam") return typedParameter(value, parameter)
  if (ArrayBuffer.isView(value) || tag === "[object ArrayBuffer]") {
    return refuse(
      parameter,
      `is ${Typed.describe(value)}, which cannot be bound: pass ${allowed}`,
      "For bytes, use SqlParam.binary(bytes) and unhex(:name) in the SQL"
    )
  }
  if (Option.isOption(value)) {
    return refuse(parameter, `is an Option, which cannot be bound: pass ${allowed}`, "Pass Option.getOrNull(value)")
  }
  return refuse(parameter, `is ${Typed.describe(value)}, which cannot be bound: pass ${allowed}`)
}

/** One value, checked, as the driver's typed parameter. */
const convert = (value: unknown, parameter: string): DBSQLParameter => {
  if (value === null || value === undefined) return new DBSQLParameter({ type: DBSQLParameterType.VOID, value: null })
  switch (typeof value) {
    case "string":
      if (loneSurrogate.test(value)) {
        refuse(
          parameter,
          "is a string with a lone UTF-16 surrogate, which UTF-8 cannot carry (it would arrive as U+FFFD)",
          "Send well-formed text (String.prototype.toWellFormed replaces lone surrogates, if that is what you want)"
        )
      }
      return new DBSQLParameter({ type: DBSQLParameterType.STRING, value })
    case "boolean":
      return new DBSQLParameter({ type: DBSQLParameterType.BOOLEAN, value })
    case "bigint":
      return bigintRange(value)
        ? new DBSQLParameter({ type: DBSQLParameterType.BIGINT, value })
        : refuse(
          parameter,
          "is a bigint outside BIGINT (-2^63 to 2^63 - 1)",
          "Use SqlParam.decimal(value) for up to 38 digits"
        )
    case "number":
      return number(value, parameter)
    case "object":
      return object(value, parameter)
    default:
      return refuse(parameter, `is a ${typeof value}, which cannot be bound: pass ${allowed}`)
  }
}

/** `convert`, with anything the value throws while it is read (a getter, a proxy) refused under its name. */
const guarded = (read: () => unknown, parameter: string): DBSQLParameter => {
  try {
    return convert(read(), parameter)
  } catch (cause) {
    if (cause instanceof Refusal) throw cause
    return refuse(parameter, `could not be read (reading it threw): pass ${allowed}`)
  }
}

const ordinal = (params: ReadonlyArray<unknown>): DriverParams => {
  const keys = Object.keys(params)
  const named = keys.find((key) => !/^(?:0|[1-9]\d*)$/.test(key))
  if (named !== undefined) {
    refuse(
      "(all)",
      `mixes ordinal and named parameters (an array with the property ${shown(named)}): a statement uses either ` +
        "? markers (pass an array) or :name markers (pass a plain object), never both",
      "Pass an array for ? markers, or a plain object for :name markers"
    )
  }
  // Holes are counted, not walked: `new Array(2 ** 32 - 1)` must not take forever.
  if (keys.length !== params.length) {
    const hole = keys.findIndex((key, i) => key !== String(i))
    refuse(`#${(hole < 0 ? keys.length : hole) + 1}`, "is missing (a hole in the array): pass null for a NULL")
  }
  const ordinalParameters = keys.map((_, i) => guarded(() => params[i], `#${i + 1}`))
  return ordinalParameters.length === 0 ? {} : { ordinalParameters }
}

const named = (params: object): DriverParams => {
  if (Object.getOwnPropertySymbols(params).length > 0) {
    refuse("(all)", "has a symbol key: parameter names are text (:name in the SQL)")
  }
  // null-prototype: no name can reach Object.prototype's setters.
  const namedParameters: Record<string, DBSQLParameter> = Object.create(null)
  let count = 0
  for (const name of Object.keys(params)) {
    if (!validName.test(name)) {
      refuse(
        shown(name),
        "is not a valid parameter name: a :name marker is a letter or _ followed by letters, digits or _ (ASCII)",
        /^\d+$/.test(name) ? "For ? markers, pass the values as an array" : "Rename it, in the SQL too"
      )
    }
    if (name === "__proto__") {
      // Any object the driver or a server builds from the names would drop it (`record["__proto__"] = v`).
      refuse(":__proto__", "is a name JavaScript objects cannot hold as a key", "Rename it, in the SQL too")
    }
    namedParameters[name] = guarded(() => (params as Record<string, unknown>)[name], `:${name}`)
    count++
  }
  return count === 0 ? {} : { namedParameters: { ...namedParameters } }
}

const all = (params: unknown): DriverParams => {
  if (params === undefined || params === null) return {}
  if (Array.isArray(params)) return ordinal(params)
  if (typeof params === "object") {
    const prototype = Object.getPrototypeOf(params)
    // A plain object (from any realm): a Map, a class instance or a Date as the record would bind nothing.
    if (prototype === null || Object.getPrototypeOf(prototype) === null) {
      if (Object.prototype.toString.call(params) === "[object Object]") return named(params)
    }
  }
  return refuse(
    "(all)",
    `must be a plain object of named values (:name) or an array of ordinal ones (?), not ${Typed.describe(params)}`
  )
}

/** Checks every parameter and converts them for the driver, or fails with the first bad one. */
export const toDriver = (params: SqlParam.Params | undefined): Effect.Effect<DriverParams, ParameterError> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(all(params))
    } catch (cause) {
      return Effect.fail(
        cause instanceof Refusal
          ? cause.error
          : new ParameterError({
            parameter: "(all)",
            message: "Parameter (all) could not be read (reading the params threw): pass a plain object of named " +
              "values (:name) or an array of ordinal ones (?)",
            hint: "Pass a plain object of named values or an array of ordinal ones"
          })
      )
    }
  })
