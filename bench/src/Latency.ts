/**
 * Row 3: `SELECT 1` latency. SqlClient and the raw driver reusing one session alternate query by
 * query after a warm-up; then SqlClient and the seed's connect-per-query alternate the same way.
 */
import { SqlClient } from "@effect-databricks/sql"
import { Effect } from "effect"
import { Bench, clientLayer, fmt, type Row } from "./Context.js"
import * as Raw from "./Raw.js"
import { median, percentile } from "./Stats.js"

const timed = async (query: () => Promise<unknown>) => {
  const started = performance.now()
  await query()
  return performance.now() - started
}

/** `n` rounds of one SqlClient query and one `other` query, the order swapped every round. */
const alternate = (sql: SqlClient.SqlClient, n: number, other: () => Promise<unknown>) =>
  Effect.gen(function*() {
    const client: Array<number> = []
    const raw: Array<number> = []
    const viaClient = Effect.gen(function*() {
      const started = performance.now()
      yield* sql.query("SELECT 1")
      client.push(performance.now() - started)
    })
    const viaRaw = Effect.promise(() => timed(other).then((ms) => void raw.push(ms)))
    for (let i = 0; i < n; i++) {
      if (i % 2 === 0) yield* Effect.zipRight(viaClient, viaRaw)
      else yield* Effect.zipRight(viaRaw, viaClient)
    }
    return { client, raw }
  })

const ms = (value: number) => `${fmt(value, 2)} ms`

export const rows = Effect.gen(function*() {
  const { emulator, info, quick } = yield* Bench
  return yield* Effect.scoped(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      const connection = yield* Effect.acquireRelease(
        Effect.promise(() => Raw.connect(info)),
        (c) => Effect.promise(c.close)
      )
      const reuse = () => Raw.run(connection.session, "SELECT 1")
      yield* alternate(sql, quick ? 10 : 50, reuse)
      const warm = yield* alternate(sql, quick ? 50 : 1000, reuse)
      const cold = yield* alternate(sql, quick ? 10 : 100, () => Raw.connectPerQuery(info, "SELECT 1"))
      const ratio = (client: number, raw: number) => client / raw
      const medianRatio = ratio(median(warm.client), median(warm.raw))
      const p99Ratio = ratio(percentile(warm.client, 0.99), percentile(warm.raw, 0.99))
      const speedup = median(cold.raw) / median(cold.client)
      return [
        {
          name: `3a. SELECT 1 median, raw one session reused (${warm.client.length} each)`,
          raw: ms(median(warm.raw)),
          client: ms(median(warm.client)),
          ratio: `${fmt(medianRatio, 2)}x`,
          goal: "<= 1.05x",
          met: medianRatio <= 1.05
        },
        {
          name: "3b. SELECT 1 p99, raw one session reused",
          raw: ms(percentile(warm.raw, 0.99)),
          client: ms(percentile(warm.client, 0.99)),
          ratio: `${fmt(p99Ratio, 2)}x`,
          goal: "<= 1.05x",
          met: p99Ratio <= 1.05
        },
        {
          name: `3c. SELECT 1 median, raw connect-per-query (${cold.client.length} each)`,
          raw: ms(median(cold.raw)),
          client: ms(median(cold.client)),
          ratio: `${fmt(speedup, 1)}x faster`,
          goal: ">= 3x faster",
          met: speedup >= 3
        },
        {
          name: "3d. SELECT 1 p99, raw connect-per-query",
          raw: ms(percentile(cold.raw, 0.99)),
          client: ms(percentile(cold.client, 0.99)),
          ratio: `${fmt(percentile(cold.raw, 0.99) / percentile(cold.client, 0.99), 1)}x faster`,
          goal: ""
        }
      ] satisfies Array<Row>
    }).pipe(Effect.provide(clientLayer(emulator, "pat")))
  )
})
