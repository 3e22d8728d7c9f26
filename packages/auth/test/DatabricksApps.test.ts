import { DatabricksApps, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import type { HttpServer } from "@effect/platform"
import { HttpClient, HttpClientRequest, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, DateTime, Effect, Layer, Option, Redacted, TestClock } from "effect"
import * as Http from "node:http"
import { withEnv } from "./utils.js"

/**
 * Databricks Apps, and the facts these tests hold the module to, with their sources:
 * - Every app gets DATABRICKS_APP_NAME, DATABRICKS_WORKSPACE_ID, DATABRICKS_HOST, DATABRICKS_APP_PORT ("the network
 *   port the app should listen on"), DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (the app's service
 *   principal): https://docs.databricks.com/aws/dev-tools/databricks-apps/system-env
 * - Streamlit apps there listen on 0.0.0.0 and DATABRICKS_APP_PORT (same page, "Default environment variables for
 *   Streamlit"); `databricks apps run-local` defaults to 127.0.0.1:8000 (github.com/databricks/cli,
 *   libs/apps/runlocal/cfg.go) and sets the same variables (libs/apps/runlocal/env.go).
 * - App authorization uses the app's own service principal; user authorization forwards the viewer's token in
 *   `x-forwarded-access-token`, limited to the scopes the app was granted, and a workspace admin must enable it:
 *   https://docs.databricks.com/aws/dev-tools/databricks-apps/auth
 * - The proxy forwards X-Forwarded-Host, -Preferred-Username, -User, -Email, X-Real-Ip, X-Request-Id:
 *   https://docs.databricks.com/gcp/dev-tools/databricks-apps/http-headers
 * - Databricks answers an expired token with 403 "Invalid access token." (the emulator does too; see its
 *   workspace.ts for the sources).
 */

const TestEmulator = Layer.provideMerge(Emulator.httpClient, Emulator.layer())

const appsEnv = {
  DATABRICKS_APP_NAME: "sales",
  DATABRICKS_APP_PORT: "8123",
  DATABRICKS_HOST: "https://example.cloud.databricks.com",
  DATABRICKS_WORKSPACE_ID: "1234567890123456",
  DATABRICKS_CLIENT_ID: "app-client-id"
}

/** A JWT with these claims (unsigned: only its claims are read). */
const jwt = (claims: Record<string, unknown>) =>
  [{ alg: "none" }, claims].map((part) => Buffer.from(JSON.stringify(part)).toString("base64url")).join(".") + "."

describe("DatabricksApps: detection and where to listen", () => {
  it.effect("detects the runtime from DATABRICKS_APP_NAME and reports what it says about the app", () =>
    Effect.gen(function*() {
      assert.isFalse(yield* DatabricksApps.isDatabricksApps.pipe(Effect.provide(withEnv({}))))
      assert.isTrue(Option.isNone(yield* DatabricksApps.detect.pipe(Effect.provide(withEnv({})))))
      // A blank name is not a name.
      assert.isFalse(yield* DatabricksApps.isDatabricksApps.pipe(Effect.provide(withEnv({ DATABRICKS_APP_NAME: " " }))))
      const runtime = yield* DatabricksApps.detect.pipe(Effect.provide(withEnv(appsEnv)))
      assert.deepStrictEqual(
        runtime,
        Option.some({
          appName: "sales",
          port: Option.some(8123),
          workspaceHost: Option.some("https://example.cloud.databricks.com"),
          workspaceId: Option.some("1234567890123456"),
          clientId: Option.some("app-client-id")
        })
      )
    }))

  it.effect("listens on 0.0.0.0:DATABRICKS_APP_PORT on the platform, 127.0.0.1 and 8000 (or the port set) off it", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(
        yield* DatabricksApps.serverAddress().pipe(Effect.provide(withEnv(appsEnv))),
        { host: "0.0.0.0", port: 8123 }
      )
      assert.deepStrictEqual(
        yield* DatabricksApps.serverAddress().pipe(Effect.provide(withEnv({}))),
        { host: "127.0.0.1", port: 8000 }
      )
      assert.deepStrictEqual(
        yield* DatabricksApps.serverAddress({ defaultPort: 0 }).pipe(Effect.provide(withEnv({}))),
        { host: "127.0.0.1", port: 0 }
      )
      assert.deepStrictEqual(
        yield* DatabricksApps.serverAddress().pipe(Effect.provide(withEnv({ DATABRICKS_APP_PORT: "9001" }))),
        { host: "127.0.0.1", port: 9001 }
      )
    }))

  it.effect("a malformed or missing DATABRICKS_APP_PORT is a ConfigurationError naming it", () =>
    Effect.gen(function*() {
      for (const port of ["0", "65536", "80a", "-1", "8000.5"]) {
        const error = yield* Effect.flip(
          DatabricksApps.serverAddress().pipe(Effect.provide(withEnv({ ...appsEnv, DATABRICKS_APP_PORT: port })))
        )
        assert.strictEqual(error._tag, "ConfigurationError")
        assert.strictEqual(error.setting, "DATABRICKS_APP_PORT")
      }
      const { DATABRICKS_APP_PORT: _, ...withoutPort } = appsEnv
      const missing = yield* Effect.flip(DatabricksApps.serverAddress().pipe(Effect.provide(withEnv(withoutPort))))
      assert.strictEqual(missing.setting, "DATABRICKS_APP_PORT")
      assert.include(missing.message, "DATABRICKS_APP_NAME")
      const badDefault = yield* Effect.flip(
        DatabricksApps.serverAddress({ defaultPort: 1.5 }).pipe(Effect.provide(withEnv({})))
      )
      assert.strictEqual(badDefault.setting, "defaultPort")
    }))
})

