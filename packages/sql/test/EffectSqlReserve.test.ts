import type { SqlClient } from "@effect-databricks/sql"
import { SqlError as OurErrors } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { SqlError } from "@effect/sql/SqlError"
import { assert, describe, it } from "@effect/vitest"
import { Data, Effect, Fiber } from "effect"
import { sqlClient, withSql } from "./EffectSqlUtils.js"
import { stats, until, withEmulator } from "./utils.js"

/*
 * What Databricks supports (checked in its documentation, "Transactions" and "Transaction modes",
 * https://docs.databricks.com/aws/en/transactions/transaction-modes, and the SQL reference's BEGIN TRANSACTION,
 * COMMIT and ROLLBACK pages):
 * - Interactive transactions (BEGIN TRANSACTION; ...; COMMIT or ROLLBACK) run on SQL warehouses (classic and
 *   serverless) only; serverless notebooks and classic clusters have non-interactive BEGIN ATOMIC ... END only.
 *   Writes in a transaction to Unity Catalog managed Delta tables are in Public Preview; every table written must
 *   have catalog-managed commits (TBLPROPERTIES ('delta.feature.catalogManaged' = 'supported')).
 * - No nesting: BEGIN TRANSACTION inside one fails with TRANSACTION_NOT_SUPPORTED.NESTED_TRANSACTION, and there is
 *   no SAVEPOINT statement. Only SELECT, INSERT, MERGE, UPDATE and DELETE may run inside one
 *   (TRANSACTION_NOT_SUPPORTED.COMMAND): no DDL.
 * - A failed statement aborts the transaction until ROLLBACK; a failed COMMIT needs a ROLLBACK too. ROLLBACK with
 *   no transaction open is not an error.
 * The emulator runs BEGIN TRANSACTION / COMMIT / ROLLBACK per session with the same isolation, aborted state,
 * statement rules and error classes (packages/testing/test/Transactions.test.ts); it does not check the table
 * rules (catalog-managed commits).
 */

class Oops extends Data.TaggedError("Oops") {}

const count = (table: string) =>
  Effect.flatMap(Emulator.Emulator, (emulator) => emulator.sql(`SELECT count(*) AS n FROM ${table}`))

/** The statements that ran, each with the session it ran in. */
const ranIn = (marker: string) =>
  Effect.map(stats, (s) => s.statements.filter((t) => t.text.includes(marker)).map((t) => [t.text, t.sessionId]))

