// How to test your own SQL code: the emulator plays the workspace, and the same layers your app uses are built on
// it. Seed with `emulator.sql`, disturb with `emulator.faults`, and check what ran with `emulator.stats`.
import { Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { BigDecimal, Effect, Layer } from "effect"
import { topCustomers } from "../examples/orders.js"

// A fresh emulator per test, and a SqlClient on it authenticated with the emulator's PAT.
const TestDatabricks = Layer.unwrapEffect(
  Effect.map(
    Emulator.Emulator,
    (emulator) =>
      SqlClient.layer({ host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem }).pipe(
        Layer.provide(Pat.layer({ token: emulator.pat }))
      )
  )
).pipe(Layer.provideMerge(Emulator.layer()))

const seed = Effect.flatMap(Emulator.Emulator, (emulator) =>
  Effect.andThen(
    emulator.sql("CREATE TABLE orders (customer STRING, amount DECIMAL(10, 2))"),
    emulator.sql("INSERT INTO orders VALUES ('ada', 120.50), ('grace', 99.00), ('ada', 10.25), ('linus', 5.00)")
  ))

describe("topCustomers", () => {
  it.live("ranks customers by what they spent", () =>
    Effect.gen(function*() {
      yield* seed
      const top = yield* topCustomers(2)
      assert.deepStrictEqual(top.map((row) => row.customer), ["ada", "grace"])
      assert.isTrue(BigDecimal.equals(top[0].total, BigDecimal.unsafeFromString("130.75")))
    }).pipe(Effect.provide(TestDatabricks)))

  it.live("survives a warehouse that answers 503 once, and runs the query once", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* seed
      yield* emulator.faults.add({ target: "ExecuteStatement", status: 503, count: 1 })
      assert.lengthOf(yield* topCustomers(10), 3)
      const stats = yield* emulator.stats
      assert.strictEqual(stats.rpc.ExecuteStatement, 2, "the 503, then the retry")
      assert.lengthOf(stats.statements.filter((statement) => statement.text.includes("FROM orders")), 1)
    }).pipe(Effect.provide(TestDatabricks)))

  it.live("fails with a PermissionError, matched by tag, when the principal may not read orders", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* seed
      yield* emulator.deny(emulator.user, "orders")
      const outcome = yield* topCustomers(1).pipe(
        Effect.as("allowed"),
        Effect.catchTag("PermissionError", () => Effect.succeed("denied"))
      )
      assert.strictEqual(outcome, "denied")
    }).pipe(Effect.provide(TestDatabricks)))
})
