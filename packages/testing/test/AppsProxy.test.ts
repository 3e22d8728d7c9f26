import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Http from "node:http"
import { decodeJwt, emulatorLayer, me, send } from "./utils.js"

/**
 * The emulator's Databricks Apps proxy in front of a real loopback app. The platform facts it plays, with their
 * sources:
 * - the forwarded headers X-Forwarded-Host, -Preferred-Username, -User, -Email, X-Real-Ip, X-Request-Id (a UUID):
 *   https://docs.databricks.com/gcp/dev-tools/databricks-apps/http-headers
 * - X-Forwarded-Access-Token, the viewer's token, only with user authorization enabled, scoped to the app's scopes:
 *   https://docs.databricks.com/aws/dev-tools/databricks-apps/auth
 * - header values as Databricks' own local stand-in sends them (user name, e-mail, display name):
 *   github.com/databricks/cli libs/apps/runlocal/headers.go
 * - the app's environment (DATABRICKS_APP_NAME, _APP_PORT, _HOST, _WORKSPACE_ID, _CLIENT_ID, _CLIENT_SECRET):
 *   https://docs.databricks.com/aws/dev-tools/databricks-apps/system-env
 * - API clients calling the app with a Bearer OAuth token: https://docs.databricks.com/aws/dev-tools/databricks-apps/connect-local
 */

interface Seen {
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

/** A loopback app that answers every request with what it received, and remembers it. */
const echoApp = Effect.gen(function*() {
  const seen: Array<Seen> = []
  const server = Http.createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const entry = {
        method: request.method ?? "",
        url: request.url ?? "",
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8")
      }
      seen.push(entry)
      response.setHeader("set-cookie", ["app-a=1; Path=/", "app-b=2; Path=/"])
      response.setHeader("x-app", "echo")
      response.writeHead(request.url === "/teapot" ? 418 : 200, { "content-type": "application/json" })
      response.end(JSON.stringify(entry))
    })
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
  const port = typeof address === "object" && address !== null ? address.port : 0
  return { url: `http://127.0.0.1:${port}`, seen }
})

const get = (url: string, headers: Record<string, string> = {}) =>
  send(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers)))

const forwardedNames = [
  "x-forwarded-access-token",
  "x-forwarded-email",
  "x-forwarded-host",
  "x-forwarded-preferred-username",
  "x-forwarded-user",
  "x-real-ip",
  "x-request-id"
]

