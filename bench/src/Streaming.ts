/**
 * Row 4: streaming `range(10_000_000)`. Each run is a fresh process (see StreamWorker.ts) so resident
 * memory is that reader's alone; the emulator stays in this process. Raw fetchChunk and SqlClient.stream
 * alternate; raw fetchAll runs once, for contrast.
 */
import { Effect } from "effect"
import * as ChildProcess from "node:child_process"
import * as Path from "node:path"
import * as Url from "node:url"
import { Bench, fmt, type Row } from "./Context.js"
import { median } from "./Stats.js"
import type { Mode, Result } from "./StreamWorker.js"

const worker = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "StreamWorker.ts")

const runWorker = (info: Bench["info"], mode: Mode, rows: number) =>
  Effect.async<Result, Error>((resume) => {
    const child = ChildProcess.execFile(
      process.execPath,
      ["--import", "tsx", worker, mode, String(rows)],
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

const rate = (value: number) => `${fmt(value)} rows/s`
const mb = (value: number) => `+${fmt(value, 1)} MB`

export const rows = Effect.gen(function*() {
  const { info, quick } = yield* Bench
  const n = quick ? 500_000 : 10_000_000
  const runs = quick ? 1 : 3
  const raw: Array<Result> = []
  const client: Array<Result> = []
  for (let i = 0; i < runs; i++) {
    raw.push(yield* runWorker(info, "raw-chunks", n))
    client.push(yield* runWorker(info, "client-stream", n))
  }
  const all = yield* runWorker(info, "raw-fetchAll", n)
  const rawRate = median(raw.map((r) => r.rowsPerSecond))
  const clientRate = median(client.map((r) => r.rowsPerSecond))
  const rawPeak = Math.max(...raw.map((r) => r.peakRssGrowthMb))
  const clientPeak = Math.max(...client.map((r) => r.peakRssGrowthMb))
  const label = `range(${fmt(n)})`
  return [
    {
      name: `4a. stream ${label} rows/s, raw fetchChunk loop (median of ${runs})`,
      raw: rate(rawRate),
      client: rate(clientRate),
      ratio: `${fmt(clientRate / rawRate, 2)}x`,
      goal: ">= 0.95x",
      met: clientRate / rawRate >= 0.95
    },
    {
      name: `4b. stream ${label} peak RSS growth (max of ${runs})`,
      raw: mb(rawPeak),
      client: mb(clientPeak),
      ratio: `${fmt(clientPeak / rawPeak, 2)}x`,
      goal: "<= 64 MB",
      met: clientPeak <= 64
    },
    {
      name: `4c. ${label} raw fetchAll, for contrast (1 run)`,
      raw: `${mb(all.peakRssGrowthMb)}, ${rate(all.rowsPerSecond)}`,
      client: mb(clientPeak),
      ratio: `${fmt(clientPeak / all.peakRssGrowthMb, 3)}x`,
      goal: ""
    }
  ] satisfies Array<Row>
})
