import { Pat, TokenSource, Viewer, ViewerMiddleware, WorkspaceClient } from "@effect-databricks/auth"
import { AuthenticationError } from "@effect-databricks/auth/DatabricksError"
import { Emulator } from "@effect-databricks/testing"
import {
  HttpApi,
  HttpApiBuilder,
  HttpApiEndpoint,
  HttpApiGroup,
  HttpClient,
  HttpClientRequest,
  HttpRouter,
  HttpServer,
  HttpServerResponse
} from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, Option, Redacted, Schema } from "effect"
import * as Http from "node:http"
import { withEnv } from "./utils.js"

const TestEmulator = Layer.provideMerge(Emulator.httpClient, Emulator.layer())

/** The handler: who the viewer is, asked of the workspace with the viewer's own token. */
const whoami = Effect.gen(function*() {
  const viewer = yield* Viewer.Viewer
  const me = yield* WorkspaceClient.currentUser.pipe(
    Effect.provide(WorkspaceClient.layer({ host: (yield* Emulator.Emulator).host }))
  )
  // The middleware provides the viewer's TokenSource too: the same one.
  const source = yield* TokenSource.TokenSource
  assert.strictEqual(source, viewer.tokenSource)
  return HttpServerResponse.text(`${viewer.kind} ${me.userName}`)
}).pipe(Effect.orDie)

const app = HttpRouter.empty.pipe(HttpRouter.get("/whoami", whoami), HttpRouter.use(ViewerMiddleware.middleware))

/** Serves `app` on a loopback port of the system's choosing, for the test's scope; `ask` sends it a request. */
const serve = <E, R>(
  httpApp: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>,
  viewers: Layer.Layer<Viewer.Viewers, unknown, HttpClient.HttpClient>
) =>
  Effect.gen(function*() {
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
    const context = yield* Layer.build(viewers)
    yield* server.serve(httpApp).pipe(Effect.provide(context))
    const { port } = server.address as HttpServer.TcpAddress
    const client = yield* HttpClient.HttpClient
    return (path: string, headers: Record<string, string> = {}) =>
      client.execute(
        HttpClientRequest.get(`http://127.0.0.1:${port}${path}`).pipe(HttpClientRequest.setHeaders(headers))
      )
        .pipe(Effect.flatMap((response) => Effect.map(response.text, (text) => [response.status, text] as const)))
  })

describe("ViewerMiddleware on a real HttpServer (loopback)", () => {
  it.scoped("Posit Connect: each request acts as its viewer; without the header, 401 saying why", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
      const graceSession = yield* emulator.registerUserSessionToken({ user: grace })
      const ask = yield* serve(
        app,
        Viewer.layer({ local: Pat.layer({ token: emulator.pat }) }).pipe(
          Layer.provide(
            withEnv({
              RSTUDIO_PRODUCT: "CONNECT",
              CONNECT_SERVER: emulator.connect.url,
              CONNECT_API_KEY: Redacted.value(emulator.connect.apiKey)
            })
          )
        )
      )
      const header = (token: Redacted.Redacted<string>) => ({
        "Posit-Connect-User-Session-Token": Redacted.value(token)
      })
      assert.deepStrictEqual(yield* ask("/whoami", header(emulator.connect.userSessionToken)), [
        200,
        "connect ada@example.com"
      ])
      assert.deepStrictEqual(yield* ask("/whoami", header(graceSession)), [200, "connect grace@example.com"])
      const [status, text] = yield* ask("/whoami")
      assert.strictEqual(status, 401)
      assert.include(text, "The user-session-token is required for viewer authentication")
      assert.include(text, "Posit-Connect-User-Session-Token")
      // A Databricks Apps header means nothing on Connect: still 401, never the app's identity.
      const [appsStatus] = yield* ask("/whoami", { "X-Forwarded-Access-Token": Redacted.value(emulator.pat) })
      assert.strictEqual(appsStatus, 401)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("Databricks Apps: the forwarded token; without it, 401 saying to enable user authorization", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
      const gracePat = yield* emulator.registerPat({ principal: grace })
      const ask = yield* serve(
        app,
        Viewer.layer({ local: Pat.layer({ token: emulator.pat }) }).pipe(
          Layer.provide(withEnv({ DATABRICKS_APP_NAME: "viewer-app", DATABRICKS_APP_PORT: "8000" }))
        )
      )
      const forwarded = (token: Redacted.Redacted<string>, user: string) => ({
        "X-Forwarded-Access-Token": Redacted.value(token),
        "X-Forwarded-User": user,
        "X-Forwarded-Email": `${user}@example.com`
      })
      assert.deepStrictEqual(yield* ask("/whoami", forwarded(gracePat, "grace")), [
        200,
        "databricks-apps grace@example.com"
      ])
      assert.deepStrictEqual(yield* ask("/whoami", forwarded(emulator.pat, "ada")), [
        200,
        "databricks-apps ada@example.com"
      ])
      const [status, text] = yield* ask("/whoami", {
        "Posit-Connect-User-Session-Token": Redacted.value(emulator.connect.userSessionToken)
      })
      assert.strictEqual(status, 401)
      assert.include(text, "X-Forwarded-Access-Token")
      assert.include(text, "Enable user authorization")
      assert.notInclude(text, Redacted.value(emulator.connect.userSessionToken))
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("off both platforms: the local credential for every request, and one log line saying so", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const lines: Array<string> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(String(message))))
      const ask = yield* serve(
        app,
        Viewer.layer({ local: Pat.layer({ token: emulator.pat }) }).pipe(
          Layer.provide(withEnv({})),
          Layer.provide(capture)
        )
      )
      assert.deepStrictEqual(yield* ask("/whoami"), [200, "local ada@example.com"])
      // Forged platform headers are ignored off the platforms.
      assert.deepStrictEqual(
        yield* ask("/whoami", { "X-Forwarded-Access-Token": "forged", "X-Forwarded-User": "eve" }),
        [200, "local ada@example.com"]
      )
      assert.deepStrictEqual(lines, [
        "Viewer: not on Posit Connect or Databricks Apps (local); every request acts as the local pat credential"
      ])
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("a custom server: identify reads its own header; a request it refuses is 401", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
      const tokens = new Map([["ada", emulator.pat], ["grace", yield* emulator.registerPat({ principal: grace })]])
      const identify = ViewerMiddleware.make({
        identify: (request) => {
          const user = request.headers["x-my-user"]
          const token = user === undefined ? undefined : tokens.get(user)
          return token === undefined || user === undefined
            ? Effect.fail(new AuthenticationError({ message: "Unknown user", hint: "Send X-My-User" }))
            : Effect.succeed(Viewer.custom({ key: user, token: TokenSource.static(token), name: user }))
        }
      })
      const customApp = HttpRouter.empty.pipe(HttpRouter.get("/whoami", whoami), HttpRouter.use(identify))
      const ask = yield* serve(
        customApp,
        // On Databricks Apps as far as the environment says, but identify decides who the viewer is.
        Viewer.layer({}).pipe(Layer.provide(withEnv({ DATABRICKS_APP_NAME: "viewer-app" })))
      )
      assert.deepStrictEqual(yield* ask("/whoami", { "x-my-user": "grace" }), [200, "custom grace@example.com"])
      assert.deepStrictEqual(yield* ask("/whoami", { "x-my-user": "ada" }), [200, "custom ada@example.com"])
      assert.deepStrictEqual(yield* ask("/whoami", { "x-my-user": "eve" }), [401, "Unknown user\nSend X-My-User\n"])
    }).pipe(Effect.provide(TestEmulator)))
})

