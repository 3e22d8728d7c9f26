import { DatabricksError, TokenSource } from "@effect-databricks/auth"
import { assert, describe, it } from "@effect/vitest"
import {
  Cause,
  Deferred,
  Duration,
  Effect,
  Encoding,
  Exit,
  Fiber,
  HashSet,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Ref,
  TestClock
} from "effect"
import * as DateTime from "effect/DateTime"
import { inspect } from "node:util"

const secret = (n: number) => `dapi-secret-${n}-a1b2c3`

/**
 * A token endpoint stand-in: each call counts, then runs the next scripted
 * step (the last step repeats). Steps may wait on gates the test controls.
 */
const scripted = (steps: ReadonlyArray<Effect.Effect<TokenSource.IssuedToken, DatabricksError.AuthenticationError>>) =>
  Effect.gen(function*() {
    const calls = yield* Ref.make(0)
    const fetch = Ref.getAndUpdate(calls, (n) => n + 1).pipe(
      Effect.flatMap((n) => steps[Math.min(n, steps.length - 1)])
    )
    return { calls: Ref.get(calls), fetch }
  })

const issued = (n: number, expiresIn?: Duration.DurationInput): TokenSource.IssuedToken => ({
  value: Redacted.make(secret(n)),
  expiresIn
})

const refused = new DatabricksError.AuthenticationError({
  message: "The token endpoint refused the client",
  oauthError: "invalid_client"
})

const value = (token: TokenSource.AccessToken) => Redacted.value(token.value)

/** Lets every runnable fiber run until it blocks. */
const settle = Effect.repeatN(Effect.yieldNow(), 50)

const unsignedJwt = (claims: object) =>
  [{ alg: "none", typ: "JWT" }, claims].map((part) => Encoding.encodeBase64Url(JSON.stringify(part))).join(".") +
  ".sig"

