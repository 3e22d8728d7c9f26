/**
 * Row 4: streaming `range(10_000_000)`, 80 MB of BIGINTs, far above the emulator's CloudFetch threshold (4 MiB):
 * by default it comes as CloudFetch links to 20 MiB files, as from a real warehouse (4a-4c); with CloudFetch
 * off, inline and LZ4-compressed (4d-4e). Each run is a fresh process (see StreamWorker.ts) so resident memory
 * is that reader's alone; the emulator stays in this process. Raw fetchChunk and SqlClient.stream alternate;
 * raw fetchAll runs once, for contrast. Every run checks on the emulator that its path was the one meant.
 */
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Url from "node:url"
import { Bench, fmt, type Row } from "./Context.js"
import { median } from "./Stats.js"
import type { Mode, Path as ResultPath, Result } from "./StreamWorker.js"

const worker = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "StreamWorker.ts")

const spawn = (info: Bench["info"], mode: Mode, rows: number, path: ResultPath, downloads?: number) =>
  Effect.async<Result, Error>((resume) => {
    const child = ChildProcess.execFile(
      process.execPath,
      ["--import", "tsx", worker, mode, String(rows), path, ...(downloads === undefined ? [] : [String(downloads)])],
      { env: { ...process.env, BENCH_CONNECTION: JSON.stringify(info) }, maxBuffer: 1 << 20 },
      (error, stdout, stderr) =>
        resume(
          error
            ? Effect.fail(new Error(`${mode} run failed: ${stderr.trim() || error.message}`))
            : Effect.succeed(JSON.parse(stdout) as Result)
        )
    )
    return Effect.sync(() => child.kill())
  })

/** One run; fails unless the emulator handed out links for a CloudFetch run and none for an LZ4 one. */
const runWorker = (
  info: Bench["info"],
  mode: Mode,
  rows: number,
  path: ResultPath = "cloudfetch",
  downloads?: number
) =>
  Effect.gen(function*() {
    const { emulator } = yield* Bench
    const before = (yield* emulator.stats).cloudFetch.links
    const result = yield* spawn(info, mode, rows, path, downloads)
    const links = (yield* emulator.stats).cloudFetch.links - before
    if ((path === "cloudfetch") !== (links > 0)) {
      return yield* Effect.fail(new Error(`${mode} ${path} run: ${links} CloudFetch links handed out`))
    }
    return result
  })

const rate = (value: number) => `${fmt(value)} rows/s`
const mb = (value: number) => `+${fmt(value, 1)} MB`

export const rows = Effect.gen(function*() {
  const { info, quick } = yield* Bench
  const n = quick ? 1_000_000 : 10_000_000
  const runs = quick ? 1 : 3
  const raw: Array<Result> = []
  const client: Array<Result> = []
  for (let i = 0; i < runs; i++) {
    raw.push(yield* runWorker(info, "raw-chunks", n))
    client.push(yield* runWorker(info, "client-stream", n))
  }
  const all = yield* runWorker(info, "raw-fetchAll", n)
  // SqlClient with the driver's own concurrency (10 downloads at once), to show what the cap of 2 saves.
  const uncapped: Array<Result> = []
  for (let i = 0; i < runs; i++) uncapped.push(yield* runWorker(info, "client-stream", n, "cloudfetch", 10))
  const uncappedPeak = Math.max(...uncapped.map((r) => r.peakRssGrowthMb))
  const rawLz4: Array<Result> = []
  const clientLz4: Array<Result> = []
  for (let i = 0; i < runs; i++) {
    rawLz4.push(yield* runWorker(info, "raw-chunks", n, "lz4"))
    clientLz4.push(yield* runWorker(info, "client-stream", n, "lz4"))
  }
  const rawLz4Rate = median(rawLz4.map((r) => r.rowsPerSecond))
  const clientLz4Rate = median(clientLz4.map((r) => r.rowsPerSecond))
  const rawLz4Peak = Math.max(...rawLz4.map((r) => r.peakRssGrowthMb))
  const clientLz4Peak = Math.max(...clientLz4.map((r) => r.peakRssGrowthMb))
  const rawRate = median(raw.map((r) => r.rowsPerSecond))
  const clientRate = median(client.map((r) => r.rowsPerSecond))
  const rawPeak = Math.max(...raw.map((r) => r.peakRssGrowthMb))
  const clientPeak = Math.max(...client.map((r) => r.peakRssGrowthMb))
  const label = `range(${fmt(n)})`
  return [
    {
      name: `4a. stream ${label} CloudFetch rows/s, raw fetchChunk loop (median of ${runs})`,
      raw: rate(rawRate),
      client: rate(clientRate),
      ratio: `${fmt(clientRate / rawRate, 2)}x`,
      goal: ">= 0.95x",
      met: clientRate / rawRate >= 0.95
    },
    {
      name: `4b. stream ${label} CloudFetch peak RSS growth (max of ${runs})`,
      raw: mb(rawPeak),
      client: mb(clientPeak),
      ratio: `${fmt(clientPeak / rawPeak, 2)}x`,
      // The inline bound plus the files SqlClient downloads at once (cloudFetch.concurrentDownloads: 2 of 20 MiB).
      goal: "<= 104 MB",
      met: clientPeak <= 104
    },
    {
      name: `4c. ${label} CloudFetch raw fetchAll, for contrast (1 run)`,
      raw: `${mb(all.peakRssGrowthMb)}, ${rate(all.rowsPerSecond)}`,
      client: mb(clientPeak),
      ratio: `${fmt(clientPeak / all.peakRssGrowthMb, 3)}x`,
      goal: ""
    },
    {
      name: `4c'. stream ${label} CloudFetch peak RSS, SqlClient with 10 downloads at once (max of ${runs})`,
      raw: mb(rawPeak),
      client: mb(uncappedPeak),
      ratio: `${fmt(uncappedPeak / rawPeak, 2)}x`,
      goal: ""
    },
    {
      name: `4d. stream ${label} inline LZ4 rows/s, raw fetchChunk loop (median of ${runs})`,
      raw: rate(rawLz4Rate),
      client: rate(clientLz4Rate),
      ratio: `${fmt(clientLz4Rate / rawLz4Rate, 2)}x`,
      goal: ">= 0.95x",
      met: clientLz4Rate / rawLz4Rate >= 0.95
    },
    {
      name: `4e. stream ${label} inline LZ4 peak RSS growth (max of ${runs})`,
      raw: mb(rawLz4Peak),
      client: mb(clientLz4Peak),
      ratio: `${fmt(clientLz4Peak / rawLz4Peak, 2)}x`,
      goal: "<= 64 MB",
      met: clientLz4Peak <= 64
    }
  ] satisfies Array<Row>
})