class Me extends Schema.Class<Me>("Me")({ kind: Schema.String, userName: Schema.String, name: Schema.String }) {}

const Api = HttpApi.make("viewer-app").add(
  HttpApiGroup.make("me").add(HttpApiEndpoint.get("me", "/me").addSuccess(Me)).middleware(
    ViewerMiddleware.Authorization
  )
)

describe("ViewerMiddleware.Authorization for HttpApi (loopback)", () => {
  it.scoped("handlers get Viewer.Viewer; a request without the header is a 401 ViewerUnauthorized", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const MeLive = HttpApiBuilder.group(Api, "me", (handlers) =>
        handlers.handle("me", () =>
          Effect.gen(function*() {
            const viewer = yield* Viewer.Viewer
            const me = yield* Viewer.asViewer(
              WorkspaceClient.currentUser.pipe(Effect.provide(WorkspaceClient.layer({ host: emulator.host })))
            ).pipe(Effect.orDie)
            return new Me({ kind: viewer.kind, userName: me.userName, name: Option.getOrElse(viewer.name, () => "") })
          })))
      const ApiLive = HttpApiBuilder.api(Api).pipe(
        Layer.provide(MeLive),
        Layer.provide(ViewerMiddleware.layerAuthorization())
      )
      const Live = HttpApiBuilder.serve().pipe(
        Layer.provide(ApiLive),
        Layer.provide(Viewer.layer({}).pipe(Layer.provide(withEnv({ DATABRICKS_APP_NAME: "viewer-app" })))),
        Layer.provideMerge(NodeHttpServer.layer(() => Http.createServer(), { port: 0, host: "127.0.0.1" }))
      )
      const context = yield* Layer.build(Live)
      const { port } = Context.get(context, HttpServer.HttpServer).address as HttpServer.TcpAddress
      const client = yield* HttpClient.HttpClient
      const ask = (headers: Record<string, string>) =>
        client.execute(HttpClientRequest.get(`http://127.0.0.1:${port}/me`).pipe(HttpClientRequest.setHeaders(headers)))
          .pipe(Effect.flatMap((response) => Effect.map(response.json, (body) => [response.status, body] as const)))
      const [ok, body] = yield* ask({
        "X-Forwarded-Access-Token": Redacted.value(emulator.pat),
        "X-Forwarded-User": "ada",
        "X-Forwarded-Email": "ada@example.com"
      })
      assert.strictEqual(ok, 200)
      assert.deepStrictEqual(body, { kind: "databricks-apps", userName: "ada@example.com", name: "ada@example.com" })
      const [status, error] = yield* ask({})
      assert.strictEqual(status, 401)
      assert.strictEqual((error as { _tag: string })._tag, "ViewerUnauthorized")
      assert.include((error as { message: string }).message, "X-Forwarded-Access-Token")
    }).pipe(Effect.provide(TestEmulator)))
})
