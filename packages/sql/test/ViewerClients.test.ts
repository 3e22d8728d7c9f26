import { Pat, TokenSource, Viewer, ViewerMiddleware } from "@effect-databricks/auth"
import { AuthenticationError } from "@effect-databricks/auth/DatabricksError"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest, HttpRouter, type HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import * as EffectSql from "@effect/sql/SqlClient"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Option, Redacted, type Scope } from "effect"
import * as Http from "node:http"
import { stats, withEmulator } from "./utils.js"

/** One handler for every platform: the viewer's own client and @effect/sql's over it, from SqlClient.asViewer. */
const me = SqlClient.asViewer(
  Effect.gen(function*() {
    const ours = yield* SqlClient.SqlClient
    const sql = yield* EffectSql.SqlClient
    const [a] = yield* ours.query("SELECT current_user() AS me")
    const [b] = yield* sql<{ readonly me: string }>`SELECT current_user() AS me`
    return HttpServerResponse.text(`${String(a.me)} ${b.me}`)
  })
).pipe(Effect.orDie)

/**
 * The app on a loopback port: the viewers cache and a client per viewer, built with `env` (the platform's
 * variables, computed from the app's own URL), `middleware` giving each request its viewer.
 */
const startApp = (
  env: (
    url: string
  ) => Effect.Effect<Record<string, string>, unknown, Emulator.Emulator | Scope.Scope>,
  middleware = ViewerMiddleware.middleware
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
    const { port } = server.address as HttpServer.TcpAddress
    const variables = yield* env(`http://127.0.0.1:${port}`)
    const layers = SqlClient.layerViewers({
      host: emulator.host,
      httpPath: emulator.httpPath,
      caCert: emulator.caCertPem,
      idleTimeToLive: "1 minute"
    }).pipe(
      Layer.provideMerge(Viewer.layer({ local: Pat.layer({ token: emulator.pat }) })),
      Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(variables)))))
    )
    const context = yield* Layer.build(layers)
    yield* server.serve(HttpRouter.empty.pipe(HttpRouter.get("/me", me), HttpRouter.use(middleware))).pipe(
      Effect.provide(context)
    )
  })

const get = (url: string, headers: Readonly<Record<string, string>>) =>
  Effect.flatMap(
    HttpClient.HttpClient,
    (client) =>
      client.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers))).pipe(
        Effect.flatMap((response) => Effect.map(response.text, (text) => `${response.status} ${text}`))
      )
  )

/**
 * While the viewers' clients are alive: one session per viewer, each statement on a session opened by its own
 * principal (the emulator would have refused any other use, see below), nothing as anyone else.
 */
const assertIsolated = (principals: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const now = yield* stats
    assert.deepStrictEqual(now.sessions.map((s) => s.principal).sort(), [...principals].sort())
    assert.strictEqual(now.rpc.OpenSession, principals.length, "one session per viewer, for both APIs")
    const sessionOf = new Map(now.sessions.map((s) => [s.id, s.principal]))
    const ran = now.statements.filter((s) => s.text.includes("current_user()"))
    assert.isAbove(ran.length, 0)
    for (const statement of ran) assert.strictEqual(sessionOf.get(statement.sessionId), statement.principal)
    assert.deepStrictEqual([...new Set(ran.map((s) => s.principal))].sort(), [...principals].sort())
  })