describe("DatabricksApps.viewerFromHeaders", () => {
  const token = jwt({ sub: "1", exp: 2_000_000_000 })
  const proxied = {
    "x-forwarded-access-token": token,
    "X-Forwarded-User": "ada@example.com",
    "x-forwarded-email": "ada@example.com",
    "x-forwarded-preferred-username": "Ada Lovelace",
    "x-real-ip": "10.1.2.3",
    "x-request-id": "0b7c3a34-9a8e-4f55-8d1b-4c2f0b0e5e11",
    "x-forwarded-host": "sales-123.aws.databricksapps.com"
  }

  it.effect("reads the viewer: the token used as is, its expiry from the JWT exp, the user as the stable key", () =>
    Effect.gen(function*() {
      const viewer = yield* DatabricksApps.viewerFromHeaders(proxied, { onPlatform: true }).pipe(
        Effect.map(Option.getOrThrow)
      )
      assert.strictEqual(viewer.key, "ada@example.com")
      assert.strictEqual(viewer.user, "ada@example.com")
      assert.deepStrictEqual(viewer.email, Option.some("ada@example.com"))
      assert.deepStrictEqual(viewer.preferredUsername, Option.some("Ada Lovelace"))
      assert.deepStrictEqual(viewer.realIp, Option.some("10.1.2.3"))
      assert.deepStrictEqual(viewer.requestId, Option.some("0b7c3a34-9a8e-4f55-8d1b-4c2f0b0e5e11"))
      assert.deepStrictEqual(viewer.forwardedHost, Option.some("sales-123.aws.databricksapps.com"))
      assert.strictEqual(Redacted.value(viewer.token.value), token)
      assert.deepStrictEqual(viewer.token.expiresAt, Option.some(DateTime.unsafeMake(2_000_000_000_000)))
      assert.strictEqual(viewer.tokenSource.authType, "databricks-apps-user")
      assert.strictEqual(Redacted.value((yield* viewer.tokenSource.token).value), token)
      // A Fetch Headers object works the same; an opaque token has no known expiry.
      const opaque = new Headers({ "x-forwarded-access-token": "opaque-token", "x-forwarded-user": "u-1" })
      const other = Option.getOrThrow(yield* DatabricksApps.viewerFromHeaders(opaque, { onPlatform: true }))
      assert.strictEqual(other.key, "u-1")
      assert.isTrue(Option.isNone(other.token.expiresAt))
      assert.isTrue(Option.isNone(other.email))
      // The viewer's string form never shows the token.
      assert.notInclude(String(viewer.token.value), token)
    }))

  it.effect("off the platform the forwarded headers are not trusted: None, whatever they say", () =>
    Effect.gen(function*() {
      assert.isTrue(Option.isNone(yield* DatabricksApps.viewerFromHeaders(proxied).pipe(Effect.provide(withEnv({})))))
      assert.isTrue(Option.isNone(yield* DatabricksApps.viewerFromHeaders(proxied, { onPlatform: false })))
      // On the platform (detected from the environment) the same headers are the viewer.
      const detected = yield* DatabricksApps.viewerFromHeaders(proxied).pipe(Effect.provide(withEnv(appsEnv)))
      assert.isTrue(Option.isSome(detected))
    }))

  it.effect("on the platform without the token: the typed error says to enable user authorization, and which scopes", () =>
    Effect.gen(function*() {
      const { "x-forwarded-access-token": _, ...withoutToken } = proxied
      for (const headers of [withoutToken, { ...withoutToken, "x-forwarded-access-token": "  " }]) {
        const error = yield* Effect.flip(DatabricksApps.viewerFromHeaders(headers, { onPlatform: true }))
        assert.strictEqual(error, DatabricksApps.userAuthorizationRequired)
        assert.strictEqual(error._tag, "AuthenticationError")
        assert.include(error.message, "user authorization is not enabled")
        assert.include(error.hint!, "sql")
        assert.include(error.hint!, "iam.current-user.read")
        assert.include(error.hint!, "never replaced by the app's own service principal")
      }
      const { "X-Forwarded-User": __, ...withoutUser } = proxied
      const noUser = yield* Effect.flip(DatabricksApps.viewerFromHeaders(withoutUser, { onPlatform: true }))
      assert.include(noUser.message, "X-Forwarded-User")
    }))

  it.effect("a token that cannot be sent in a header is an AuthenticationError that does not show it", () =>
    Effect.gen(function*() {
      const bad = "secret-part\r\nX-Injected: 1"
      const error = yield* Effect.flip(
        DatabricksApps.viewerFromHeaders({ ...proxied, "x-forwarded-access-token": bad }, { onPlatform: true })
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.notInclude(JSON.stringify(error) + error.message, "secret-part")
    }))

  it.effect("the forwarded source cannot refresh: after invalidate (a refusal) it fails as the viewer, never resends", () =>
    Effect.gen(function*() {
      const source = yield* DatabricksApps.forwardedTokenSource(Redacted.make(token))
      yield* source.token
      yield* source.invalidate
      const error = yield* Effect.flip(source.token)
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "refused the viewer's forwarded access token")
      assert.include(error.hint!, "not retried as the app's service principal")
    }))
})

