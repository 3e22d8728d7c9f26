// docs/examples/auth-layer-config.ts, run as a user would (see child.ts).
import { Emulator } from "@effect-databricks/testing"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { runProgram } from "./child.js"

const TestLayer = Layer.merge(Emulator.layer(), NodeContext.layer)

describe("docs/examples/auth-layer-config.ts", () => {
  it.scoped(
    "reads the client id from the app's own variable and greets the service principal",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const output = yield* runProgram("auth-layer-config.ts", {
          ORDERS_SP_CLIENT_ID: emulator.servicePrincipal.clientId,
          DATABRICKS_CLIENT_SECRET: Redacted.value(emulator.servicePrincipal.clientSecret)
        })
        assert.strictEqual(output, `Hello, ${emulator.servicePrincipal.principal.displayName}!`)
      }).pipe(Effect.provide(TestLayer)),
    { timeout: 30_000 }
  )

  it.scoped(
    "without that variable, the ConfigurationError names it (DATABRICKS_CLIENT_ID is not read)",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const output = yield* runProgram("auth-layer-config.ts", {
          DATABRICKS_CLIENT_ID: emulator.servicePrincipal.clientId,
          DATABRICKS_CLIENT_SECRET: Redacted.value(emulator.servicePrincipal.clientSecret)
        })
        assert.strictEqual(output, "Not configured: ORDERS_SP_CLIENT_ID is not set. Check the setting's value.")
      }).pipe(Effect.provide(TestLayer)),
    { timeout: 30_000 }
  )
})