describe("Emulator.appsProxy (Databricks Apps)", () => {
  it.scopedLive("forwards with exactly the documented headers, the token a fresh scoped one of that user", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const app = yield* echoApp
      const proxy = yield* emulator.appsProxy({ target: app.url, name: "sales" })
      const reply = yield* send(
        HttpClientRequest.post(`${proxy.url}/api/orders?x=1`).pipe(
          HttpClientRequest.setHeaders(proxy.headersFor(emulator.user)),
          HttpClientRequest.bodyText("hello", "text/plain")
        )
      )
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.headers["x-app"], "echo")
      assert.strictEqual(reply.headers["content-type"], "application/json")
      assert.include(String(reply.headers["set-cookie"]), "app-a=1")
      assert.include(String(reply.headers["set-cookie"]), "app-b=2")
      const [seen] = app.seen
      assert.strictEqual(seen.method, "POST")
      assert.strictEqual(seen.url, "/api/orders?x=1")
      assert.strictEqual(seen.body, "hello")
      const received = Object.keys(seen.headers).filter((name) => name.startsWith("x-"))
      assert.deepStrictEqual(received.sort(), forwardedNames)
      assert.strictEqual(seen.headers["x-forwarded-user"], "ada@example.com")
      assert.strictEqual(seen.headers["x-forwarded-email"], "ada@example.com")
      assert.strictEqual(seen.headers["x-forwarded-preferred-username"], "Ada Lovelace")
      assert.strictEqual(seen.headers["x-forwarded-host"], proxy.url.slice("http://".length))
      assert.strictEqual(seen.headers["x-real-ip"], "127.0.0.1")
      assert.match(
        String(seen.headers["x-request-id"]),
        /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/
      )
      assert.strictEqual(seen.headers.host, app.url.slice("http://".length))
      // The token is a workspace token of that user, issued to the app's OAuth client with the app's scopes.
      const token = String(seen.headers["x-forwarded-access-token"])
      const who = yield* me(token)
      assert.strictEqual(who.status, 200)
      assert.strictEqual(who.body.userName, "ada@example.com")
      const claims = decodeJwt(token)
      assert.strictEqual(claims.scope, "sql iam.current-user.read")
      assert.strictEqual(claims.client_id, proxy.servicePrincipal.clientId)
      // Fresh per request: a second request gets another token, and another request id.
      yield* get(`${proxy.url}/`, proxy.headersFor(emulator.user))
      assert.notStrictEqual(app.seen[1].headers["x-forwarded-access-token"], token)
      assert.notStrictEqual(app.seen[1].headers["x-request-id"], seen.headers["x-request-id"])
      // The app's environment, as the platform sets it.
      assert.deepStrictEqual(Object.keys(proxy.env).sort(), [
        "DATABRICKS_APP_NAME",
        "DATABRICKS_APP_PORT",
        "DATABRICKS_APP_URL",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_CLIENT_SECRET",
        "DATABRICKS_HOST",
        "DATABRICKS_WORKSPACE_ID"
      ])
      assert.strictEqual(proxy.env.DATABRICKS_APP_NAME, "sales")
      assert.strictEqual(proxy.env.DATABRICKS_APP_PORT, new URL(app.url).port)
      assert.strictEqual(proxy.env.DATABRICKS_HOST, emulator.host)
      assert.strictEqual(proxy.env.DATABRICKS_CLIENT_SECRET, Redacted.value(proxy.servicePrincipal.clientSecret))
      assert.match(proxy.env.DATABRICKS_WORKSPACE_ID, /^\d{16}$/)
      const stats = yield* emulator.stats
      assert.strictEqual(stats.requests.apps_proxy, 2)
      assert.deepStrictEqual(
        stats.recentRequests.filter((r) => r.endpoint === "apps_proxy").map((r) => [r.principal, r.status]),
        [["ada@example.com", 200], ["ada@example.com", 200]]
      )
      assert.deepStrictEqual(yield* proxy.stats, {
        forwarded: 2,
        unauthenticated: 0,
        logins: 0,
        spoofedHeadersRemoved: 0,
        appUnreachable: 0
      })
    }).pipe(Effect.provide(emulatorLayer())))

  it.scopedLive("a client cannot spoof the forwarded headers: its own are removed, the proxy's set", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const app = yield* echoApp
      const proxy = yield* emulator.appsProxy({ target: app.url })
      const reply = yield* get(`${proxy.url}/`, {
        ...proxy.headersFor(emulator.user),
        "X-Forwarded-User": "mallory@example.com",
        "X-Forwarded-Email": "mallory@example.com",
        "X-Forwarded-Preferred-Username": "Mallory",
        "X-Forwarded-Access-Token": "forged",
        "X-Forwarded-Host": "evil.example.com",
        "X-Forwarded-For": "10.0.0.1",
        "X-Forwarded-Groups": "admins",
        "X-Real-Ip": "10.0.0.1",
        "X-Request-Id": "chosen",
        Forwarded: "for=10.0.0.1",
        Cookie: "theirs=1"
      })
      assert.strictEqual(reply.status, 200)
      const seen = app.seen[0].headers
      assert.strictEqual(seen["x-forwarded-user"], "ada@example.com")
      assert.strictEqual(seen["x-forwarded-email"], "ada@example.com")
      assert.strictEqual(seen["x-forwarded-preferred-username"], "Ada Lovelace")
      assert.notStrictEqual(seen["x-forwarded-access-token"], "forged")
      assert.notStrictEqual(seen["x-forwarded-host"], "evil.example.com")
      assert.strictEqual(seen["x-real-ip"], "127.0.0.1")
      assert.notStrictEqual(seen["x-request-id"], "chosen")
      for (const gone of ["x-forwarded-for", "x-forwarded-groups", "forwarded", "x-emulator-apps-user"]) {
        assert.isUndefined(seen[gone], gone)
      }
      // The app's own cookies pass, both ways.
      assert.strictEqual(seen.cookie, "theirs=1")
      assert.strictEqual((yield* proxy.stats).spoofedHeadersRemoved, 10)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scopedLive("two users: each request is forwarded as its own user with that user's token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
      const app = yield* echoApp
      const proxy = yield* emulator.appsProxy({ target: app.url })
      yield* Effect.all([
        get(`${proxy.url}/a`, proxy.headersFor(emulator.user)),
        get(`${proxy.url}/g`, proxy.headersFor(grace))
      ], { concurrency: 2 })
      const byPath = new Map(app.seen.map((s) => [s.url, s.headers]))
      for (
        const [path, userName, displayName] of [["/a", "ada@example.com", "Ada Lovelace"], [
          "/g",
          "grace@example.com",
          "Grace Hopper"
        ]]
      ) {
        const headers = byPath.get(path)!
        assert.strictEqual(headers["x-forwarded-user"], userName)
        assert.strictEqual(headers["x-forwarded-preferred-username"], displayName)
        const who = yield* me(String(headers["x-forwarded-access-token"]))
        assert.strictEqual(who.body.userName, userName)
      }
    }).pipe(Effect.provide(emulatorLayer())))

  it.scopedLive("without user authorization the app gets the user's identity headers but no token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const app = yield* echoApp
      const proxy = yield* emulator.appsProxy({ target: app.url, userAuthorization: false })
      yield* get(`${proxy.url}/`, proxy.headersFor(emulator.user))
      const seen = app.seen[0].headers
      assert.strictEqual(seen["x-forwarded-user"], "ada@example.com")
      assert.isUndefined(seen["x-forwarded-access-token"])
    }).pipe(Effect.provide(emulatorLayer())))

  it.scopedLive("API clients: a user's Bearer OAuth token logs them in and is not passed on; anything else is 401", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const app = yield* echoApp
      const proxy = yield* emulator.appsProxy({ target: app.url })
      yield* get(`${proxy.url}/`, proxy.headersFor(emulator.user))
      const userToken = String(app.seen[0].headers["x-forwarded-access-token"])
      const viaBearer = yield* get(`${proxy.url}/api/me`, { authorization: `Bearer ${userToken}` })
      assert.strictEqual(viaBearer.status, 200)
      assert.strictEqual(app.seen[1].headers["x-forwarded-user"], "ada@example.com")
      assert.isUndefined(app.seen[1].headers.authorization)
      for (
        const headers of [
          {},
          { authorization: `Bearer ${Redacted.value(emulator.pat)}` },
          { authorization: "Bearer not-a-token" },
          { "x-emulator-apps-user": "nobody@example.com" }
        ]
      ) {
        const refused = yield* get(`${proxy.url}/api/me`, headers)
        assert.strictEqual(refused.status, 401, JSON.stringify(Object.keys(headers)))
        assert.strictEqual(refused.body.error, "unauthenticated")
      }
      assert.strictEqual(app.seen.length, 2)
      assert.strictEqual((yield* proxy.stats).unauthenticated, 4)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scopedLive("a browser is sent through the workspace's authorize endpoint and comes back logged in", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
      yield* emulator.setAuthorize({ user: grace })
      const app = yield* echoApp
      const proxy = yield* emulator.appsProxy({ target: app.url })
      const html = { accept: "text/html,application/xhtml+xml" }
      const first = yield* get(`${proxy.url}/report?month=5`, html)
      assert.strictEqual(first.status, 302)
      const authorizeUrl = new URL(first.headers.location)
      assert.strictEqual(authorizeUrl.origin + authorizeUrl.pathname, `${emulator.host}/oidc/v1/authorize`)
      assert.strictEqual(authorizeUrl.searchParams.get("redirect_uri"), `${proxy.url}/.auth/callback`)
      assert.strictEqual(authorizeUrl.searchParams.get("code_challenge_method"), "S256")
      const approved = yield* get(authorizeUrl.toString())
      assert.strictEqual(approved.status, 302)
      const back = yield* get(approved.headers.location)
      assert.strictEqual(back.status, 302)
      assert.strictEqual(back.headers.location, "/report?month=5")
      const cookie = String(back.headers["set-cookie"]).split(";")[0]
      const page = yield* get(`${proxy.url}/report?month=5`, { ...html, cookie })
      assert.strictEqual(page.status, 200)
      assert.strictEqual(app.seen[0].headers["x-forwarded-user"], "grace@example.com")
      // The proxy's session cookie is its own: the app never sees it.
      assert.isUndefined(app.seen[0].headers.cookie)
      // A callback replayed, or with a state the proxy never issued, logs nobody in.
      assert.strictEqual((yield* get(approved.headers.location)).status, 400)
      assert.strictEqual((yield* proxy.stats).logins, 1)
      const stats = yield* emulator.stats
      assert.strictEqual(stats.requests.apps_login, 2)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scopedLive("a denied login reaches no app", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.setAuthorize({ decision: "deny" })
      const app = yield* echoApp
      const proxy = yield* emulator.appsProxy({ target: app.url })
      const first = yield* get(`${proxy.url}/`, { accept: "text/html" })
      const denied = yield* get(first.headers.location)
      const back = yield* get(denied.headers.location)
      assert.strictEqual(back.status, 403)
      assert.include(back.text, "access_denied")
      assert.strictEqual(app.seen.length, 0)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scopedLive("faults apply to forwarded requests, an app that does not answer is a 502, and stats count both", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const app = yield* echoApp
      const proxy = yield* emulator.appsProxy({ target: app.url })
      yield* emulator.faults.add({ target: "apps_proxy", status: 503 })
      const faulted = yield* get(`${proxy.url}/`, proxy.headersFor(emulator.user))
      assert.strictEqual(faulted.status, 503)
      assert.strictEqual(app.seen.length, 0)
      const teapot = yield* get(`${proxy.url}/teapot`, proxy.headersFor(emulator.user))
      assert.strictEqual(teapot.status, 418)
      const closed = yield* Effect.scoped(Effect.flatMap(echoApp, (other) => Effect.succeed(other.url)))
      const orphan = yield* emulator.appsProxy({ target: closed })
      const down = yield* get(`${orphan.url}/`, orphan.headersFor(emulator.user))
      assert.strictEqual(down.status, 502)
      assert.strictEqual((yield* orphan.stats).appUnreachable, 1)
      const stats = yield* emulator.stats
      assert.strictEqual(stats.faultsInjected.apps_proxy, 1)
      assert.strictEqual(stats.requests.apps_proxy, 3)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("refuses a target that is not an http:// URL with a port", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (const target of ["not a url", "https://127.0.0.1:1", "http://127.0.0.1"]) {
        const error = yield* Effect.flip(emulator.appsProxy({ target }))
        assert.strictEqual(error._tag, "EmulatorError")
        assert.include(error.message, "http://")
      }
    }).pipe(Effect.provide(emulatorLayer())))
})
