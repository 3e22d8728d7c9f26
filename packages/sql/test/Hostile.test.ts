/**
 * Issue 14, SqlClient's part: hostile servers and bad input through the public API, against the Emulator.
 *
 * - A `Retry-After` longer than the retry policy allows is not waited for (§1).
 * - A transient fault on a call that is safe to repeat (a status poll) does not fail or cancel a write, and a
 *   lost FetchResults is never sent again blindly (§6).
 * - A server that echoes the token does not get it into an error or a log line (§3).
 * - Options and arguments of the wrong type are typed errors, never defects (§4).
 * - An ordinary 403 is a PermissionError, neither retried nor taken for an expired token (§7).
 */
import { ConnectViewer, LocalM2M, Pat } from "@effect-databricks/auth"
import { RetryPolicy, SqlClient, SqlError } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import {
  Cause,
  ConfigProvider,
  Duration,
  Effect,
  Either,
  Exit,
  FastCheck as fc,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Schema,
  Stream,
  TestClock
} from "effect"
import * as Util from "node:util"
import {
  type Credential,
  drive,
  driveUntil,
  realPause,
  retryAfterIsAFloor,
  statements,
  stats,
  until,
  withClient,
  withEmulator
} from "./utils.js"

const client = SqlClient.SqlClient
const addFault = (fault: Emulator.Fault) => Effect.flatMap(Emulator.Emulator, (e) => e.faults.add(fault))
const m2m: Credential = (emulator) =>
  LocalM2M.layer({
    host: emulator.host,
    clientId: emulator.servicePrincipal.clientId,
    clientSecret: emulator.servicePrincipal.clientSecret
  })

/** Log lines (message, annotations and cause) of everything run under it, at every level. */
const capturing = () => {
  const lines: Array<string> = []
  const logger = Logger.make(({ annotations, cause, message }) =>
    lines.push(Util.inspect(message, { depth: 10 }), JSON.stringify([...annotations]), Cause.pretty(cause))
  )
  const provide = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    effect.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Logger.withMinimumLogLevel(LogLevel.All))
  return { lines, provide }
}

/** Waits (real time, about a minute at most) until `condition` holds: a condition, not a timed guess. */
const eventually = <E, R>(condition: Effect.Effect<boolean, E, R>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 12_000; i++) {
      if (yield* condition) return
      yield* realPause(5)
    }
    assert.fail("the condition never held")
  })

describe("SqlClient: Retry-After beyond the retry policy (issue 14 §1)", () => {
  // On the TestClock: a client that waited for the Retry-After would sleep on it forever, and the test's
  // timeout would fail it. Nothing here moves the clock.
  it.scoped(
    "a 429 with Retry-After: 3600 on ExecuteStatement fails at once, with retryAfter = 3600 s",
    () =>
      Effect.gen(function*() {
        const log = capturing()
        const error = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            yield* addFault({ target: "ExecuteStatement", status: 429, headers: { "retry-after": "3600" } })
            return yield* Effect.flip(c.query("SELECT 'limited' AS marker"))
          }),
          // The default policy: 60 s maxDelay, 10 minutes of budget.
          { retry: {} }
        ).pipe(log.provide)
        assert.strictEqual(error._tag, "RateLimitError")
        if (error._tag === "RateLimitError") {
          assert.isTrue(Option.isSome(error.retryAfter))
          assert.strictEqual(Duration.toSeconds(Option.getOrThrow(error.retryAfter)), 3600)
        }
        assert.strictEqual((yield* stats).rpc.ExecuteStatement, 1, "sent once, never again")
        assert.deepStrictEqual(yield* statements("'limited'"), [], "the 429 proves it never ran")
        assert.isTrue(
          log.lines.some((line) =>
            line.includes(
              "query: the warehouse asked to retry after 1h (Retry-After), longer than the retry policy's " +
                "maxDelay (1m); not waiting"
            )
          ),
          log.lines.join("\n")
        )
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 20_000 }
  )

  it.scoped("a 429 with Retry-After: 3600 on OpenSession fails at once too", () =>
    Effect.gen(function*() {
      const error = yield* withClient(
        Effect.gen(function*() {
          const c = yield* client
          yield* addFault({ target: "OpenSession", status: 429, headers: { "retry-after": "3600" } })
          return yield* Effect.flip(c.execute("SELECT 1"))
        }),
        { retry: {} }
      )
      assert.strictEqual(error._tag, "RateLimitError")
      if (error._tag === "RateLimitError") {
        assert.strictEqual(Duration.toSeconds(Option.getOrThrow(error.retryAfter)), 3600)
      }
      assert.strictEqual((yield* stats).rpc.OpenSession, 1)
      assert.strictEqual((yield* stats).rpc.ExecuteStatement, undefined)
    }).pipe(Effect.provide(withEmulator())), { timeout: 20_000 })

  it.scoped(
    "a Retry-After beyond what is left of the budget fails at once, even below maxDelay",
    () =>
      Effect.gen(function*() {
        const log = capturing()
        const error = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            yield* addFault({ target: "ExecuteStatement", status: 429, headers: { "retry-after": "30" } })
            return yield* Effect.flip(c.query("SELECT 1"))
          }),
          { retry: { maxDelay: "60 seconds", budget: "10 seconds" } }
        ).pipe(log.provide)
        assert.strictEqual(error._tag, "RateLimitError")
        assert.strictEqual((yield* stats).rpc.ExecuteStatement, 1)
        assert.isTrue(log.lines.some((line) => line.includes("longer than what is left of the retry budget (10s)")))
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 20_000 }
  )

  it.scoped("a Retry-After within maxDelay is still a floor on the wait", () =>
    Effect.gen(function*() {
      // Retry-After equal to maxDelay, the edge of "within"; base 20 ms: without the floor, the retry would come
      // after about 20 ms. The log line, the retry's sleep on the TestClock and the clock held 1 ms short of 5 s
      // prove the floor (see the helper).
      const retries = yield* retryAfterIsAFloor({
        retryAfter: 5,
        marker: "floor",
        client: { retry: { base: "20 millis", maxDelay: "5 seconds" } }
      })
      assert.deepStrictEqual(retries, ["query: rate limited by the warehouse; retrying in 5s (attempt 2 of 8)"])
    }).pipe(Effect.provide(withEmulator())), { timeout: 20_000 })
})

