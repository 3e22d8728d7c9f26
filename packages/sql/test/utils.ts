import type { TokenSource } from "@effect-databricks/auth"
import { Pat } from "@effect-databricks/auth"
import type { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import type { HttpClient } from "@effect/platform"
import { assert } from "@effect/vitest"
import type { Duration } from "effect"
import { Chunk, Effect, Fiber, FiberStatus, Layer, Option, TestClock } from "effect"

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

/**
 * The wake-up times the TestClock holds, relative to now. Beware: the client and the emulator keep other sleeps
 * on it (timeouts.query, a body read's deadline, ...), so "some sleep is scheduled" does not mean "the retry's
 * sleep is scheduled"; the retry's logged decision ("retrying in 2s") is the reliable sign (FaultMatrix.test.ts).
 */
export const scheduledSleeps = Effect.gen(function*() {
  const now = yield* TestClock.currentTimeMillis
  return Chunk.toReadonlyArray(yield* TestClock.sleeps()).map((at) => at - now)
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
