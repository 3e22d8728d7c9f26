/**
 * Row 1: token requests. SqlClient on LocalM2M (one cached token, single-flight refresh) against the
 * seed's pattern of one `client_credentials` grant and one connection per query.
 */
import { SqlClient } from "@effect-databricks/sql"
import { Effect } from "effect"
import { Bench, clientLayer, counted, fmt, type Row, times, tokenRequests } from "./Context.js"
import * as Raw from "./Raw.js"

const seedQuery = (info: Bench["info"]) => Raw.grant(info).then((token) => Raw.connectPerQuery(info, "SELECT 1", token))

/** `n` queries at `concurrency` on a new (cold) client: token requests, SqlClient then seed. */
const measure = (n: number, concurrency: number | "unbounded") =>
  Effect.gen(function*() {
    const { emulator, info } = yield* Bench
    const client = yield* counted(
      tokenRequests,
      Effect.scoped(
        Effect.gen(function*() {
          const sql = yield* SqlClient.SqlClient
          yield* Effect.forEach(times(n), () => sql.query("SELECT 1"), { concurrency, discard: true })
        }).pipe(Effect.provide(clientLayer(emulator, "m2m")))
      )
    )
    const limit = concurrency === "unbounded" ? n : concurrency
    const seed = yield* counted(
      tokenRequests,
      Effect.promise(async () => {
        const queue = times(n)
        const worker = async () => {
          while (queue.pop() !== undefined) await seedQuery(info)
        }
        await Promise.all(times(limit).map(worker))
      })
    )
    return { client: client.delta, seed: seed.delta }
  })

export const rows = Effect.gen(function*() {
  const { quick } = yield* Bench
  const n = quick ? 100 : 1000
  const warm = yield* measure(n, 8)
  const cold = yield* measure(100, "unbounded")
  const row = (name: string, m: { client: number; seed: number }): Row => ({
    name,
    raw: `${fmt(m.seed)} (grant per query)`,
    client: fmt(m.client),
    ratio: `${fmt(m.client / m.seed, 3)}x`,
    goal: "1",
    met: m.client === 1
  })
  return [
    row(`1a. token requests, ${fmt(n)} queries (concurrency 8)`, warm),
    row("1b. token requests, 100 concurrent queries, cold client", cold)
  ]
})
