// The catchTag examples of docs/errors.md (docs/examples/errors-reference.ts), run against the emulator: each one
// meets its error and handles it as the page says.
import { Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option } from "effect"
import { above, countOrLater, ordersOrEmpty, revenue, seeded } from "../examples/errors-reference.js"

const TestDatabricks = Layer.unwrapEffect(
  Effect.map(
    Emulator.Emulator,
    (emulator) =>
      SqlClient.layer({ host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem }).pipe(
        Layer.provide(Pat.layer({ token: emulator.pat }))
      )
  )
).pipe(Layer.provideMerge(Emulator.layer()))

describe("docs/examples/errors-reference.ts", () => {
  it.live("QueryError: a missing table (TABLE_OR_VIEW_NOT_FOUND) is no rows", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* ordersOrEmpty, [])
    }).pipe(Effect.provide(TestDatabricks)), { timeout: 30_000 })

  it.live("ParameterError: NaN is refused before anything is sent, naming the parameter", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const before = (yield* emulator.stats).statements.length
      const exit = yield* Effect.exit(above("twelve"))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit)) assert.match(String(exit.cause), /Not a number: Parameter :?min/)
      assert.strictEqual((yield* emulator.stats).statements.length, before)
    }).pipe(Effect.provide(TestDatabricks)), { timeout: 30_000 })

  it.live(
    "RateLimitError: a Retry-After longer than maxDelay reaches the caller, worded with the wait",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.faults.add({
          target: "ExecuteStatement",
          status: 429,
          headers: { "Retry-After": "3600" },
          count: 1
        })
        const exit = yield* Effect.exit(countOrLater)
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) assert.match(String(exit.cause), /The warehouse is busy: try again in 1h/)
      }).pipe(Effect.provide(TestDatabricks)),
    { timeout: 30_000 }
  )

  it.live("PermissionError: a 403 to the statement is no total, with a warning", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "ExecuteStatement", status: 403, count: 1 })
      assert.isTrue(Option.isNone(yield* revenue))
    }).pipe(Effect.provide(TestDatabricks)), { timeout: 30_000 })

  it.live(
    "SqlSeedError and EmulatorError: seeding runs on an emulator of its own",
    () => Effect.map(seeded, (host) => assert.match(host, /^https:\/\/127\.0\.0\.1:\d+$/)),
    { timeout: 30_000 }
  )
})
