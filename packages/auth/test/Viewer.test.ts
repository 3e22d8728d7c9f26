import { ConnectViewer, DatabricksApps, Pat, TokenSource, Viewer } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Cause, type Duration, Effect, Exit, Layer, Logger, Option, Redacted, TestClock } from "effect"
import { withEnv } from "./utils.js"

const TestEmulator = Layer.provideMerge(Emulator.httpClient, Emulator.layer())

/** Who a token belongs to, asked of the emulated workspace. */
const whoIs = (source: TokenSource.TokenSource) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    const token = yield* source.token
    const response = yield* client.execute(
      HttpClientRequest.get(`${emulator.host}/api/2.0/preview/scim/v2/Me`).pipe(
        HttpClientRequest.bearerToken(token.value)
      )
    )
    return ((yield* response.json) as { userName: string }).userName
  })

/** A custom viewer whose fetches are counted: `t<n>` is its n-th token, valid for `lifetime`. */
const counted = (key: string, counts: Map<string, number>, lifetime: Duration.DurationInput = "1 hour") =>
  Viewer.custom({
    key,
    token: Effect.sync(() => {
      const n = (counts.get(key) ?? 0) + 1
      counts.set(key, n)
      return { value: Redacted.make(`${key}-t${n}`), expiresIn: lifetime }
    })
  })

const tokenOf = (credential: Viewer.Credential) =>
  Effect.flatMap(Viewer.resolve(credential), (viewer) => viewer.tokenSource.token).pipe(
    Effect.map((token) => Redacted.value(token.value))
  )

/** The cache alone, off the platforms, with a local credential that must never be used by custom viewers. */
const modelLayer = (options: Partial<Viewer.Options> = {}) =>
  Viewer.layer({
    local: TokenSource.layerStatic(Redacted.make("local-never-used")),
    environment: "local",
    ...options
  }).pipe(Layer.provide(FetchHttpClient.layer))

