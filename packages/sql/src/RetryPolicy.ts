/**
 * The only place `SqlClient` decides what is retried, when, and how often.
 *
 * - **What:** `RateLimitError`, `WarehouseError` and `NetworkError`.
 *   `AuthenticationError`, `PermissionError`, `QueryError` and the rest never.
 * - **When a statement may be sent again:** when the call is idempotent
 *   (`query` and `stream` by default), or when the server's answer proves it
 *   did not run (an HTTP 429 or 503 on submit, a failure before submit, an
 *   expired session). A lost answer to a non-idempotent `execute` is returned
 *   as a `NetworkError`: the statement runs at most once.
 * - **How:** exponential backoff from `base` (1 s), jittered, each wait capped
 *   at `maxDelay` (60 s), the server's `Retry-After` as a floor, within
 *   `maxAttempts` (8) and a total `budget` (10 minutes). Each retry logs a
 *   progress line.
 * - **Immediately, once:** a fresh session when the server forgot the session,
 *   and a fresh token after a 403 for an expired token.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type { Classified } from "./internal/classify.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The first wait. Default 1 second, doubling. */
  readonly base?: Duration.DurationInput | undefined
  /** No single wait is longer. Default 60 seconds. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** Attempts in all, the first included. Default 8. */
  readonly maxAttempts?: number | undefined
  /** No retry starts after this much time has passed since the first attempt. Default 10 minutes. */
  readonly budget?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RetryPolicy {
  readonly base: Duration.Duration
  readonly maxDelay: Duration.Duration
  readonly maxAttempts: number
  readonly budget: Duration.Duration
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): RetryPolicy => ({
  base: Duration.decode(options?.base ?? Duration.seconds(1)),
  maxDelay: Duration.decode(options?.maxDelay ?? Duration.seconds(60)),
  maxAttempts: Math.max(1, options?.maxAttempts ?? 8),
  budget: Duration.decode(options?.budget ?? Duration.minutes(10))
})

/**
 * The defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: RetryPolicy = make()

const transientTags = new Set(["RateLimitError", "WarehouseError", "NetworkError"])

/**
 * Whether a failure may be retried at all, and whether the statement may be
 * sent again.
 *
 * @since 0.1.0
 * @category decisions
 */
export const isRetryable = (failure: Classified, idempotent: boolean): boolean => {
  if (failure.sessionInvalid) return idempotent || failure.notExecuted
  if (failure.expiredToken) return true
  if (!transientTags.has(failure.error._tag)) return false
  return idempotent || failure.notExecuted
}

/** Retries that fix the cause at once rather than wait for it to pass. */
const immediate = (failure: Classified) => failure.sessionInvalid || failure.expiredToken

const why = (failure: Classified): string => {
  const error = failure.error
  if (failure.sessionInvalid) return "the session expired; reopening it"
  if (failure.expiredToken) return "the token expired; refreshing it"
  switch (error._tag) {
    case "WarehouseError":
      return error.reason === "Starting" ? "warehouse is starting" : "warehouse is unavailable"
    case "RateLimitError":
      return "rate limited by the warehouse"
    default:
      return "network error"
  }
}

const retryAfter = (failure: Classified): Option.Option<Duration.Duration> =>
  failure.error._tag === "RateLimitError" ? failure.error.retryAfter : Option.none()

/** A `Retry-After` the warehouse sent is a floor on the wait. */
const atLeastRetryAfter = (failure: Classified, delay: Duration.Duration): Duration.Duration =>
  Option.match(retryAfter(failure), { onNone: () => delay, onSome: (floor) => Duration.max(delay, floor) })

/** The policy's jittered backoff, capped at `maxDelay`, within its attempts and budget; fed the failures. */
const backoff = (policy: RetryPolicy) =>
  Schedule.exponential(policy.base, 2).pipe(
    Schedule.union(Schedule.spaced(policy.maxDelay)),
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(policy.maxAttempts - 1)),
    Schedule.upTo(policy.budget),
    Schedule.zipRight(Schedule.identity<Classified>())
  )

/**
 * The schedule for one call, fed the classified failures.
 *
 * @since 0.1.0
 * @category schedules
 */
export const schedule = (
  policy: RetryPolicy,
  options: {
    readonly idempotent: boolean
    readonly operation: string
    /** Run when retrying after a 403 for an expired token: makes the next attempt use a fresh token. */
    readonly onRefresh?: Effect.Effect<void> | undefined
  }
) => {
  // One fresh token and one fresh session per call: a second expired token or session is real trouble.
  let refreshedToken = false
  let reopenedSession = false
  let attempt = 1
  return backoff(policy).pipe(
    Schedule.whileInput((failure: Classified) => {
      if (!isRetryable(failure, options.idempotent)) return false
      if (failure.expiredToken) return refreshedToken ? false : (refreshedToken = true)
      if (failure.sessionInvalid) return reopenedSession ? false : (reopenedSession = true)
      return true
    }),
    Schedule.modifyDelay((failure, delay) => immediate(failure) ? Duration.zero : atLeastRetryAfter(failure, delay)),
    Schedule.onDecision((failure, decision) =>
      decision._tag === "Done" ? Effect.void : Effect.gen(function*() {
        if (failure.expiredToken && options.onRefresh !== undefined) yield* options.onRefresh
        const wait = Math.max(0, ScheduleIntervals.start(decision.intervals) - (yield* Clock.currentTimeMillis))
        const rounded = Math.round(wait / 100) * 100
        attempt++
        yield* Effect.logWarning(
          `${options.operation}: ${why(failure)}; ${
            rounded === 0 ? "retrying now" : `retrying in ${Duration.format(Duration.millis(rounded))}`
          } (attempt ${attempt} of ${policy.maxAttempts})`
        )
      })
    )
  )
}

/**
 * The schedule for closing a session or a statement, fed the classified failures. A close is always safe
 * to send again, and one that never reaches the warehouse leaves the session or statement open there: it
 * is retried on any failure, with the policy's backoff, attempts and budget, quietly (the caller logs a
 * close that failed for good). It stops once the server no longer knows the handle: that is closed.
 *
 * @since 0.1.0
 * @category schedules
 */
export const closeSchedule = (
  policy: RetryPolicy,
  options?: {
    /** Run before retrying after a 403 for an expired token. */
    readonly onRefresh?: Effect.Effect<void> | undefined
  }
) =>
  backoff(policy).pipe(
    Schedule.whileInput((failure: Classified) => !failure.sessionInvalid),
    Schedule.modifyDelay(atLeastRetryAfter),
    Schedule.tapInput((failure: Classified) =>
      failure.expiredToken && options?.onRefresh !== undefined ? options.onRefresh : Effect.void
    )
  )
