import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { failedQueries, program } from "../examples/tracing.js"

describe("docs/examples/tracing.ts", () => {
  it.live(
    "prints the span tree and the metrics of a query that was retried once and one that failed",
    () =>
      Effect.gen(function*() {
        const { metrics, rows, spans } = yield* program
        assert.strictEqual(rows.length, 1)
        const lines = spans.split("\n")
        // The statement is a client span under the app's own span, its token fetch and session open under it,
        // and the 503's retry is an event on it.
        const at = (line: string) => {
          const index = lines.indexOf(line)
          assert.isAtLeast(index, 0, `no line ${JSON.stringify(line)} in\n${spans}`)
          return index
        }
        const report = at("report")
        const query = at("  SqlClient.query (client) db.operation.name=SELECT db.namespace=samples.nyctaxi")
        assert.isAbove(query, report)
        assert.strictEqual(lines[query + 1], "    · retry reason=warehouse")
        assert.strictEqual(lines[query + 2], "    TokenSource.fetch databricks.auth_type=oauth-m2m")
        assert.strictEqual(lines[query + 3], "      LocalM2M.fetchToken")
        const open = at("    SqlClient.openSession (client) db.namespace=samples.nyctaxi")
        assert.isAbove(open, query + 3)
        at("  SqlClient.query (client) db.operation.name=SELECT db.namespace=samples.nyctaxi error.type=QueryError")
        at("SqlClient.closeSession (client) db.namespace=samples.nyctaxi")

        const points = metrics.split("\n")
        assert.includeMembers(points, [
          "databricks.sql.statements{operation=query,outcome=success} 1",
          "databricks.sql.statements{error.type=QueryError,operation=query,outcome=failure} 1",
          "databricks.sql.retries{reason=warehouse} 1",
          "databricks.sql.sessions.open{} 0",
          "databricks.auth.token_fetches{auth_type=oauth-m2m,outcome=success} 1",
          "databricks.sql.statement.duration{operation=query,time_unit=milliseconds} 2 recorded"
        ])
        assert.strictEqual(yield* failedQueries, 1)
      }),
    { timeout: 30_000 }
  )
})
