/**
 * Where a streaming read's memory goes: one read of `range(ROWS)` in this process, against an emulator started
 * apart (`pnpm emulator --json`, its line in BENCH_CONNECTION), printing the peak growth of RSS, of the V8 heap
 * and of its old generation, and the garbage collections, as JSON. Not part of `pnpm bench`: it is the
 * measurement behind docs/performance.md, "Why streaming peaks above the raw loop".
 *
 *   node --import tsx bench/src/StreamMemory.ts raw|raw-effect|raw-stream|client ROWS [lz4|cloudfetch]
 *
 * - `raw`: the driver's `fetchChunk` loop, as row 4's raw reader.
 * - `raw-effect`: the same loop, each driver call awaited through `Effect.promise` (no SqlClient code at all).
 * - `raw-stream`: the same calls as an Effect `Stream` (`repeatEffectChunkOption`), each batch one chunk.
 * - `client`: `SqlClient.stream`, as row 4's client reader.
 *
 * Add `--trace-gc-nvp` to node's flags to see each scavenge's `promoted=` bytes. With `SINK=drain` in the
 * environment the stream modes are read by `Stream.runDrain(Stream.mapChunks(...))` instead of
 * `Stream.runForEachChunk`, which runs an effect per chunk through `Channel.fromEffect` (see
 * EffectPromotionRepro.ts).
 */
import { Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import type { Emulator } from "@effect-databricks/testing"
import { Chunk, Effect, Layer, ManagedRuntime, Option, Redacted, Stream } from "effect"
import * as Fs from "node:fs"
import { PerformanceObserver } from "node:perf_hooks"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import * as Raw from "./Raw.js"

type Mode = "raw" | "raw-effect" | "raw-stream" | "client"

const [mode, rowsArg, pathArg] = process.argv.slice(2) as [Mode, string, "lz4" | "cloudfetch" | undefined]
const rows = Number(rowsArg)
const useCloudFetch = (pathArg ?? "lz4") === "cloudfetch"
const info = JSON.parse(process.env.BENCH_CONNECTION ?? "{}") as Emulator.ConnectionInfo
const sql = `SELECT id FROM range(${rows})`
const chunk = 10_000

V8.setFlagsFromString("--expose-gc")
const gc = Vm.runInNewContext("gc") as () => void
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10

/** `perf_hooks.constants.NODE_PERFORMANCE_GC_MINOR` and `_MAJOR`. */
const V8Kind = { minor: 1, major: 4 } as const

/** Minor (scavenge) and major (mark-compact) collections during the read, with their pause time. */
const collections = { minor: 0, minorMs: 0, major: 0, majorMs: 0 }
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const kind = (entry as { readonly detail?: { readonly kind?: number } }).detail?.kind
    if (kind === V8Kind.minor) {
      collections.minor++
      collections.minorMs += entry.duration
    } else if (kind === V8Kind.major) {
      collections.major++
      collections.majorMs += entry.duration
    }
  }
}).observe({ entryTypes: ["gc"] })

const oldSpace = () =>
  V8.getHeapSpaceStatistics().find((space) => space.space_name === "old_space")?.space_used_size ?? 0

/** Peaks of RSS, heap used and old space, sampled every 10 ms and at every chunk, from a baseline after a GC. */
const sampler = () => {
  gc()
  const base = { rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed, old: oldSpace() }
  const peak = { ...base }
  const sample = () => {
    peak.rss = Math.max(peak.rss, process.memoryUsage.rss())
    peak.heap = Math.max(peak.heap, process.memoryUsage().heapUsed)
    peak.old = Math.max(peak.old, oldSpace())
  }
  const timer = setInterval(sample, 10)
  return {
    sample,
    stop: () => {
      clearInterval(timer)
      sample()
      return {
        peakRssGrowthMb: mb(peak.rss - base.rss),
        peakHeapUsedGrowthMb: mb(peak.heap - base.heap),
        peakOldSpaceGrowthMb: mb(peak.old - base.old)
      }
    }
  }
}

const measure = async (read: (onChunk: () => void) => Promise<number>) => {
  const memory = sampler()
  Object.assign(collections, { minor: 0, minorMs: 0, major: 0, majorMs: 0 })
  const started = performance.now()
  const count = await read(memory.sample)
  const seconds = (performance.now() - started) / 1000
  const peaks = memory.stop()
  if (count !== rows) throw new Error(`read ${count} rows, expected ${rows}`)
  return {
    mode,
    rowsPerSecond: Math.round(rows / seconds),
    ...peaks,
    minorGcs: collections.minor,
    minorGcMs: Math.round(collections.minorMs),
    majorGcs: collections.major
  }
}

/** Counts a stream's rows a chunk at a time, as row 4's reader does (with SINK=drain, without an effect per chunk). */
const count = (stream: Stream.Stream<unknown, unknown>, onChunk: () => void) => {
  let n = 0
  if (process.env.SINK === "drain") {
    return Effect.runPromise(Stream.runDrain(Stream.mapChunks(stream, (c) => {
      onChunk()
      for (const _ of c) n++
      return c
    }))).then(() => n)
  }
  return Effect.runPromise(Stream.runForEachChunk(stream, (c) =>
    Effect.sync(() => {
      onChunk()
      for (const _ of c) n++
    }))).then(() => n)
}

const raw = async () => {
  const connection = await Raw.connect(info)
  try {
    await Raw.run(connection.session, "SELECT id FROM range(20000)")
    return await measure(async (onChunk) => {
      const operation = await connection.session.executeStatement(sql, { maxRows: chunk, useCloudFetch })
      let n = 0
      if (mode === "raw-stream") {
        const pull = Effect.flatMap(
          Effect.promise(() => operation.hasMoreRows()),
          (more) =>
            more
              ? Effect.map(
                Effect.promise(() => operation.fetchChunk({ maxRows: chunk })),
                (batch) => Chunk.unsafeFromArray(batch as Array<unknown>)
              )
              : Effect.fail(Option.none())
        )
        n = await count(Stream.repeatEffectChunkOption(pull), onChunk)
      } else {
        // `raw-effect` differs from `raw` only in how each driver call is awaited.
        const await_ = <A>(f: () => Promise<A>): Promise<A> =>
          mode === "raw-effect" ? Effect.runPromise(Effect.promise(f)) : f()
        do {
          const batch = await await_(() => operation.fetchChunk({ maxRows: chunk }))
          onChunk()
          for (const _ of batch) n++
        } while (await await_(() => operation.hasMoreRows()))
      }
      await operation.close()
      return n
    })
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
      cloudFetch: { enabled: useCloudFetch }
    }).pipe(Layer.provide(Pat.layer({ token: Redacted.make(info.pat) })))
  )
  try {
    const sqlClient = await runtime.runPromise(SqlClient.SqlClient)
    await count(sqlClient.stream("SELECT id FROM range(20000)"), () => undefined)
    return await measure((onChunk) => count(sqlClient.stream(sql, undefined, { chunkSize: chunk }), onChunk))
  } finally {
    await runtime.dispose()
  }
}
;(mode === "client" ? client() : raw()).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error) => {
    process.stderr.write(`${mode}: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
)