describe("SqlClient: calls that are safe to repeat (issue 14 §6)", () => {
  // The emulator's statement sleep, its direct-results wait (250 ms), the client's polls and its retry waits
  // all run on the TestClock, which `drive` moves: the INSERT is still running when the client polls it,
  // however busy the machine.
  const slowInsert = "INSERT INTO ledger VALUES (1) /* emulator:sleep=3000 */"

  for (const reset of ["before", "after"] as const) {
    it.scoped(
      `a connection reset (${reset}) on one status poll during a slow INSERT: execute succeeds, one row`,
      () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          yield* emulator.sql("CREATE TABLE ledger (id INT)")
          const log = capturing()
          const result = yield* withClient(
            Effect.gen(function*() {
              const c = yield* client
              yield* addFault({ target: "GetOperationStatus", reset })
              const result = yield* drive(c.execute(slowInsert), "100 millis", 1_000)
              assert.deepStrictEqual(yield* c.query("SELECT count(*) AS n FROM ledger"), [{ n: 1n }])
              return result
            })
          ).pipe(log.provide)
          assert.strictEqual(result.affectedRows, 1n)
          const after = yield* stats
          assert.strictEqual(after.faultsInjected.GetOperationStatus, 1, "the fault hit a status poll")
          assert.isAtLeast(after.rpc.GetOperationStatus ?? 0, 2, "the poll was sent again")
          assert.strictEqual(after.rpc.ExecuteStatement, 2, "the INSERT and the count, once each")
          assert.strictEqual(after.rpc.CancelOperation, undefined, "the INSERT was never cancelled")
          assert.deepStrictEqual(yield* statements("INSERT INTO ledger"), ["FINISHED"])
          assert.isTrue(
            log.lines.some((line) => /execute \(status poll\): network error; retrying (now|in)/.test(line)),
            log.lines.join("\n")
          )
        }).pipe(Effect.provide(withEmulator())),
      { timeout: 30_000 }
    )
  }

  // An empty HTTP 200 leaves the driver's request pending forever (dbsql-driver.md §7.3: thrift's
  // InputBufferUnderrunError is swallowed in ThriftHttpConnection.handleThriftResponse), so the client gives up on
  // it after timeouts.rpc, which runs on real time (docs/sql.md), and sends the call again. The driver sends a new
  // GetOperationStatus on every `status()` (ThriftOperationBackend.thriftStatusResponse caches only a final
  // state), while its GetResultSetMetadata is shared by callers until it settles (`metadataPromise`), which the
  // client clears before asking again (internal/driver.ts resultSchema).
  it.scoped(
    "no answer to one status poll (an empty HTTP 200) during a slow INSERT: polled again, one row, no cancel",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.sql("CREATE TABLE ledger (id INT)")
        const log = capturing()
        const retried = /execute \(status poll\): no answer in time; retrying (now|in)/
        const result = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            yield* addFault({ target: "GetOperationStatus", emptyBody: true })
            const fiber = yield* Effect.fork(c.execute(slowInsert))
            // The clock moves only until the empty answer was sent; the INSERT (3 s on the TestClock) is then
            // surely still running while the client waits out timeouts.rpc and decides to poll again.
            yield* driveUntil((s) => s.faultsInjected.GetOperationStatus === 1)
            yield* eventually(
              Effect.map(Fiber.poll(fiber), (exit) => Option.isSome(exit) || log.lines.some((l) => retried.test(l)))
            )
            assert.isTrue(log.lines.some((line) => retried.test(line)), log.lines.join("\n"))
            assert.deepStrictEqual(yield* statements("INSERT INTO ledger"), ["RUNNING"])
            const result = yield* drive(Fiber.join(fiber), "100 millis", 1_000)
            assert.deepStrictEqual(yield* c.query("SELECT count(*) AS n FROM ledger"), [{ n: 1n }])
            return result
          }),
          { timeouts: { rpc: "300 millis" } }
        ).pipe(log.provide)
        assert.strictEqual(result.affectedRows, 1n)
        const after = yield* stats
        assert.strictEqual(after.faultsInjected.GetOperationStatus, 1, "the empty answer went to a status poll")
        assert.isAtLeast(after.rpc.GetOperationStatus ?? 0, 2, "the poll was sent again")
        assert.strictEqual(after.rpc.ExecuteStatement, 2, "the INSERT and the count, once each")
        assert.strictEqual(after.rpc.CancelOperation, undefined, "the INSERT was never cancelled")
        assert.deepStrictEqual(yield* statements("INSERT INTO ledger"), ["FINISHED"])
        assert.isFalse(log.lines.some((line) => line.includes("TimeoutError")), "no error reached the caller")
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scoped(
    "no answer to GetResultSetMetadata (an empty HTTP 200): asked again, the query's rows, run once",
    () =>
      Effect.gen(function*() {
        const log = capturing()
        const rows = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            yield* addFault({ target: "GetResultSetMetadata", emptyBody: true })
            return yield* drive(
              c.query("SELECT id AS n FROM range(3) /* emulator:sleep=1000 */ ORDER BY n"),
              "100 millis",
              1_000
            )
          }),
          { timeouts: { rpc: "300 millis" } }
        ).pipe(log.provide)
        assert.deepStrictEqual(rows, [0n, 1n, 2n].map((n) => ({ n })))
        const after = yield* stats
        assert.strictEqual(after.faultsInjected.GetResultSetMetadata, 1)
        assert.strictEqual(after.rpc.GetResultSetMetadata, 2, "sent again, not awaited again")
        assert.strictEqual(after.rpc.CancelOperation, undefined)
        assert.deepStrictEqual(yield* statements("range(3)"), ["FINISHED"], "run once")
        assert.isTrue(
          log.lines.some((line) => /query \(result metadata\): no answer in time; retrying/.test(line)),
          log.lines.join("\n")
        )
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scoped(
    "a lost FetchResults answer on execute: a NetworkError saying it ran, and it is not run again",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.sql("CREATE TABLE ledger (id INT)")
        yield* withClient(Effect.gen(function*() {
          const c = yield* client
          yield* addFault({ target: "FetchResults", reset: "after" })
          const error = yield* Effect.flip(drive(c.execute(slowInsert), "100 millis", 1_000))
          assert.strictEqual(error._tag, "NetworkError")
          assert.include(error.message, "the statement ran on the warehouse, but its result was lost")
          assert.include(error.message, "it is not run again")
          assert.deepStrictEqual(yield* c.query("SELECT count(*) AS n FROM ledger"), [{ n: 1n }])
        }))
        assert.strictEqual((yield* stats).faultsInjected.FetchResults, 1)
        assert.deepStrictEqual(yield* statements("INSERT INTO ledger"), ["FINISHED"])
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scoped(
    "a lost FetchResults answer on query: nothing was delivered, so it runs again from scratch",
    () =>
      Effect.gen(function*() {
        const rows = yield* withClient(Effect.gen(function*() {
          const c = yield* client
          yield* addFault({ target: "FetchResults", reset: "after" })
          return yield* drive(
            c.query("SELECT id AS n FROM range(5) /* emulator:sleep=1000 */ ORDER BY n"),
            "100 millis",
            1_000
          )
        }))
        assert.deepStrictEqual(rows, [0n, 1n, 2n, 3n, 4n].map((n) => ({ n })))
        assert.strictEqual((yield* stats).faultsInjected.FetchResults, 1)
        assert.deepStrictEqual(yield* statements("range(5)"), ["FINISHED", "FINISHED"])
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "a lost FetchResults answer mid-stream: a NetworkError saying how many rows came, never a retry",
    () =>
      Effect.gen(function*() {
        let received = 0
        const error = yield* withClient(Effect.gen(function*() {
          const c = yield* client
          return yield* c.stream("SELECT id FROM range(100000)", undefined, { chunkSize: 1000 }).pipe(
            Stream.runForEach(() =>
              Effect.suspend(() =>
                ++received === 1 ? addFault({ target: "FetchResults", reset: "before" }) : Effect.void
              )
            ),
            Effect.flip
          )
        }))
        assert.strictEqual(error._tag, "NetworkError")
        assert.isAbove(received, 0)
        assert.isBelow(received, 100_000)
        // Every row fetched was emitted before the next fetch: the count in the message is exact.
        assert.include(error.message, `the stream stopped after ${received} rows, and rows after those may be missing`)
        assert.deepStrictEqual(yield* statements("range(100000)"), ["FINISHED"], "run once")
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )
})

describe("SqlClient: secrets in a server's answer (issue 14 §3)", () => {
  it.scopedLive(
    "a 500 whose body echoes the token: not in the error's String, JSON or inspect, nor in a log line",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const token = Redacted.value(yield* emulator.registerPat())
        const log = capturing()
        const failures: Array<unknown> = []
        yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            // The raw token between letters: no pattern for PATs or credentials matches there, only the token
            // the client handed to the driver does.
            yield* addFault({
              target: "ExecuteStatement",
              status: 500,
              body: `upstream failed for request {"headers":{"Authorization":"Bearer ${token}"}} seen=X${token}Y ` +
                `json="${JSON.stringify(token).slice(1, -1)}"`
            })
            failures.push(yield* Effect.flip(c.execute("SELECT 1")))
            yield* addFault({ target: "GetOperationStatus", status: 500, body: `poll for X${token}Y failed` })
            failures.push(yield* Effect.flip(c.execute("SELECT 2 /* emulator:sleep=400 */")))
            // A server's message about a statement that quotes it: the driver's and the warehouse's own text.
            failures.push(yield* Effect.flip(c.query(`SELECT CAST('X${token}Y' AS INT) AS n`)))
          }),
          {},
          () => Pat.layer({ token: Redacted.make(token) })
        ).pipe(log.provide)
        assert.deepStrictEqual(failures.map((f) => (f as { _tag: string })._tag), [
          "ServerError",
          "ServerError",
          "QueryError"
        ])
        const first = failures[0] as { message: string }
        assert.include(first.message, "HTTP 500", "the body is reported")
        assert.include(first.message, "upstream failed", "the body is reported")
        assert.include(first.message, "<redacted>", "the token was taken out of it")
        const texts = [
          ...log.lines,
          ...failures.flatMap((f) => [String(f), JSON.stringify(f), Util.inspect(f, { depth: 10 })])
        ]
        assert.isAbove(log.lines.length, 0)
        for (const text of texts) assert.notInclude(text, token)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )
})

