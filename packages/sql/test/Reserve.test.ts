import { SqlClient } from "@effect-databricks/sql"
import type { Emulator as EmulatorModule } from "@effect-databricks/testing"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, TestClock } from "effect"
import { realPause, stats, until, withClient, withEmulator } from "./utils.js"

const addFault = (fault: EmulatorModule.Fault) => Effect.flatMap(Emulator.Emulator, (e) => e.faults.add(fault))

/** The sessions the statements containing `marker` ran on, in order. */
const sessionsOf = (marker: string) =>
  Effect.map(stats, (s) => s.statements.filter((t) => t.text.includes(marker)).map((t) => t.sessionId))

describe("SqlClient.reserve", () => {
  it.scopedLive("SET holds across the reserved client's calls, and never reaches the pool's next caller", () =>
    withClient(
      Effect.gen(function*() {
        const client = yield* SqlClient.SqlClient
        const seen = yield* Effect.scoped(
          Effect.gen(function*() {
            const reserved = yield* client.reserve
            yield* reserved.execute("SET reserve.test.key = pinned")
            return yield* reserved.query("SET reserve.test.key")
          })
        )
        assert.deepStrictEqual(seen, [{ key: "reserve.test.key", value: "pinned" }])
        // The reserved session was closed with its scope: the pool's next session never had the setting.
        assert.deepStrictEqual(yield* client.query("SET reserve.test.key"), [{
          key: "reserve.test.key",
          value: "<undefined>"
        }])
        const ran = yield* sessionsOf("reserve.test.key")
        assert.strictEqual(ran.length, 3)
        assert.strictEqual(ran[0], ran[1], "the reserved calls ran on different sessions")
        assert.notStrictEqual(ran[2], ran[0], "the pool handed out the reserved session again")
      })
    ).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a temporary view is visible to the reserved client's later query, not through the pool after", () =>
    withClient(
      Effect.gen(function*() {
        const client = yield* SqlClient.SqlClient
        const rows = yield* Effect.scoped(
          Effect.gen(function*() {
            const reserved = yield* client.reserve
            yield* reserved.execute("CREATE TEMPORARY VIEW reserve_answer AS SELECT 42 AS answer")
            return yield* reserved.query("SELECT answer FROM reserve_answer")
          })
        )
        assert.deepStrictEqual(rows, [{ answer: 42 }])
        const error = yield* Effect.flip(client.query("SELECT answer FROM reserve_answer"))
        assert.strictEqual(error._tag, "QueryError")
      })
    ).pipe(Effect.provide(withEmulator())))

  it.scopedLive("USE holds across the reserved client's calls", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE SCHEMA IF NOT EXISTS main.reserved_schema")
      yield* emulator.sql("CREATE TABLE main.reserved_schema.marker AS SELECT 7 AS seven")
      yield* withClient(
        Effect.gen(function*() {
          const client = yield* SqlClient.SqlClient
          const rows = yield* Effect.scoped(
            Effect.gen(function*() {
              const reserved = yield* client.reserve
              yield* reserved.execute("USE main.reserved_schema")
              return yield* reserved.query("SELECT current_schema() AS s, seven FROM marker")
            })
          )
          assert.deepStrictEqual(rows, [{ s: "reserved_schema", seven: 7 }])
          assert.strictEqual((yield* Effect.flip(client.query("SELECT seven FROM marker")))._tag, "QueryError")
        })
      )
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("the reserved session is closed when the scope closes, while the client lives on", () =>
    withClient(
      Effect.gen(function*() {
        const client = yield* SqlClient.SqlClient
        yield* client.query("SELECT 1")
        const before = yield* stats
        assert.strictEqual(before.openSessions, 1)
        yield* Effect.scoped(
          Effect.gen(function*() {
            const reserved = yield* client.reserve
            // The pooled session was idle: the reservation takes it, no new one is opened.
            yield* reserved.query("SELECT 2")
            assert.strictEqual((yield* stats).openSessions, 1)
            assert.strictEqual(yield* reserved.reserve, reserved, "reserve on a reserved client is that client")
          })
        )
        const after = yield* stats
        assert.strictEqual(after.openSessions, 0, "the reserved session stayed open")
        assert.strictEqual((after.rpc.CloseSession ?? 0) - (before.rpc.CloseSession ?? 0), 1)
        // The pool goes on with a fresh session.
        assert.deepStrictEqual(yield* client.query("SELECT 3 AS three"), [{ three: 3 }])
        assert.strictEqual((yield* stats).openSessions, 1)
      })
    ).pipe(Effect.provide(withEmulator())))

  it.scopedLive("two calls at once on a reserved client run one after the other, on its one session", () =>
    withClient(
      Effect.gen(function*() {
        const client = yield* SqlClient.SqlClient
        yield* Effect.scoped(
          Effect.gen(function*() {
            const reserved = yield* client.reserve
            const first = yield* Effect.fork(reserved.query("SELECT 'turn-one' AS a /* emulator:sleep=600 */"))
            yield* until((s) => s.statements.some((t) => t.text.includes("turn-one")))
            const second = yield* Effect.fork(reserved.query("SELECT 'turn-two' AS b"))
            // The second waits for its turn: it is not sent while the first runs.
            yield* realPause(200)
            assert.deepStrictEqual(
              (yield* stats).statements.filter((t) => t.text.includes("turn-")).map((t) => t.state),
              ["RUNNING"]
            )
            assert.deepStrictEqual(yield* Fiber.join(first), [{ a: "turn-one" }])
            assert.deepStrictEqual(yield* Fiber.join(second), [{ b: "turn-two" }])
            const [one, two] = yield* sessionsOf("turn-")
            assert.strictEqual(one, two)
          })
        )
      })
    ).pipe(Effect.provide(withEmulator())), { timeout: 30_000 })

  it.scopedLive("a reserved session that expires fails the call and every later one; it never moves", () =>
    withClient(
      Effect.gen(function*() {
        const client = yield* SqlClient.SqlClient
        yield* Effect.scoped(
          Effect.gen(function*() {
            const reserved = yield* client.reserve
            yield* reserved.execute("SET reserve.lost = yes")
            yield* addFault({ target: "warehouse", expireSessions: true })
            const error = yield* Effect.flip(reserved.query("SELECT 1 AS one"))
            assert.strictEqual(error._tag, "WarehouseError")
            assert.include(error.message, "reserved session expired")
            const again = yield* Effect.flip(reserved.query("SELECT 1 AS one"))
            assert.strictEqual(again._tag, "WarehouseError")
            assert.include(again.message, "reserved session was lost")
            // Only the one session was ever used: no retry moved to another.
            assert.strictEqual((yield* stats).rpc.OpenSession, 1)
          })
        )
        // The pool itself goes on, on a fresh session.
        assert.deepStrictEqual(yield* client.query("SELECT 5 AS five"), [{ five: 5 }])
      })
    ).pipe(Effect.provide(withEmulator())))
})

describe("SqlClient session pool", () => {
  // Effect's Pool (3.22.4) strands every other waiter when an acquisition fails; the pool's items are the
  // opens' outcomes instead (internal/sessionPool.ts). Each waiter must get a failure of its own, promptly.
  it.scoped("N callers waiting while OpenSession fails each get the failure, and none hangs", () =>
    withClient(
      Effect.gen(function*() {
        const client = yield* SqlClient.SqlClient
        // Held on the emulator's clock (the TestClock here) so that every caller waits while an open is in flight.
        yield* addFault({ target: "OpenSession", status: 500, delayMs: 300, count: 1_000 })
        const callers = 5
        const fibers = yield* Effect.forEach(
          Array.from({ length: callers }, (_, i) => i),
          (i) => Effect.fork(Effect.exit(client.query(`SELECT ${i} AS n`)))
        )
        yield* until((s) => (s.rpc.OpenSession ?? 0) >= 1)
        for (let step = 0; step < 400; step++) {
          const done = yield* Effect.forEach(fibers, Fiber.poll)
          if (done.every(Option.isSome)) break
          yield* TestClock.adjust("300 millis")
          yield* realPause(10)
        }
        const exits = yield* Effect.forEach(fibers, Fiber.poll)
        assert.isTrue(exits.every(Option.isSome), "a caller was stranded waiting for a session")
        for (const exit of exits) {
          const result = Option.getOrThrow(exit)
          assert.isTrue(Exit.isSuccess(result))
          const inner = Exit.isSuccess(result) ? result.value : undefined
          assert.isTrue(inner !== undefined && Exit.isFailure(inner), "a query succeeded although every open fails")
          if (inner !== undefined && Exit.isFailure(inner)) {
            const failure = inner.cause._tag === "Fail" ? inner.cause.error : undefined
            assert.strictEqual(failure?._tag, "ServerError")
          }
        }
      }),
      { retry: { maxAttempts: 1 } }
    ).pipe(Effect.provide(withEmulator())), { timeout: 60_000 })
})
