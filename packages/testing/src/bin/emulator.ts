#!/usr/bin/env node
/**
 * `pnpm emulator`: runs the loopback emulator until Ctrl-C.
 *
 * `--json` prints one JSON line with everything a client needs (see
 * `Emulator.ConnectionInfo`) on stdout first, for scripts and other
 * languages' test suites; the human-readable summary then goes to stderr.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { parseArgs } from "node:util"
import * as Emulator from "../Emulator.js"

const usage = `Usage: pnpm emulator [--json] [--port N] [--token-lifetime SECONDS] [--result-format arrow|columns]
                      [--cloud-fetch-threshold BYTES] [--max-batch-rows N]

  --json                    print one JSON line with the connection details on stdout first
  --port N                  the workspace host's port (default: any free port)
  --token-lifetime S        access-token lifetime in seconds (default 3600)
  --result-format F         how the SQL warehouse sends rows: arrow (default, as Databricks) or columns
  --cloud-fetch-threshold B a result of more Arrow bytes goes by CloudFetch links when the client allows it
                            (default 4194304; 0 sends every non-empty result that way)
  --max-batch-rows N        rows per Arrow record batch (default 4096)
  --help                    show this help
`

const fail = (message: string): never => {
  process.stderr.write(`emulator: ${message}\n\n${usage}`)
  process.exit(2)
}

const integer = (name: string, value: string | undefined, min: number, max: number): number | undefined => {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) {
    fail(`--${name} must be a whole number from ${min} to ${max}, not "${value}"`)
  }
  return n
}

const parsed = (() => {
  try {
    return parseArgs({
      options: {
        json: { type: "boolean", default: false },
        port: { type: "string" },
        "token-lifetime": { type: "string" },
        "result-format": { type: "string" },
        "cloud-fetch-threshold": { type: "string" },
        "max-batch-rows": { type: "string" },
        help: { type: "boolean", default: false }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error))
  }
})()

if (parsed.help) {
  process.stdout.write(usage)
  process.exit(0)
}

const port = integer("port", parsed.port, 0, 65535)
const lifetime = integer("token-lifetime", parsed["token-lifetime"], 1, 86_400 * 30)
const cloudFetchThreshold = integer("cloud-fetch-threshold", parsed["cloud-fetch-threshold"], 0, 2 ** 40)
const maxBatchRows = integer("max-batch-rows", parsed["max-batch-rows"], 1, 1_000_000)
const resultFormat = parsed["result-format"] ?? "arrow"
if (resultFormat !== "arrow" && resultFormat !== "columns") {
  fail(`--result-format must be arrow or columns, not "${resultFormat}"`)
}

const summary = (info: Emulator.ConnectionInfo) =>
  [
    "effect-databricks emulator (loopback only)",
    "",
    `  workspace host       ${info.host}`,
    `  SQL warehouse        HTTP path ${info.httpPath}  (sample table: samples.nyctaxi.trips)`,
    `  CA certificate       ${info.caCertPath}`,
    `  PAT                  ${info.pat}`,
    `  service principal    client id ${info.servicePrincipal.clientId}`,
    `                       secret    ${info.servicePrincipal.clientSecret}`,
    `  U2M client id        ${info.u2m.clientId}`,
    `  Posit Connect        ${info.connect.url}`,
    `    API key            ${info.connect.apiKey}`,
    `    user session       ${info.connect.userSessionToken}`,
    `    content session    ${info.connect.contentSessionToken}`,
    `  admin API            Authorization: Bearer ${info.adminToken}`,
    "",
    "Try:",
    `  curl --cacert ${info.caCertPath} -H "Authorization: Bearer ${info.pat}" ${info.host}/api/2.0/preview/scim/v2/Me`,
    "",
    "Press Ctrl-C to stop.",
    ""
  ].join("\n")

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const info = Emulator.connectionInfo(emulator)
  if (parsed.json) {
    process.stdout.write(`${JSON.stringify(info)}\n`)
    process.stderr.write(summary(info))
  } else {
    process.stdout.write(summary(info))
  }
  return yield* Effect.never
}).pipe(
  Effect.provide(Emulator.layer({
    port,
    samples: true,
    warehouse: { resultFormat: resultFormat as "arrow" | "columns", cloudFetchThreshold, maxBatchRows },
    ...(lifetime === undefined ? {} : { tokenLifetime: Duration.seconds(lifetime) })
  })),
  Effect.catchTag("EmulatorError", (error) =>
    Effect.sync(() => {
      process.stderr.write(`emulator: ${error.message}\n`)
      process.exitCode = 1
    }))
)

NodeRuntime.runMain(program, { disableErrorReporting: false })
