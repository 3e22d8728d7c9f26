import { RetryPolicy, SqlError } from "@effect-databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, TestClock } from "effect"

const failure = (overrides: Partial<RetryPolicy.Failure> = {}): RetryPolicy.Failure => ({
  error: new SqlError.NetworkError({ message: "reset" }),
  phase: "submit",
  notExecuted: false,
  sessionInvalid: false,
  expiredToken: false,
  callTimedOut: false,
  linkExpired: false,
  ...overrides
})

/** How many attempts `Effect.retry` makes with `schedule` against a call that always fails with `failing`. */
const attemptsWith = (schedule: ReturnType<typeof RetryPolicy.schedule>, failing: RetryPolicy.Failure) =>
  Effect.gen(function*() {
    let attempts = 0
    const fiber = yield* Effect.fork(
      Effect.retry(Effect.suspend(() => (attempts++, Effect.fail(failing))), schedule).pipe(Effect.flip)
    )
    yield* TestClock.adjust("1 hour")
    yield* Fiber.join(fiber)
    return attempts
  })

const fast = RetryPolicy.make({ base: "10 millis", maxDelay: "50 millis", maxAttempts: 5 })

describe("RetryPolicy", () => {
  it("the defaults are what make gives for no options", () => {
    assert.deepStrictEqual(RetryPolicy.make(), RetryPolicy.defaults)
    assert.strictEqual(RetryPolicy.defaults.maxAttempts, 8)
    assert.strictEqual(Duration.toMillis(RetryPolicy.defaults.base), 1_000)
  })

  it("decisions: transient vs permanent, lost answers, spoiled sessions", () => {
    assert.isTrue(RetryPolicy.isTransient(failure()))
    assert.isFalse(RetryPolicy.isTransient(failure({ error: new SqlError.QueryError({ message: "bad SQL" }) })))
    // A reset on submit: the statement may be running under a handle the client never got.
    assert.isTrue(RetryPolicy.isLostAnswer(failure()))
    assert.isTrue(RetryPolicy.spoilsSession(failure()))
    // A 429 on submit proves it did not run: nothing lost, the session is fine.
    const limited = failure({ error: new SqlError.RateLimitError({ message: "slow down" }), notExecuted: true })
    assert.isFalse(RetryPolicy.isLostAnswer(limited))
    assert.isFalse(RetryPolicy.spoilsSession(limited))
    assert.isTrue(RetryPolicy.isRetryable(limited, false))
    // A lost answer is sent again only for an idempotent statement.
    assert.isTrue(RetryPolicy.isRetryable(failure(), true))
    assert.isFalse(RetryPolicy.isRetryable(failure(), false))
    // No answer to a submit within timeouts.rpc is a lost answer too: sent again only for an idempotent statement.
    const unanswered = failure({
      error: new SqlError.TimeoutError({ message: "x", operation: "submit" }),
      callTimedOut: true
    })
    assert.isTrue(RetryPolicy.isLostAnswer(unanswered))
    assert.isTrue(RetryPolicy.isRetryable(unanswered, true))
    assert.isFalse(RetryPolicy.isRetryable(unanswered, false))
    assert.isFalse(RetryPolicy.isRetryable(unanswered, true, true), "not on a reserved session")
    // A fetch failure never spoils the session by its phase alone; a timeout does.
    assert.isFalse(RetryPolicy.spoilsSession(failure({ phase: "fetch" })))
    assert.isTrue(
      RetryPolicy.spoilsSession(
        failure({ phase: "fetch", error: new SqlError.TimeoutError({ message: "x", operation: "fetch" }) })
      )
    )
    // An expired session is retried on a fresh one, except on a reserved (pinned) session.
    const expired = failure({ sessionInvalid: true, notExecuted: true })
    assert.isTrue(RetryPolicy.spoilsSession(expired))
    assert.isTrue(RetryPolicy.isRetryable(expired, false))
    assert.isFalse(RetryPolicy.isRetryable(expired, true, true))
    // A transient failure that proves the statement did not run is retried on a reserved session too.
    assert.isTrue(RetryPolicy.isRetryable(limited, false, true))
    // An expired token: refreshed and retried, whatever the statement.
    assert.isTrue(
      RetryPolicy.isRetryable(
        failure({ error: new SqlError.PermissionError({ message: "403" }), expiredToken: true }),
        false
      )
    )
  })

  it.effect("one schedule value gives the same decisions every time it runs (no state outside the schedule)", () =>
    Effect.gen(function*() {
      const schedule = RetryPolicy.schedule(fast, { operation: "test", idempotent: true })
      // A token refreshed once: a second expired token ends the call.
      const token = failure({ error: new SqlError.PermissionError({ message: "403" }), expiredToken: true })
      assert.strictEqual(yield* attemptsWith(schedule, token), 2)
      assert.strictEqual(yield* attemptsWith(schedule, token), 2)
      // A session reopened once.
      const session = failure({ sessionInvalid: true })
      assert.strictEqual(yield* attemptsWith(schedule, session), 2)
      assert.strictEqual(yield* attemptsWith(schedule, session), 2)
      // Links renewed once.
      const link = failure({
        phase: "fetch",
        linkExpired: true,
        error: new SqlError.ResultExpiredError({ message: "x", rowsDelivered: 0 })
      })
      assert.strictEqual(yield* attemptsWith(schedule, link), 2)
      assert.strictEqual(yield* attemptsWith(schedule, link), 2)
      // Transient failures: maxAttempts, each run.
      assert.strictEqual(yield* attemptsWith(schedule, failure()), 5)
      assert.strictEqual(yield* attemptsWith(schedule, failure()), 5)
      const calls = RetryPolicy.callSchedule(fast, { operation: "poll" })
      assert.strictEqual(yield* attemptsWith(calls, failure({ phase: "wait" })), 5)
      assert.strictEqual(yield* attemptsWith(calls, failure({ phase: "wait" })), 5)
      const closes = RetryPolicy.closeSchedule(fast)
      assert.strictEqual(yield* attemptsWith(closes, failure({ phase: "close" })), 5)
      assert.strictEqual(yield* attemptsWith(closes, failure({ phase: "close" })), 5)
    }))

  it.effect("a Retry-After within the budget counts from each run's own first failure", () =>
    Effect.gen(function*() {
      // Budget 10 s; the server asks for 4 s. Each run may wait: the budget restarts with each run.
      const policy = RetryPolicy.make({
        base: "10 millis",
        maxDelay: "5 seconds",
        budget: "10 seconds",
        maxAttempts: 2
      })
      const schedule = RetryPolicy.schedule(policy, { operation: "test", idempotent: true })
      const limited = failure({
        error: new SqlError.RateLimitError({ message: "slow down", retryAfter: Option.some(Duration.seconds(4)) }),
        notExecuted: true
      })
      assert.strictEqual(yield* attemptsWith(schedule, limited), 2)
      yield* TestClock.adjust("1 hour")
      assert.strictEqual(yield* attemptsWith(schedule, limited), 2)
    }))
})
