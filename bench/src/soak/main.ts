/**
 * `pnpm soak`: a bounded chaos run against the embedded emulator. Eight workers run mixed operations
 * (queries, schema queries, streams read whole or left early, INSERTs, statements the caller gives up
 * on, Connect viewers' queries, SCIM) while random faults hit every endpoint and RPC. It fails (exit 1)
 * unless: no session or operation is left open, no write landed twice, every failure is one of the
 * library's typed errors, every answer was right, and no secret appears in any log line or error.
 *
 *   pnpm soak [--seconds 60] [--ops 100000] [--concurrency 8] [--seed N] [--targets a,b,...]
 *
 * `--targets` limits the faults to some targets (to narrow down a failure); the default is all of them.
 *
 * `--seconds` bounds the operations phase; in-flight operations then get at most 30 s more
 * (`timeouts.query` is 20 s), and closes still retrying at most 15 s, so a default run ends within
 * 2 minutes.
 */
import { ConnectViewer, LocalM2M, WorkspaceClient } from "@effect-databricks/auth"
import { DatabricksError } from "@effect-databricks/auth"
import { SqlClient, SqlError } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import {
  Cause,
  ConfigProvider,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Option,
  Random,
  Redacted,
  Scope
} from "effect"
import * as Util from "node:util"
import { parseArgs } from "node:util"
import * as Faults from "./Faults.js"
import * as Operations from "./Operations.js"
import * as Secrets from "./Secrets.js"

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    ops: { type: "string", default: "100000" },
    concurrency: { type: "string", default: "8" },
    seed: { type: "string" },
    targets: { type: "string" }
  },
  strict: true
})
const positive = (name: string, value: string) => {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`soak: --${name} must be a whole number above 0, not "${value}"\n`)
    process.exit(2)
  }
  return n
}
const seconds = positive("seconds", values.seconds)
const maxOps = positive("ops", values.ops)
const concurrency = positive("concurrency", values.concurrency)
const only = new Set(values.targets?.split(",").map((target) => target.trim()) ?? Faults.targets)
const unknownTargets = [...only].filter((target) => !Faults.targets.includes(target))
if (unknownTargets.length > 0) {
  process.stderr.write(`soak: unknown --targets ${unknownTargets.join(", ")}; known: ${Faults.targets.join(", ")}\n`)
  process.exit(2)
}
const seed = values.seed === undefined ? Math.floor(Math.random() * 1_000_000) : positive("seed", values.seed)

const isTyped = (error: unknown) =>
  DatabricksError.isDatabricksError(error) || SqlError.isSqlError(error) || error instanceof WorkspaceClient.ApiError

/** Every log line of the run, at every level (the driver's trace lines too), for the secret scan. */
const logLines: Array<string> = []
const capture = Logger.make(({ annotations, cause, message }) => {
  logLines.push(`${String(message)} ${JSON.stringify([...annotations])}`)
  if (!Cause.isEmpty(cause)) logLines.push(Cause.pretty(cause))
})

/** Waits until no operation is open, or `millis` passed; answers how many are open, and after how long. */
const awaitStatementsClosed = (emulator: Emulator.Emulator, millis: number) =>
  Effect.gen(function*() {
    const started = Date.now()
    while (true) {
      const { openOperations } = yield* emulator.stats
      if (openOperations === 0 || Date.now() - started >= millis) {
        return { openOperations, millis: Date.now() - started }
      }
      yield* Effect.sleep("100 millis")
    }
  })

/** What a leaked session was: whose, opened how long before the clients closed, and what ran in it. */
const leaked = (stats: Emulator.Stats, closedAt: number) =>
  stats.sessions.slice(0, 10).map((session) => {
    const ran = stats.statements.filter((statement) => statement.sessionId === session.id)
      .map((statement) => `${statement.text.slice(0, 40)} [${statement.state}]`)
    return `  left open: session of ${session.principal}, opened ${closedAt - session.openedAt} ms before the close, ` +
      `${session.openOperations} operations open; ran: ${ran.length === 0 ? "nothing" : ran.slice(-3).join("; ")}`
  })