describe("Viewer: one cache of viewers' token sources", () => {
  it.scoped("maxViewers bounds the cache: the least recently used viewer is evicted and fetches again", () =>
    Effect.gen(function*() {
      const counts = new Map<string, number>()
      const [a, b, c] = ["a", "b", "c"].map((key) => counted(key, counts))
      yield* Effect.gen(function*() {
        assert.strictEqual(yield* tokenOf(a), "a-t1")
        assert.strictEqual(yield* tokenOf(b), "b-t1")
        assert.strictEqual(yield* tokenOf(c), "c-t1") // a, the least recently used, is evicted
        assert.strictEqual(yield* tokenOf(b), "b-t1") // kept: no fetch
        assert.strictEqual(yield* tokenOf(a), "a-t2") // fetched again; c is now the oldest, evicted
        assert.strictEqual(yield* tokenOf(b), "b-t1")
        assert.strictEqual(yield* tokenOf(c), "c-t2")
      }).pipe(Effect.provide(modelLayer({ maxViewers: 2, idleTimeToLive: "1 hour" })))
      assert.deepStrictEqual(Object.fromEntries(counts), { a: 2, b: 1, c: 2 })
    }))

  it.scoped("a viewer's handle keeps working after eviction: the next call makes the entry again", () =>
    Effect.gen(function*() {
      const counts = new Map<string, number>()
      yield* Effect.gen(function*() {
        const a = yield* Viewer.resolve(counted("a", counts))
        yield* a.tokenSource.token
        yield* tokenOf(counted("b", counts)) // evicts a (maxViewers 1)
        assert.strictEqual(Redacted.value((yield* a.tokenSource.token).value), "a-t2")
      }).pipe(Effect.provide(modelLayer({ maxViewers: 1 })))
    }))

  it.scoped("idleTimeToLive (TestClock): an entry unused that long is closed; each use starts the wait again", () =>
    Effect.gen(function*() {
      const counts = new Map<string, number>()
      const a = counted("a", counts)
      yield* Effect.gen(function*() {
        assert.strictEqual(yield* tokenOf(a), "a-t1")
        yield* TestClock.adjust("4 minutes")
        assert.strictEqual(yield* tokenOf(a), "a-t1")
        yield* TestClock.adjust("4 minutes") // 8 minutes after the first use, 4 after the last: kept
        assert.strictEqual(yield* tokenOf(a), "a-t1")
        yield* TestClock.adjust("5 minutes") // 5 minutes unused: closed
        assert.strictEqual(yield* tokenOf(a), "a-t2")
      }).pipe(Effect.provide(modelLayer({ idleTimeToLive: "5 minutes" })))
      assert.strictEqual(counts.get("a"), 2)
    }))

  it.scoped("refresh-ahead per viewer (TestClock): inside the window the token is served and refreshed once", () =>
    Effect.gen(function*() {
      const counts = new Map<string, number>()
      const a = counted("a", counts, "10 minutes")
      const b = counted("b", counts, "1 hour")
      yield* Effect.gen(function*() {
        assert.strictEqual(yield* tokenOf(a), "a-t1")
        assert.strictEqual(yield* tokenOf(b), "b-t1")
        // 6 of a's 10 minutes: inside refreshAhead (5 minutes). The current token is served, nobody waits.
        yield* TestClock.adjust("6 minutes")
        assert.strictEqual(yield* tokenOf(a), "a-t1")
        for (let i = 0; i < 100 && counts.get("a") !== 2; i++) yield* Effect.yieldNow()
        assert.strictEqual(counts.get("a"), 2, "one background refresh")
        assert.strictEqual(yield* tokenOf(a), "a-t2")
        // b's token is far from expiry: not refreshed.
        assert.strictEqual(yield* tokenOf(b), "b-t1")
      }).pipe(Effect.provide(modelLayer({ idleTimeToLive: "1 hour" })))
      assert.deepStrictEqual(Object.fromEntries(counts), { a: 2, b: 1 })
    }))

  it.scoped("concurrent requests of one viewer share one fetch", () =>
    Effect.gen(function*() {
      const counts = new Map<string, number>()
      const a = counted("a", counts)
      const tokens = yield* Effect.all(Array.from({ length: 50 }, () => tokenOf(a)), { concurrency: 10 }).pipe(
        Effect.provide(modelLayer())
      )
      assert.isTrue(tokens.every((token) => token === "a-t1"))
      assert.strictEqual(counts.get("a"), 1)
    }))

  it.scoped("a custom viewer with a TokenSource of its own: its token, its authType, and invalidate reaches it", () =>
    Effect.gen(function*() {
      let invalidated = 0
      const source: TokenSource.TokenSource = {
        authType: "my-idp",
        token: Effect.succeed({ value: Redacted.make("from-my-idp"), expiresAt: Option.none() }),
        invalidate: Effect.sync(() => void invalidated++)
      }
      yield* Effect.gen(function*() {
        const viewer = yield* Viewer.resolve(Viewer.custom({ key: "user-42", token: source, name: "Ada" }))
        assert.strictEqual(viewer.kind, "custom")
        assert.deepStrictEqual(viewer.name, Option.some("Ada"))
        assert.strictEqual(viewer.tokenSource.authType, "my-idp")
        assert.strictEqual(Redacted.value((yield* viewer.tokenSource.token).value), "from-my-idp")
        yield* viewer.tokenSource.invalidate
        assert.strictEqual(invalidated, 1)
      }).pipe(Effect.provide(modelLayer()))
    }))

  it.scoped("keys: one per viewer, secret-free; bad options and malformed credentials are typed errors", () =>
    Effect.gen(function*() {
      const key = new Viewer.ViewerKey("connect", "session-secret-123")
      assert.isTrue(key.id.startsWith("connect:"))
      assert.notInclude(key.id, "session-secret-123")
      assert.notInclude(JSON.stringify(key), "session-secret-123")
      assert.isTrue(Viewer.ViewerKey.prototype[Symbol.for("effect/Equal") as never] !== undefined)
      for (
        const [options, setting] of [
          [{ maxViewers: 0 }, "maxViewers"],
          [{ maxViewers: 1.5 }, "maxViewers"],
          [{ idleTimeToLive: "a while" }, "idleTimeToLive"],
          [{ refreshAhead: "40 days" }, "refreshAhead"],
          [{ environment: "heroku" }, "environment"]
        ] as const
      ) {
        const exit = yield* Effect.exit(Layer.build(modelLayer(options as never)))
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          const error = Cause.squash(exit.cause) as { _tag: string; setting: string }
          assert.strictEqual(error._tag, "ConfigurationError")
          assert.strictEqual(error.setting, setting)
        }
      }
      const bad = yield* Effect.flip(
        Viewer.resolve(Viewer.custom({ key: " ", token: Effect.never })).pipe(Effect.provide(modelLayer()))
      )
      assert.strictEqual(bad._tag, "AuthenticationError")
      assert.include(bad.message, "custom credential is malformed")
    }))
})

