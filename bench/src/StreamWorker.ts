/**
 * One streaming run in a fresh process, so its resident memory is its own: reads `range(rows)` one way
 * and prints `{ rowsPerSecond, peakRssGrowthMb }` as JSON. Connection details come in BENCH_CONNECTION.
 * `cloudfetch` (the default) lets the warehouse answer with CloudFetch links, as the driver does by default;
 * `lz4` turns CloudFetch off, so the rows come inline and LZ4-compressed (the driver asks for LZ4 only then).
 *
 * DOWNLOADS sets SqlClient's `cloudFetch.concurrentDownloads` (its default otherwise).
 *
 *   node --import tsx bench/src/StreamWorker.ts raw-chunks|client-stream|raw-fetchAll ROWS [cloudfetch|lz4] [DOWNLOADS]
 */
import { Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import type { Emulator } from "@effect-databricks/testing"
import { Effect, Layer, ManagedRuntime, Redacted, Stream } from "effect"
import * as Fs from "node:fs"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import * as Raw from "./Raw.js"

export type Mode = "raw-chunks" | "client-stream" | "raw-fetchAll"

/** How the result is delivered. */
export type Path = "cloudfetch" | "lz4"

export interface Result {
  readonly rowsPerSecond: number
  readonly peakRssGrowthMb: number
}

const [mode, rowsArg, pathArg, downloadsArg] = process.argv.slice(2) as [Mode, string, Path | undefined, string?]
const rows = Number(rowsArg)
const useCloudFetch = (pathArg ?? "cloudfetch") === "cloudfetch"
const info = JSON.parse(process.env.BENCH_CONNECTION ?? "{}") as Emulator.ConnectionInfo
const sql = `SELECT id FROM range(${rows})`
const chunk = 10_000

V8.setFlagsFromString("--expose-gc")
const gc = Vm.runInNewContext("gc") as () => void

/** Peak RSS, sampled every 10 ms and whenever a chunk arrives. */
const sampler = () => {
  let peak = process.memoryUsage.rss()
  const sample = () => void (peak = Math.max(peak, process.memoryUsage.rss()))
  const timer = setInterval(sample, 10)
  return { sample, stop: () => (clearInterval(timer), sample(), peak) }
}

/** Connects, warms up with a small read, then times `read` and tracks memory growth from that point. */
const measure = async (read: (onChunk: () => void) => Promise<number>, warmUp: () => Promise<unknown>) => {
  await warmUp()
  gc()
  const baseline = process.memoryUsage.rss()
  const memory = sampler()
  const started = performance.now()
  const count = await read(memory.sample)
  const seconds = (performance.now() - started) / 1000
  const peak = memory.stop()
  if (count !== rows) throw new Error(`read ${count} rows, expected ${rows}`)
  return { rowsPerSecond: rows / seconds, peakRssGrowthMb: (peak - baseline) / 2 ** 20 } satisfies Result
}

const raw = async (fetchAll: boolean) => {
  const connection = await Raw.connect(info)
  try {
    return await measure(async (onChunk) => {
      const operation = await connection.session.executeStatement(sql, { maxRows: chunk, useCloudFetch })
      let n = 0
      if (fetchAll) {
        const all = await operation.fetchAll()
        onChunk()
        for (const _ of all) n++
      } else {
        do {
          const batch = await operation.fetchChunk({ maxRows: chunk })
          onChunk()
          for (const _ of batch) n++
        } while (await operation.hasMoreRows())
      }
      await operation.close()
      return n
    }, () => Raw.run(connection.session, "SELECT id FROM range(20000)"))
  } finally {
    await connection.close()
  }
}

const client = async () => {
  const runtime = ManagedRuntime.make(
    SqlClient.layer({
      host: info.host,
      httpPath: info.httpPath,
      caCert: Fs.readFileSync(info.caCertPath, "utf8"),
      // Its default cloudFetch.concurrentDownloads (2) against the driver's (10).
      cloudFetch: {
        enabled: useCloudFetch,
        ...(downloadsArg === undefined ? {} : { concurrentDownloads: Number(downloadsArg) })
      }
    })
      .pipe(
        Layer.provide(Pat.layer({ token: Redacted.make(info.pat) }))
      )
  )
  try {
    const client = await runtime.runPromise(SqlClient.SqlClient)
    // Each row is visited, a chunk at a time, as the raw loop visits each row of a batch.
    const count = (rows: Stream.Stream<unknown, unknown>, onChunk: () => void) => {
      let n = 0
      return Effect.runPromise(
        Stream.runForEachChunk(rows, (chunk) =>
          Effect.sync(() => {
            onChunk()
            for (const _ of chunk) n++
          }))
      ).then(() => n)
    }
    return await measure(
      (onChunk) => count(client.stream(sql, undefined, { chunkSize: chunk }), onChunk),
      () => count(client.stream("SELECT id FROM range(20000)"), () => undefined)
    )
  } finally {
    await runtime.dispose()
  }
}

const run = mode === "client-stream" ? client() : raw(mode === "raw-fetchAll")
run.then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error) => {
    process.stderr.write(`${mode}: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
)
