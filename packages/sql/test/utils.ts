import type { TokenSource } from "@effect-databricks/auth"
import { Pat } from "@effect-databricks/auth"
import type { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import type { HttpClient } from "@effect/platform"
import { assert } from "@effect/vitest"
import type { Duration } from "effect"
import { Chunk, Effect, Fiber, FiberStatus, Layer, Logger, Option, TestClock } from "effect"

export type Credential = (
  emulator: Emulator.Emulator
) => Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient>

export const patCredential: Credential = (emulator) => Pat.layer({ token: emulator.pat })

/** The emulator (and an HttpClient that trusts it). */
export const withEmulator = (options?: Emulator.Options) =>
  Layer.provideMerge(Emulator.httpClient, Emulator.layer(options))

/** A SqlClient on the emulator's warehouse, with fast retries unless overridden. */
export const clientLayer = (options?: Partial<SqlClient.Options>, credential: Credential = patCredential) =>
  Layer.unwrapEffect(
    Effect.map(Emulator.Emulator, (emulator) =>
      SqlClient.layer({
        host: emulator.host,
        httpPath: emulator.httpPath,
        caCert: emulator.caCertPem,
        retry: { base: "20 millis", maxDelay: "200 millis" },
        ...options
      }).pipe(Layer.provide(credential(emulator))))
  )

/**
 * Runs `body` with a SqlClient, then checks the client closed everything it opened:
 * 0 open sessions and 0 open operations on the emulator.
 */
export const withClient = <A, E, R>(
  body: Effect.Effect<A, E, R>,
  options?: Partial<SqlClient.Options>,
  credential?: Credential
) =>
  Effect.gen(function*() {
    const result = yield* Effect.scoped(Effect.provide(body, clientLayer(options, credential)))
    const stats = yield* Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))
    assert.strictEqual(stats.openSessions, 0, "a session was left open")
    assert.strictEqual(stats.openOperations, 0, "an operation was left open")
    return result
  })

export const stats = Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))

/** A pause in real time, whatever the clock. */
export const realPause = (millis: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, millis)))

/** How each logged statement containing `marker` ended, in order. */
export const statements = (marker: string) =>
  Effect.map(stats, (s) => s.statements.filter((t) => t.text.includes(marker)).map((t) => t.state))

/**
 * Waits until the emulator's stats satisfy `check`: a condition, not a timed guess. The bound (about a
 * minute of polling) only turns a state that never comes into a failure instead of a hang.
 */
export const until = (check: (s: Emulator.Stats) => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 12_000; i++) {
      if (check(yield* stats)) return
      yield* realPause(5)
    }
    assert.fail("the emulator never reached the expected state")
  })

/**
 * `until` for a test on the TestClock: moves the clock a `step` at a time (retry backoff, the
 * emulator's statement sleeps and direct-results wait all run on it) until the stats satisfy `check`.
 */
export const driveUntil = (
  check: (s: Emulator.Stats) => boolean,
  step: Duration.DurationInput = "100 millis",
  maxSteps = 2_000
) =>
  Effect.gen(function*() {
    for (let i = 0; i < maxSteps; i++) {
      if (check(yield* stats)) return
      yield* realPause(5)
      yield* TestClock.adjust(step)
    }
    assert.fail("the emulator never reached the expected state while the clock was driven")
  })

/** Waits until `fiber` is blocked (on a session from the pool, an answer, ...): a gate, not a pause. */
export const suspended = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 12_000; i++) {
      if (FiberStatus.isSuspended(yield* Fiber.status(fiber))) return
      yield* realPause(1)
    }
    assert.fail("the fiber never blocked")
  })

const waitUnits: Readonly<Record<string, number>> = { d: 86_400_000, h: 3_600_000, m: 60_000, s: 1_000, ms: 1 }

/** The wait a retry's progress line states ("retrying in 2s", "retrying in 1s 500ms"), in ms; 0 for "now". */
const statedWait = (line: string): number => {
  const stated = /retrying (?:now|in ((?:\d+(?:ms|d|h|m|s) ?)+))/.exec(line)
  if (stated === null) return assert.fail(`the retry's line states no wait: ${line}`)
  return [...(stated[1] ?? "").matchAll(/(\d+)(ms|d|h|m|s)/g)]
    .reduce((sum, [, n, unit]) => sum + Number(n) * (waitUnits[unit!] ?? Number.NaN), 0)
}

