/**
 * The tour itself: six short steps, each showing one thing the library does.
 * The same code runs on the embedded emulator and on a real workspace; only
 * the emulator's steps (injecting a fault, reading its stats) are skipped there,
 * and nothing is created on a real workspace.
 */
import { WorkspaceClient } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import type { Emulator } from "@effect-databricks/testing"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Output from "./Output.js"
import * as Table from "./Table.js"

/** Where the tour runs. */
export type Mode =
  | { readonly _tag: "Emulator"; readonly emulator: Emulator.Emulator; readonly clientId: string }
  | { readonly _tag: "Workspace"; readonly host: string; readonly credential: string }

/** How many rows step 3 streams. */
export const streamedRows = 1_000_000

const count = (n: number) => n.toLocaleString("en-US")

const step = (n: number, title: string) => Output.line(`\n${n}. ${title}`)

const say = (text: string) => Output.line(`   ${text}`)

const table = (rows: ReadonlyArray<Record<string, unknown>>) =>
  Effect.forEach(Table.format(rows).split("\n"), say, { discard: true })

const cities = [
  { city: "Tokyo", country: "Japan", population: 37_115_035n },
  { city: "Delhi", country: "India", population: 33_807_403n },
  { city: "Shanghai", country: "China", population: 29_867_918n },
  { city: "São Paulo", country: "Brazil", population: 22_806_704n },
  { city: "Mexico City", country: "Mexico", population: 22_505_315n }
]

const authenticate = (mode: Mode) =>
  Effect.gen(function*() {
    yield* step(1, "Authenticate")
    yield* say(
      mode._tag === "Emulator"
        ? `LocalM2M: OAuth client credentials for service principal ${mode.clientId}`
        : `${mode.credential}`
    )
    const me = yield* WorkspaceClient.currentUser
    yield* say(`Hello, ${me.displayName ?? me.userName}!`)
  })

const smallTable = (mode: Mode) =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    if (mode._tag === "Emulator") {
      yield* step(2, "Create, fill and query a table")
      yield* sql.execute("CREATE OR REPLACE TABLE tour_cities (city STRING, country STRING, population BIGINT)")
      let inserted = 0n
      for (const row of cities) {
        // Named parameters are bound by the warehouse, never spliced into the SQL text.
        const { affectedRows } = yield* sql.execute(
          "INSERT INTO tour_cities VALUES (:city, :country, :population)",
          row
        )
        inserted += affectedRows ?? 0n
      }
      yield* say(`inserted ${inserted} rows with named parameters`)
      yield* table(yield* sql.query("SELECT city, country, population FROM tour_cities ORDER BY population DESC"))
    } else {
      yield* step(2, "Query a sample table (read-only: nothing is created on a real workspace)")
      yield* table(
        yield* sql.query(
          "SELECT pickup_zip, count(*) AS trips, round(avg(fare_amount), 2) AS avg_fare FROM samples.nyctaxi.trips GROUP BY pickup_zip ORDER BY trips DESC, pickup_zip LIMIT 5"
        )
      )
    }
  })

const streaming = Effect.gen(function*() {
  yield* step(3, `Stream ${count(streamedRows)} rows with bounded memory`)
  const sql = yield* SqlClient.SqlClient
  const started = yield* Clock.currentTimeMillis
  const rate = (rows: number, now: number) => Math.round(rows / Math.max(0.001, (now - started) / 1000))
  let next = 100_000
  const rows = yield* sql.stream(`SELECT * FROM range(${streamedRows})`).pipe(
    Stream.chunks,
    Stream.runFoldEffect(0, (n, chunk) =>
      Effect.gen(function*() {
        const total = n + Chunk.size(chunk)
        // Progress once every 100,000 rows, not on every chunk.
        if (total >= next) {
          next += 100_000
          const now = yield* Clock.currentTimeMillis
          yield* Output.status(`   ${count(total)} rows, ${count(rate(total, now))} rows/s`)
        }
        return total
      }))
  )
  const finished = yield* Clock.currentTimeMillis
  yield* say(
    `streamed ${count(rows)} rows in ${((finished - started) / 1000).toFixed(1)} s (${
      count(rate(rows, finished))
    } rows/s)`
  )
})

const warehouseStarting = (mode: Mode) =>
  Effect.gen(function*() {
    yield* step(4, "Survive a warehouse that is still starting")
    if (mode._tag !== "Emulator") return yield* say("skipped: faults are injected only on the emulator")
    yield* mode.emulator.faults.add({ target: "warehouse", startingMs: 5_000 })
    yield* say("the emulator now answers 503 \"starting\" for 5 s; RetryPolicy backs off and logs each wait:")
    const sql = yield* SqlClient.SqlClient
    const started = yield* Clock.currentTimeMillis
    const [row] = yield* sql.query("SELECT 'running' AS warehouse")
    const seconds = ((yield* Clock.currentTimeMillis) - started) / 1000
    yield* say(`the warehouse is ${row.warehouse}: the query succeeded after ${seconds.toFixed(1)} s`)
  })

const missingTable = Effect.gen(function*() {
  yield* step(5, "Handle a failed query by its tag")
  const sql = yield* SqlClient.SqlClient
  yield* sql.query("SELECT * FROM tour_no_such_table").pipe(
    Effect.flatMap(() => say("unexpected: the table exists")),
    Effect.catchTag(
      "QueryError",
      (error) => say(`QueryError: errorClass ${error.errorClass ?? "(none)"}, SQLSTATE ${error.sqlState ?? "(none)"}`)
    )
  )
})

const summary = (mode: Mode) =>
  Effect.gen(function*() {
    yield* step(6, "What it took")
    if (mode._tag !== "Emulator") return yield* say("skipped: request counts come from the emulator's stats")
    const stats = yield* mode.emulator.stats
    const listed = (counts: Readonly<Record<string, number>>) =>
      Object.entries(counts).sort(([a], [b]) => a.localeCompare(b)).map(([name, n]) => `${name} ${n}`).join(", ")
    const total = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0)
    yield* say(`token requests: ${total(stats.tokenRequests)} (${listed(stats.tokenRequests)})`)
    yield* say(`warehouse RPCs: ${total(stats.rpc)} (${listed(stats.rpc)})`)
    yield* say(`statements run: ${stats.statements.length}`)
  })

/** Runs the whole tour. */
export const run = (mode: Mode) =>
  Effect.gen(function*() {
    yield* Output.line(
      mode._tag === "Emulator"
        ? `effect-databricks tour, on the embedded emulator at ${mode.emulator.host} (no workspace needed)`
        : `effect-databricks tour, on the workspace ${mode.host}`
    )
    yield* authenticate(mode)
    yield* smallTable(mode)
    yield* streaming
    yield* warehouseStarting(mode)
    yield* missingTable
    yield* summary(mode)
    yield* Output.line("\nDone.")
  })

/** Every way the tour can stop early, each a tagged error with a message (and usually a hint). */
export type TourError = Effect.Effect.Error<ReturnType<typeof run>>

/**
 * Runs the tour, reporting a failure the way the library describes it (its
 * tag, message and hint; no stack trace). Answers whether it succeeded.
 */
export const reported = <R>(
  tour: Effect.Effect<void, { readonly _tag: string; readonly message: string; readonly hint?: string | undefined }, R>
) =>
  tour.pipe(
    Effect.as(true),
    Effect.catchAll((error) =>
      Effect.gen(function*() {
        yield* Output.line(`\nThe tour stopped: ${error._tag}: ${error.message}`)
        if (error.hint !== undefined) yield* Output.line(`hint: ${error.hint}`)
        return false
      })
    )
  )