describe("@effect/sql on Databricks: reserve and withTransaction", () => {
  it.scopedLive("reserve pins one session: SET and a temporary view persist across its statements, and stay there", () =>
    Effect.gen(function*() {
      const result = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        const pinned = yield* Effect.scoped(Effect.gen(function*() {
          const conn = yield* sql.reserve
          yield* conn.execute("SET pinned.key = 42", [], undefined)
          yield* conn.execute("CREATE TEMPORARY VIEW pinned_view AS SELECT 'pinned' AS marker", [], undefined)
          const setting = yield* conn.execute("SET pinned.key", [], undefined)
          const view = yield* conn.execute("SELECT marker FROM pinned_view", [], undefined)
          // Meanwhile, the pooled client runs on another session.
          const elsewhere = yield* Effect.flip(sql`SELECT marker FROM pinned_view`)
          return { setting, view, elsewhere }
        }))
        // The reserved session was closed with its scope, not returned to the pool.
        const after = yield* Effect.flip(sql`SELECT marker FROM pinned_view`)
        return { ...pinned, after }
      }))
      assert.deepStrictEqual(result.setting, [{ key: "pinned.key", value: "42" }])
      assert.deepStrictEqual(result.view, [{ marker: "pinned" }])
      for (const error of [result.elsewhere, result.after]) {
        assert.instanceOf(error, SqlError)
        assert.strictEqual((error.cause as SqlClient.SqlClientError)._tag, "QueryError")
      }
      const ran = yield* ranIn("pinned")
      assert.strictEqual(ran.length, 6)
      const reserved = ran[0][1]
      assert.deepStrictEqual(ran.slice(0, 4).map(([, session]) => session === reserved), [true, true, true, true])
      assert.notStrictEqual(ran[4][1], reserved, "the pooled client used the reserved session")
      assert.notStrictEqual(ran[5][1], reserved, "the reserved session went back to the pool")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("withTransaction commits on success: BEGIN, the statements and COMMIT on one session", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE ledger (id INT)")
      const seenInside = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        return yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ledger VALUES (${1})`
          yield* sql`INSERT INTO ledger VALUES (${2})`
          const mine = yield* sql`SELECT count(*) AS n FROM ledger`
          // Not committed yet: another session sees nothing.
          const others = yield* count("ledger")
          return { mine, others }
        }))
      }))
      assert.deepStrictEqual(seenInside, { mine: [{ n: 2n }], others: [{ n: 0n }] })
      assert.deepStrictEqual(yield* count("ledger"), [{ n: 2n }])
      // (The emulator's own count, from another connection, is not in its statement log.)
      const log = (yield* stats).statements.filter((t) => /TRANSACTION|ledger|COMMIT|ROLLBACK/.test(t.text))
      assert.deepStrictEqual(log.map((t) => t.text), [
        "BEGIN TRANSACTION",
        "INSERT INTO ledger VALUES (?)",
        "INSERT INTO ledger VALUES (?)",
        "SELECT count(*) AS n FROM ledger",
        "COMMIT"
      ])
      assert.strictEqual(new Set(log.map((t) => t.sessionId)).size, 1, "all in one session")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("withTransaction rolls back on a failure and on an interruption; the failure is the effect's own", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE ledger (id INT)")
      const [failure, interrupted] = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        const failure = yield* Effect.flip(sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ledger VALUES (${1})`
          return yield* new Oops()
        })))
        const fiber = yield* Effect.fork(sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ledger VALUES (${2})`
          return yield* Effect.never
        })))
        yield* until((s) => s.statements.filter((t) => t.text.startsWith("INSERT INTO ledger")).length === 2)
        return [failure, yield* Fiber.interrupt(fiber)] as const
      }))
      assert.instanceOf(failure, Oops)
      assert.isTrue(interrupted._tag === "Failure")
      assert.deepStrictEqual(yield* count("ledger"), [{ n: 0n }])
      const log = (yield* stats).statements.map((t) => t.text).filter((t) =>
        /TRANSACTION|ledger|COMMIT|ROLLBACK/.test(t)
      )
      assert.deepStrictEqual(log.filter((t) => t === "ROLLBACK"), ["ROLLBACK", "ROLLBACK"])
      assert.notInclude(log, "COMMIT")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a nested withTransaction fails (no savepoints on Databricks) and leaves the outer one intact", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE ledger (id INT)")
      const nested = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        return yield* sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ledger VALUES (${1})`
          const nested = yield* Effect.flip(sql.withTransaction(sql`INSERT INTO ledger VALUES (${2})`))
          yield* sql`INSERT INTO ledger VALUES (${3})`
          return nested
        }))
      }))
      assert.instanceOf(nested, SqlError)
      const cause = nested.cause as OurErrors.QueryError
      assert.instanceOf(cause, OurErrors.QueryError)
      assert.strictEqual(cause.errorClass, "TRANSACTION_NOT_SUPPORTED.NESTED_TRANSACTION")
      assert.include(cause.message, "no nested transactions or savepoints")
      assert.deepStrictEqual(yield* emulator.sql("SELECT id FROM ledger ORDER BY id"), [{ id: 1 }, { id: 3 }])
      const log = (yield* stats).statements.map((t) => t.text)
      assert.strictEqual(log.filter((t) => t === "BEGIN TRANSACTION").length, 1, "the inner BEGIN was not sent")
      assert.notInclude(log.join("\n"), "SAVEPOINT")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a BEGIN TRANSACTION the warehouse refuses is a typed SqlError: the effect never runs, no ROLLBACK", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE ledger (id INT)")
      const error = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        yield* sql`SELECT 1 AS warm`
        yield* emulator.faults.add({
          target: "ExecuteStatement",
          status: 403,
          body: "{\"error_code\":\"PERMISSION_DENIED\",\"message\":\"Not allowed.\"}"
        })
        return yield* Effect.flip(sql.withTransaction(sql`INSERT INTO ledger VALUES (${1})`))
      }))
      assert.instanceOf(error, SqlError)
      assert.strictEqual((error.cause as SqlClient.SqlClientError)._tag, "PermissionError")
      assert.include(error.message, "Databricks runs BEGIN TRANSACTION on SQL warehouses only")
      const log = (yield* stats).statements.map((t) => t.text)
      assert.notInclude(log.join("\n"), "INSERT INTO ledger")
      assert.notInclude(log, "ROLLBACK")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a COMMIT that fails is a typed SqlError (not a defect), followed by a ROLLBACK", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE ledger (id INT)")
      const error = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        return yield* Effect.flip(sql.withTransaction(Effect.gen(function*() {
          yield* sql`INSERT INTO ledger VALUES (${1})`
          // The next statement is the COMMIT.
          yield* emulator.faults.add({
            target: "ExecuteStatement",
            status: 403,
            body: "{\"error_code\":\"PERMISSION_DENIED\",\"message\":\"Not allowed.\"}"
          })
        })))
      }))
      assert.instanceOf(error, SqlError)
      assert.strictEqual(error.message, "Failed to commit the transaction (PermissionError)")
      assert.strictEqual((error.cause as SqlClient.SqlClientError)._tag, "PermissionError")
      const log = (yield* stats).statements.map((t) => t.text)
      assert.deepStrictEqual(log.filter((t) => t === "ROLLBACK" || t === "COMMIT"), ["ROLLBACK"])
      assert.deepStrictEqual(yield* count("ledger"), [{ n: 0n }])
    }).pipe(Effect.provide(withEmulator())))
})
