import { LocalM2M, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Clock, DateTime, Duration, Effect, Fiber, Logger, Option, Redacted, TestClock } from "effect"
import { type Credential, drive, stack, until } from "./utils.js"

const m2m = (options?: Partial<LocalM2M.Options>): Credential => (emulator) =>
  LocalM2M.layer({
    host: emulator.host,
    clientId: emulator.servicePrincipal.clientId,
    clientSecret: emulator.servicePrincipal.clientSecret,
    ...options
  })

const tokenRequests = Effect.map(Emulator.Emulator, (e) => e.stats).pipe(
  Effect.flatten,
  Effect.map((stats) => stats.requests.token ?? 0)
)

describe("LocalM2M", () => {
  it.scoped(
    "1000 sequential SCIM calls within one token lifetime make exactly 1 token request",
    () =>
      Effect.gen(function*() {
        for (let i = 0; i < 1000; i++) {
          const me = yield* WorkspaceClient.currentUser
          if (i === 0) assert.strictEqual(me.displayName, "effect-databricks-emulator")
        }
        const stats = yield* Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))
        assert.strictEqual(stats.requests.scim, 1000)
        assert.deepStrictEqual(stats.tokenRequests, { client_credentials: 1 })
        assert.strictEqual(stats.requests.discovery, 1)
      }).pipe(Effect.provide(stack(m2m()))),
    { timeout: 60_000 }
  )

  it.scoped("100 concurrent calls on a cold client make 1 token request", () =>
    Effect.gen(function*() {
      const users = yield* Effect.all(Array.from({ length: 100 }, () => WorkspaceClient.currentUser), {
        concurrency: "unbounded"
      })
      assert.lengthOf(users, 100)
      const stats = yield* Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))
      assert.deepStrictEqual(stats.tokenRequests, { client_credentials: 1 })
      assert.strictEqual(stats.requests.discovery, 1)
    }).pipe(Effect.provide(stack(m2m()))))

  it.scoped("lifetime 65 s, refreshAhead 60 s: a call after 5 s starts one background refresh; nobody fails or waits", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const source = yield* TokenSource.TokenSource
      const first = yield* source.token
      assert.strictEqual(yield* tokenRequests, 1)
      // Hold the refresh at the identity provider so that "nobody waits" is observable.
      yield* emulator.faults.add({ target: "token", delayMs: 10_000 })
      yield* TestClock.adjust(Duration.millis(5_001))
      const during = yield* Effect.fork(
        Effect.all(Array.from({ length: 20 }, () => WorkspaceClient.currentUser), { concurrency: 5 })
      )
      const served = yield* Effect.forEach(Array.from({ length: 10 }), () => source.token)
      assert.isTrue(served.every((token) => Redacted.value(token.value) === Redacted.value(first.value)))
      yield* Fiber.join(during)
      yield* until(Effect.map(tokenRequests, (n) => n === 2), "the background refresh to reach the emulator")
      yield* TestClock.adjust("10 seconds")
      yield* until(
        Effect.map(Effect.orDie(source.token), (token) => Redacted.value(token.value) !== Redacted.value(first.value)),
        "the refreshed token"
      )
      assert.strictEqual(yield* tokenRequests, 2)
    }).pipe(Effect.provide(stack(m2m({ refreshAhead: "60 seconds" }), { tokenLifetime: "65 seconds" }))))

  it.scoped("two injected 503s on the token endpoint are retried, then it succeeds", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "token", status: 503, count: 2 })
      const me = yield* drive(WorkspaceClient.currentUser)
      assert.strictEqual(me.userName, emulator.servicePrincipal.clientId)
      const stats = yield* emulator.stats
      assert.strictEqual(stats.requests.token, 3)
      assert.deepStrictEqual(stats.faultsInjected, { token: 2 })
    }).pipe(Effect.provide(stack(m2m()))))

  it.scoped("a 429 waits at least its Retry-After", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const source = yield* TokenSource.TokenSource
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => lines.push(String(message)))
      yield* emulator.faults.add({ target: "token", status: 429, headers: { "retry-after": "20" } })
      const fiber = yield* Effect.fork(Effect.provide(source.token, Logger.replace(Logger.defaultLogger, capture)))
      // The retry logs the wait it scheduled (read from the schedule's own decision) before sleeping on the
      // TestClock: a positive sign to wait for, instead of some real time for an early retry to show up.
      const retrying = Effect.sync(() => lines.find((line) => line.includes("retrying in")))
      yield* until(Effect.map(retrying, (line) => line !== undefined), "the retry's decision")
      const seconds = Number(/retrying in (\d+)s/.exec((yield* retrying)!)?.[1])
      assert.isAtLeast(seconds, 20, (yield* retrying)!)
      assert.strictEqual(yield* tokenRequests, 1, "retried without waiting")
      yield* TestClock.adjust("20 seconds")
      assert.isTrue(Redacted.value((yield* Fiber.join(fiber)).value).length > 0)
      assert.strictEqual(yield* tokenRequests, 2)
    }).pipe(Effect.provide(stack(m2m()))))

  it.scoped("invalid_client fails at once, without retries, with the OAuth error and a hint", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(WorkspaceClient.currentUser)
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag !== "AuthenticationError") return
      assert.strictEqual(error.oauthError, "invalid_client")
      assert.strictEqual(error.status, 401)
      assert.include(error.hint, "clientId / clientSecret")
      assert.include(error.hint, "OAuth secret")
      assert.strictEqual(yield* tokenRequests, 1)
    }).pipe(Effect.provide(stack(m2m({ clientSecret: Redacted.make("dose-not-the-secret") })))))

  it.scoped("an explicit tokenEndpoint skips discovery", () =>
    Effect.gen(function*() {
      yield* WorkspaceClient.currentUser
      const stats = yield* Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))
      assert.isUndefined(stats.requests.discovery)
      assert.strictEqual(stats.requests.token, 1)
    }).pipe(Effect.provide(stack((e) =>
      LocalM2M.layer({
        host: e.host,
        clientId: e.servicePrincipal.clientId,
        clientSecret: e.servicePrincipal.clientSecret,
        tokenEndpoint: `${e.host}/oidc/v1/token`
      })
    ))))

  it.scoped("a failed discovery is not cached: the next call discovers again", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "discovery", status: 404, body: "{}" })
      const error = yield* Effect.flip(WorkspaceClient.currentUser)
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "oauth-authorization-server")
      const next = yield* drive(WorkspaceClient.currentUser)
      assert.strictEqual(next.userName, emulator.servicePrincipal.clientId)
      assert.strictEqual((yield* emulator.stats).requests.discovery, 2)
    }).pipe(Effect.provide(stack(m2m()))))

  it.scoped("an unreachable identity provider is a NetworkError inside an AuthenticationError, after bounded retries", () =>
    Effect.gen(function*() {
      const source = yield* TokenSource.TokenSource
      const error = yield* drive(Effect.flip(source.token))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "Could not reach")
      assert.strictEqual((error.cause as { _tag?: string })?._tag, "NetworkError")
    }).pipe(Effect.provide(stack((e) =>
      LocalM2M.layer({
        host: e.host,
        clientId: e.servicePrincipal.clientId,
        clientSecret: e.servicePrincipal.clientSecret,
        tokenEndpoint: "http://127.0.0.1:9/oidc/v1/token",
        retry: { times: 2 }
      })
    ))))

  it.scoped("tokens carry their expiry from expires_in (TestClock)", () =>
    Effect.gen(function*() {
      // Away from 0, so that an expiry taken as an absolute time (or as milliseconds) cannot pass by chance.
      yield* TestClock.adjust("1234 seconds")
      const fetchedAt = yield* Clock.currentTimeMillis
      const source = yield* TokenSource.TokenSource
      const token = yield* source.token
      // The emulator answers `expires_in: 2220` (its tokenLifetime, 37 minutes, in seconds as RFC 6749 §5.1 says).
      const recent = (yield* Effect.flatMap(Emulator.Emulator, (e) => e.stats)).recentRequests
      assert.deepStrictEqual(recent.filter((r) => r.endpoint === "token").map((r) => r.status), [200])
      assert.deepStrictEqual(
        Option.map(token.expiresAt, DateTime.toEpochMillis),
        Option.some(fetchedAt + 37 * 60 * 1000)
      )
      assert.strictEqual(source.authType, "oauth-m2m")
    }).pipe(Effect.provide(stack(m2m(), { tokenLifetime: "37 minutes" }))))
})