describe("TokenSource.make", () => {
  it.scoped("100 concurrent calls on a cold source make exactly 1 fetch", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { calls, fetch } = yield* scripted([Deferred.await(gate).pipe(Effect.as(issued(1, "1 hour")))])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      const callers = yield* Effect.fork(Effect.all(Array.from({ length: 100 }, () => source.token), {
        concurrency: "unbounded"
      }))
      yield* settle
      // All 100 are waiting on the one fetch, which is still held at the gate.
      assert.strictEqual(yield* calls, 1)
      assert.isTrue(Option.isNone(yield* Fiber.poll(callers)))
      yield* Deferred.succeed(gate, void 0)
      const tokens = yield* Fiber.join(callers)
      assert.strictEqual(yield* calls, 1)
      assert.deepStrictEqual(HashSet.toValues(HashSet.fromIterable(tokens.map(value))), [secret(1)])
    }))

  it.scoped("the refresh window makes exactly one background fetch and nobody waits", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { calls, fetch } = yield* scripted([
        Effect.succeed(issued(1, "1 hour")),
        Deferred.await(gate).pipe(Effect.as(issued(2, "1 hour")))
      ])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      assert.strictEqual(value(yield* source.token), secret(1))

      // Outside the window (default 5 minutes ahead): still the cached token, no fetch.
      yield* TestClock.adjust("54 minutes")
      assert.strictEqual(value(yield* source.token), secret(1))
      assert.strictEqual(yield* calls, 1)

      // Inside it: callers get the old, still-valid token at once while one refresh runs.
      yield* TestClock.adjust("2 minutes")
      const during = yield* Effect.fork(Effect.all(Array.from({ length: 20 }, () => source.token), {
        concurrency: "unbounded"
      }))
      yield* settle
      const served = yield* Fiber.poll(during)
      assert.isTrue(Option.isSome(served) && Exit.isSuccess(served.value), "callers waited for the refresh")
      assert.deepStrictEqual((yield* Fiber.join(during)).map(value), Array(20).fill(secret(1)))
      assert.strictEqual(yield* calls, 2)

      yield* Deferred.succeed(gate, void 0)
      yield* settle
      assert.strictEqual(value(yield* source.token), secret(2))
      assert.strictEqual(yield* calls, 2)
    }))

  it.scoped("a failed fetch is not cached: the next caller, after a backoff, gets a token", () =>
    Effect.gen(function*() {
      const { calls, fetch } = yield* scripted([Effect.fail(refused), Effect.succeed(issued(2, "1 hour"))])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      const error = yield* Effect.flip(source.token)
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.strictEqual(error.oauthError, "invalid_client")

      const next = yield* Effect.fork(source.token)
      yield* settle
      // The retry waits out the backoff instead of hammering the endpoint.
      assert.isTrue(Option.isNone(yield* Fiber.poll(next)))
      assert.strictEqual(yield* calls, 1)
      yield* TestClock.adjust("500 millis")
      assert.strictEqual(value(yield* Fiber.join(next)), secret(2))
      assert.strictEqual(yield* calls, 2)
    }))

  it.scoped("the backoff grows with consecutive failures and is capped", () =>
    Effect.gen(function*() {
      const { calls, fetch } = yield* scripted([Effect.fail(refused)])
      const source = yield* TokenSource.make(fetch, {
        authType: "test",
        failureBackoff: { initial: "1 second", max: "4 seconds" }
      })
      yield* Effect.flip(source.token)
      for (const wait of [1, 2, 4, 4]) {
        const next = yield* Effect.fork(Effect.flip(source.token))
        yield* TestClock.adjust(Duration.millis(wait * 1000 - 1))
        assert.isTrue(Option.isNone(yield* Fiber.poll(next)), `retried before ${wait} s`)
        yield* TestClock.adjust("1 millis")
        yield* Fiber.join(next)
      }
      assert.strictEqual(yield* calls, 5)
    }))

  it.scoped("after invalidate, the next call fetches", () =>
    Effect.gen(function*() {
      const { calls, fetch } = yield* scripted([
        Effect.succeed(issued(1, "1 hour")),
        Effect.succeed(issued(2, "1 hour"))
      ])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      assert.strictEqual(value(yield* source.token), secret(1))
      assert.strictEqual(value(yield* source.token), secret(1))
      yield* source.invalidate
      assert.strictEqual(value(yield* source.token), secret(2))
      assert.strictEqual(yield* calls, 2)
    }))

  it.scoped("a JWT exp is honoured when expires_in is absent", () =>
    Effect.gen(function*() {
      const now = yield* DateTime.now
      const exp = Math.floor(DateTime.toEpochMillis(now) / 1000) + 600
      const jwt = unsignedJwt({ sub: "sp", exp })
      const { calls, fetch } = yield* scripted([Effect.succeed({ value: Redacted.make(jwt) })])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      const token = yield* source.token
      assert.deepStrictEqual(token.expiresAt.pipe(Option.map(DateTime.toEpochMillis)), Option.some(exp * 1000))
      // 600 s lifetime: the 5-minute window opens at 300 s.
      yield* TestClock.adjust("299 seconds")
      yield* source.token
      assert.strictEqual(yield* calls, 1)
      yield* TestClock.adjust("2 seconds")
      yield* source.token
      yield* settle
      assert.strictEqual(yield* calls, 2)
    }))

  it.scoped("expires_in wins over the JWT exp claim", () =>
    Effect.gen(function*() {
      const jwt = unsignedJwt({ exp: 1 })
      const { fetch } = yield* scripted([Effect.succeed({ value: Redacted.make(jwt), expiresIn: "1 hour" })])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      const token = yield* source.token
      const now = DateTime.toEpochMillis(yield* DateTime.now)
      assert.deepStrictEqual(token.expiresAt.pipe(Option.map(DateTime.toEpochMillis)), Option.some(now + 3_600_000))
    }))

  it.scoped("a token without expiry is cached until invalidated", () =>
    Effect.gen(function*() {
      const { calls, fetch } = yield* scripted([Effect.succeed(issued(1)), Effect.succeed(issued(2))])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      const token = yield* source.token
      assert.isTrue(Option.isNone(token.expiresAt))
      yield* TestClock.adjust("365 days")
      assert.strictEqual(value(yield* source.token), secret(1))
      assert.strictEqual(yield* calls, 1)
      yield* source.invalidate
      assert.strictEqual(value(yield* source.token), secret(2))
    }))

  it.scoped("refreshAhead is never under 60 seconds", () =>
    Effect.gen(function*() {
      const { calls, fetch } = yield* scripted([
        Effect.succeed(issued(1, "1 hour")),
        Effect.succeed(issued(2, "1 hour"))
      ])
      const source = yield* TokenSource.make(fetch, { authType: "test", refreshAhead: "10 seconds" })
      yield* source.token
      // With the 60 s floor the window opens at 59:00, not at 59:50.
      yield* TestClock.adjust(Duration.seconds(59 * 60 + 5))
      yield* source.token
      yield* settle
      assert.strictEqual(yield* calls, 2)
    }))

  it.scoped("a token shorter-lived than refreshAhead is refreshed at half-life, not on every call", () =>
    Effect.gen(function*() {
      const { calls, fetch } = yield* scripted([
        Effect.succeed(issued(1, "100 seconds")),
        Effect.succeed(issued(2, "100 seconds"))
      ])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      yield* source.token
      yield* TestClock.adjust("49 seconds")
      yield* source.token
      yield* settle
      assert.strictEqual(yield* calls, 1)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(value(yield* source.token), secret(1))
      yield* settle
      assert.strictEqual(yield* calls, 2)
      assert.strictEqual(value(yield* source.token), secret(2))
    }))

  it.scoped("lifetime 65 s and refreshAhead 60 s: the window opens after 5 s", () =>
    Effect.gen(function*() {
      const { calls, fetch } = yield* scripted([
        Effect.succeed(issued(1, "65 seconds")),
        Effect.succeed(issued(2, "65 seconds"))
      ])
      const source = yield* TokenSource.make(fetch, { authType: "test", refreshAhead: "60 seconds" })
      yield* source.token
      yield* TestClock.adjust("4999 millis")
      yield* source.token
      yield* settle
      assert.strictEqual(yield* calls, 1)
      yield* TestClock.adjust("2 millis")
      assert.strictEqual(value(yield* source.token), secret(1))
      yield* settle
      assert.strictEqual(yield* calls, 2)
      assert.strictEqual(value(yield* source.token), secret(2))
    }))

  it.scoped("an expired token is never served: callers wait for the new one", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { calls, fetch } = yield* scripted([
        Effect.succeed(issued(1, "1 hour")),
        Deferred.await(gate).pipe(Effect.as(issued(2, "1 hour")))
      ])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      yield* source.token
      // 40 s before expiry the token is unusable (Databricks rejects it within 30 s).
      yield* TestClock.adjust(Duration.seconds(59 * 60 + 21))
      const waiting = yield* Effect.fork(Effect.all([source.token, source.token, source.token], { concurrency: 3 }))
      yield* settle
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)))
      yield* Deferred.succeed(gate, void 0)
      assert.deepStrictEqual((yield* Fiber.join(waiting)).map(value), [secret(2), secret(2), secret(2)])
      assert.strictEqual(yield* calls, 2)
    }))

  it.scoped("an interrupted caller does not cancel the fetch others wait for", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { calls, fetch } = yield* scripted([Deferred.await(gate).pipe(Effect.as(issued(1, "1 hour")))])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      const first = yield* Effect.fork(source.token)
      const second = yield* Effect.fork(source.token)
      yield* settle
      yield* Fiber.interrupt(first)
      yield* Deferred.succeed(gate, void 0)
      assert.strictEqual(value(yield* Fiber.join(second)), secret(1))
      assert.strictEqual(yield* calls, 1)
    }))

  it.scoped("a failed background refresh keeps serving the valid token", () =>
    Effect.gen(function*() {
      const { calls, fetch } = yield* scripted([
        Effect.succeed(issued(1, "1 hour")),
        Effect.fail(refused),
        Effect.succeed(issued(3, "1 hour"))
      ])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      yield* source.token
      yield* TestClock.adjust("56 minutes")
      assert.strictEqual(value(yield* source.token), secret(1))
      yield* settle
      assert.strictEqual(yield* calls, 2)
      // Within the backoff no new refresh is started.
      assert.strictEqual(value(yield* source.token), secret(1))
      assert.strictEqual(yield* calls, 2)
      yield* TestClock.adjust("1 second")
      assert.strictEqual(value(yield* source.token), secret(1))
      yield* settle
      assert.strictEqual(value(yield* source.token), secret(3))
      assert.strictEqual(yield* calls, 3)
    }))
})

