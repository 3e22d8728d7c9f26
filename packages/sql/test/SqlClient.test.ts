import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
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
})
