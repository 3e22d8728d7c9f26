import { TokenCache, TokenSource, U2MPkce, WorkspaceClient } from "@effect-databricks/auth"
import { AuthenticationError } from "@effect-databricks/auth/DatabricksError"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, layer } from "@effect/vitest"
import { Context, Deferred, Effect, Fiber, Layer, Redacted } from "effect"
import * as Net from "node:net"
import type * as Playwright from "playwright-core"
import { inject } from "vitest"
import * as Chromium from "./chromium.js"

const chromiumPath = inject("chromium")

/** Whether `port` can be bound on 127.0.0.1 right now (closed again at once). */
const bindable = (port: number) =>
  Effect.async<boolean>((resume) => {
    const server = Net.createServer()
    server.once("error", () => resume(Effect.succeed(false)))
    server.listen(port, "127.0.0.1", () => server.close(() => resume(Effect.succeed(true))))
  })

/** A free port for the redirect URI, below the ephemeral range, where nothing that binds port 0 lands. */
const freePort = Effect.gen(function*() {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (yield* bindable(port)) return port
  }
})

/** One browser for the suite, trusting the suite's emulator; every test has its own browser context. */
class Browser extends Context.Tag("test-browser/Browser")<Browser, Playwright.Browser>() {}

/** One emulator with the login page, and one chromium: starting them is most of the suite's time. */
const suiteLayer = Layer.provideMerge(
  Layer.scoped(
    Browser,
    Effect.flatMap(Emulator.Emulator, (emulator) => Chromium.launch(chromiumPath, { certPem: emulator.caCertPem }))
  ),
  Layer.provideMerge(Emulator.httpClient, Emulator.layer({ loginPage: true }))
)

/**
 * Starts a U2M login whose "browser" is chromium: U2MPkce hands the authorize URL to `openBrowser`, the test
 * opens it in a page and acts as the person at the keyboard, while the login waits for its callback.
 */
const startLogin = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  yield* emulator.reset
  const page = yield* Chromium.page(yield* Browser)
  // Script errors and console errors other than failed loads (the 401 of a wrong password, the callback's 400 on
  // a denial, a favicon after the callback server closed): a Content-Security-Policy violation would show here.
  const problems: Array<string> = []
  page.on("console", (message) => {
    if (message.type() === "error" && !message.text().startsWith("Failed to load resource")) {
      problems.push(message.text())
    }
  })
  page.on("pageerror", (error) => problems.push(error.message))
  const opened = yield* Deferred.make<string>()
  const redirectUri = `http://localhost:${yield* freePort}/callback`
  const source = yield* U2MPkce.make({
    host: emulator.host,
    clientId: emulator.u2m.clientId,
    redirectUri,
    openBrowser: (url) => Deferred.succeed(opened, url),
    tokenCache: TokenCache.memory(),
    interactive: true,
    loginTimeout: "45 seconds"
  })
  const token = yield* Effect.fork(source.token)
  const url = yield* Deferred.await(opened)
  yield* Chromium.run(() => page.goto(url))
  return { emulator, page, problems, redirectUri, source, token }
})

describe("U2M login in chromium", () => {
  layer(suiteLayer, { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.scoped("typing the credentials and allowing gives a TokenSource of that user", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.registerUser({
          userName: "grace@example.com",
          displayName: "Grace Hopper",
          password: Redacted.make("cobol-1959")
        })
        const { page, problems, redirectUri, source, token } = yield* startLogin
        assert.strictEqual(yield* Chromium.run(() => page.title()), "Log in to Databricks")
        assert.strictEqual(yield* Chromium.run(() => page.locator("#client-id").textContent()), emulator.u2m.clientId)
        assert.deepStrictEqual(yield* Chromium.run(() => page.locator("#scopes li").allTextContents()), [
          "all-apis",
          "offline_access"
        ])

        // A typo first: Enter submits with the first button (Allow), and the page comes back with an error.
        yield* Chromium.run(() => page.locator("#username").pressSequentially("grace@example.com"))
        yield* Chromium.run(() => page.locator("#password").pressSequentially("cobol-1960"))
        yield* Chromium.run(() => page.locator("#password").press("Enter"))
        yield* Chromium.run(() => page.locator("#error").waitFor())
        assert.strictEqual(
          yield* Chromium.run(() => page.locator("#error").textContent()),
          "Wrong user name or password."
        )
        assert.isTrue(page.url().startsWith(`${emulator.host}/oidc/v1/authorize`))
        assert.strictEqual(yield* Chromium.run(() => page.locator("#username").inputValue()), "grace@example.com")

        yield* Chromium.run(() => page.locator("#password").pressSequentially("cobol-1959"))
        yield* Chromium.run(() => page.locator("#allow").click())
        yield* Chromium.run(() => page.waitForURL((url) => url.href.startsWith(`${redirectUri}?`)))
        assert.include(
          yield* Chromium.run(() => page.locator("body").textContent()),
          "You are logged in to Databricks"
        )
        yield* Fiber.join(token)

        // The TokenSource works against the workspace, as Grace: the REST API and the SQL warehouse agree.
        const tokenLayer = Layer.succeed(TokenSource.TokenSource, source)
        const me = yield* WorkspaceClient.currentUser.pipe(
          Effect.provide(WorkspaceClient.layer({ host: emulator.host }).pipe(Layer.provide(tokenLayer)))
        )
        assert.strictEqual(me.userName, "grace@example.com")
        const rows = yield* Effect.flatMap(SqlClient.SqlClient, (client) => client.query("SELECT current_user() AS me"))
          .pipe(
            Effect.provide(
              SqlClient.layer({ host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem }).pipe(
                Layer.provide(tokenLayer)
              )
            )
          )
        assert.deepStrictEqual(rows, [{ me: "grace@example.com" }])

        const stats = yield* emulator.stats
        assert.deepStrictEqual(stats.tokenRequests, { authorization_code: 1 })
        const posts = stats.recentRequests.filter((r) => r.endpoint === "authorize" && r.method === "POST")
        assert.deepStrictEqual(posts.map((r) => [r.status, r.principal]), [[401, undefined], [
          303,
          "grace@example.com"
        ]])
        assert.deepStrictEqual(problems, [])
      }))

    it.scoped("Deny ends the login with the AuthenticationError U2MPkce gives, and no token is requested", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { page, problems, redirectUri, token } = yield* startLogin
        // Deny needs no credentials: the empty, required fields do not hold the form back.
        yield* Chromium.run(() => page.locator("#deny").click())
        yield* Chromium.run(() => page.waitForURL((url) => url.href.startsWith(`${redirectUri}?`)))
        assert.include(yield* Chromium.run(() => page.locator("body").textContent()), "The login did not succeed")
        const error = yield* Effect.flip(Fiber.join(token))
        assert.instanceOf(error, AuthenticationError)
        if (!(error instanceof AuthenticationError)) return
        assert.strictEqual(error.oauthError, "access_denied")
        assert.strictEqual(error.oauthErrorDescription, "The user denied the request")
        assert.include(error.hint, "denied in the browser")
        assert.deepStrictEqual((yield* emulator.stats).tokenRequests, {})
        assert.deepStrictEqual(problems, [])
      }))
  })
})
