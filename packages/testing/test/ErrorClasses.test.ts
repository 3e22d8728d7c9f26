import type { DBSQLClient } from "@databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect, queryPromise } from "./driver.js"
import { withEmulator } from "./emulator.js"

/**
 * A failed statement's error as a Databricks SQL warehouse reports it, read through the real driver: the message
 * is `[ERROR_CLASS] text SQLSTATE: xxxxx` (error class first, SQLSTATE last) and the driver's error carries the
 * SQLSTATE. Classes, SQLSTATEs and texts: Databricks' error reference,
 * https://docs.databricks.com/en/error-messages/error-classes.html (and sqlstates.html); e.g.
 * UNRESOLVED_COLUMN.WITH_SUGGESTION "A column, variable, or function parameter with name `x` cannot be resolved.
 * Did you mean one of the following? [...]" (42703), UNRESOLVED_ROUTINE "Cannot resolve routine `f` on search
 * path [...]" (42883), TABLE_OR_VIEW_NOT_FOUND (42P01), DATATYPE_MISMATCH.* (42K09), PARSE_SYNTAX_ERROR "Syntax
 * error at or near end of input." (42601), DIVIDE_BY_ZERO (22012), CAST_INVALID_INPUT "The value 'abc' of the type
 * "STRING" cannot be cast to "INT" because it is malformed." (22018), ARITHMETIC_OVERFLOW "long overflow." (22003),
 * SCHEMA_NOT_FOUND (42704), TABLE_OR_VIEW_ALREADY_EXISTS (42P07), SCHEMA_ALREADY_EXISTS (42P06).
 */

/** DuckDB words that must never reach a client. */
const duckdbLeak =
  /Binder Error|Catalog Error|Parser Error|Conversion Error|Out of Range|Error:|\bmemory\b|VARCHAR|INT32|INT64|HUGEINT|STRING_LITERAL|INTEGER_LITERAL|DuckDB/

interface Failure {
  readonly message: string
  readonly sqlState: string | undefined
}

/** Runs statements in one session; the last must fail: its error's message and SQLSTATE. */
const failureOf = (client: DBSQLClient, ...statements: ReadonlyArray<string>) =>
  Effect.promise(async (): Promise<Failure> => {
    const session = await client.openSession()
    try {
      for (const [i, sql] of statements.entries()) {
        try {
          const operation = await session.executeStatement(sql)
          try {
            await operation.fetchAll()
          } finally {
            await operation.close().catch(() => undefined)
          }
        } catch (error: any) {
          if (i < statements.length - 1) throw error
          return { message: String(error?.message), sqlState: error?.response?.sqlState ?? error?.sqlState }
        }
      }
      throw new Error(`no failure: ${statements.at(-1)}`)
    } finally {
      await session.close()
    }
  })

const expectFailure = (failure: Failure, errorClass: string, sqlState: string, text?: RegExp) => {
  assert.match(
    failure.message,
    new RegExp(`^\\[${errorClass.replace(/\./g, "\\.")}\\] .* SQLSTATE: ${sqlState}$`, "s"),
    failure.message
  )
  assert.strictEqual(failure.sqlState, sqlState, failure.message)
  assert.notMatch(failure.message, duckdbLeak)
  if (text !== undefined) assert.match(failure.message, text, failure.message)
}

const table = "CREATE TABLE people (id INT, name STRING)"

