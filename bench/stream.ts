// Streaming range(N) through SqlClient.stream vs a hand-written raw-driver fetchChunk loop, same emulator,
// same process, alternating runs after a warm-up. Prints rows/s (median) and live heap growth (peak).
// Run: npx tsx bench/stream.ts [rows=2000000] [runs=3]
import { DBSQLClient } from "@databricks/sql"
import { Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { Effect, Layer, Redacted, Runtime, Stream } from "effect"
import * as V8 from "node:v8"
import * as Vm from "node:vm"

const rows = Number(process.argv[2] ?? 2_000_000)
const runs = Number(process.argv[3] ?? 3)
const chunk = 10_000
const sql = `SELECT range FROM range(${rows})`

V8.setFlagsFromString("--expose-gc")
const gc = Vm.runInNewContext("gc") as () => void

/** Measures one run: rows/s and the peak live-heap growth, sampled (after a GC) every 200k rows. */
const measure = async (read: (onRow: (n: number) => void) => Promise<number>) => {
  gc()
  const baseline = process.memoryUsage().heapUsed
  let peak = 0
  const started = performance.now()
  const count = await read((n) => {
    if (n % 200_000 === 0) {
      gc()
      peak = Math.max(peak, process.memoryUsage().heapUsed - baseline)
    }
  })
  const seconds = (performance.now() - started) / 1000
  if (count !== rows) throw new Error(`read ${count} rows, expected ${rows}`)
  return { rowsPerSecond: rows / seconds, peakMb: peak / 1024 / 1024 }
}

const median = (values: Array<number>) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const url = new URL(emulator.host)
  const raw = new DBSQLClient({ logger: { log: () => undefined } as never })
  yield* Effect.promise(() =>
    raw.connect({
      host: url.hostname,
      port: Number(url.port),
      path: emulator.httpPath,
      token: Redacted.value(emulator.pat),
      customCaCert: Buffer.from(emulator.caCertPem),
      telemetryEnabled: false,
      preserveBigNumericPrecision: true
    } as never)
  )
  const rawSession = yield* Effect.promise(() => raw.openSession())
  const client = yield* SqlClient.SqlClient
  const runtime = yield* Effect.runtime<never>()

  const readRaw = async (onRow: (n: number) => void) => {
    const operation = await rawSession.executeStatement(sql, { maxRows: chunk })
    let n = 0
    do {
      const batch = await operation.fetchChunk({ maxRows: chunk })
      for (let i = 0; i < batch.length; i++) onRow(++n)
    } while (await operation.hasMoreRows())
    await operation.close()
    return n
  }
  const readClient = (onRow: (n: number) => void) =>
    Runtime.runPromise(runtime)(
      client.stream(sql, undefined, { chunkSize: chunk }).pipe(Stream.runFold(0, (n) => (onRow(n + 1), n + 1)))
    )

  yield* Effect.promise(() => readRaw(() => undefined))
  yield* Effect.promise(() => readClient(() => undefined))
  const results = {
    raw: [] as Array<{ rowsPerSecond: number; peakMb: number }>,
    client: [] as Array<{ rowsPerSecond: number; peakMb: number }>
  }
  for (let run = 0; run < runs; run++) {
    results.raw.push(yield* Effect.promise(() => measure(readRaw)))
    results.client.push(yield* Effect.promise(() => measure(readClient)))
  }
  yield* Effect.promise(() => rawSession.close().then(() => raw.close()))
  const rawRate = median(results.raw.map((r) => r.rowsPerSecond))
  const clientRate = median(results.client.map((r) => r.rowsPerSecond))
  const line = (name: string, rate: number, peak: number) =>
    `${name.padEnd(36)} ${Math.round(rate).toLocaleString("en-US").padStart(12)} rows/s   peak live heap +${
      peak.toFixed(1)
    } MB`
  process.stdout.write(
    [
      `range(${
        rows.toLocaleString("en-US")
      }), ${chunk} rows per fetch, ${runs} alternating runs after a warm-up (medians)`,
      line("raw driver fetchChunk loop", rawRate, Math.max(...results.raw.map((r) => r.peakMb))),
      line("SqlClient.stream", clientRate, Math.max(...results.client.map((r) => r.peakMb))),
      `ratio SqlClient / raw: ${(clientRate / rawRate).toFixed(2)}x`,
      ""
    ].join("\n")
  )
})

Effect.runPromise(
  program.pipe(
    Effect.provide(
      Layer.unwrapEffect(
        Effect.map(
          Emulator.Emulator,
          (e) =>
            SqlClient.layer({ host: e.host, httpPath: e.httpPath, caCert: e.caCertPem }).pipe(
              Layer.provide(Pat.layer({ token: e.pat }))
            )
        )
      )
    ),
    Effect.provide(Emulator.layer()),
    Effect.scoped
  )
)
