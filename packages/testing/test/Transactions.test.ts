/**
 * Interactive transactions and DML as a Databricks SQL warehouse runs them, through the real driver against the
 * Emulator. What Databricks documents (SQL reference and error conditions on docs.databricks.com):
 *
 * - sql-ref-syntax-txn-begin: `BEGIN { TRANSACTION | WORK }` (the two are equivalent); "If an interactive
 *   transaction is already active, executing BEGIN TRANSACTION again results in a
 *   TRANSACTION_NOT_SUPPORTED.NESTED_TRANSACTION error. Interactive transactions do not support nesting."
 *   No other spelling is documented: `BEGIN` alone opens a compound statement (SQL scripting), and DuckDB's
 *   `START TRANSACTION`, `END`, `ABORT` and `SAVEPOINT` are not Databricks SQL.
 * - sql-ref-syntax-txn-commit: `COMMIT [ TRANSACTION | WORK ]`; "If there is no active transaction, executing
 *   COMMIT results in a NO_ACTIVE_TRANSACTION error"; a failed COMMIT aborts the transaction (ROLLBACK first).
 *   NO_ACTIVE_TRANSACTION's SQLSTATE and text are not documented: the emulator answers 25000 (the SQL standard's
 *   "invalid transaction state") and "There is no active transaction to commit.".
 * - sql-ref-syntax-txn-rollback: `ROLLBACK [ TRANSACTION | WORK ]`; "If there is no active transaction, executing
 *   ROLLBACK does not result in an error." "If an operation within a transaction results in an error, the
 *   transaction enters an aborted state. Subsequent read and write operations are rejected with an error until the
 *   transaction is explicitly rolled back by the user" (its examples: `SELECT 1/0`, and a parser error
 *   `SELLLLLLECT 1`, both abort).
 * - error-messages/transaction-rollback-required-after-abort-error-class: TRANSACTION_ROLLBACK_REQUIRED_AFTER_ABORT
 *   (SQLSTATE 40000) "The current transaction has been aborted. Please run ROLLBACK TRANSACTION before continuing.
 *   Abort reason:", sub-class PREVIOUS_QUERY_FAILURE "The previous query in the transaction failed."
 * - error-messages/transaction-not-supported-error-class: TRANSACTION_NOT_SUPPORTED (SQLSTATE 0A000) "Failed to
 *   execute the statement.", sub-classes NESTED_TRANSACTION "Nested transactions are not supported." and COMMAND
 *   "Command <command> is not supported in a transaction. Only SELECT / INSERT / MERGE / UPDATE / DELETE /
 *   DESCRIBE TABLE are supported." (older versions of the page omit DESCRIBE TABLE). The `<command>` the emulator
 *   names is the statement's leading words (`CREATE TABLE`); a warehouse's exact wording is not documented.
 * - sql-ref-syntax-dml-insert-into, -dml-update, -dml-delete-from, -dml-merge-into: no RETURNING clause, so a
 *   statement with one is a PARSE_SYNTAX_ERROR (42601); the emulator names `RETURNING` as the token.
 * - COMMIT "makes changes visible to other transactions" (sql-ref-syntax-txn-commit, "Read-your-own-writes").
 */
import type { DBSQLClient } from "@databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { connect } from "./driver.js"
import { withEmulator } from "./emulator.js"

type Session = Awaited<ReturnType<DBSQLClient["openSession"]>>

interface Failure {
  readonly message: string
  readonly sqlState: string | undefined
}

type Outcome =
  | { readonly _tag: "Rows"; readonly rows: Array<Record<string, unknown>> }
  | { readonly _tag: "Failure"; readonly failure: Failure }

/** A session of the real driver, closed with the scope. */
const openSession = (client: DBSQLClient) =>
  Effect.acquireRelease(
    Effect.promise(() => client.openSession()),
    (session) => Effect.promise(() => session.close().catch(() => undefined))
  )

const outcome = (session: Session, sql: string) =>
  Effect.promise(async (): Promise<Outcome> => {
    try {
      const operation = await session.executeStatement(sql)
      try {
        return { _tag: "Rows", rows: (await operation.fetchAll()) as Array<Record<string, unknown>> }
      } finally {
        await operation.close().catch(() => undefined)
      }
    } catch (error: any) {
      return {
        _tag: "Failure",
        failure: { message: String(error?.message), sqlState: error?.response?.sqlState ?? error?.sqlState }
      }
    }
  })

