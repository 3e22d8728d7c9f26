// docs/examples/sql-both-apis.ts and sql-template-errors.ts, run on the emulator through SqlClient.layer, which
// provides both clients.
import { Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { addPeople, withSqlClient, withTemplate } from "../examples/sql-both-apis.js"
import { errorClassOf, rowsOrNone } from "../examples/sql-template-errors.js"

const Clients = Layer.unwrapEffect(
  Effect.map(
    Emulator.Emulator,
    (emulator) =>
      SqlClient.layer({ host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem }).pipe(
        Layer.provide(Pat.layer({ token: emulator.pat }))
      )
  )
)
const TestLayer = Layer.provideMerge(Clients, Layer.provideMerge(Emulator.httpClient, Emulator.layer()))

describe("docs/examples: SqlClient and the sql template side by side", () => {
  it.scopedLive("the same query both ways gives the same rows; the template's errors carry our tagged error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE people (id INT, name STRING, active BOOLEAN)")
      yield* addPeople([
        { id: 1, name: "Ada", active: true },
        { id: 2, name: "Grace", active: true },
        { id: 3, name: "Edsger", active: true }
      ])
      const ours = yield* withSqlClient
      const template = yield* withTemplate
      assert.deepStrictEqual(ours, [{ id: 1, name: "Ada" }, { id: 2, name: "Grace" }])
      assert.deepStrictEqual(template, ours)
      // One INSERT for the three rows, and the template's statement with bound parameters.
      const log = (yield* emulator.stats).statements.map((statement) => statement.text)
      assert.deepStrictEqual(log.filter((text) => text.startsWith("INSERT")), [
        "INSERT INTO people (`id`,`name`,`active`) VALUES (?,?,?),(?,?,?),(?,?,?)"
      ])

      assert.strictEqual(yield* errorClassOf("no_such_table"), "TABLE_OR_VIEW_NOT_FOUND")
      yield* emulator.sql("CREATE TABLE payroll (x INT)")
      yield* emulator.deny(emulator.user, "payroll")
      assert.deepStrictEqual(yield* rowsOrNone("payroll"), [])
    }).pipe(Effect.provide(TestLayer)))
})
