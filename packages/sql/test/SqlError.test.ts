import { DatabricksError } from "@effect-databricks/auth"
import { SqlError } from "@effect-databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

describe("SqlError", () => {
  it("reads the error class and SQLSTATE from a server message", () => {
    const error = SqlError.QueryError.fromServerMessage(
      "[TABLE_OR_VIEW_NOT_FOUND] The table or view `missing` cannot be found. SQLSTATE: 42P01; line 1 pos 14"
    )
    assert.strictEqual(error.errorClass, "TABLE_OR_VIEW_NOT_FOUND")
    assert.strictEqual(error.sqlState, "42P01")
  })

  it("finds a dotted error class after a driver prefix, and prefers an explicit SQLSTATE", () => {
    const error = SqlError.QueryError.fromServerMessage(
      "org.apache.hive.service.cli.HiveSQLException: Error running query: [UNRESOLVED_COLUMN.WITH_SUGGESTION] A column x cannot be resolved. SQLSTATE: 42703",
      { sqlState: "42000", statementId: "01ef-abc" }
    )
    assert.strictEqual(error.errorClass, "UNRESOLVED_COLUMN.WITH_SUGGESTION")
    assert.strictEqual(error.sqlState, "42000")
    assert.strictEqual(error.statementId, "01ef-abc")
  })

  it("leaves errorClass and sqlState absent when the message has none", () => {
    const error = SqlError.QueryError.fromServerMessage("Syntax error at or near [1]")
    assert.isUndefined(error.errorClass)
    assert.isUndefined(error.sqlState)
  })

  it.effect("shared and SQL errors are caught by tag from one import", () =>
    Effect.gen(function*() {
      const rateLimited: Effect.Effect<string, SqlError.RateLimitError | SqlError.WarehouseError> = Effect.fail(
        new SqlError.RateLimitError({ message: "slow down" })
      )
      const handled = yield* rateLimited.pipe(
        Effect.catchTag("RateLimitError", (e) => Effect.succeed(`rate:${e.retryAfter._tag}`)),
        Effect.catchTag("WarehouseError", (e) => Effect.succeed(`warehouse:${e.reason}`))
      )
      assert.strictEqual(handled, "rate:None")
      // The re-export is the very class from the auth package, not a copy.
      assert.strictEqual(SqlError.AuthenticationError, DatabricksError.AuthenticationError)
      const starting = new SqlError.WarehouseError({ reason: "Starting", message: "The warehouse is starting" })
      assert.isTrue(SqlError.isSqlError(starting))
      assert.isFalse(SqlError.isSqlError(new SqlError.RateLimitError({ message: "x" })))
    }))
})