/** Runs a statement that must succeed: its rows. */
const ok = (session: Session, sql: string) =>
  Effect.map(outcome(session, sql), (result) => {
    if (result._tag === "Failure") assert.fail(`${sql}: ${result.failure.message}`)
    return result.rows
  })

/** Runs a statement that must fail with this class and SQLSTATE: its message. */
const fails = (session: Session, sql: string, errorClass: string, sqlState: string) =>
  Effect.map(outcome(session, sql), (result) => {
    if (result._tag === "Rows") assert.fail(`${sql} did not fail`)
    const { message } = result.failure
    assert.match(message, new RegExp(`^\\[${errorClass.replace(/\./g, "\\.")}\\] .* SQLSTATE: ${sqlState}$`, "s"), sql)
    assert.strictEqual(result.failure.sqlState, sqlState, `${sql}: ${message}`)
    assert.notMatch(message, /TransactionContext|DuckDB|Error:/, sql)
    return message
  })

const setup = (session: Session) =>
  Effect.gen(function*() {
    yield* ok(session, "CREATE TABLE accounts (id INT, balance INT)")
    yield* ok(session, "INSERT INTO accounts VALUES (1, 100), (2, 50)")
  })

const balances = (session: Session) => ok(session, "SELECT id, balance FROM accounts ORDER BY id")