describe("lifetime", () => {
  it.effect("a source used after its scope closed dies with a clear message instead of hanging", () =>
    Effect.gen(function*() {
      const { fetch } = yield* scripted([Effect.succeed(issued(1, "1 hour"))])
      const source = yield* Effect.scoped(TokenSource.make(fetch, { authType: "test" }))
      const exit = yield* Effect.exit(source.token)
      assert.isTrue(Exit.isFailure(exit) && Cause.isDie(exit.cause))
      if (Exit.isFailure(exit)) {
        assert.include(Cause.pretty(exit.cause), "used after the scope (layer) that created it was closed")
      }
    }))
})

describe("secrets", () => {
  const lines: Array<string> = []
  const capture = Logger.make(({ annotations, cause, message }) => {
    lines.push(JSON.stringify({ message, annotations: [...annotations], cause: Cause.pretty(cause) }))
  })

  it.scoped("a token's value never appears in String, JSON, errors or logs", () =>
    Effect.gen(function*() {
      const { fetch } = yield* scripted([
        // A fetch that dies with a secret in its message, as one echoing its request could: the log line about
        // it and the callers' error would hold secret(6) if the cache's redaction failed.
        Effect.die(new Error(`the identity provider echoed the request: Authorization: Bearer ${secret(6)}`)),
        Effect.succeed(issued(7, "1 hour")),
        Effect.fail(refused)
      ])
      const source = yield* TokenSource.make(fetch, { authType: "test" })
      const died = yield* Effect.flip(source.token)
      const next = yield* Effect.fork(source.token)
      yield* TestClock.adjust("1 second")
      const token = yield* Fiber.join(next)
      assert.strictEqual(value(token), secret(7))
      // The refresh of a token the cache holds fails: nothing about that failure may carry the token it held.
      yield* TestClock.adjust("2 hours")
      const refusedLater = yield* Effect.flip(source.token)
      assert.strictEqual(refusedLater._tag, "AuthenticationError")

      const fixed = TokenSource.static(Redacted.make(secret(8)))
      const staticToken = yield* fixed.token
      for (const [n, t] of [[7, token], [8, staticToken]] as const) {
        for (
          const text of [String(t.value), String(t), JSON.stringify(t), `${t.value}`, JSON.stringify({ t }), inspect(t)]
        ) {
          assert.notInclude(text, secret(n))
        }
      }
      const errorTexts = [died, refusedLater].flatMap((error) => [
        String(error),
        JSON.stringify(error),
        error.message,
        inspect(error, { depth: 10 })
      ])
      assert.isTrue(lines.some((line) => line.includes("token fetch died")), "the defect was not logged")
      for (const text of [...errorTexts, ...lines]) {
        assert.notInclude(text, "dapi-secret")
      }
    }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)), Logger.withMinimumLogLevel(LogLevel.All)))
})

