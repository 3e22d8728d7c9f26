/**
 * Row 2: warehouse RPCs per small query on a warm client, counted by the emulator: SqlClient (a pooled
 * session and direct results) against the raw driver reusing one session and connecting per query.
 */
import { SqlClient } from "@effect-databricks/sql"
import { Effect } from "effect"
import { Bench, clientLayer, counted, fmt, type Row, rpcs, times } from "./Context.js"
import * as Raw from "./Raw.js"

const sequentially = async (n: number, query: () => Promise<unknown>) => {
  for (let i = 0; i < n; i++) await query()
}

export const rows = Effect.gen(function*() {
  const { emulator, info, quick } = yield* Bench
  const n = quick ? 20 : 200
  const client = yield* Effect.scoped(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* sql.query("SELECT 1")
      return yield* counted(rpcs, Effect.forEach(times(n), () => sql.query("SELECT 1"), { discard: true }))
    }).pipe(Effect.provide(clientLayer(emulator, "pat")))
  )
  const connection = yield* Effect.promise(() => Raw.connect(info))
  yield* Effect.promise(() => Raw.run(connection.session, "SELECT 1"))
  const reused = yield* counted(
    rpcs,
    Effect.promise(() => sequentially(n, () => Raw.run(connection.session, "SELECT 1")))
  )
  yield* Effect.promise(connection.close)
  const perQuery = yield* counted(
    rpcs,
    Effect.promise(() => sequentially(n, () => Raw.connectPerQuery(info, "SELECT 1")))
  )
  const perCall = client.delta / n
  const row = (name: string, raw: number): Row => ({
    name,
    raw: fmt(raw / n, 2),
    client: fmt(perCall, 2),
    ratio: `${fmt(perCall / (raw / n), 2)}x`,
    goal: "1",
    met: perCall <= 1
  })
  return [
    row("2a. RPCs per warm SELECT 1, raw connect-per-query (seed)", perQuery.delta),
    row("2b. RPCs per warm SELECT 1, raw one session reused", reused.delta)
  ]
})
