/**
 * `timeouts.query` where no driver call's timer is running: waiting for a pooled session, and for a reserved
 * session's turn. And a query past it on a reserved session leaves the reservation usable, as an interruption does.
 */
import { SqlClient } from "@effect-databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import { statements, stats, withClient, withEmulator } from "./utils.js"

/** A stream that has delivered its first rows and holds its session (and turn) until its scope closes. */
const holding = (client: SqlClient.SqlClient) =>
  Effect.flatMap(
    Stream.toPull(client.stream("SELECT id FROM range(1000)", undefined, { chunkSize: 10 })),
    (pull) => pull
  )

// Long enough for the calls that set a test up on a loaded machine (the emulator runs in the test's process).
const timeouts = { query: "3 seconds" } as const

const timedOut = (error: SqlClient.SqlClientError, operation: string) => {
  assert.strictEqual(error._tag, "TimeoutError")
  assert.strictEqual(error.message, `${operation} did not finish within 3s`)
}

describe("timeouts.query", () => {
  it.scopedLive("a query waiting for a pooled session past timeouts.query is a TimeoutError", () =>
    withClient(
      Effect.gen(function*() {
        const client = yield* SqlClient.SqlClient
        const error = yield* Effect.scoped(
          Effect.gen(function*() {
            // The pool's one session is reserved: the query waits for it.
            yield* client.reserve
            const started = Date.now()
            const error = yield* Effect.flip(client.query("SELECT 'waited' AS marker"))
            const waited = Date.now() - started
            assert.isAtLeast(waited, 2_900, "ended before timeouts.query")
            assert.isBelow(waited, 10_000, "ended by timeouts.query")
            return error
          })
        )
        timedOut(error, "query")
        assert.deepStrictEqual(yield* statements("'waited'"), [], "nothing was sent")
        assert.deepStrictEqual(yield* client.query("SELECT 'after' AS marker"), [{ marker: "after" }])
      }),
      { pool: { max: 1 }, timeouts }
    ).pipe(Effect.provide(withEmulator())), { timeout: 20_000 })

  it.scopedLive("a reserved client's call waiting for its turn past timeouts.query is a TimeoutError", () =>
    withClient(
      Effect.gen(function*() {
        const client = yield* SqlClient.SqlClient
        yield* Effect.scoped(
          Effect.gen(function*() {
            const reserved = yield* client.reserve
            const error = yield* Effect.scoped(
              Effect.gen(function*() {
                yield* holding(reserved)
                return yield* Effect.flip(reserved.query("SELECT 'turn' AS marker"))
              })
            )
            timedOut(error, "query")
            assert.deepStrictEqual(yield* statements("'turn'"), [], "nothing was sent")
            // The stream ended: the turn is free, and the reservation goes on.
            assert.deepStrictEqual(yield* reserved.query("SELECT 'next' AS marker"), [{ marker: "next" }])
          })
        )
      }),
      { timeouts }
    ).pipe(Effect.provide(withEmulator())), { timeout: 20_000 })

  it.scopedLive(
    "a reserved client's query past timeouts.query is cancelled, and the reservation goes on",
    () =>
      withClient(
        Effect.gen(function*() {
          const client = yield* SqlClient.SqlClient
          yield* Effect.scoped(
            Effect.gen(function*() {
              const reserved = yield* client.reserve
              yield* reserved.execute("SET deadline.test.key = kept")
              const error = yield* Effect.flip(reserved.query("SELECT 'slow' AS marker /* emulator:sleep=600000 */"))
              timedOut(error, "query")
              assert.deepStrictEqual(yield* statements("'slow'"), ["CANCELED"])
              // The same session, its SET still there.
              assert.deepStrictEqual(yield* reserved.query("SET deadline.test.key"), [{
                key: "deadline.test.key",
                value: "kept"
              }])
            })
          )
          assert.strictEqual((yield* stats).rpc.OpenSession, 1)
        }),
        { timeouts }
      ).pipe(Effect.provide(withEmulator())),
    { timeout: 20_000 }
  )
})
