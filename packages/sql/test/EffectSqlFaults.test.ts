import type { SqlClient } from "@effect-databricks/sql"
import { SqlError as OurErrors } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { isRead } from "../src/internal/compiler.js"
import { sqlClient, withSql } from "./EffectSqlUtils.js"
import { statements, withEmulator } from "./utils.js"

const addFault = (fault: Emulator.Fault) => Effect.flatMap(Emulator.Emulator, (e) => e.faults.add(fault))

describe("@effect/sql on Databricks: reads, writes and errors", () => {
  it("tells reads (sent again after a lost answer) from everything else (never sent twice)", () => {
    const reads = [
      "SELECT 1",
      "  -- a comment\n /* a /* nested */ block */ select 1",
      "(SELECT 1) UNION (SELECT 2)",
      "WITH x AS (SELECT 1) SELECT * FROM x",
      "with recursive r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 3) SELECT * FROM r",
      "WITH a (x, y) AS (SELECT 1, 2), b AS (SELECT ')' AS p, 'it''s (' AS q) SELECT * FROM a, b",
      "WITH x (SELECT 'INSERT') VALUES (1)",
      "WITH `we``ird` AS (SELECT \"a\\\"(\" AS s) TABLE `we``ird`",
      "SHOW TABLES",
      "DESCRIBE t",
      "desc t",
      "EXPLAIN INSERT INTO t VALUES (1)",
      "VALUES (1), (2)",
      "TABLE t"
    ]
    const writes = [
      "INSERT INTO t SELECT 1",
      "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
      "WITH x AS (SELECT ')') INSERT INTO t SELECT * FROM x",
      "WITH x AS (SELECT 'it''s (') INSERT INTO t SELECT * FROM x",
      "WITH x AS (SELECT r'\\' AS p) INSERT INTO t SELECT * FROM x",
      "WITH x AS (SELECT 1) /* ) SELECT */ INSERT INTO t SELECT * FROM x",
      "WITH x AS (SELECT 1) -- SELECT\n DELETE FROM t",
      "WITH x AS (SELECT 1) MERGE INTO t USING x ON t.id = x.id WHEN MATCHED THEN DELETE",
      "WITH x AS (SELECT 1) FROM x INSERT INTO t SELECT *",
      "FROM s INSERT INTO t SELECT *",
      "UPDATE t SET a = 1",
      "DELETE FROM t",
      "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE",
      "CREATE TABLE t AS SELECT 1",
      "SET x = 1",
      "BEGIN TRANSACTION",
      "COMMIT",
      "/* unterminated SELECT 1",
      "WITH x AS (SELECT 'unterminated) SELECT 1",
      "; SELECT 1",
      "SELECTED",
      "",
      "   "
    ]
    for (const sql of reads) assert.isTrue(isRead(sql), `a read: ${sql}`)
    for (const sql of writes) assert.isFalse(isRead(sql), `not a read: ${sql}`)
  })

  it.scopedLive("a lost answer to an INSERT through the template is never sent again: one row, or the failure", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE ledger (id INT)")
      const [plain, withCte, count] = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        yield* addFault({ target: "ExecuteStatement", reset: "after" })
        const plain = yield* Effect.flip(sql`INSERT INTO ledger VALUES (${1})`)
        yield* addFault({ target: "ExecuteStatement", reset: "after" })
        const withCte = yield* Effect.flip(sql`WITH x AS (SELECT ${2} AS id) INSERT INTO ledger SELECT id FROM x`)
        return [plain, withCte, yield* sql`SELECT count(*) AS n FROM ledger`] as const
      }))
      for (const error of [plain, withCte]) {
        assert.instanceOf(error, SqlError)
        assert.strictEqual((error.cause as SqlClient.SqlClientError)._tag, "NetworkError")
      }
      assert.deepStrictEqual(count, [{ n: 2n }], "each INSERT ran exactly once")
      assert.deepStrictEqual(yield* statements("INSERT INTO ledger"), ["FINISHED", "FINISHED"])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a lost answer to a SELECT through the template is sent again and succeeds", () =>
    Effect.gen(function*() {
      const rows = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        yield* addFault({ target: "ExecuteStatement", reset: "after" })
        return yield* sql`WITH m AS (SELECT ${"again"} AS marker) SELECT marker FROM m`
      }))
      assert.deepStrictEqual(rows, [{ marker: "again" }])
      assert.deepStrictEqual(yield* statements("AS marker) SELECT"), ["FINISHED", "FINISHED"])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a rate limit through the template is retried like SqlClient's", () =>
    Effect.gen(function*() {
      const rows = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        yield* addFault({ target: "ExecuteStatement", status: 429, headers: { "retry-after": "0" } })
        return yield* sql`SELECT ${"limited"} AS marker`
      }))
      assert.deepStrictEqual(rows, [{ marker: "limited" }])
      assert.deepStrictEqual(yield* statements("AS marker"), ["FINISHED"], "the 429 proves it never ran")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("errors are SqlError whose cause is our tagged error: the documented catch patterns", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE payroll (x INT)")
      yield* emulator.deny(emulator.user, "payroll")
      const result = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        // 1. mapError to the cause, then catchTag as with SqlClient.
        const missing = yield* sql`SELECT * FROM missing_table`.pipe(
          Effect.mapError((error) => error.cause as SqlClient.SqlClientError),
          Effect.catchTag("QueryError", (error) => Effect.succeed(error.errorClass))
        )
        // 2. catchIf on the cause, keeping SqlError for the rest.
        const denied = yield* sql`SELECT * FROM payroll`.pipe(
          Effect.as("allowed"),
          Effect.catchIf(
            (error) => error.cause instanceof OurErrors.PermissionError,
            () => Effect.succeed("denied")
          )
        )
        const error = yield* Effect.flip(sql`SELECT * FROM missing_table`)
        return { missing, denied, error }
      }))
      assert.strictEqual(result.missing, "TABLE_OR_VIEW_NOT_FOUND")
      assert.strictEqual(result.denied, "denied")
      assert.strictEqual(result.error.message, "Failed to execute statement (QueryError)")
      assert.instanceOf(result.error.cause, OurErrors.QueryError)
      assert.deepStrictEqual(yield* statements("payroll"), ["ERROR"], "a denial is not retried")
    }).pipe(Effect.provide(withEmulator())))
})