/**
 * A small app behind the emulator's Apps proxy: `/whoami` asks the workspace who the viewer is with the viewer's
 * forwarded token; `/as-app` asks with the app's own service principal. Its environment is the proxy's.
 */
const appBehindProxy = (options?: Omit<Emulator.AppsProxyOptions, "target">) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const env = { current: {} as Readonly<Record<string, string>> }
    const viewers: Array<DatabricksApps.ForwardedViewer> = []
    const onPlatform = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.suspend(() =>
        Effect.withConfigProvider(effect, ConfigProvider.fromMap(new Map(Object.entries(env.current))))
      )
    const workspace = WorkspaceClient.layer({ host: emulator.host })
    const refuse = (error: { readonly _tag: string; readonly message: string }) =>
      HttpServerResponse.unsafeJson({ error: error._tag, message: error.message }, { status: 401 })
    const app = HttpRouter.empty.pipe(
      HttpRouter.get(
        "/whoami",
        Effect.gen(function*() {
          const request = yield* HttpServerRequest.HttpServerRequest
          const viewer = yield* DatabricksApps.viewerFromHeaders(request.headers)
          if (Option.isNone(viewer)) return HttpServerResponse.text("not on the platform", { status: 500 })
          viewers.push(viewer.value)
          const me = yield* WorkspaceClient.currentUser.pipe(
            Effect.provide(workspace),
            Effect.provideService(TokenSource.TokenSource, viewer.value.tokenSource)
          )
          return HttpServerResponse.unsafeJson({ header: viewer.value.user, me: me.userName })
        }).pipe(onPlatform, Effect.catchAll((error) => Effect.succeed(refuse(error))))
      ),
      HttpRouter.get(
        "/as-app",
        WorkspaceClient.currentUser.pipe(
          Effect.provide(workspace.pipe(Layer.provide(DatabricksApps.layerServicePrincipal()))),
          Effect.map((me) => HttpServerResponse.unsafeJson({ me: me.userName })),
          onPlatform,
          Effect.catchAll((error) => Effect.succeed(refuse(error)))
        )
      )
    )
    const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
    const client = yield* HttpClient.HttpClient
    yield* server.serve(app).pipe(Effect.provideService(HttpClient.HttpClient, client))
    const address = server.address as HttpServer.TcpAddress
    const proxy = yield* emulator.appsProxy({ ...options, target: `http://127.0.0.1:${address.port}` })
    env.current = proxy.env
    const ask = (path: string, user: Emulator.Principal) =>
      client.execute(
        HttpClientRequest.get(`${proxy.url}${path}`).pipe(HttpClientRequest.setHeaders(proxy.headersFor(user)))
      )
        .pipe(Effect.flatMap((response) => Effect.map(response.json, (body) => [response.status, body] as const)))
    return { proxy, viewers, ask }
  })