describe("Transactions and DML as Databricks runs them, through the real driver", () => {
  it.scopedLive("RETURNING is a syntax error on INSERT, UPDATE, DELETE and MERGE, and nothing is written", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const session = yield* openSession(client)
      yield* setup(session)
      for (
        const sql of [
          "INSERT INTO accounts VALUES (3, 10) RETURNING *",
          "INSERT INTO accounts (id, balance) SELECT 3, 10 RETURNING id",
          "UPDATE accounts SET balance = 0 WHERE id = 1 RETURNING balance",
          "DELETE FROM accounts WHERE id = 2 RETURNING *",
          "DELETE FROM accounts returning *",
          "MERGE INTO accounts a USING (SELECT 1 AS id) s ON a.id = s.id WHEN MATCHED THEN DELETE RETURNING *"
        ]
      ) {
        const message = yield* fails(session, sql, "PARSE_SYNTAX_ERROR", "42601")
        assert.match(message, /^\[PARSE_SYNTAX_ERROR\] Syntax error at or near '(?:RETURNING|returning)'\./, sql)
      }
      assert.deepStrictEqual(yield* balances(session), [{ id: 1, balance: 100 }, { id: 2, balance: 50 }])
      // A column or alias named `returning` is still a name.
      yield* ok(session, "INSERT INTO accounts SELECT 3 AS returning, 10")
      assert.deepStrictEqual(yield* ok(session, "SELECT id AS returning FROM accounts WHERE id = 3"), [{
        returning: 3
      }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("ROLLBACK with no transaction is not an error; COMMIT with none is NO_ACTIVE_TRANSACTION", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const session = yield* openSession(client)
      for (const sql of ["ROLLBACK", "ROLLBACK TRANSACTION", "rollback work;"]) {
        assert.deepStrictEqual(yield* ok(session, sql), [], sql)
      }
      for (const sql of ["COMMIT", "COMMIT TRANSACTION", "commit work"]) {
        const message = yield* fails(session, sql, "NO_ACTIVE_TRANSACTION", "25000")
        assert.strictEqual(message, "[NO_ACTIVE_TRANSACTION] There is no active transaction to commit. SQLSTATE: 25000")
      }
      // Neither left the session in a state that refuses statements.
      assert.deepStrictEqual(yield* ok(session, "SELECT 1 AS one"), [{ one: 1 }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("BEGIN TRANSACTION / BEGIN WORK open one; a nested BEGIN is NESTED_TRANSACTION and aborts it", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const session = yield* openSession(client)
      yield* setup(session)
      for (const begin of ["BEGIN TRANSACTION", "begin work"]) {
        yield* ok(session, begin)
        yield* ok(session, "UPDATE accounts SET balance = balance - 10 WHERE id = 1")
        const nested = yield* fails(
          session,
          "BEGIN TRANSACTION",
          "TRANSACTION_NOT_SUPPORTED.NESTED_TRANSACTION",
          "0A000"
        )
        assert.strictEqual(
          nested,
          "[TRANSACTION_NOT_SUPPORTED.NESTED_TRANSACTION] Failed to execute the statement. Nested transactions are " +
            "not supported. SQLSTATE: 0A000"
        )
        // The failed BEGIN aborted the transaction: ROLLBACK first.
        yield* fails(session, "SELECT 1", "TRANSACTION_ROLLBACK_REQUIRED_AFTER_ABORT.PREVIOUS_QUERY_FAILURE", "40000")
        yield* ok(session, "ROLLBACK")
        assert.deepStrictEqual(yield* balances(session), [{ id: 1, balance: 100 }, { id: 2, balance: 50 }], begin)
      }
      // A committed transaction keeps its writes.
      yield* ok(session, "BEGIN TRANSACTION")
      yield* ok(session, "UPDATE accounts SET balance = balance - 10 WHERE id = 1")
      yield* ok(session, "UPDATE accounts SET balance = balance + 10 WHERE id = 2")
      yield* ok(session, "COMMIT TRANSACTION")
      assert.deepStrictEqual(yield* balances(session), [{ id: 1, balance: 90 }, { id: 2, balance: 60 }])
      yield* fails(session, "COMMIT", "NO_ACTIVE_TRANSACTION", "25000")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("only queries, DML and DESCRIBE TABLE run inside one: DDL is TRANSACTION_NOT_SUPPORTED.COMMAND", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const session = yield* openSession(client)
      yield* setup(session)
      yield* ok(session, "BEGIN TRANSACTION")
      yield* ok(session, "INSERT INTO accounts VALUES (3, 5)")
      yield* ok(session, "UPDATE accounts SET balance = 0 WHERE id = 3")
      yield* ok(session, "DELETE FROM accounts WHERE id = 2")
      yield* ok(
        session,
        "MERGE INTO accounts a USING (SELECT 1 AS id, 7 AS balance) s ON a.id = s.id " +
          "WHEN MATCHED THEN UPDATE SET balance = s.balance"
      )
      yield* ok(session, "WITH s AS (SELECT 1 AS x) SELECT x FROM s")
      assert.isAbove((yield* ok(session, "DESCRIBE TABLE accounts")).length, 1)
      assert.deepStrictEqual(yield* balances(session), [{ id: 1, balance: 7 }, { id: 3, balance: 0 }])
      const refused = yield* fails(
        session,
        "CREATE TABLE audit (id INT)",
        "TRANSACTION_NOT_SUPPORTED.COMMAND",
        "0A000"
      )
      assert.strictEqual(
        refused,
        "[TRANSACTION_NOT_SUPPORTED.COMMAND] Failed to execute the statement. Command CREATE TABLE is not supported " +
          "in a transaction. Only SELECT / INSERT / MERGE / UPDATE / DELETE / DESCRIBE TABLE are supported. " +
          "SQLSTATE: 0A000"
      )
      yield* ok(session, "ROLLBACK")
      // Each refused statement aborts the transaction in turn, and runs nowhere.
      for (
        const [sql, command] of [
          ["DROP TABLE accounts", "DROP TABLE"],
          ["ALTER TABLE accounts ADD COLUMN note STRING", "ALTER TABLE"],
          ["CREATE OR REPLACE TEMPORARY VIEW v AS SELECT 1", "CREATE OR REPLACE TEMPORARY VIEW"],
          ["SET spark.sql.ansi.enabled = true", "SET"],
          ["USE SCHEMA default", "USE SCHEMA"],
          ["SHOW TABLES", "SHOW TABLES"],
          ["DESCRIBE QUERY SELECT 1", "DESCRIBE QUERY"],
          ["TRUNCATE TABLE accounts", "TRUNCATE TABLE"]
        ] as const
      ) {
        yield* ok(session, "BEGIN TRANSACTION")
        const message = yield* fails(session, sql, "TRANSACTION_NOT_SUPPORTED.COMMAND", "0A000")
        assert.include(message, `Command ${command} is not supported in a transaction.`, sql)
        yield* fails(session, "SELECT 1", "TRANSACTION_ROLLBACK_REQUIRED_AFTER_ABORT.PREVIOUS_QUERY_FAILURE", "40000")
        yield* ok(session, "ROLLBACK")
      }
      assert.deepStrictEqual(yield* balances(session), [{ id: 1, balance: 100 }, { id: 2, balance: 50 }])
      yield* fails(session, "SELECT * FROM audit", "TABLE_OR_VIEW_NOT_FOUND", "42P01")
      // Outside a transaction DDL runs again.
      yield* ok(session, "CREATE TABLE audit (id INT)")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a failed statement aborts the transaction: everything but ROLLBACK is refused until ROLLBACK", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const session = yield* openSession(client)
      yield* setup(session)
      // The reference's examples: a division by zero and a parser error; and an unresolved column, which DuckDB
      // itself does not treat as aborting.
      for (
        const [failing, errorClass, sqlState] of [
          ["SELECT 1/0", "DIVIDE_BY_ZERO", "22012"],
          ["SELLLLLLECT 1", "PARSE_SYNTAX_ERROR", "42601"],
          ["SELECT nope FROM accounts", "UNRESOLVED_COLUMN.WITH_SUGGESTION", "42703"],
          ["SELECT * FROM missing_table", "TABLE_OR_VIEW_NOT_FOUND", "42P01"]
        ] as const
      ) {
        yield* ok(session, "BEGIN TRANSACTION")
        yield* ok(session, "INSERT INTO accounts VALUES (3, 1)")
        yield* fails(session, failing, errorClass, sqlState)
        for (const next of ["SELECT 1", "INSERT INTO accounts VALUES (4, 1)", "COMMIT", "BEGIN TRANSACTION"]) {
          const message = yield* fails(
            session,
            next,
            "TRANSACTION_ROLLBACK_REQUIRED_AFTER_ABORT.PREVIOUS_QUERY_FAILURE",
            "40000"
          )
          assert.strictEqual(
            message,
            "[TRANSACTION_ROLLBACK_REQUIRED_AFTER_ABORT.PREVIOUS_QUERY_FAILURE] The current transaction has been " +
              "aborted. Please run ROLLBACK TRANSACTION before continuing. Abort reason: The previous query in the " +
              "transaction failed. SQLSTATE: 40000",
            `${failing}; ${next}`
          )
        }
        yield* ok(session, "ROLLBACK WORK")
        assert.deepStrictEqual(yield* balances(session), [{ id: 1, balance: 100 }, { id: 2, balance: 50 }], failing)
      }
      // Outside a transaction a failure aborts nothing.
      yield* fails(session, "SELECT 1/0", "DIVIDE_BY_ZERO", "22012")
      assert.deepStrictEqual(yield* ok(session, "SELECT 1 AS one"), [{ one: 1 }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("BEGIN alone, START TRANSACTION, END, ABORT and SAVEPOINT are syntax errors that open nothing", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const session = yield* openSession(client)
      for (
        const [sql, near] of [
          ["BEGIN", "end of input"],
          ["START TRANSACTION", "'START'"],
          ["END", "'END'"],
          ["ABORT", "'ABORT'"],
          ["SAVEPOINT s1", "'SAVEPOINT'"],
          ["BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE", "'ISOLATION'"],
          ["ROLLBACK TO SAVEPOINT s1", "'TO'"]
        ] as const
      ) {
        const message = yield* fails(session, sql, "PARSE_SYNTAX_ERROR", "42601")
        assert.strictEqual(message, `[PARSE_SYNTAX_ERROR] Syntax error at or near ${near}. SQLSTATE: 42601`, sql)
        // No transaction was opened.
        yield* fails(session, "COMMIT", "NO_ACTIVE_TRANSACTION", "25000")
      }
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a transaction's writes stay invisible to other sessions until COMMIT; ROLLBACK discards them", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const writer = yield* openSession(client)
      const reader = yield* openSession(client)
      yield* setup(writer)
      yield* ok(writer, "BEGIN TRANSACTION")
      yield* ok(writer, "INSERT INTO accounts VALUES (3, 30)")
      yield* ok(writer, "UPDATE accounts SET balance = 0 WHERE id = 1")
      // Read-your-own-writes in the transaction; the old state elsewhere.
      assert.deepStrictEqual(yield* balances(writer), [{ id: 1, balance: 0 }, { id: 2, balance: 50 }, {
        id: 3,
        balance: 30
      }])
      assert.deepStrictEqual(yield* balances(reader), [{ id: 1, balance: 100 }, { id: 2, balance: 50 }])
      yield* ok(writer, "COMMIT")
      assert.deepStrictEqual(yield* balances(reader), [{ id: 1, balance: 0 }, { id: 2, balance: 50 }, {
        id: 3,
        balance: 30
      }])
      yield* ok(writer, "BEGIN TRANSACTION")
      yield* ok(writer, "DELETE FROM accounts")
      assert.deepStrictEqual(yield* balances(writer), [])
      assert.strictEqual((yield* balances(reader)).length, 3)
      yield* ok(writer, "ROLLBACK")
      assert.strictEqual((yield* balances(writer)).length, 3)
      // Another session's transaction is its own: the reader has none to commit.
      yield* ok(writer, "BEGIN TRANSACTION")
      yield* fails(reader, "COMMIT", "NO_ACTIVE_TRANSACTION", "25000")
      yield* ok(writer, "COMMIT")
    }).pipe(Effect.provide(withEmulator())))
})
