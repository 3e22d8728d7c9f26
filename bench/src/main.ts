/**
 * `pnpm bench`: SqlClient against the raw driver on the embedded emulator, one table.
 *
 *   pnpm bench [--quick] [--rows 1,2,3,4,5] [--out FILE]
 *
 * `--quick` runs smaller counts to check the bench works (its figures are not the ones to quote);
 * `--out` also writes the table, the machine and the command to FILE (Markdown).
 */
import { Emulator } from "@effect-databricks/testing"
import { Effect, Logger, LogLevel } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import { parseArgs } from "node:util"
import { Bench, type Row } from "./Context.js"
import * as Faults from "./Faults.js"
import * as Latency from "./Latency.js"
import * as Rpcs from "./Rpcs.js"
import * as Streaming from "./Streaming.js"
import * as Table from "./Table.js"
import * as TokenEconomy from "./TokenEconomy.js"

const { values } = parseArgs({
  options: { quick: { type: "boolean", default: false }, rows: { type: "string" }, out: { type: "string" } },
  strict: true
})
const selected = new Set((values.rows ?? "1,2,3,4,5").split(",").map((n) => n.trim()))
const sections: ReadonlyArray<readonly [string, string, Effect.Effect<ReadonlyArray<Row>, unknown, Bench>]> = [
  ["1", "token economy", TokenEconomy.rows],
  ["2", "RPCs per query", Rpcs.rows],
  ["3", "SELECT 1 latency", Latency.rows],
  ["4", "streaming", Streaming.rows],
  ["5", "faults", Faults.rows]
]

const commit = () => {
  try {
    return ChildProcess.execFileSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim()
  } catch {
    return "unknown"
  }
}

export const machine = () =>
  `${Os.cpus().length} × ${Os.cpus()[0]?.model.trim() ?? "unknown CPU"}, ${
    Math.round(Os.totalmem() / 2 ** 30)
  } GiB, ${Os.type()} ${Os.release()}, Node ${process.version}`

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const started = Date.now()
  const rows: Array<Row> = []
  for (const [id, title, section] of sections) {
    if (!selected.has(id)) continue
    process.stderr.write(`bench: ${id}. ${title}…\n`)
    const t = Date.now()
    rows.push(
      ...(yield* section.pipe(
        Effect.provideService(Bench, { emulator, info: Emulator.connectionInfo(emulator), quick: values.quick })
      ))
    )
    process.stderr.write(`bench: ${id}. ${title} done in ${((Date.now() - t) / 1000).toFixed(1)} s\n`)
    yield* emulator.reset
  }
  const table = Table.format(rows)
  const command = `pnpm bench ${process.argv.slice(2).join(" ")}`.trim()
  const seconds = Math.round((Date.now() - started) / 1000)
  process.stdout.write(`${table}\n\nmachine: ${machine()}\ncommand: ${command} (${seconds} s), at commit ${commit()}\n`)
  if (values.out !== undefined) {
    Fs.writeFileSync(
      values.out,
      `# Bench results, ${
        new Date().toISOString().slice(0, 10)
      }\n\n- machine: ${machine()}\n- command: \`${command}\` (${seconds} s), at commit ${commit()}\n\n${table}\n`
    )
  }
})

// Retry progress lines would bury the table; failures still surface as errors.
Effect.runPromise(
  program.pipe(Effect.provide(Emulator.layer()), Effect.scoped, Logger.withMinimumLogLevel(LogLevel.Error))
).catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exit(1)
})
