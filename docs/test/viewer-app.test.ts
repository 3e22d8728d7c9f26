import { Emulator } from "@effect-databricks/testing"
import type { Principal } from "@effect-databricks/testing/Emulator"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import { freePort, seed } from "../examples/viewer-app/local.js"
import { escapeHtml, server } from "../examples/viewer-app/server.js"

/** What a viewer sees: the status, the greeting, the user name, the order ids, and whether "no orders" is said. */
const read = (status: number, html: string) => ({
  status,
  hello: /<h1 id="hello">([^<]*)<\/h1>/.exec(html)?.[1],
  user: /<span id="user-name">([^<]*)<\/span>/.exec(html)?.[1],
  orders: [...html.matchAll(/<tr><td>(\d+)<\/td>/g)].map((match) => Number(match[1])),
  empty: html.includes(`<p id="empty">You have no orders.</p>`)
})

const get = (url: string, headers: Readonly<Record<string, string>>) =>
  Effect.flatMap(
    HttpClient.HttpClient,
    (client) => client.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers)))
  ).pipe(
    Effect.flatMap((response) =>
      Effect.map(response.text, (html) => ({ ...read(response.status, html), html, headers: response.headers }))
    )
  )

/** Two users with orders (the emulator's Ada, and Grace) and Alan, with none and a name that needs escaping. */
const setUp = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  yield* seed(emulator)
  const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
  const alan = yield* emulator.registerUser({ userName: "alan@example.com", displayName: `Alan "<b>Turing</b>"` })
  return { emulator, ada: emulator.user, grace, alan }
})

/**
 * The test's own scope (the app, its viewers' SQL sessions) closes before the emulator does: the sessions are
 * closed on a warehouse that still answers.
 */
const withEmulator = <A, E, R>(test: Effect.Effect<A, E, R>) =>
  test.pipe(Effect.scoped, Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer())))

/** Starts the app in this process with the platform's environment (what the platform sets, nothing else). */
const start = (emulator: Emulator.Emulator, env: Readonly<Record<string, string>>) =>
  Layer.build(server({ caCert: emulator.caCertPem })).pipe(
    Effect.withConfigProvider(
      ConfigProvider.fromJson({ DATABRICKS_HOST: emulator.host, DATABRICKS_HTTP_PATH: emulator.httpPath, ...env })
    )
  )

/** Each statement of the app's queries ran as the viewer who asked for it. */
const statementsBy = (emulator: Emulator.Emulator) =>
  Effect.map(
    emulator.stats,
    (stats) =>
      stats.statements.filter((s) => s.text.includes("main.default.orders WHERE owner")).map((s) => s.principal)
  )

const expectPages = (
  see: (
    user: Principal
  ) => Effect.Effect<ReturnType<typeof read> & { readonly html: string }, unknown, HttpClient.HttpClient>,
  users: { readonly ada: Principal; readonly grace: Principal; readonly alan: Principal }
) =>
  Effect.gen(function*() {
    const ada = yield* see(users.ada)
    assert.deepStrictEqual([ada.status, ada.hello, ada.user, ada.orders, ada.empty], [
      200,
      "Hello, Ada Lovelace",
      "ada@example.com",
      [1, 3],
      false
    ])
    const grace = yield* see(users.grace)
    assert.deepStrictEqual([grace.status, grace.hello, grace.user, grace.orders, grace.empty], [
      200,
      "Hello, Grace Hopper",
      "grace@example.com",
      [2, 4],
      false
    ])
    const alan = yield* see(users.alan)
    assert.deepStrictEqual([alan.status, alan.hello, alan.orders, alan.empty], [
      200,
      `Hello, ${escapeHtml(`Alan "<b>Turing</b>"`)}`,
      [],
      true
    ])
    assert.notInclude(alan.html, "<b>Turing")
    // Ada again: her own rows still, from her own client.
    assert.deepStrictEqual((yield* see(users.ada)).orders, [1, 3])
  })

