import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, LogLevel } from "effect"
import { stats, withClient, withEmulator } from "./utils.js"

describe("SqlClient basics", () => {
  it.scopedLive("queries, reuses its pooled session, and serves small results in one RPC", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const [me, one] = yield* withClient(
        Effect.gen(function*() {
          const client = yield* SqlClient.SqlClient
          const me = yield* client.query("SELECT current_user() AS me")
          const one = yield* client.query("SELECT 1 AS one")
          return [me, one] as const
        })
      )
      assert.deepStrictEqual(me, [{ me: emulator.user.userName }])
      assert.deepStrictEqual(one, [{ one: 1 }])
      const rpc = (yield* stats).rpc
      assert.strictEqual(rpc.OpenSession, 1)
      assert.strictEqual(rpc.ExecuteStatement, 2)
      assert.isUndefined(rpc.FetchResults)
      assert.isUndefined(rpc.GetOperationStatus)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("the user agent names this library and the ISV entry; the driver logs through Effect", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => lines.push(String(message)))
      yield* withClient(Effect.flatMap(SqlClient.SqlClient, (c) => c.query("SELECT 1")), {
        userAgentEntry: "Acme_Dashboards/1.4.0"
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)), Logger.withMinimumLogLevel(LogLevel.All))
      const sqlRequests = (yield* stats).recentRequests.filter((r) => r.endpoint === "sql")
      assert.isAbove(sqlRequests.length, 0)
      for (const request of sqlRequests) {
        assert.include(request.userAgent, "effect-databricks/0.1.0 Acme_Dashboards/1.4.0")
      }
      assert.isTrue(
        lines.some((line) => line.startsWith("@databricks/sql:")),
        "no driver log line reached Effect's Logger"
      )
      // At the default minimum level (Info) the driver's debug lines are dropped.
      lines.length = 0
      yield* withClient(Effect.flatMap(SqlClient.SqlClient, (c) => c.query("SELECT 1"))).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture))
      )
      assert.deepStrictEqual(lines.filter((line) => line.startsWith("@databricks/sql:")), [])
    }).pipe(Effect.provide(withEmulator())))
})