describe("SqlClient: input of the wrong type (issue 14 §4)", () => {
  const base = { host: "https://example.cloud.databricks.com", httpPath: "/sql/1.0/warehouses/abc123" }
  const token = Pat.layer({ token: Redacted.make("dapi0123456789abcdef0123456789abcdef") })

  it.effect(
    "options of the wrong type are ConfigurationErrors naming the setting, before any request",
    () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
          [{ httpPath: 42 }, "httpPath"],
          [{ httpPath: undefined }, "httpPath"],
          [{ httpPath: ["/sql/1.0/warehouses/abc123"] }, "httpPath"],
          [{ userAgentEntry: 7 }, "userAgentEntry"],
          [{ userAgentEntry: {} }, "userAgentEntry"],
          [{ host: 443 }, "host"],
          [{ catalog: 1 }, "catalog"],
          [{ schema: null }, "schema"],
          [{ sessionConfig: { STATEMENT_TIMEOUT: 3600 } }, "sessionConfig"],
          [{ sessionConfig: "STATEMENT_TIMEOUT=1" }, "sessionConfig"],
          [{ caCert: 5 }, "caCert"],
          [{ telemetry: "yes" }, "telemetry"],
          [{ pool: "big" }, "pool"],
          [{ pool: { max: 0 } }, "pool.max"],
          [{ pool: { max: Number.NaN } }, "pool.max"],
          [{ pool: { idleTimeToLive: "a while" } }, "pool.idleTimeToLive"],
          [{ timeouts: { rpc: "soon" } }, "timeouts.rpc"],
          [{ timeouts: { rpc: 0 } }, "timeouts.rpc"],
          [{ timeouts: { query: -1 } }, "timeouts.query"],
          [{ timeouts: { query: "40 days" } }, "timeouts.query"],
          [{ retry: "fast" }, "retry"],
          [{ retry: { maxAttempts: 0 } }, "retry.maxAttempts"],
          [{ retry: { maxAttempts: 2.5 } }, "retry.maxAttempts"],
          [{ retry: { base: Number.NaN } }, "retry.base"],
          [{ retry: { maxDelay: [1, 2] } }, "retry.maxDelay"],
          [{ retry: { budget: Infinity } }, "retry.budget"]
        ]
        for (const [bad, setting] of cases) {
          const exit = yield* Effect.exit(
            Effect.scoped(Layer.build(SqlClient.layer({ ...base, ...bad } as never).pipe(Layer.provide(token))))
          )
          assert.isTrue(Exit.isFailure(exit), JSON.stringify(bad))
          if (Exit.isFailure(exit)) {
            assert.isFalse(Cause.isDie(exit.cause), `${JSON.stringify(bad)} died: ${Cause.pretty(exit.cause)}`)
            const error = Cause.squash(exit.cause) as { _tag: string; setting: string }
            assert.strictEqual(error._tag, "ConfigurationError", JSON.stringify(bad))
            assert.strictEqual(error.setting, setting, JSON.stringify(bad))
          }
        }
        for (const options of [undefined, null, "https://example.cloud.databricks.com"]) {
          const error = yield* Effect.flip(
            Effect.scoped(Layer.build(SqlClient.layer(options as never).pipe(Layer.provide(token))))
          )
          assert.strictEqual(error._tag, "ConfigurationError")
        }
      }),
    { timeout: 20_000 }
  )

  it.scopedLive(
    "a statement or an argument of the wrong type is a ParameterError, and nothing is sent",
    () =>
      Effect.gen(function*() {
        const failures = yield* withClient(Effect.gen(function*() {
          const c = yield* client
          const failures = [
            yield* Effect.flip(c.query(undefined as never)),
            yield* Effect.flip(c.query(42 as never)),
            yield* Effect.flip(c.query("   ")),
            yield* Effect.flip(c.execute(null as never)),
            yield* Effect.flip(c.execute({ sql: "SELECT 1" } as never)),
            yield* Effect.flip(Stream.runDrain(c.stream([] as never))),
            yield* Effect.flip(c.querySchema({ not: "a schema" } as unknown as Schema.Schema<unknown>)("SELECT 1")),
            yield* Effect.flip(Stream.runDrain(c.stream("SELECT 1", undefined, { chunkSize: 0 }))),
            yield* Effect.flip(Stream.runDrain(c.stream("SELECT 1", undefined, { chunkSize: "10" as never }))),
            yield* Effect.flip(c.execute("SELECT 1", undefined, { idempotent: "yes" as never }))
          ]
          // Nothing reached the warehouse, and the client still works.
          assert.strictEqual((yield* stats).rpc.ExecuteStatement, undefined)
          assert.deepStrictEqual(
            yield* c.querySchema(Schema.Struct({ one: Schema.Number }))("SELECT 1 AS one"),
            [{ one: 1 }]
          )
          return failures
        }))
        assert.deepStrictEqual(
          failures.map((f) => [f._tag, (f as { parameter?: string }).parameter]),
          [
            ["ParameterError", "sql"],
            ["ParameterError", "sql"],
            ["ParameterError", "sql"],
            ["ParameterError", "sql"],
            ["ParameterError", "sql"],
            ["ParameterError", "sql"],
            ["ParameterError", "schema"],
            ["ParameterError", "chunkSize"],
            ["ParameterError", "chunkSize"],
            ["ParameterError", "idempotent"]
          ]
        )
        assert.strictEqual(failures[1].message, "The statement (sql) is a number, not a string")
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 20_000 }
  )
})