describe("a per-viewer SQL client (ours and @effect/sql's), the same on every platform", () => {
  it.live(
    "Posit Connect: each viewer's session token, exchanged; their own session",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
        const graceSession = yield* emulator.registerUserSessionToken({ user: grace })
        let url = ""
        yield* startApp((appUrl) => {
          url = appUrl
          return Effect.succeed({
            RSTUDIO_PRODUCT: "CONNECT",
            CONNECT_SERVER: emulator.connect.url,
            CONNECT_API_KEY: Redacted.value(emulator.connect.apiKey)
          })
        })
        const ask = (session: Redacted.Redacted<string>) =>
          get(`${url}/me`, { "Posit-Connect-User-Session-Token": Redacted.value(session) })
        for (let i = 0; i < 3; i++) {
          assert.strictEqual(yield* ask(emulator.connect.userSessionToken), "200 ada@example.com ada@example.com")
          assert.strictEqual(yield* ask(graceSession), "200 grace@example.com grace@example.com")
        }
        assert.match(yield* get(`${url}/me`, {}), /^401 The user-session-token is required/)
        yield* assertIsolated(["ada@example.com", "grace@example.com"])
        assert.deepStrictEqual((yield* stats).exchanges, { "urn:posit:connect:user-session-token": 2 })
      })).pipe(Effect.provide(withEmulator())),
    60_000
  )

  it.live(
    "Databricks Apps, behind the emulator's Apps proxy: a fresh forwarded token each request, one session",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
        let proxy: Emulator.AppsProxy | undefined
        yield* startApp((target) =>
          Effect.map(emulator.appsProxy({ target }), (started) => {
            proxy = started
            return started.env
          })
        )
        const apps = proxy!
        const ask = (user: Emulator.Principal) => get(`${apps.url}/me`, apps.headersFor(user))
        for (let i = 0; i < 3; i++) {
          assert.strictEqual(yield* ask(emulator.user), "200 ada@example.com ada@example.com")
          assert.strictEqual(yield* ask(grace), "200 grace@example.com grace@example.com")
        }
        // The proxy logged nobody in: refused there, before the app.
        assert.match(yield* get(`${apps.url}/me`, {}), /^401/)
        yield* assertIsolated(["ada@example.com", "grace@example.com"])
        assert.isFalse(
          (yield* stats).statements.some((s) => s.principal === apps.servicePrincipal.principal.userName),
          "nothing ran as the app's service principal"
        )
      })).pipe(Effect.provide(withEmulator())),
    60_000
  )

  it.live(
    "a custom server: identify maps its own header to a viewer's TokenSource",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
        const tokens = new Map([["ada", emulator.pat], ["grace", yield* emulator.registerPat({ principal: grace })]])
        const identify = ViewerMiddleware.make({
          identify: (request) => {
            const user = request.headers["x-user"]
            const token = user === undefined ? undefined : tokens.get(user)
            return user === undefined || token === undefined
              ? Effect.fail(new AuthenticationError({ message: "Who are you?" }))
              : Effect.succeed(Viewer.custom({ key: user, token: TokenSource.static(token) }))
          }
        })
        let url = ""
        yield* startApp((appUrl) => {
          url = appUrl
          return Effect.succeed({})
        }, identify)
        for (let i = 0; i < 3; i++) {
          assert.strictEqual(yield* get(`${url}/me`, { "x-user": "ada" }), "200 ada@example.com ada@example.com")
          assert.strictEqual(yield* get(`${url}/me`, { "x-user": "grace" }), "200 grace@example.com grace@example.com")
        }
        assert.strictEqual(yield* get(`${url}/me`, { "x-user": "eve" }), "401 Who are you?\n")
        yield* assertIsolated(["ada@example.com", "grace@example.com"])
      })).pipe(Effect.provide(withEmulator())),
    60_000
  )
})

describe("sessions stay with the identity that opened them", () => {
  it.live(
    "the emulator refuses a session opened by one principal to another's token; no statement runs",
    () =>
      Effect.scoped(Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
        const gracePat = yield* emulator.registerPat({ principal: grace })
        // A (wrong) custom viewer whose token changes hands: what the per-viewer keying exists to prevent.
        let current = emulator.pat
        const switching: TokenSource.TokenSource = {
          authType: "switching",
          token: Effect.sync(() => ({ value: current, expiresAt: Option.none() })),
          invalidate: Effect.void
        }
        const error = yield* Effect.gen(function*() {
          const viewer = yield* Viewer.resolve(Viewer.custom({ key: "shared", token: switching }))
          const viewers = yield* SqlClient.Viewers
          const client = yield* viewers.forViewer(viewer)
          assert.deepStrictEqual(yield* client.query("SELECT current_user() AS me"), [{ me: "ada@example.com" }])
          current = gracePat
          yield* viewer.tokenSource.invalidate // the cache would keep serving Ada's token otherwise
          return yield* Effect.flip(client.query("SELECT current_user() AS me /* as grace */"))
        }).pipe(
          Effect.provide(
            SqlClient.layerViewers({
              host: emulator.host,
              httpPath: emulator.httpPath,
              caCert: emulator.caCertPem,
              retry: { maxAttempts: 2, base: "10 millis" }
            }).pipe(
              Layer.provideMerge(
                Viewer.layer({ local: Pat.layer({ token: emulator.pat }), environment: "databricks-apps" })
              )
            )
          )
        )
        assert.strictEqual(error._tag, "PermissionError")
        const after = yield* stats
        assert.isFalse(after.statements.some((s) => s.text.includes("as grace")), "nothing ran on Ada's session")
        assert.isFalse(after.statements.some((s) => s.principal === "grace@example.com"))
      })).pipe(Effect.provide(withEmulator())),
    60_000
  )
})

describe("SqlClient.toEffectSql", () => {
  it.live("@effect/sql's client over a client built with make", () =>
    Effect.scoped(Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const rows = yield* Effect.gen(function*() {
        const client = yield* SqlClient.make({
          host: emulator.host,
          httpPath: emulator.httpPath,
          caCert: emulator.caCertPem
        })
        const sql = yield* SqlClient.toEffectSql(client, { host: emulator.host })
        return yield* sql<{ readonly me: string; readonly n: number }>`SELECT current_user() AS me, ${41} + 1 AS n`
      }).pipe(Effect.provide(Pat.layer({ token: emulator.pat })))
      assert.deepStrictEqual(rows, [{ me: "ada@example.com", n: 42 }])
      const bad = yield* Effect.flip(
        Effect.flatMap(SqlClient.SqlClient, (client) => SqlClient.toEffectSql(client, { host: "ftp://nope" })).pipe(
          Effect.provide(
            SqlClient.layer({ host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem })
          ),
          Effect.provide(Pat.layer({ token: emulator.pat }))
        )
      )
      assert.strictEqual(bad._tag, "ConfigurationError")
    })).pipe(Effect.provide(withEmulator())), 60_000)
})
