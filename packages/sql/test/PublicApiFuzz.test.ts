/**
 * Generated hostile input through SqlClient's public surface, against the Emulator: its options (as untyped
 * JavaScript or a bad config could pass them) and its statements. Every run ends in success or one of our
 * tagged errors: never a defect, never a hang, and never the token in an error or a log line.
 */
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Logger, LogLevel, Option, Redacted } from "effect"
import * as Util from "node:util"
import { clientLayer, stats, until, withEmulator } from "./utils.js"

const seed = 20261129

const tags = new Set([
  "AuthenticationError",
  "PermissionError",
  "RateLimitError",
  "ServerError",
  "NetworkError",
  "TimeoutError",
  "ConfigurationError",
  "WarehouseError",
  "QueryError",
  "ResultDecodeError",
  "ResultExpiredError",
  "ParameterError"
])

const nasty = fc.constantFrom(
  "",
  " ",
  "\n",
  "a\r\nb",
  "\u0000",
  "\uD800",
  "😀",
  "__proto__",
  "constructor",
  "/sql/1.0/warehouses/../../x",
  "//127.0.0.1:9/x",
  "@127.0.0.1:9/x",
  "x".repeat(20_000)
)
const hostileString = fc.oneof(nasty, fc.string(), fc.fullUnicodeString())
const hostileValue = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 0, -1, Number.NaN, Infinity, 1e20, true, [], {}) }
)

/** Runs one case with its log lines captured and a real-time bound, so a hang fails it. */
const runCase = <R>(effect: Effect.Effect<unknown, unknown, R>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.make(({ annotations, cause, message }) => {
      lines.push(Util.inspect({ message, annotations: [...annotations] }, { depth: 10 }), Cause.pretty(cause))
    })
    const exit = yield* effect.pipe(
      Effect.scoped,
      Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error("hang: no answer within 20 seconds") }),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Logger.withMinimumLogLevel(LogLevel.All),
      Effect.exit
    )
    return { exit, lines }
  })

const check = (
  name: string,
  input: unknown,
  outcome: { readonly exit: Exit.Exit<unknown, unknown>; readonly lines: ReadonlyArray<string> },
  secret: string
) => {
  const { exit, lines } = outcome
  const shown = Util.inspect(input, { depth: 3, maxStringLength: 200 })
  const texts = [...lines]
  if (Exit.isFailure(exit)) {
    assert.isFalse(Cause.isDie(exit.cause), `${name}(${shown}) died:\n${Cause.pretty(exit.cause)}`)
    const failure = Option.getOrUndefined(Cause.failureOption(exit.cause)) as { _tag?: string } | undefined
    assert.isTrue(
      failure !== undefined && tags.has(failure._tag ?? ""),
      `${name}(${shown}) failed with something untyped:\n${Cause.pretty(exit.cause)}`
    )
    texts.push(Cause.pretty(exit.cause), String(failure), JSON.stringify(failure), Util.inspect(failure, { depth: 10 }))
  }
  for (const text of texts) assert.notInclude(text, secret, `${name}(${shown}) showed the token`)
}

describe("SqlClient under generated hostile input", () => {
  it.scopedLive(
    "hostile options: a typed error or a working client, never a defect or a hang",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const secret = Redacted.value(emulator.pat)
        const keys = [
          "httpPath",
          "userAgentEntry",
          "catalog",
          "schema",
          "sessionConfig",
          "pool",
          "timeouts",
          "retry",
          "cloudFetch"
        ]
        const samples = fc.sample(
          fc.tuple(fc.constantFrom(...keys), hostileValue),
          { numRuns: 40, seed }
        )
        for (const [key, value] of samples) {
          const options = { [key]: value, retry: { base: "1 millis", maxDelay: "5 millis", maxAttempts: 2 } }
          if (key === "retry") options.retry = value as any
          const outcome = yield* runCase(
            Effect.flatMap(SqlClient.SqlClient, (client) => client.query("SELECT 1 AS one")).pipe(
              Effect.provide(clientLayer(options as Partial<SqlClient.Options>))
            )
          )
          check(`SqlClient.layer({ ${key} })`, value, outcome, secret)
        }
        // Whatever the options did, nothing was left open on the warehouse.
        yield* until((s) => s.openSessions === 0 && s.openOperations === 0)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 240_000 }
  )

  it.scopedLive(
    "hostile statements: a typed error or rows, and the client keeps working",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const secret = Redacted.value(emulator.pat)
        const samples = fc.sample(hostileValue, { numRuns: 60, seed: seed + 1 })
        yield* Effect.gen(function*() {
          const client = yield* SqlClient.SqlClient
          for (const statement of samples) {
            check("query", statement, yield* runCase(client.query(statement as string)), secret)
            check("execute", statement, yield* runCase(client.execute(statement as string)), secret)
            // A bad statement never spoils the session for the next one.
            assert.deepStrictEqual(yield* client.query("SELECT 1 AS one"), [{ one: 1 }])
          }
        }).pipe(Effect.provide(clientLayer()), Effect.scoped)
        const after = yield* stats
        assert.strictEqual(after.openOperations, 0)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 240_000 }
  )
})
