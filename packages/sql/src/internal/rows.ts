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

const day = (value: unknown): unknown => {
  if (value instanceof Date) return value.toISOString().slice(0, 10)
  if (typeof value === "number") return new Date(value).toISOString().slice(0, 10)
  return value
}

/** DATE as `YYYY-MM-DD` (the driver gives a Date at midnight UTC); everything else as the driver gives it. */
const normalize = (row: Record<string, unknown>, schema: Schema_): Record<string, unknown> => {
  if (schema.dates.length === 0) return row
  const copy = { ...row }
  for (const name of schema.dates) if (copy[name] !== null && copy[name] !== undefined) copy[name] = day(copy[name])
  return copy
}

/** Normalises every row of a fetch; the driver's array itself when there is nothing to change. */
export const normalizeAll = (
  rows: Array<Record<string, unknown>>,
  schema: Schema_
): Array<Record<string, unknown>> => schema.dates.length === 0 ? rows : rows.map((row) => normalize(row, schema))

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