describe("TokenSource.static and toDriverAuthentication", () => {
  it.effect("static serves the same token and invalidate is a no-op", () =>
    Effect.gen(function*() {
      const source = TokenSource.static(Redacted.make("t-1"), { authType: "pat" })
      assert.strictEqual(source.authType, "pat")
      yield* source.invalidate
      assert.strictEqual(value(yield* source.token), "t-1")
      const fromLayer = yield* Effect.provide(TokenSource.TokenSource, TokenSource.layerStatic(Redacted.make("t-2")))
      assert.strictEqual(value(yield* fromLayer.token), "t-2")
    }))

  it.effect("authenticate gives a bearer header per call", () =>
    Effect.gen(function*() {
      const provider = TokenSource.toDriverAuthentication(TokenSource.static(Redacted.make("t-3")))
      const headers = yield* Effect.promise(() => provider.authenticate())
      assert.deepStrictEqual(headers, { Authorization: "Bearer t-3" })
    }))

  it.effect("authenticate rejects with the tagged error itself", () =>
    Effect.gen(function*() {
      const failing: TokenSource.TokenSource = {
        authType: "test",
        token: Effect.fail(refused),
        invalidate: Effect.void
      }
      const rejection = yield* Effect.promise(() =>
        TokenSource.toDriverAuthentication(failing).authenticate().then(
          () => undefined,
          (error: unknown) => error
        )
      )
      assert.strictEqual(rejection, refused)
      assert.isTrue(DatabricksError.isDatabricksError(rejection))
    }))
})