describe("Databricks error classes, through the real driver", () => {
  it.scopedLive("unresolved column, with and without a suggestion (42703)", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      expectFailure(
        yield* failureOf(client, table, "SELECT nme FROM people"),
        "UNRESOLVED_COLUMN.WITH_SUGGESTION",
        "42703",
        /name `nme` cannot be resolved\. Did you mean one of the following\? \[`name`/
      )
      expectFailure(
        yield* failureOf(client, "SELECT foo"),
        "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
        "42703",
        /with name `foo` cannot be resolved\./
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("unresolved routine (42883) and table (42P01) are distinct", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      expectFailure(
        yield* failureOf(client, "SELECT no_such_function(1)"),
        "UNRESOLVED_ROUTINE",
        "42883",
        /Cannot resolve routine `no_such_function` on search path/
      )
      expectFailure(
        yield* failureOf(client, "SELECT * FROM no_such_table"),
        "TABLE_OR_VIEW_NOT_FOUND",
        "42P01",
        /The table or view `no_such_table` cannot be found\./
      )
      expectFailure(
        yield* failureOf(client, "SELECT * FROM main.no_such_schema.t"),
        "TABLE_OR_VIEW_NOT_FOUND",
        "42P01"
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("data type mismatch (42K09) and a wrong number of arguments (42605)", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      expectFailure(
        yield* failureOf(client, "SELECT true + 1"),
        "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
        "42K09"
      )
      expectFailure(
        yield* failureOf(client, "SELECT substr('a')"),
        "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
        "42605",
        // The function is named as the translated statement calls it (`substr` is DuckDB's `substring`).
        /The `substr(?:ing)?` requires \[2, 3\] parameters but the actual number is 1\./
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a statement cut short is a syntax error at end of input (42601)", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      expectFailure(
        yield* failureOf(client, "SELECT 1 +"),
        "PARSE_SYNTAX_ERROR",
        "42601",
        /^\[PARSE_SYNTAX_ERROR\] Syntax error at or near end of input\. SQLSTATE: 42601$/
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("ANSI errors: division by zero (22012), invalid cast (22018), overflow (22003)", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      expectFailure(yield* failureOf(client, "SELECT 1 / 0"), "DIVIDE_BY_ZERO", "22012", /try_divide/)
      expectFailure(
        yield* failureOf(client, "SELECT CAST('abc' AS INT)"),
        "CAST_INVALID_INPUT",
        "22018",
        /The value 'abc' of the type "STRING" cannot be cast to "INT" because it is malformed\./
      )
      expectFailure(
        yield* failureOf(client, "SELECT CAST(9223372036854775807 AS BIGINT) + 1"),
        "ARITHMETIC_OVERFLOW",
        "22003",
        /long overflow\. Use 'try_add'/
      )
      expectFailure(
        yield* failureOf(client, "SELECT CAST(2147483647 AS INT) * 2"),
        "ARITHMETIC_OVERFLOW",
        "22003",
        /integer overflow\. Use 'try_multiply'/
      )
      expectFailure(
        yield* failureOf(client, "SELECT CAST(1000 AS TINYINT)"),
        "CAST_OVERFLOW",
        "22003",
        /The value 1000 of the type "INT" cannot be cast to "TINYINT" due to an overflow/
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("schema and catalog not found (42704), already exists (42P07, 42P06), insert arity (21S01)", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      expectFailure(yield* failureOf(client, "USE SCHEMA no_such_schema"), "SCHEMA_NOT_FOUND", "42704")
      expectFailure(yield* failureOf(client, "USE CATALOG no_such_catalog"), "NO_SUCH_CATALOG_EXCEPTION", "42704")
      expectFailure(
        yield* failureOf(client, table, table),
        "TABLE_OR_VIEW_ALREADY_EXISTS",
        "42P07",
        /Cannot create table or view `.*people` because it already exists\./
      )
      expectFailure(
        yield* failureOf(client, "CREATE SCHEMA twice", "CREATE SCHEMA twice"),
        "SCHEMA_ALREADY_EXISTS",
        "42P06"
      )
      expectFailure(
        yield* failureOf(client, "INSERT INTO people VALUES (1)"),
        "INSERT_COLUMN_ARITY_MISMATCH.NOT_ENOUGH_DATA_COLUMNS",
        "21S01"
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("aggregation, ambiguity, set operations, decimal range, NOT NULL", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      expectFailure(
        yield* failureOf(client, table, "SELECT id, count(*) FROM people"),
        "MISSING_AGGREGATION",
        "42803",
        /The non-aggregating expression "id" is based on columns which are not participating in the GROUP BY/
      )
      expectFailure(
        yield* failureOf(client, "CREATE TABLE pets (id INT)", "SELECT id FROM people, pets"),
        "AMBIGUOUS_REFERENCE",
        "42704",
        /Reference `id` is ambiguous, could be: \[`people`\.`id`, `pets`\.`id`\]\./
      )
      expectFailure(yield* failureOf(client, "SELECT 1 UNION SELECT 1, 2"), "NUM_COLUMNS_MISMATCH", "42826")
      expectFailure(
        yield* failureOf(client, "SELECT CAST(123.45 AS DECIMAL(3,1))"),
        "NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION",
        "22003",
        /123\.45 cannot be represented as Decimal\(3, 1\)/
      )
      expectFailure(
        yield* failureOf(client, "CREATE TABLE strict (x INT NOT NULL)", "INSERT INTO strict VALUES (NULL)"),
        "DELTA_NOT_NULL_CONSTRAINT_VIOLATED",
        "23502",
        /NOT NULL constraint violated for column: x\./
      )
      expectFailure(
        yield* failureOf(client, "SELECT CAST('true-ish' AS BOOLEAN)"),
        "CAST_INVALID_INPUT",
        "22018",
        /cannot be cast to "BOOLEAN"/
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a named parameter without a value is UNBOUND_SQL_PARAMETER (42P02)", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const failure = yield* Effect.promise(() =>
        queryPromise(client, "SELECT :x AS a, :y AS b", { namedParameters: { x: 1 } }).then(
          () => ({ message: "no failure", sqlState: undefined }),
          (error: any) => ({ message: String(error?.message), sqlState: error?.response?.sqlState ?? error?.sqlState })
        )
      )
      expectFailure(failure, "UNBOUND_SQL_PARAMETER", "42P02", /Found the unbound parameter: y\./)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a value with no Databricks form fails the fetch with its error class", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const failure = yield* Effect.promise(() =>
        queryPromise(client, "SELECT 340282366920938463463374607431768211455::UHUGEINT AS u").then(
          () => ({ message: "no failure", sqlState: undefined }),
          (error: any) => ({ message: String(error?.message), sqlState: error?.response?.sqlState ?? error?.sqlState })
        )
      )
      // The value fails the statement itself: the driver reads the error, SQLSTATE included, from its status.
      expectFailure(
        failure,
        "NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION",
        "22003",
        /340282366920938463463374607431768211455 cannot be represented as Decimal\(38, 0\)\./
      )
    }).pipe(Effect.provide(withEmulator())))
})
