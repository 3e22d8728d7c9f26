/**
 * Checks of the arguments of SqlClient's methods, for callers the types do not bind: a wrong one is a
 * `ParameterError` naming the argument (the value is not shown: it may hold anything), never a defect, and
 * never a request the driver would send malformed ("Required field statement is unset!").
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import { ParameterError } from "../SqlError.js"

const kind = (u: unknown): string => u === null ? "null" : Array.isArray(u) ? "an array" : `a ${typeof u}`

/** The statement: a string with some SQL in it. */
export const checkStatement = (sql: unknown): Effect.Effect<string, ParameterError> =>
  typeof sql === "string" && sql.trim() !== ""
    ? Effect.succeed(sql)
    : Effect.fail(
      new ParameterError({
        parameter: "sql",
        message: typeof sql === "string"
          ? "The statement (sql) is empty"
          : `The statement (sql) is ${kind(sql)}, not a string`,
        hint: "Pass the SQL text as a string, and values as params"
      })
    )

/** An optional argument that `valid` accepts. */
export const checkArgument = <A>(
  value: unknown,
  name: string,
  expected: string,
  valid: (u: unknown) => u is A
): Effect.Effect<A | undefined, ParameterError> =>
  value === undefined || valid(value)
    ? Effect.succeed(value)
    : Effect.fail(
      new ParameterError({
        parameter: name,
        message: `${name} is ${kind(value)}, not ${expected}`,
        hint: `Pass ${expected}`
      })
    )