describe("docs/examples/viewer-app", () => {
  it.live(
    "behind the Databricks Apps proxy, each viewer sees only their own rows, queried as them",
    () =>
      Effect.gen(function*() {
        const { ada, alan, emulator, grace } = yield* setUp
        const port = yield* freePort
        const proxy = yield* emulator.appsProxy({ target: `http://127.0.0.1:${port}`, name: "viewer-app" })
        yield* start(emulator, proxy.env)
        yield* expectPages((user) => get(`${proxy.url}/`, proxy.headersFor(user)), { ada, grace, alan })
        assert.deepStrictEqual(yield* statementsBy(emulator), [
          "ada@example.com",
          "grace@example.com",
          "alan@example.com",
          "ada@example.com"
        ])

        // The page is the viewer's alone: not stored by any cache, and nothing loads into it.
        const page = yield* get(`${proxy.url}/`, proxy.headersFor(ada))
        assert.strictEqual(page.headers["cache-control"], "no-store")
        assert.strictEqual(page.headers["content-type"], "text/html; charset=utf-8")
        assert.include(page.headers["content-security-policy"], "default-src 'none'")

        // Reaching the app around the proxy, without the viewer's token: a 401 page, never the app's own identity.
        const around = yield* get(`http://127.0.0.1:${port}/`, { "x-forwarded-user": "ada@example.com" })
        assert.strictEqual(around.status, 401)
        assert.include(around.html, "<h1>Who are you?</h1>")
        assert.include(around.html, "user authorization")
        const unknown = yield* get(`${proxy.url}/nothing-here`, proxy.headersFor(ada))
        assert.strictEqual(unknown.status, 404)
        assert.include(unknown.html, "<h1>Not found</h1>")
        assert.notInclude(
          (yield* statementsBy(emulator)).concat((yield* emulator.stats).sessions.map((s) => s.principal)),
          proxy.servicePrincipal.principal.userName
        )
      }).pipe(withEmulator),
    { timeout: 90_000 }
  )

  it.live(
    "on Posit Connect, each viewer's session token gives their own rows, queried as them",
    () =>
      Effect.gen(function*() {
        const { ada, alan, emulator, grace } = yield* setUp
        const port = yield* freePort
        yield* start(emulator, {
          RSTUDIO_PRODUCT: "CONNECT",
          CONNECT_SERVER: emulator.connect.url,
          CONNECT_API_KEY: Redacted.value(emulator.connect.apiKey),
          PORT: String(port)
        })
        const tokens = new Map<string, Redacted.Redacted<string>>([[ada.userName, emulator.connect.userSessionToken]])
        for (const user of [grace, alan]) tokens.set(user.userName, yield* emulator.registerUserSessionToken({ user }))
        yield* expectPages(
          (user) =>
            get(`http://127.0.0.1:${port}/`, {
              "posit-connect-user-session-token": Redacted.value(tokens.get(user.userName)!)
            }),
          { ada, grace, alan }
        )
        assert.deepStrictEqual(yield* statementsBy(emulator), [
          "ada@example.com",
          "grace@example.com",
          "alan@example.com",
          "ada@example.com"
        ])
        // Three viewers, three exchanges: the second visit of Ada used her cached token.
        assert.strictEqual(Object.values((yield* emulator.stats).exchanges).reduce((a, b) => a + b, 0), 3)

        const anonymous = yield* get(`http://127.0.0.1:${port}/`, {})
        assert.strictEqual(anonymous.status, 401)
        assert.include(anonymous.html, "user-session-token is required")

        // An expired session: Connect refuses the exchange, and the viewer gets a page saying to reload.
        const expired = yield* emulator.registerUserSessionToken({ user: grace })
        yield* emulator.expireSessionToken(expired)
        const refused = yield* get(`http://127.0.0.1:${port}/`, {
          "posit-connect-user-session-token": Redacted.value(expired)
        })
        assert.strictEqual(refused.status, 401)
        assert.include(refused.html, "Databricks did not accept your sign-in")
        assert.notInclude(refused.html, Redacted.value(expired))
      }).pipe(withEmulator),
    { timeout: 90_000 }
  )

  it("escapes every character that could end an element or an attribute", () => {
    assert.strictEqual(
      escapeHtml(`<a href="x" title='y'>&</a>`),
      "&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;"
    )
  })
})