describe("SqlClient: an ordinary 403 (issue 14 §7)", () => {
  // Databricks answers a principal without the privilege with HTTP 403 and error_code PERMISSION_DENIED
  // (databricks-sdk-go apierr/error_mapping.go: ErrPermissionDenied, "the caller does not have permission to
  // execute the specified operation"); the driver raises THTTPException { statusCode: 403 } and never retries
  // it (dbsql-driver.md §4, §5; databricks-sql-python#372: retrying 403 turned a denial into a long loop).
  // The message below is illustrative: the client reads the status, not the words.
  const denied = JSON.stringify({
    error_code: "PERMISSION_DENIED",
    message: "User does not have permission CAN_USE on SQL warehouse abc123."
  })

  for (const target of ["ExecuteStatement", "OpenSession"] as const) {
    it.scopedLive(
      `a 403 on ${target} is a PermissionError: not retried, no token refresh`,
      () =>
        Effect.gen(function*() {
          const error = yield* withClient(
            Effect.gen(function*() {
              const c = yield* client
              yield* addFault({ target, status: 403, body: denied, count: 5 })
              return yield* Effect.flip(c.query("SELECT 'denied' AS marker"))
            }),
            {},
            m2m
          )
          assert.strictEqual(error._tag, "PermissionError")
          if (error._tag === "PermissionError") {
            assert.strictEqual(error.status, 403)
            assert.include(error.message, "User does not have permission CAN_USE")
          }
          const after = yield* stats
          assert.strictEqual(after.rpc[target], 1, "not retried")
          assert.strictEqual(after.tokenRequests.client_credentials, 1, "no token refresh")
          assert.deepStrictEqual(yield* statements("'denied'"), [])
        }).pipe(Effect.provide(withEmulator())),
      { timeout: 20_000 }
    )
  }
})

