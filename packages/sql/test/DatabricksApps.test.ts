import { DatabricksApps, TokenSource } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as Http from "node:http"
import { stats, withEmulator } from "./utils.js"

/**
 * A Databricks app that queries as its viewer: the viewer's token, forwarded by the Apps proxy in
 * X-Forwarded-Access-Token (https://docs.databricks.com/aws/dev-tools/databricks-apps/auth), becomes the
 * TokenSource of a SqlClient, so `current_user()` is the viewer. Here the emulator plays the proxy and a loopback
 * server plays the app, keeping each request's headers.
 */
const appHeaders = Effect.gen(function*() {
  const seen: Array<Http.IncomingHttpHeaders> = []
  const server = Http.createServer((request, response) => {
    seen.push(request.headers)
    response.end("ok")
  })
  yield* Effect.acquireRelease(
    Effect.async<void>((resume) => {
      server.listen(0, "127.0.0.1", () => resume(Effect.void))
    }),
    () =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )
  const address = server.address()
  return { url: `http://127.0.0.1:${typeof address === "object" && address !== null ? address.port : 0}`, seen }
})

describe("SqlClient on a Databricks Apps viewer's forwarded token", () => {
  it.scopedLive("current_user() is each viewer, on a session of their own", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
      const app = yield* appHeaders
      const proxy = yield* emulator.appsProxy({ target: app.url })
      const client = yield* HttpClient.HttpClient
      const me = (user: Emulator.Principal) =>
        Effect.gen(function*() {
          const before = app.seen.length
          yield* client.execute(
            HttpClientRequest.get(`${proxy.url}/`).pipe(HttpClientRequest.setHeaders(proxy.headersFor(user)))
          )
          const viewer = Option.getOrThrow(
            yield* DatabricksApps.viewerFromHeaders(app.seen[before], { onPlatform: true })
          )
          const rows = yield* Effect.scoped(
            Effect.flatMap(SqlClient.SqlClient, (sql) => sql.query("SELECT current_user() AS me")).pipe(
              Effect.provide(
                SqlClient.layer({ host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem })
              ),
              Effect.provideService(TokenSource.TokenSource, viewer.tokenSource)
            )
          )
          return [viewer.key, rows[0].me]
        })
      assert.deepStrictEqual(yield* me(emulator.user), ["ada@example.com", "ada@example.com"])
      assert.deepStrictEqual(yield* me(grace), ["grace@example.com", "grace@example.com"])
      const after = yield* stats
      const ran = after.statements.filter((statement) => statement.text.includes("current_user()"))
      assert.deepStrictEqual(ran.map((statement) => statement.principal), ["ada@example.com", "grace@example.com"])
      assert.notStrictEqual(ran[0].sessionId, ran[1].sessionId)
      // Nothing ran as the app's service principal.
      assert.isUndefined(after.tokenRequests.client_credentials)
      assert.strictEqual(after.openSessions, 0)
    }).pipe(Effect.provide(withEmulator())))
})