const program = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const errorTexts: Array<string> = []

  yield* emulator.sql(`CREATE TABLE ${Operations.table} (id INTEGER, who VARCHAR)`)
  const viewerTokens = [{ token: emulator.connect.userSessionToken, userName: emulator.user.userName }]
  for (const name of ["grace", "alan", "edsger"]) {
    const user = yield* emulator.registerUser({ userName: `${name}@example.com`, displayName: name })
    viewerTokens.push({ token: yield* emulator.registerUserSessionToken({ user }), userName: user.userName })
  }

  // Short-lived tokens, so refreshes and re-exchanges happen under faults too.
  const options = {
    host: emulator.host,
    httpPath: emulator.httpPath,
    caCert: emulator.caCertPem,
    retry: { base: "200 millis", maxDelay: "2 seconds" },
    timeouts: { rpc: "5 seconds", query: "20 seconds" }
  } as const
  const m2m = LocalM2M.layer({
    host: emulator.host,
    clientId: emulator.servicePrincipal.clientId,
    clientSecret: emulator.servicePrincipal.clientSecret,
    refreshAhead: "5 seconds",
    requestTimeout: "5 seconds"
  })
  const onConnect = ConfigProvider.fromMap(
    new Map([
      ["RSTUDIO_PRODUCT", "CONNECT"],
      ["CONNECT_SERVER", emulator.connect.url],
      ["CONNECT_API_KEY", Redacted.value(emulator.connect.apiKey)]
    ])
  )
  const clientsLayer = Layer.mergeAll(
    Layer.merge(SqlClient.layer(options), WorkspaceClient.layer({ host: emulator.host, requestTimeout: "5 seconds" }))
      .pipe(Layer.provide(m2m)),
    SqlClient.layerViewers(options).pipe(
      Layer.provide(ConnectViewer.layerViewers({ local: m2m, refreshAhead: "5 seconds" })),
      Layer.provide(Layer.setConfigProvider(onConnect))
    )
  ).pipe(Layer.provide(Emulator.httpClient), Layer.provide(Layer.succeed(Emulator.Emulator, emulator)))

  const scope = yield* Scope.make()
  const context = yield* Layer.buildWithScope(clientsLayer, scope)
  const clients: Operations.Clients = {
    sql: yield* Effect.provide(SqlClient.SqlClient, context),
    viewers: yield* Effect.provide(SqlClient.Viewers, context),
    workspace: yield* Effect.provide(WorkspaceClient.WorkspaceClient, context),
    viewerTokens,
    displayName: emulator.servicePrincipal.principal.displayName
  }

  const outcomes = new Map<string, number>()
  const count = (key: string) => outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
  const defects: Array<string> = []
  let started = 0
  const inFlight = new Map<number, { readonly kind: Operations.Kind; readonly since: number }>()
  const deadline = Date.now() + seconds * 1000
  const totalWeight = Operations.weights.reduce((sum, [, weight]) => sum + weight, 0)
  const pickKind = Effect.map(Random.nextIntBetween(0, totalWeight), (roll) => {
    for (const [kind, weight] of Operations.weights) {
      if (roll < weight) return kind
      roll -= weight
    }
    return Operations.weights[0][0]
  })

  const worker = Effect.gen(function*() {
    while (Date.now() < deadline && started < maxOps) {
      const n = ++started
      const kind = yield* pickKind
      inFlight.set(n, { kind, since: Date.now() })
      const exit = yield* Effect.exit(Operations.run(clients, kind, n))
      inFlight.delete(n)
      if (Exit.isSuccess(exit)) {
        count(exit.value === "ok" ? `${kind}: ok` : `${kind}: given up by the caller`)
        continue
      }
      const failure = Cause.failureOption(exit.cause)
      if (Option.isSome(failure) && isTyped(failure.value) && !Cause.isDie(exit.cause)) {
        count(`${kind}: ${(failure.value as { _tag: string })._tag}`)
        errorTexts.push(
          JSON.stringify(failure.value),
          String(failure.value),
          Util.inspect(failure.value, { depth: 10 }),
          Cause.pretty(exit.cause)
        )
      } else {
        count(`${kind}: DEFECT`)
        defects.push(`${kind}: ${Cause.pretty(exit.cause).slice(0, 600)}`)
      }
    }
  })

  const done = () => [...outcomes.values()].reduce((a, b) => a + b, 0)
  // Operations running for over 30 s, named in the progress line: a hang shows what hangs.
  const stuck = () =>
    [...inFlight.values()].filter(({ since }) => Date.now() - since > 30_000).map(({ kind, since }) =>
      `${kind} (${Math.round((Date.now() - since) / 1000)} s)`
    )
  const progress = yield* Effect.fork(Effect.forever(Effect.delay(
    Effect.sync(() => {
      const slow = stuck()
      process.stderr.write(
        `soak: ${done()} of ${started} operations done${slow.length > 0 ? `; running long: ${slow.join(", ")}` : ""}\n`
      )
    }),
    "5 seconds"
  )))
  const faultsAdded = new Map<string, number>()
  const generator = yield* Effect.fork(Faults.generate(emulator, "300 millis", only, faultsAdded))
  process.stderr.write(`soak: seed ${seed}, ${seconds} s, concurrency ${concurrency}…\n`)
  const finished = yield* Effect.forEach(Array.from({ length: concurrency }), () => worker, {
    concurrency: "unbounded",
    discard: true
  }).pipe(Effect.timeoutOption(`${seconds + 30} seconds`))
  yield* Fiber.interrupt(generator)
  yield* Fiber.interrupt(progress)
  process.stderr.write("soak: closing the clients…\n")
  yield* emulator.faults.clear
  // Every statement must be closed by itself, not only with its session; a close may still be retrying.
  const settled = yield* awaitStatementsClosed(emulator, 15_000)
  const closedAt = Date.now()
  yield* Scope.close(scope, Exit.void)
  const after = yield* emulator.stats

  const [row] = yield* emulator.sql(`SELECT count(*) - count(DISTINCT id) AS d, count(*) AS n FROM ${Operations.table}`)
  const inserts = after.statements.filter((s) => s.state === "FINISHED" && s.text.startsWith("INSERT"))
  const secrets = Secrets.scan([...logLines, ...errorTexts, ...defects], Secrets.literals(emulator))

  const checks: ReadonlyArray<readonly [string, boolean]> = [
    ["every worker finished in time", Option.isSome(finished)],
    [`0 open sessions at the end (${after.openSessions})`, after.openSessions === 0],
    [`0 open operations at the end (${after.openOperations})`, after.openOperations === 0],
    [
      `0 operations open once their closes settled, sessions still open (${settled.openOperations}, ` +
      `after ${settled.millis} ms)`,
      settled.openOperations === 0
    ],
    [`0 duplicate rows in ${Operations.table} (${row.d} of ${row.n})`, Number(row.d) === 0],
    [
      `0 INSERTs that ran twice in the statement log (${inserts.length - new Set(inserts.map((s) => s.text)).size})`,
      inserts.length === new Set(inserts.map((s) => s.text)).size
    ],
    [`every failure a typed error, every answer right (${defects.length} defects)`, defects.length === 0],
    [
      `no secret in ${logLines.length} log lines and ${errorTexts.length / 4} errors (${secrets.length})`,
      secrets.length === 0
    ]
  ]
  const sorted = (map: Map<string, number>) =>
    [...map.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([key, n]) => `    ${key.padEnd(40)} ${n}`)
  const injected = Object.entries(after.faultsInjected).map(([key, n]) => `${key} ${n}`).join(", ")
  process.stdout.write(
    [
      `soak: seed ${seed}, ${started} operations in ${seconds} s at concurrency ${concurrency}`,
      `  faults added by target: ${[...faultsAdded.entries()].map(([key, n]) => `${key} ${n}`).join(", ")}`,
      `  faults injected: ${injected}`,
      `  token requests: ${JSON.stringify(after.tokenRequests)}, exchanges: ${JSON.stringify(after.exchanges)}`,
      "  outcomes:",
      ...sorted(outcomes),
      "  checks:",
      ...checks.map(([text, ok]) => `    ${ok ? "ok  " : "FAIL"} ${text}`),
      ...leaked(after, closedAt),
      ...logLines.filter((line) => line.startsWith("SqlClient: could not close")).slice(0, 5).map((line) =>
        `  log: ${line.slice(0, 300)}`
      ),
      ...defects.slice(0, 5).map((defect) => `  defect: ${defect}`),
      ...secrets.slice(0, 5).map((text) => `  secret near: ${text}`),
      ""
    ].join("\n")
  )
  return checks.every(([, ok]) => ok)
})

Effect.runPromise(
  program.pipe(
    Effect.provide(Emulator.layer({ tokenLifetime: "30 seconds" })),
    Effect.scoped,
    Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
    Logger.withMinimumLogLevel(LogLevel.All),
    Effect.withRandom(Random.make(seed))
  )
).then(
  (passed) => process.exit(passed ? 0 : 1),
  (error) => {
    process.stderr.write(`soak failed to run: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exit(1)
  }
)
