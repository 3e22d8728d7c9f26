import { ConnectViewer, Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { stats, withEmulator } from "./utils.js"

describe("SqlClient.layerViewers (Posit Connect viewers)", () => {
  it.scopedLive("each viewer queries as themselves, on one session of their own, concurrently with the other", () =>
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
        // Long enough that no viewer's client is closed between two of its queries, however busy the machine.
        idleTimeToLive: "1 minute"
      }).pipe(
        Layer.provide(ConnectViewer.layerViewers({ local: Pat.layer({ token: emulator.pat }) })),
        Layer.provide(Layer.setConfigProvider(onConnect))
      )
      const { open, results } = yield* Effect.gen(function*() {
        const viewers = yield* SqlClient.Viewers
        const ask = (session: Redacted.Redacted<string>) =>
          Effect.scoped(
            Effect.flatMap(viewers.forViewer(session), (client) => client.query("SELECT current_user() AS me"))
          )
        // The two viewers run concurrently; each one's ten queries one after another, so one session serves them.
        const results = yield* Effect.all(
          [emulator.connect.userSessionToken, graceSession].map((session) =>
            Effect.forEach(Array.from({ length: 10 }), () => ask(session))
          ),
          { concurrency: 2 }
        )
        // While the viewers' clients are alive: the sessions open on the warehouse, and whose they are.
        return { open: (yield* stats).sessions, results }
      }).pipe(Effect.provide(viewersLayer))
      assert.deepStrictEqual(results.map((rows) => rows.map((row) => row[0].me)), [
        Array(10).fill("ada@example.com"),
        Array(10).fill("grace@example.com")
      ])
      assert.deepStrictEqual(open.map((session) => session.principal).sort(), ["ada@example.com", "grace@example.com"])
      const after = yield* stats
      // One exchange per viewer, and exactly one session each: every statement ran on its own viewer's session.
      assert.deepStrictEqual(after.exchanges, { "urn:posit:connect:user-session-token": 2 })
      assert.strictEqual(after.rpc.OpenSession, 2)
      const sessionOf = new Map(open.map((session) => [session.id, session.principal]))
      const ran = after.statements.filter((statement) => statement.text.includes("current_user()"))
      assert.strictEqual(ran.length, 20)
      for (const statement of ran) assert.strictEqual(sessionOf.get(statement.sessionId), statement.principal)
      assert.strictEqual(after.openSessions, 0)
      assert.strictEqual(after.openOperations, 0)
    }).pipe(Effect.provide(withEmulator())))
})
