import { ConnectViewer, Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { stats, withEmulator } from "./utils.js"

describe("SqlClient.layerViewers (Posit Connect viewers)", () => {
  it.scopedLive("each viewer queries as themselves, on their own sessions, concurrently", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
      const graceSession = yield* emulator.registerUserSessionToken({ user: grace })
      const onConnect = ConfigProvider.fromMap(
        new Map([
          ["RSTUDIO_PRODUCT", "CONNECT"],
          ["CONNECT_SERVER", emulator.connect.url],
          ["CONNECT_API_KEY", Redacted.value(emulator.connect.apiKey)]
        ])
      )
      const viewersLayer = SqlClient.layerViewers({
        host: emulator.host,
        httpPath: emulator.httpPath,
        caCert: emulator.caCertPem,
        idleTimeToLive: "1 second"
      }).pipe(
        Layer.provide(ConnectViewer.layerViewers({ local: Pat.layer({ token: emulator.pat }) })),
        Layer.provide(Layer.setConfigProvider(onConnect))
      )
      const results = yield* Effect.gen(function*() {
        const viewers = yield* SqlClient.Viewers
        const ask = (session: Redacted.Redacted<string>) =>
          Effect.scoped(
            Effect.flatMap(viewers.forViewer(session), (client) => client.query("SELECT current_user() AS me"))
          )
        return yield* Effect.all(
          Array.from({ length: 20 }, (_, i) => ask(i % 2 === 0 ? emulator.connect.userSessionToken : graceSession)),
          { concurrency: 6 }
        )
      }).pipe(Effect.provide(viewersLayer))
      results.forEach((rows, i) =>
        assert.strictEqual(rows[0].me, i % 2 === 0 ? "ada@example.com" : "grace@example.com")
      )
      const after = yield* stats
      // One exchange per viewer, and one session each (per-viewer clients reuse their sessions).
      assert.deepStrictEqual(after.exchanges, { "urn:posit:connect:user-session-token": 2 })
      assert.isAtMost(after.rpc.OpenSession, 12)
      assert.strictEqual(after.openSessions, 0)
      assert.strictEqual(after.openOperations, 0)
    }).pipe(Effect.provide(withEmulator())))
})
