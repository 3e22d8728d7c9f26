import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Logger, Option, Stream, TestClock } from "effect"
import { clientLayer, realPause, statements, stats, suspended, until, withClient, withEmulator } from "./utils.js"

// Found by `pnpm soak`: each of these left a session or an operation open on the warehouse, or died.
const addFault = (fault: Emulator.Fault) => Effect.flatMap(Emulator.Emulator, (e) => e.faults.add(fault))
// Longer than the emulator's direct-results wait (250 ms): the client polls, then asks for the metadata.
const slow = "/* emulator:sleep=400 */"

describe("SqlClient cleanup under faults", () => {
  it.scopedLive("a 503 on CloseOperation is retried in the background, so the operation does not stay open", () =>
    Effect.gen(function*() {
      yield* withClient(
        Effect.gen(function*() {
          const c = yield* SqlClient.SqlClient
          yield* addFault({ target: "CloseOperation", status: 503, count: 2 })
          // The answer does not wait for the retries.
          assert.deepStrictEqual(yield* c.query(`SELECT 'closed' AS marker ${slow}`), [{ marker: "closed" }])
          assert.strictEqual((yield* stats).rpc.CloseOperation, 1)
          // Before the client closes its sessions: the operation itself was closed.
          yield* until((s) => s.rpc.CloseOperation === 3 && s.openOperations === 0)
        })
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a 503 on CloseSession is retried, so the session does not stay open", () =>
    Effect.gen(function*() {
      // withClient checks that no session is left open once the client closed.
      yield* withClient(
        Effect.gen(function*() {
          const c = yield* SqlClient.SqlClient
          assert.deepStrictEqual(yield* c.query("SELECT 1 AS one"), [{ one: 1 }])
          yield* addFault({ target: "CloseSession", status: 503, count: 2 })
        })
      )
      // The driver counts a session as closed after one failed CloseSession; the retries must still be sent.
      assert.strictEqual((yield* stats).rpc.CloseSession, 3)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("closes follow the retry policy's attempts, and one that fails for good is logged", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => lines.push(String(message)))
      yield* Effect.scoped(
        Effect.gen(function*() {
          const c = yield* SqlClient.SqlClient
          assert.deepStrictEqual(yield* c.query("SELECT 1 AS one"), [{ one: 1 }])
          yield* addFault({ target: "CloseSession", status: 503, count: 3 })
        }).pipe(Effect.provide(clientLayer({ retry: { base: "20 millis", maxAttempts: 3 } })))
      ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
      const now = yield* stats
      assert.strictEqual(now.rpc.CloseSession, 3)
      assert.strictEqual(now.openSessions, 1)
      assert.deepStrictEqual(lines.filter((line) => line.startsWith("SqlClient: could not close")), [
        "SqlClient: could not close a session on the warehouse (The SQL warehouse is not available (HTTP 503)); " +
        "it stays open there until the warehouse expires it"
      ])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a CloseSession whose answer was lost is not tried again once the server says it is gone", () =>
    Effect.gen(function*() {
      yield* withClient(
        Effect.gen(function*() {
          const c = yield* SqlClient.SqlClient
          assert.deepStrictEqual(yield* c.query("SELECT 1 AS one"), [{ one: 1 }])
          yield* addFault({ target: "CloseSession", reset: "after" })
        })
      )
      // One close that closed it, one that learned it is gone: not six.
      assert.strictEqual((yield* stats).rpc.CloseSession, 2)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a statement whose cancel failed does not keep its session from closing", () =>
    Effect.gen(function*() {
      // withClient checks that no session is left open once the client closed.
      yield* withClient(
        Effect.gen(function*() {
          const c = yield* SqlClient.SqlClient
          yield* addFault({ target: "CancelOperation", status: 503 })
          const query = yield* Effect.fork(c.query("SELECT 'late' AS marker /* emulator:sleep=2000 */"))
          // Given up on once the warehouse runs it, while the client still waits for ExecuteStatement's answer.
          yield* until((s) => s.statements.some((t) => t.text.includes("'late'")))
          yield* Fiber.interrupt(query)
        })
      )
      // Closed on the warehouse even though its cancel failed, and so was its session.
      assert.strictEqual((yield* stats).faultsInjected.CancelOperation, 1)
      assert.deepStrictEqual(yield* statements("'late'"), ["CANCELED"])
    }).pipe(Effect.provide(withEmulator())))

  it.scoped("a failed OpenSession does not strand a query already waiting for a session", () =>
    Effect.gen(function*() {
      yield* withClient(
        Effect.gen(function*() {
          const c = yield* SqlClient.SqlClient
          // The fault's delay runs on the emulator's clock, the TestClock here: the first OpenSession is held
          // until the test moves it, so the second query surely arrives while it is in flight.
          yield* addFault({ target: "OpenSession", status: 500, delayMs: 300 })
          const first = yield* Effect.fork(Effect.flip(c.query("SELECT 1 AS one")))
          yield* until((s) => s.rpc.OpenSession === 1)
          const second = yield* Effect.fork(c.query("SELECT 2 AS two"))
          yield* suspended(second)
          assert.strictEqual((yield* stats).rpc.OpenSession, 1, "the second query opened its own session")
          yield* TestClock.adjust("300 millis")
          assert.strictEqual((yield* Fiber.join(first))._tag, "ServerError")
          // A deadline in real time: a stranded query cannot even be interrupted, so a plain join would hang.
          const answer = yield* Effect.raceFirst(
            Effect.asSome(Fiber.await(second)),
            Effect.as(realPause(20_000), Option.none())
          )
          assert.isTrue(Option.isSome(answer) && Exit.isSuccess(answer.value), "the second query was stranded")
          assert.strictEqual((yield* stats).rpc.OpenSession, 2)
        }),
        { retry: { maxAttempts: 1 } }
      )
    }).pipe(Effect.provide(withEmulator())), { timeout: 30_000 })

  // timeouts.rpc is a real-time deadline, and the driver's own socket timeout is timeouts.rpc + 5 s. Which of
  // the two ended a call shows in its error, not in a wall-clock measurement: ours says "within 1s".
  it.scopedLive(
    "a close that gets an empty 200 is abandoned after timeouts.rpc and tried again",
    () =>
      Effect.gen(function*() {
        const lines: Array<string> = []
        const capture = Logger.make(({ message }) => lines.push(String(message)))
        yield* withClient(
          Effect.gen(function*() {
            const c = yield* SqlClient.SqlClient
            yield* addFault({ target: "CloseOperation", emptyBody: true, count: 2 })
            assert.deepStrictEqual(yield* c.query(`SELECT 'hung close' AS marker ${slow}`), [{ marker: "hung close" }])
            yield* until((s) => s.rpc.CloseOperation === 2)
            while (!lines.some((line) => line.startsWith("SqlClient: could not close"))) yield* realPause(5)
          }),
          { timeouts: { rpc: "1 second" }, retry: { base: "20 millis", maxAttempts: 2 } }
        ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
        // Both tries ended by timeouts.rpc (not the driver's socket timeout, "did not answer during close").
        assert.deepStrictEqual(lines.filter((line) => line.startsWith("SqlClient: could not close")), [
          "SqlClient: could not close a statement on the warehouse " +
          "(The SQL warehouse did not answer within 1s (close)); it stays open there until the warehouse expires it"
        ])
        assert.strictEqual((yield* stats).rpc.CloseOperation, 2)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "an empty 200 on OpenSession is a TimeoutError after timeouts.rpc, not a hang",
    () =>
      Effect.gen(function*() {
        yield* withClient(
          Effect.gen(function*() {
            const c = yield* SqlClient.SqlClient
            yield* addFault({ target: "OpenSession", emptyBody: true })
            // The pool opens sessions uninterruptibly; the deadline must still abandon the pending call.
            const error = yield* Effect.flip(c.query("SELECT 'opened' AS marker"))
            assert.strictEqual(error._tag === "TimeoutError" && error.operation, "open")
            // Ended by timeouts.rpc, not by the driver's socket timeout ("did not answer during open").
            assert.strictEqual(error.message, "The SQL warehouse did not answer within 1s (open)")
            assert.deepStrictEqual(yield* c.query("SELECT 'opened' AS marker"), [{ marker: "opened" }])
            assert.strictEqual((yield* stats).rpc.OpenSession, 2)
          }),
          { timeouts: { rpc: "1 second" } }
        )
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scopedLive("a lost answer to an INSERT is a typed error, and its session is closed, ending the orphan", () =>
    Effect.gen(function*() {
      yield* withClient(
        Effect.gen(function*() {
          const c = yield* SqlClient.SqlClient
          yield* c.query("SELECT 1 AS warm")
          yield* addFault({ target: "ExecuteStatement", reset: "after" })
          // Runs until cancelled: it cannot finish before the client closes its session, however busy the machine.
          const error = yield* Effect.flip(c.execute("SELECT 'orphan' AS marker /* emulator:sleep=600000 */"))
          assert.strictEqual(error._tag, "NetworkError")
          // The statement ran on the server under a handle the client never got; not sent twice.
          assert.deepStrictEqual(yield* statements("'orphan'"), ["CANCELED"])
          const now = yield* stats
          assert.strictEqual(now.openOperations, 0)
          assert.strictEqual(now.openSessions, 0)
          assert.deepStrictEqual(yield* c.query("SELECT 2 AS two"), [{ two: 2 }])
          assert.strictEqual((yield* stats).rpc.OpenSession, 2)
        })
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a stream after the warehouse forgot every session opens a fresh one", () =>
    Effect.gen(function*() {
      const count = yield* withClient(
        Effect.gen(function*() {
          const c = yield* SqlClient.SqlClient
          yield* c.query("SELECT 1 AS warm")
          yield* addFault({ target: "warehouse", expireSessions: true })
          return yield* Stream.runCount(c.stream("SELECT id FROM range(25000)", undefined, { chunkSize: 10_000 }))
        })
      )
      assert.strictEqual(count, 25_000)
      assert.strictEqual((yield* stats).rpc.OpenSession, 2)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a 502 on a stream's GetResultSetMetadata is retried in place: a typed failure, not a defect", () =>
    Effect.gen(function*() {
      const count = yield* withClient(
        Effect.gen(function*() {
          const c = yield* SqlClient.SqlClient
          yield* addFault({ target: "GetResultSetMetadata", status: 502 })
          return yield* Stream.runCount(c.stream(`SELECT id AS meta FROM range(3000) ${slow}`))
        })
      )
      assert.strictEqual(count, 3000)
      const now = yield* stats
      assert.strictEqual(now.faultsInjected.GetResultSetMetadata, 1)
      // GetResultSetMetadata is safe to repeat: it is sent again, and the statement runs once.
      assert.strictEqual(now.rpc.GetResultSetMetadata, 2)
      assert.deepStrictEqual(yield* statements("AS meta"), ["FINISHED"])
    }).pipe(Effect.provide(withEmulator())))
})