describe("RetryPolicy from untyped code (issue 14 §4)", () => {
  const keys = ["base", "maxDelay", "maxAttempts", "budget"] as const
  const garbage = fc.oneof(
    fc.anything(),
    fc.constantFrom<unknown>(
      undefined,
      null,
      Number.NaN,
      -1,
      0,
      -0,
      2.5,
      Infinity,
      1e20,
      1n,
      "soon",
      "40 days",
      "1 second",
      [1, 2],
      {},
      Symbol("s"),
      Duration.infinity,
      Duration.seconds(3)
    )
  )
  const throwing = (key: string) =>
    Object.defineProperty({}, key, {
      enumerable: true,
      get: () => {
        throw new Error("boom")
      }
    })
  const proxy = new Proxy({}, {
    get: () => {
      throw new Error("boom")
    },
    getOwnPropertyDescriptor: () => {
      throw new Error("boom")
    }
  })

  it.effect(
    "make never throws: a setting it cannot use takes its default, where validate names it in a ConfigurationError",
    () =>
      Effect.gen(function*() {
        const samples: ReadonlyArray<Record<string, unknown>> = [
          ...fc.sample(fc.tuple(fc.constantFrom(...keys), garbage), { numRuns: 300, seed: 20261130 }).map((
            [key, value]
          ) => ({ [key]: value })),
          ...keys.map(throwing)
        ]
        for (const options of samples) {
          const key = Object.keys(options)[0] as typeof keys[number]
          const shown = Util.inspect(options, { depth: 2 })
          let policy: RetryPolicy.RetryPolicy | undefined
          assert.doesNotThrow(() => (policy = RetryPolicy.make(options as RetryPolicy.Options)), shown)
          const validated = yield* Effect.either(RetryPolicy.validate(options))
          if (Either.isRight(validated)) {
            // What validate accepts, make reads the same way.
            assert.deepStrictEqual(policy, validated.right, shown)
          } else {
            assert.strictEqual(validated.left._tag, "ConfigurationError", shown)
            assert.strictEqual(validated.left.setting, `retry.${key}`, shown)
            assert.deepStrictEqual(policy![key], RetryPolicy.defaults[key], `${shown}: the default`)
          }
          // Whatever it was given, the policy can be used: finite waits within Node's timers, whole attempts.
          for (const d of [policy!.base, policy!.maxDelay, policy!.budget]) {
            assert.isTrue(Duration.toMillis(d) >= 0 && Duration.toMillis(d) <= 2 ** 31 - 1, shown)
          }
          assert.isTrue(Number.isSafeInteger(policy!.maxAttempts) && policy!.maxAttempts >= 1, shown)
        }
        // Not an object at all, or one that throws on every read.
        for (const options of [null, 42, "fast", proxy]) {
          assert.doesNotThrow(() => RetryPolicy.make(options as never))
          const error = yield* Effect.flip(RetryPolicy.validate(options))
          assert.strictEqual(error._tag, "ConfigurationError")
        }
        assert.deepStrictEqual(RetryPolicy.make(proxy as never), RetryPolicy.defaults)
        assert.strictEqual((yield* Effect.flip(RetryPolicy.validate(proxy))).setting, "retry.base")
        // Typed values are taken as given; maxAttempts 0 is not "no retry" (that is 1): it takes the default.
        assert.deepStrictEqual(RetryPolicy.make({ base: "500 millis", maxAttempts: 3 }), {
          ...RetryPolicy.defaults,
          base: Duration.millis(500),
          maxAttempts: 3
        })
        assert.strictEqual(RetryPolicy.make({ maxAttempts: 0 }).maxAttempts, 8)
        assert.strictEqual(RetryPolicy.make({ maxAttempts: 1 }).maxAttempts, 1)
      })
  )

  it.effect("the schedules take a forged policy without throwing, with make's defaults", () =>
    Effect.gen(function*() {
      for (const forged of [undefined, null, {}, { base: "never", maxAttempts: Number.NaN }, proxy]) {
        assert.doesNotThrow(() => RetryPolicy.schedule(forged as never, { operation: "x", idempotent: true }))
        assert.doesNotThrow(() => RetryPolicy.callSchedule(forged as never, { operation: "x" }))
        assert.doesNotThrow(() => RetryPolicy.closeSchedule(forged as never))
      }
      // A forged policy retries as the defaults do: 8 attempts in all.
      let attempts = 0
      const failure = {
        error: new SqlError.NetworkError({ message: "reset" }),
        phase: "wait" as const,
        notExecuted: false,
        sessionInvalid: false,
        expiredToken: false,
        callTimedOut: false,
        linkExpired: false
      }
      const fiber = yield* Effect.fork(
        Effect.retry(
          Effect.suspend(() => (attempts++, Effect.fail(failure))),
          RetryPolicy.callSchedule({ base: "never" } as never, { operation: "forged" })
        ).pipe(Effect.flip)
      )
      yield* TestClock.adjust("10 minutes")
      assert.strictEqual((yield* Fiber.join(fiber)).error._tag, "NetworkError")
      assert.strictEqual(attempts, 8)
    }))

  it("a call with no answer in time is safe to repeat; a statement that timed out on the warehouse is not", () => {
    const failure = {
      error: new SqlError.TimeoutError({ message: "no answer", operation: "wait" }),
      phase: "wait" as const,
      notExecuted: false,
      sessionInvalid: false,
      expiredToken: false,
      callTimedOut: true,
      linkExpired: false
    }
    assert.isTrue(RetryPolicy.isSafeToRepeat(failure))
    assert.isTrue(RetryPolicy.isSafeToRepeat({ ...failure, phase: "close" }))
    // The statement's own TIMEOUT state (OperationStateError) is final: polling again would read it again.
    assert.isFalse(RetryPolicy.isSafeToRepeat({ ...failure, callTimedOut: false }))
    // A timed-out submit or fetch is never sent again by itself; nor does a poll's timeout rerun the statement.
    assert.isFalse(RetryPolicy.isSafeToRepeat({ ...failure, phase: "submit" }))
    assert.isFalse(RetryPolicy.isSafeToRepeat({ ...failure, phase: "fetch" }))
    assert.isFalse(RetryPolicy.isRetryable(failure, true))
  })
})