describe("DatabricksApps behind the emulator's Apps proxy", () => {
  it.scoped("each viewer's forwarded token reaches the workspace as that viewer; the app's SP is itself", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
      const { ask, proxy, viewers } = yield* appBehindProxy()
      assert.deepStrictEqual(yield* ask("/whoami", emulator.user), [200, {
        header: "ada@example.com",
        me: "ada@example.com"
      }])
      assert.deepStrictEqual(yield* ask("/whoami", grace), [200, {
        header: "grace@example.com",
        me: "grace@example.com"
      }])
      // The expiry is the token's own (the emulator's tokens live an hour, from the clock's time 0).
      assert.deepStrictEqual(viewers[0].token.expiresAt, Option.some(DateTime.unsafeMake(3_600_000)))
      // The app's own identity, from the environment the platform gives it, is its service principal.
      assert.deepStrictEqual(yield* ask("/as-app", emulator.user), [200, { me: proxy.servicePrincipal.clientId }])
      const stats = yield* emulator.stats
      assert.deepStrictEqual(
        stats.recentRequests.filter((r) => r.endpoint === "scim").map((r) => r.principal),
        ["ada@example.com", "grace@example.com", proxy.servicePrincipal.clientId]
      )
      assert.strictEqual(stats.tokenRequests.client_credentials, 1)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("without user authorization the app answers 401 with the typed error, and never acts as itself", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { ask } = yield* appBehindProxy({ userAuthorization: false })
      const [status, body] = yield* ask("/whoami", emulator.user)
      assert.strictEqual(status, 401)
      assert.deepStrictEqual(body, {
        error: "AuthenticationError",
        message: DatabricksApps.userAuthorizationRequired.message
      })
      const stats = yield* emulator.stats
      assert.isUndefined(stats.requests.scim)
      assert.isUndefined(stats.tokenRequests.client_credentials)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("an expired viewer token is the viewer's AuthenticationError, not retried with the app's identity", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { ask, viewers } = yield* appBehindProxy()
      yield* ask("/whoami", emulator.user)
      const viewer = viewers[0]
      yield* TestClock.adjust("2 hours")
      const error = yield* Effect.flip(
        WorkspaceClient.currentUser.pipe(
          Effect.provide(WorkspaceClient.layer({ host: emulator.host })),
          Effect.provideService(TokenSource.TokenSource, viewer.tokenSource)
        )
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "refused the viewer's forwarded access token")
      // The source stays refused: nothing is sent again with it.
      assert.strictEqual((yield* Effect.flip(viewer.tokenSource.token))._tag, "AuthenticationError")
      const stats = yield* emulator.stats
      const scim = stats.recentRequests.filter((r) => r.endpoint === "scim")
      assert.deepStrictEqual(scim.map((r) => r.status), [200, 403])
      assert.isUndefined(stats.tokenRequests.client_credentials)
      // A new request through the proxy brings a fresh token, which works again.
      assert.deepStrictEqual(yield* ask("/whoami", emulator.user), [200, {
        header: "ada@example.com",
        me: "ada@example.com"
      }])
    }).pipe(Effect.provide(TestEmulator)))
})

describe("DatabricksApps.layerServicePrincipal", () => {
  it.effect("off the platform, a missing client id names the variable and says where it comes from", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(DatabricksApps.layerServicePrincipal()).pipe(
          Effect.scoped,
          Effect.provide(withEnv({ DATABRICKS_HOST: "https://example.cloud.databricks.com" })),
          Effect.provide(Layer.succeed(HttpClient.HttpClient, undefined as never))
        )
      )
      assert.strictEqual(error._tag, "ConfigurationError")
      assert.strictEqual(error.setting, "DATABRICKS_CLIENT_ID")
      assert.include(error.message, "Databricks Apps sets it on the platform")
    }))
})
