/**
 * Rows as the driver gives them, made into the values the client promises (DATE as `YYYY-MM-DD`, ...), and
 * decoded with a Schema for `querySchema`.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { ResultDecodeError } from "../SqlError.js"

/** The columns whose values need normalising, from the driver's Thrift schema. */
export interface Schema_ {
  readonly dates: ReadonlyArray<string>
}
export type { Schema_ as Schema }

const DATE_TYPE = 17

export const schemaOf = (schema: unknown): Schema_ => {
  const columns = (schema as {
    columns?: Array<{ columnName: string; typeDesc?: { types?: Array<{ primitiveEntry?: { type?: number } }> } }>
  } | null)
    ?.columns ?? []
  return {
    dates: columns.filter((column) => column.typeDesc?.types?.[0]?.primitiveEntry?.type === DATE_TYPE).map((c) =>
      c.columnName
    )
  }
}

/** JavaScript's Date range, ±100 000 000 days around 1970 (ECMA-262, "Time Values and Time Range"). */
const maxTime = 8.64e15

/**
 * A DATE as `YYYY-MM-DD` (the driver gives a Date at midnight UTC, or its epoch milliseconds); a year
 * outside 0000–9999 keeps ISO 8601's expanded form (`+010000-01-01`) rather than being cut to ten characters.
 * `undefined` for a value that is no date JavaScript can hold: Databricks' DATE reaches years -5877641 to
 * +5881580 (https://docs.databricks.com/sql/language-manual/data-types/date-type.html), `Date` ±275 760.
 */
const day = (value: unknown): string | undefined => {
  if (typeof value === "string") return value
  const time = value instanceof Date ? value.getTime() : typeof value === "number" ? value : Number.NaN
  if (!Number.isFinite(time) || Math.abs(time) > maxTime) return undefined
  const iso = new Date(time).toISOString()
  return iso.slice(0, iso.indexOf("T"))
}

/**
 * Normalises every row of a fetch: DATE as `YYYY-MM-DD`, everything else as the driver gives it (the driver's
 * array itself when there is nothing to change). A DATE JavaScript cannot hold is a `ResultDecodeError` naming
 * the row (counted from `first`, the index of the fetch's first row in the result) and the column.
 */
export const normalizeAll = (
  rows: Array<Record<string, unknown>>,
  schema: Schema_,
  first = 0
): Effect.Effect<Array<Record<string, unknown>>, ResultDecodeError> => {
  if (schema.dates.length === 0) return Effect.succeed(rows)
  const normalized: Array<Record<string, unknown>> = new Array(rows.length)
  for (let index = 0; index < rows.length; index++) {
    const copy = { ...rows[index] }
    for (const name of schema.dates) {
      const value = copy[name]
      if (value === null || value === undefined) continue
      const text = day(value)
      if (text === undefined) {
        return Effect.fail(
          new ResultDecodeError({
            message: `Row ${first + index}, column ${name}: the warehouse sent a DATE ${
              describe(value)
            }; JavaScript holds dates from year -271821 to 275760 only`,
            row: first + index,
            column: name
          })
        )
      }
      copy[name] = text
    }
    normalized[index] = copy
  }
  return Effect.succeed(normalized)
}

/** The value as far as it can be told: the driver gives a DATE beyond `Date`'s range as an invalid Date. */
const describe = (value: unknown): string =>
  typeof value === "number"
    ? `of ${value} ms since 1970`
    : value instanceof Date
    ? "beyond that range (the driver made it an invalid Date)"
    : `as a ${typeof value}`

/** Decodes rows, naming the row and the column of the first failure. */
export const decode = <A, I, R>(schema: Schema.Schema<A, I, R>, rows: ReadonlyArray<Record<string, unknown>>) =>
  Effect.forEach(rows, (row, index) =>
    Schema.decodeUnknown(schema)(row).pipe(
      Effect.mapError((error) => {
        const issue = ParseResult.ArrayFormatter.formatErrorSync(error)[0]
        const column = issue?.path[0] === undefined ? undefined : String(issue.path[0])
        return new ResultDecodeError({
          message: `Row ${index}${column === undefined ? "" : `, column ${column}`}: ${
            issue?.message ?? "does not match the schema"
          }`,
          row: index,
          ...(column === undefined ? {} : { column })
        })
      })
    ))
