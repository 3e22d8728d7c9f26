/**
 * Row 3: `SELECT 1` latency. The raw driver reusing one session, SqlClient and `@effect/sql`'s `sql` template
 * (the same client, as `SqlClient.layer` provides it) take turns query by query after a warm-up, the order
 * rotated every round; then SqlClient and the seed's connect-per-query alternate the same way.
 */
import { SqlClient } from "@effect-databricks/sql"
import * as EffectSqlClient from "@effect/sql/SqlClient"
import { Effect } from "effect"
import { Bench, clientLayer, fmt, type Row } from "./Context.js"
import * as Raw from "./Raw.js"
import { median, percentile } from "./Stats.js"

/** Runs `query` and appends its duration to `into`. */
const timed = <R>(query: Effect.Effect<unknown, unknown, R>, into: Array<number>) =>
  Effect.suspend(() => {
    const started = performance.now()
    return Effect.map(query, () => void into.push(performance.now() - started))
  })

/** `n` rounds of one query each way, the order rotated every round so none always goes first. */
const rotate = <R>(n: number, ways: ReadonlyArray<Effect.Effect<unknown, unknown, R>>) =>
  Effect.gen(function*() {
    const times = ways.map(() => [] as Array<number>)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < ways.length; j++) {
        const way = (i + j) % ways.length
        yield* timed(ways[way], times[way])
      }
    }
    return times
  })

const ms = (value: number) => `${fmt(value, 2)} ms`

export const rows = Effect.gen(function*() {
  const { emulator, info, quick } = yield* Bench
  return yield* Effect.scoped(
    Effect.gen(function*() {
      const client = yield* SqlClient.SqlClient
      const sql = yield* EffectSqlClient.SqlClient
      const connection = yield* Effect.acquireRelease(
        Effect.promise(() => Raw.connect(info)),
        (c) => Effect.promise(c.close)
      )
      const raw = Effect.promise(() => Raw.run(connection.session, "SELECT 1"))
      const viaClient = client.query("SELECT 1")
      // A Statement is an Effect; as a value it runs afresh each time it is yielded.
      const viaTemplate: Effect.Effect<unknown, unknown> = sql`SELECT 1`
      yield* rotate(quick ? 10 : 50, [raw, viaClient, viaTemplate])
      const [warmRaw, warmClient, warmTemplate] = yield* rotate(quick ? 50 : 1000, [raw, viaClient, viaTemplate])
      const [coldRaw, coldClient] = yield* rotate(quick ? 10 : 100, [
        Effect.promise(() => Raw.connectPerQuery(info, "SELECT 1")),
        viaClient
      ])
      const medianRatio = median(warmClient) / median(warmRaw)
      const p99Ratio = percentile(warmClient, 0.99) / percentile(warmRaw, 0.99)
      const templateMedianRatio = median(warmTemplate) / median(warmRaw)
      const templateP99Ratio = percentile(warmTemplate, 0.99) / percentile(warmRaw, 0.99)
      const speedup = median(coldRaw) / median(coldClient)
      return [
        {
          name: `3a. SELECT 1 median, raw one session reused (${warmClient.length} each)`,
          raw: ms(median(warmRaw)),
          client: ms(median(warmClient)),
          ratio: `${fmt(medianRatio, 2)}x`,
          goal: "<= 1.05x",
          met: medianRatio <= 1.05
        },
        {
          name: "3b. SELECT 1 p99, raw one session reused",
          raw: ms(percentile(warmRaw, 0.99)),
          client: ms(percentile(warmClient, 0.99)),
          ratio: `${fmt(p99Ratio, 2)}x`,
          goal: "<= 1.05x",
          met: p99Ratio <= 1.05
        },
        {
          name: `3c. SELECT 1 median, raw connect-per-query (${coldClient.length} each)`,
          raw: ms(median(coldRaw)),
          client: ms(median(coldClient)),
          ratio: `${fmt(speedup, 1)}x faster`,
          goal: ">= 3x faster",
          met: speedup >= 3
        },
        {
          name: "3d. SELECT 1 p99, raw connect-per-query",
          raw: ms(percentile(coldRaw, 0.99)),
          client: ms(percentile(coldClient, 0.99)),
          ratio: `${fmt(percentile(coldRaw, 0.99) / percentile(coldClient, 0.99), 1)}x faster`,
          goal: ""
        },
        {
          name:
            `3e. SELECT 1 median, @effect/sql sql\`SELECT 1\` vs raw one session reused (${warmTemplate.length} each)`,
          raw: ms(median(warmRaw)),
          client: ms(median(warmTemplate)),
          ratio: `${fmt(templateMedianRatio, 2)}x`,
          goal: "<= 1.10x",
          met: templateMedianRatio <= 1.10
        },
        {
          name: "3f. SELECT 1 p99, @effect/sql sql`SELECT 1` vs raw one session reused",
          raw: ms(percentile(warmRaw, 0.99)),
          client: ms(percentile(warmTemplate, 0.99)),
          ratio: `${fmt(templateP99Ratio, 2)}x`,
          goal: "<= 1.10x",
          met: templateP99Ratio <= 1.10
        }
      ] satisfies Array<Row>
    }).pipe(Effect.provide(clientLayer(emulator, "pat")))
  )
})