describe("Viewer on each platform", () => {
  it.scoped("Posit Connect: the session token header, exchanged once per viewer; without it, an error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
      const graceSession = yield* emulator.registerUserSessionToken({ user: grace })
      const header = (token: Redacted.Redacted<string>) => ({
        "posit-connect-user-session-token": Redacted.value(token)
      })
      yield* Effect.gen(function*() {
        const viewers = yield* Viewer.Viewers
        assert.strictEqual(viewers.environment, "connect")
        const ada1 = yield* viewers.fromHeaders(header(emulator.connect.userSessionToken))
        const ada2 = yield* viewers.fromHeaders(header(emulator.connect.userSessionToken))
        const g = yield* viewers.fromHeaders(header(graceSession))
        assert.strictEqual(ada1.kind, "connect")
        assert.isTrue(ada1.key.id === ada2.key.id && ada1.key.id !== g.key.id)
        assert.strictEqual(ada1.tokenSource.authType, "posit-oauth-integration")
        assert.strictEqual(yield* whoIs(ada1.tokenSource), "ada@example.com")
        assert.strictEqual(yield* whoIs(ada2.tokenSource), "ada@example.com")
        assert.strictEqual(yield* whoIs(g.tokenSource), "grace@example.com")
        const missing = yield* Effect.flip(viewers.fromHeaders({ "x-forwarded-access-token": "not-on-apps" }))
        assert.include(missing.message, "user-session-token is required")
        const local = yield* Effect.flip(viewers.resolve(Viewer.local))
        assert.include(local.message, "acts for viewers only")
      }).pipe(
        Effect.provide(Viewer.layer({ local: Pat.layer({ token: emulator.pat }) })),
        Effect.provide(
          withEnv({
            RSTUDIO_PRODUCT: "CONNECT",
            CONNECT_SERVER: emulator.connect.url,
            CONNECT_API_KEY: Redacted.value(emulator.connect.apiKey)
          })
        )
      )
      const stats = yield* emulator.stats
      assert.deepStrictEqual(stats.exchanges, { "urn:posit:connect:user-session-token": 2 })
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("Databricks Apps: the forwarded token, used as is, keyed by the user; without it, an error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
      const first = yield* emulator.registerPat({ principal: grace })
      const second = yield* emulator.registerPat({ principal: grace })
      const forwarded = (token: Redacted.Redacted<string>) => ({
        "x-forwarded-access-token": Redacted.value(token),
        "x-forwarded-user": "grace-idp-id",
        "x-forwarded-email": "grace@example.com"
      })
      yield* Effect.gen(function*() {
        const viewers = yield* Viewer.Viewers
        assert.strictEqual(viewers.environment, "databricks-apps")
        const v1 = yield* viewers.fromHeaders(forwarded(first))
        assert.strictEqual(v1.kind, "databricks-apps")
        assert.deepStrictEqual(v1.name, Option.some("grace@example.com"))
        assert.strictEqual(v1.tokenSource.authType, DatabricksApps.viewerAuthType)
        assert.strictEqual(Redacted.value((yield* v1.tokenSource.token).value), Redacted.value(first))
        assert.strictEqual(yield* whoIs(v1.tokenSource), "grace@example.com")
        // The workspace refused it (the clients invalidate): refused, never replaced by the app's identity.
        yield* v1.tokenSource.invalidate
        const refused = yield* Effect.flip(v1.tokenSource.token)
        assert.include(refused.message, "refused the viewer's forwarded access token")
        // The viewer's next request forwards a new token: same key, the new token, for every handle of theirs.
        const v2 = yield* viewers.fromHeaders(forwarded(second))
        assert.strictEqual(v2.key.id, v1.key.id)
        assert.strictEqual(Redacted.value((yield* v1.tokenSource.token).value), Redacted.value(second))
        const missing = yield* Effect.flip(
          viewers.fromHeaders({ "posit-connect-user-session-token": Redacted.value(emulator.connect.userSessionToken) })
        )
        assert.strictEqual(missing.message, DatabricksApps.userAuthorizationRequired.message)
      }).pipe(
        Effect.provide(Viewer.layer({ local: Pat.layer({ token: emulator.pat }) })),
        Effect.provide(withEnv({ DATABRICKS_APP_NAME: "viewer-app", DATABRICKS_APP_PORT: "8000" }))
      )
      assert.deepStrictEqual((yield* emulator.stats).exchanges, {})
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("off both platforms: the local credential for every request, said in a log line; none set is an error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const lines: Array<string> = []
      const capture = Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(String(message))))
      yield* Effect.gen(function*() {
        const viewers = yield* Viewer.Viewers
        assert.strictEqual(viewers.environment, "local")
        // Headers that would name a viewer on a platform are anyone's to send here: ignored.
        const viewer = yield* viewers.fromHeaders({ "x-forwarded-access-token": "forged", "x-forwarded-user": "eve" })
        assert.strictEqual(viewer.kind, "local")
        assert.strictEqual(yield* whoIs(viewer.tokenSource), "ada@example.com")
      }).pipe(
        Effect.provide(Viewer.layer({ local: Pat.layer({ token: emulator.pat }) })),
        Effect.provide(withEnv({})),
        Effect.provide(capture)
      )
      assert.deepStrictEqual(lines, [
        "Viewer: not on Posit Connect or Databricks Apps (local); every request acts as the local pat credential"
      ])
      const none = yield* Effect.flip(Layer.build(Viewer.layer({})).pipe(Effect.provide(withEnv({}))))
      assert.strictEqual(none._tag, "ConfigurationError")
      assert.strictEqual((none as { setting?: string }).setting, "local")
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("ConnectViewer is the same cache: its layerViewers provides Viewer.Viewers; on Apps it stays local", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const viewers = yield* Viewer.Viewers.pipe(
        Effect.provide(ConnectViewer.layerViewers({ local: Pat.layer({ token: emulator.pat }) })),
        Effect.provide(withEnv({ DATABRICKS_APP_NAME: "viewer-app" }))
      )
      assert.strictEqual(viewers.environment, "local")
      assert.strictEqual(viewers.maxViewers, 1000)
      assert.strictEqual(ConnectViewer.Viewers, Viewer.Viewers)
    }).pipe(Effect.provide(TestEmulator)))
})