/**
 * Proves that a 429 with `Retry-After: <retryAfter>` (seconds) on ExecuteStatement is a floor on the client's
 * wait before it sends the statement again, on the TestClock, with proofs that fail on a client that waits less:
 *
 * 1. The retry's own progress line ("rate limited by the warehouse; retrying in 2s") states a wait of at least
 *    the Retry-After.
 * 2. The sleep that line announces is on the TestClock, waking at least Retry-After from now. The client and the
 *    emulator keep other sleeps there (60 s, timeouts.query, ...), so "some sleep is scheduled" proves nothing:
 *    the retry's is the one waking when its line says (to its 100 ms rounding), and it is awaited, bounded, as
 *    the gate before the clock moves. A client that logs 3 s but sleeps 20 ms never gets past this gate. Stale
 *    sleeps stay on the TestClock too: the 429's body read is bounded by 2 s (`classify.ts`), so a Retry-After
 *    of 2 s cannot be told from it, and a second sleep waking with the retry's fails the test rather than pass it.
 * 3. With the clock 1 ms short of the Retry-After, the call has not completed and the emulator saw one
 *    ExecuteStatement; once the clock reaches the retry's wake-up, the call completes with a second one.
 *
 * Returns the retry lines that were logged, for the caller to check their wording.
 */
export const retryAfterIsAFloor = (
  options: { readonly retryAfter: number; readonly marker: string; readonly client?: Partial<SqlClient.Options> }
) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.make(({ message }) => lines.push(String(message)))
    const retries = () => lines.filter((line) => line.includes("rate limited"))
    const floor = options.retryAfter * 1_000
    yield* withClient(
      Effect.gen(function*() {
        const c = yield* SqlClient.SqlClient
        const emulator = yield* Emulator.Emulator
        yield* emulator.faults.add({
          target: "ExecuteStatement",
          status: 429,
          headers: { "retry-after": String(options.retryAfter) }
        })
        const start = yield* TestClock.currentTimeMillis
        const fiber = yield* Effect.fork(c.query(`SELECT '${options.marker}' AS marker`))
        // The retry's decision is logged, with the wait it schedules, before it sleeps: a positive sign to
        // wait for, not some real time for a retry to show up in. The bounds (about 15 s, then 2 s, of polling,
        // within the tests' timeouts) only turn what never comes into a clear failure instead of a timeout.
        for (let i = 0; retries().length === 0; i++) {
          if (i === 3_000) assert.fail("the client never logged a retry after the 429")
          yield* realPause(5)
        }
        const [line] = retries()
        const stated = statedWait(line!)
        assert.isAtLeast(stated, floor, `the retry waits less than the Retry-After: ${line}`)
        const announced = Effect.map(
          TestClock.sleeps(),
          (sleeps) => Chunk.toReadonlyArray(sleeps).filter((at) => Math.abs(at - start - stated) <= 50)
        )
        for (let i = 0; (yield* announced).length === 0; i++) {
          if (i === 2_000) {
            const held = Chunk.toReadonlyArray(yield* TestClock.sleeps()).map((at) => at - start)
            assert.fail(`no sleep wakes when "${line}" says; the TestClock holds wake-ups at ${held.join(", ")} ms`)
          }
          yield* realPause(1)
        }
        const wakeups = yield* announced
        assert.strictEqual(wakeups.length, 1, `another sleep wakes when the retry's does (${line}): pick another value`)
        const wakeup = wakeups[0]!
        assert.isAtLeast(wakeup - start, floor, "the retry's sleep wakes before the Retry-After")
        assert.strictEqual((yield* stats).rpc.ExecuteStatement, 1, "retried without waiting")
        yield* TestClock.adjust(floor - 1)
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "the call completed before the Retry-After")
        assert.strictEqual((yield* stats).rpc.ExecuteStatement, 1, "retried before the Retry-After")
        yield* TestClock.adjust(wakeup - (yield* TestClock.currentTimeMillis))
        assert.deepStrictEqual(yield* Fiber.join(fiber), [{ marker: options.marker }])
        assert.strictEqual((yield* stats).rpc.ExecuteStatement, 2)
      }),
      options.client
    ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)))
    return retries()
  })

/** Runs an effect that sleeps on the TestClock while real I/O happens, moving the clock a step at a time. */
export const drive = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  step: Duration.DurationInput = "500 millis",
  maxSteps = 400
) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let i = 0; i < maxSteps; i++) {
      const exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) return yield* exit.value
      yield* realPause(5)
      yield* TestClock.adjust(step)
    }
    return assert.fail("did not finish while the clock was driven")
  })
