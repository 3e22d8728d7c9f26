/**
 * Row 5: 1000 queries and 200 INSERTs at concurrency 8 while 20% of warehouse requests get 503 or 429.
 * Both contenders use their default retries and are warmed up (sessions open) before the faults start.
 * Duplicates are counted in the table and in the emulator's statement log.
 */
import { SqlClient } from "@effect-databricks/sql"
import type { Emulator } from "@effect-databricks/testing"
import { Effect, Either } from "effect"
import { Bench, clientLayer, fmt, type Row, times } from "./Context.js"
import * as Raw from "./Raw.js"
import { median, percentile } from "./Stats.js"

/** 503 on 10% of requests, then 429 on 11.2% of the rest: 20% in all, the same sequence for both. */
const faults: ReadonlyArray<Emulator.Fault> = [
  { target: "*", status: 503, probability: 0.1, seed: 7 },
  { target: "*", status: 429, probability: 0.112, seed: 11 }
]

interface Outcome {
  readonly failures: number
  readonly latencies: ReadonlyArray<number>
  readonly duplicateRows: number
  readonly duplicateStatements: number
}

/** Every 6th operation is an INSERT of a new id: `queries` SELECTs and `queries / 5` INSERTs in all. */
const workload = (queries: number, table: string) =>
  times(queries + queries / 5).map((i) =>
    i % 6 === 5 ? `INSERT INTO ${table} VALUES (${i})` : `SELECT ${i} AS i, 'bench' AS label`
  )

/** Runs the statements `concurrency` at a time under the faults; then counts duplicates with faults off. */
const underFaults = (
  table: string,
  statements: ReadonlyArray<string>,
  run: (statement: string) => Effect.Effect<boolean>
) =>
  Effect.gen(function*() {
    const { emulator } = yield* Bench
    yield* emulator.sql(`CREATE OR REPLACE TABLE ${table} (id INTEGER)`)
    for (const fault of faults) yield* emulator.faults.add(fault)
    const latencies: Array<number> = []
    let failures = 0
    yield* Effect.forEach(statements, (statement) =>
      Effect.suspend(() => {
        const started = performance.now()
        return Effect.map(run(statement), (ok) => {
          if (ok) latencies.push(performance.now() - started)
          else failures++
        })
      }), { concurrency: 8, discard: true })
    yield* emulator.faults.clear
    const [row] = yield* emulator.sql(`SELECT count(*) - count(DISTINCT id) AS d FROM ${table}`)
    const finished = (yield* emulator.stats).statements.filter((s) =>
      s.state === "FINISHED" && s.text.startsWith(`INSERT INTO ${table} `)
    )
    return {
      failures,
      latencies,
      duplicateRows: Number(row.d),
      duplicateStatements: finished.length - new Set(finished.map((s) => s.text)).size
    } satisfies Outcome
  })

export const rows = Effect.gen(function*() {
  const { emulator, info, quick } = yield* Bench
  const queries = quick ? 100 : 1000
  const client = yield* Effect.scoped(
    Effect.gen(function*() {
      const sql = yield* SqlClient.SqlClient
      yield* Effect.forEach(times(8), () => sql.query("SELECT 1"), { concurrency: 8, discard: true })
      return yield* underFaults(
        "bench_client",
        workload(queries, "bench_client"),
        (statement) =>
          Effect.map(
            Effect.either(
              statement.startsWith("INSERT") ? sql.execute(statement) : Effect.asVoid(sql.query(statement))
            ),
            Either.isRight
          )
      )
    }).pipe(Effect.provide(clientLayer(emulator, "pat")))
  )
  const raw = yield* Effect.acquireUseRelease(
    Effect.promise(() => Raw.connect(info)),
    (connection) =>
      underFaults(
        "bench_raw",
        workload(queries, "bench_raw"),
        (statement) => Effect.promise(() => Raw.run(connection.session, statement).then(() => true, () => false))
      ),
    (connection) => Effect.promise(() => connection.close().catch(() => undefined))
  ).pipe(Effect.scoped)
  const ops = `${fmt(queries)} queries + ${fmt(queries / 5)} INSERTs`
  const ms = (value: number) => `${fmt(value, 1)} ms`
  return [
    {
      name: `5a. failures, ${ops}, concurrency 8, 20% 503/429`,
      raw: fmt(raw.failures),
      client: fmt(client.failures),
      ratio: "",
      goal: "0",
      met: client.failures === 0
    },
    {
      name: "5b. duplicate rows (table / statement log)",
      raw: `${raw.duplicateRows} / ${raw.duplicateStatements}`,
      client: `${client.duplicateRows} / ${client.duplicateStatements}`,
      ratio: "",
      goal: "0",
      met: client.duplicateRows === 0 && client.duplicateStatements === 0
    },
    {
      name: "5c. latency p50 under faults (successful operations)",
      raw: ms(median(raw.latencies)),
      client: ms(median(client.latencies)),
      ratio: `${fmt(median(client.latencies) / median(raw.latencies), 2)}x`,
      goal: ""
    },
    {
      name: "5d. latency p99 under faults (successful operations)",
      raw: ms(percentile(raw.latencies, 0.99)),
      client: ms(percentile(client.latencies, 0.99)),
      ratio: `${fmt(percentile(client.latencies, 0.99) / percentile(raw.latencies, 0.99), 2)}x`,
      goal: ""
    }
  ] satisfies Array<Row>
})
