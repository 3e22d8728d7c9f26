import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { program as oneTokenRequest } from "../examples/auth-emulator.js"
import { firstRows } from "../examples/emulator-driver.js"

describe("docs/examples", () => {
  it.live("auth-emulator.ts: ten SCIM calls on the emulator make one token request", () =>
    Effect.map(oneTokenRequest, (requests) => assert.strictEqual(requests, 1)))

  it.live("emulator-driver.ts: the plain driver reads the emulator's warehouse", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const rows = yield* Effect.promise(() => firstRows(emulator))
      assert.deepStrictEqual(rows.map((row) => Number((row as { id: unknown }).id)), [0, 1, 2])
      assert.strictEqual((yield* emulator.stats).openSessions, 0)
    }).pipe(Effect.provide(Emulator.layer())))
})