describe("SqlClient.layerViewers options (issue 14 §4)", () => {
  const onConnect = (emulator: Emulator.Emulator) =>
    Layer.setConfigProvider(
      ConfigProvider.fromMap(
        new Map([
          ["RSTUDIO_PRODUCT", "CONNECT"],
          ["CONNECT_SERVER", emulator.connect.url],
          ["CONNECT_API_KEY", Redacted.value(emulator.connect.apiKey)]
        ])
      )
    )
  const viewersLayer = (emulator: Emulator.Emulator, options: Record<string, unknown>) =>
    SqlClient.layerViewers(
      // Copied as property descriptors: a getter in `options` runs only when the layer reads it.
      Object.defineProperties(
        { host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem },
        Object.getOwnPropertyDescriptors(options)
      ) as SqlClient.Options
    ).pipe(
      Layer.provide(ConnectViewer.layerViewers({ local: Pat.layer({ token: emulator.pat }) })),
      Layer.provide(onConnect(emulator))
    )

  it.scoped(
    "bad values are ConfigurationErrors naming the option, before any exchange or request",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const cases: ReadonlyArray<readonly [Record<string, unknown>, string]> = [
          [{ maxViewers: 0 }, "maxViewers"],
          [{ maxViewers: -1 }, "maxViewers"],
          [{ maxViewers: 1.5 }, "maxViewers"],
          [{ maxViewers: Number.NaN }, "maxViewers"],
          [{ maxViewers: Infinity }, "maxViewers"],
          [{ maxViewers: "10" }, "maxViewers"],
          [{ maxViewers: 2_000_000 }, "maxViewers"],
          [
            Object.defineProperty({}, "maxViewers", {
              enumerable: true,
              get: () => {
                throw new Error("boom")
              }
            }),
            "maxViewers"
          ],
          [{ idleTimeToLive: "a while" }, "idleTimeToLive"],
          [{ idleTimeToLive: -5 }, "idleTimeToLive"],
          [{ idleTimeToLive: "40 days" }, "idleTimeToLive"],
          [{ idleTimeToLive: [1, 2] }, "idleTimeToLive"],
          [{ idleTimeToLive: null }, "idleTimeToLive"],
          // The client's own options, checked once for every viewer.
          [{ httpPath: 42 }, "httpPath"],
          [{ retry: { maxAttempts: 0 } }, "retry.maxAttempts"],
          [{ timeouts: { rpc: 0 } }, "timeouts.rpc"]
        ]
        for (const [bad, setting] of cases) {
          const shown = Util.inspect(bad)
          const exit = yield* Effect.exit(Effect.scoped(Layer.build(viewersLayer(emulator, bad))))
          assert.isTrue(Exit.isFailure(exit), shown)
          if (Exit.isFailure(exit)) {
            assert.isFalse(Cause.isDie(exit.cause), `${shown} died: ${Cause.pretty(exit.cause)}`)
            const error = Cause.squash(exit.cause) as { _tag: string; setting: string; message: string }
            assert.strictEqual(error._tag, "ConfigurationError", shown)
            assert.strictEqual(error.setting, setting, shown)
            assert.include(error.message, setting, shown)
          }
        }
        const after = yield* stats
        assert.deepStrictEqual(after.exchanges, {})
        assert.strictEqual(after.rpc.OpenSession, undefined)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 20_000 }
  )

  it.scoped(
    "good values work: maxViewers caps the clients held, idleTimeToLive keeps an idle viewer's client that long",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
        const graceSession = yield* emulator.registerUserSessionToken({ user: grace })
        yield* Effect.gen(function*() {
          const viewers = yield* SqlClient.Viewers
          const ask = (session: Redacted.Redacted<string>) =>
            drive(
              Effect.scoped(
                Effect.flatMap(viewers.forViewer(session), (c) => c.query("SELECT current_user() AS me"))
              ),
              "100 millis",
              1_000
            )
          assert.deepStrictEqual(yield* ask(emulator.connect.userSessionToken), [{ me: "ada@example.com" }])
          // Ada's client is idle but kept (idleTimeToLive): with maxViewers 1, there is no room for Grace.
          const refused = yield* Effect.flip(ask(graceSession))
          assert.strictEqual(refused._tag, "RateLimitError")
          assert.strictEqual(refused.message, "More than 1 viewers are querying at once")
          assert.strictEqual((yield* stats).openSessions, 1, "Ada's client and session are kept")
          // Once idleTimeToLive has passed (on the TestClock), Ada's client is closed and Grace gets hers.
          yield* TestClock.adjust("1 minute")
          yield* until((s) => s.openSessions === 0)
          assert.deepStrictEqual(yield* ask(graceSession), [{ me: "grace@example.com" }])
        }).pipe(Effect.provide(viewersLayer(emulator, { maxViewers: 1, idleTimeToLive: "1 minute" })))
        const after = yield* stats
        assert.strictEqual(after.rpc.OpenSession, 2)
        assert.strictEqual(after.openSessions, 0)
        assert.strictEqual(after.openOperations, 0)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )
})
