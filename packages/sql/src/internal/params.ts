import { DBSQLParameter, DBSQLParameterType } from "@databricks/sql"
import * as Effect from "effect/Effect"
import { ParameterError } from "../SqlError.js"
import * as SqlParam from "../SqlParam.js"

export interface DriverParams {
  readonly namedParameters?: Record<string, DBSQLParameter>
  readonly ordinalParameters?: Array<DBSQLParameter>
}

const int32 = (n: number) => Number.isInteger(n) && n >= -2_147_483_648 && n <= 2_147_483_647
const bigintRange = (n: bigint) => n >= -(2n ** 63n) && n < 2n ** 63n

const invalid = (parameter: string, message: string, hint?: string) =>
  Effect.fail(
    new ParameterError({
      parameter,
      message: `Parameter ${parameter}: ${message}`,
      ...(hint === undefined ? {} : { hint })
    })
  )

/** One value, checked, as the driver's typed parameter. */
const convert = (value: unknown, parameter: string): Effect.Effect<DBSQLParameter, ParameterError> => {
  if (value === null || value === undefined) {
    return Effect.succeed(new DBSQLParameter({ type: DBSQLParameterType.VOID, value: null }))
  }
  switch (typeof value) {
    case "string":
      return Effect.succeed(new DBSQLParameter({ type: DBSQLParameterType.STRING, value }))
    case "boolean":
      return Effect.succeed(new DBSQLParameter({ type: DBSQLParameterType.BOOLEAN, value }))
    case "bigint":
      return bigintRange(value)
        ? Effect.succeed(new DBSQLParameter({ type: DBSQLParameterType.BIGINT, value }))
        : invalid(parameter, "is outside the BIGINT range", "Use SqlParam.decimal for larger integers")
    case "number":
      if (!Number.isFinite(value)) return invalid(parameter, `is ${value}, which SQL cannot represent`)
      return Effect.succeed(
        new DBSQLParameter({
          type: int32(value)
            ? DBSQLParameterType.INTEGER
            : Number.isSafeInteger(value)
            ? DBSQLParameterType.BIGINT
            : DBSQLParameterType.DOUBLE,
          value
        })
      )
    case "object":
      if (value instanceof Date) {
        return Number.isNaN(value.getTime())
          ? invalid(parameter, "is an invalid Date")
          : Effect.succeed(new DBSQLParameter({ type: DBSQLParameterType.TIMESTAMP, value: value.toISOString() }))
      }
      if (SqlParam.isTyped(value)) return typedParameter(value, parameter)
      if (Array.isArray(value)) {
        return invalid(
          parameter,
          "is an array, which cannot be bound",
          "Bind each element as its own parameter, or pass a delimited string and use array_contains(split(:p, ','), column)"
        )
      }
      return invalid(
        parameter,
        "is an object, which cannot be bound",
        "Pass a string, number, bigint, boolean, Date, null or a SqlParam helper"
      )
    default:
      return invalid(parameter, `is a ${typeof value}, which cannot be bound`)
  }
}

const typedParameter = (value: SqlParam.Typed, parameter: string): Effect.Effect<DBSQLParameter, ParameterError> => {
  switch (value.type) {
    case "DATE":
      return /^\d{4}-\d{2}-\d{2}$/.test(value.value) && !Number.isNaN(Date.parse(`${value.value}T00:00:00Z`))
        ? Effect.succeed(new DBSQLParameter({ type: DBSQLParameterType.DATE, value: value.value }))
        : invalid(parameter, `DATE "${value.value.slice(0, 40)}" is not YYYY-MM-DD`)
    case "TIMESTAMP":
      return Number.isNaN(Date.parse(value.value))
        ? invalid(parameter, `TIMESTAMP "${value.value.slice(0, 40)}" is not an ISO 8601 time`)
        : Effect.succeed(new DBSQLParameter({ type: DBSQLParameterType.TIMESTAMP, value: value.value }))
    case "DECIMAL":
      return /^[+-]?\d+(\.\d+)?$/.test(value.value)
        ? Effect.succeed(new DBSQLParameter({ type: DBSQLParameterType.DECIMAL, value: value.value }))
        : invalid(parameter, `DECIMAL "${value.value.slice(0, 40)}" is not a decimal number`)
    case "BINARY":
      return Effect.succeed(new DBSQLParameter({ type: DBSQLParameterType.STRING, value: value.value }))
  }
}

/** Checks every parameter and converts them for the driver, or fails with the first bad one. */
export const toDriver = (params: SqlParam.Params | undefined): Effect.Effect<DriverParams, ParameterError> => {
  if (params === undefined) return Effect.succeed({})
  if (Array.isArray(params)) {
    return Effect.map(
      Effect.forEach(params as ReadonlyArray<unknown>, (value, i) => convert(value, `#${i + 1}`)),
      (ordinalParameters) => ordinalParameters.length === 0 ? {} : { ordinalParameters }
    )
  }
  if (typeof params !== "object" || params === null) {
    return invalid("(all)", "parameters must be a record of named values or an array of ordinal ones")
  }
  return Effect.gen(function*() {
    const namedParameters: Record<string, DBSQLParameter> = {}
    for (const [name, value] of Object.entries(params)) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        return yield* invalid(
          JSON.stringify(name.slice(0, 40)),
          "is not a valid parameter name",
          "Use letters, digits and _ (as :name in the SQL)"
        )
      }
      namedParameters[name] = yield* convert(value, `:${name}`)
    }
    return Object.keys(namedParameters).length === 0 ? {} : { namedParameters }
  })
}
