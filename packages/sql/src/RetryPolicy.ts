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
 * - **Calls that are always safe to repeat:** GetOperationStatus,
 *   GetResultSetMetadata, CancelOperation and CloseOperation only read or end
 *   a statement's state, so a transient failure of one, or no answer to it
 *   within `timeouts.rpc`, is retried by sending that call again
 *   (`callSchedule`), whatever the statement: a status poll that failed never
 *   fails or cancels a running write; only once the policy gives up is the
 *   statement cancelled. It is never a reason
 *   to run the statement again. FetchResults is not among them: a lost answer
 *   to it may have moved the server's cursor.
 * - **How:** exponential backoff from `base` (1 s), jittered, each wait capped
 *   at `maxDelay` (60 s), the server's `Retry-After` as a floor, within
 *   `maxAttempts` (8) and a total `budget` (10 minutes). Each retry logs a
 *   progress line.
 * - **Not waited for:** a `Retry-After` longer than `maxDelay` or than what
 *   is left of the budget. The `RateLimitError`, with the server's
 *   `retryAfter`, goes to the caller at once, who decides; a warning says why.
 * - **Immediately, once:** a fresh session when the server forgot the session,
 *   a fresh token after a 403 for an expired token, and a fresh run of an
 *   idempotent statement whose CloudFetch result links expired before they
 *   were read (`ResultExpiredError`; a `stream` that emitted rows fails
 *   instead).
 *
 * @since 0.1.0
 */
import type { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type { Classified, Phase } from "./internal/classify.js"
import * as Check from "./internal/options.js"

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

const defaultOptions = {
  base: Duration.seconds(1),
  maxDelay: Duration.seconds(60),
  maxAttempts: 8,
  budget: Duration.minutes(10)
} as const

/** At most this many attempts: beyond it, `budget` is the limit that means something. */
const maxAttemptsLimit = 1_000

/**
 * A policy from typed options; a setting left out takes its default.
 *
 * It never throws, and takes nothing it cannot use: each setting is read by
 * the rule `validate` applies (a duration of at most 24 days, Node's longest
 * timer, above zero for `base` and `maxDelay`; `maxAttempts` a whole number
 * from 1 to 1000), and a value that breaks it is replaced by that setting's
 * default (`maxAttempts: 0` too: use 1 for no retry). `make` stays a plain
 * function so typed code and `defaults` need no `Effect`; options from
 * untyped code or a config go through `validate`, which reports a bad value
 * as a `ConfigurationError` instead, as `SqlClient` does with its `retry`
 * option. For every options object `validate` accepts, `make` returns the
 * same policy.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): RetryPolicy => {
  const setting = (key: keyof Options): unknown => Check.get(options, key)
  const duration = (key: "base" | "maxDelay" | "budget") =>
    Option.getOrElse(
      Check.durationValue(setting(key), { positive: key !== "budget" }),
      () => defaultOptions[key]
    )
  return {
    base: duration("base"),
    maxDelay: duration("maxDelay"),
    maxAttempts: Option.getOrElse(
      Check.countValue(setting("maxAttempts"), maxAttemptsLimit),
      () => defaultOptions.maxAttempts
    ),
    budget: duration("budget")
  }
}

/**
 * The defaults.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: RetryPolicy = make()

/**
 * `make` for options from untyped code or a config: a value that is not a
 * duration of at most 24 days (Node's longest timer; above zero for `base`
 * and `maxDelay`), or `maxAttempts` that is not a whole number from 1 to
 * 1000, is a `ConfigurationError` naming the setting (where `make` would
 * quietly use the default).
 *
 * @since 0.2.0
 * @category constructors
 */
export const validate = (options: unknown, setting = "retry"): Effect.Effect<RetryPolicy, ConfigurationError> =>
  Effect.gen(function*() {
    yield* Check.object(options, setting, "{ base?, maxDelay?, maxAttempts?, budget? }")
    for (const key of ["base", "maxDelay", "budget"]) {
      yield* Check.duration(Check.get(options, key), `${setting}.${key}`, { positive: key !== "budget" })
    }
    yield* Check.count(Check.get(options, "maxAttempts"), `${setting}.maxAttempts`, maxAttemptsLimit)
    return make(options as Options | undefined)
  })

const transientTags = new Set(["RateLimitError", "WarehouseError", "NetworkError"])

/**
 * The calls that only read or end a statement's state (GetOperationStatus,
 * GetResultSetMetadata: phase `wait`; CancelOperation, CloseOperation: phase
 * `close`): sending one again never runs the statement again.
 */
const safePhases: ReadonlySet<Phase> = new Set<Phase>(["wait", "close"])

/**
 * Whether a failed call may be sent again by itself, whatever the statement:
 * a transient failure (or a 403 for an expired token) of a call that is
 * always safe to repeat, or one that got no answer within its deadline
 * (`timeouts.rpc`: the driver waits forever on an empty HTTP 200). A session
 * the server forgot is not: the call would fail again; nor is a statement
 * that timed out on the warehouse: that is its final state.
 *
 * @since 0.2.0
 * @category decisions
 */
export const isSafeToRepeat = (failure: Classified): boolean =>
  safePhases.has(failure.phase) && !failure.sessionInvalid &&
  (failure.expiredToken || failure.callTimedOut || transientTags.has(failure.error._tag))

/**
 * Whether a failure may be retried at all, and whether the statement may be
 * sent again. A failure of a call that is safe to repeat is retried in
 * place (`callSchedule`), never by running the statement again.
 *
 * @since 0.1.0
 * @category decisions
 */
export const isRetryable = (failure: Classified, idempotent: boolean): boolean => {
  if (safePhases.has(failure.phase) && !failure.sessionInvalid) return false
  if (failure.sessionInvalid) return idempotent || failure.notExecuted
  if (failure.expiredToken) return true
  // The result's links expired while it was read: running the statement again gives fresh ones. Only a
  // statement that may run twice; a stream that emitted rows never gets here (its fetches are not retried).
  if (failure.linkExpired) return idempotent
  if (!transientTags.has(failure.error._tag)) return false
  return idempotent || failure.notExecuted
}

/** Retries that fix the cause at once rather than wait for it to pass. */
const immediate = (failure: Classified) => failure.sessionInvalid || failure.expiredToken || failure.linkExpired

const why = (failure: Classified): string => {
  const error = failure.error
  if (failure.sessionInvalid) return "the session expired; reopening it"
  if (failure.expiredToken) return "the token expired; refreshing it"
  if (failure.linkExpired) return "a result file's link expired; running the statement again for fresh links"
  switch (error._tag) {
    case "WarehouseError":
      return error.reason === "Starting" ? "warehouse is starting" : "warehouse is unavailable"
    case "RateLimitError":
      return "rate limited by the warehouse"
    case "TimeoutError":
      return "no answer in time"
    default:
      return "network error"
  }
}

const retryAfter = (failure: Classified): Option.Option<Duration.Duration> =>
  failure.error._tag === "RateLimitError" ? failure.error.retryAfter : Option.none()

/** A `Retry-After` the warehouse sent is a floor on the wait. */
const atLeastRetryAfter = (failure: Classified, delay: Duration.Duration): Duration.Duration =>
  Option.match(retryAfter(failure), { onNone: () => delay, onSome: (floor) => Duration.max(delay, floor) })

/** `Duration.format`, which throws on durations beyond about 30 years (a server may send any number). */
const show = (duration: Duration.Duration): string =>
  Duration.toMillis(duration) <= 1e12 ? Duration.format(duration) : "more than 30 years"

/**
 * Whether the `Retry-After` of `failure`, if any, may be waited for: not beyond `maxDelay`, nor beyond what
 * is left of the budget (counted from the first failure the schedule saw). A longer one would hold the
 * caller up to `timeouts.query` for an answer the server has already given: it goes to the caller, who
 * decides. `log` says why, when given an operation to name.
 */
const retryAfterWithinPolicy = (policy: RetryPolicy, operation: string | undefined) => {
  let startedAt: number | undefined
  return (failure: Classified): Effect.Effect<boolean> =>
    Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      startedAt ??= now
      const asked = retryAfter(failure)
      if (Option.isNone(asked)) return true
      const left = Duration.millis(Math.max(0, Duration.toMillis(policy.budget) - (now - startedAt)))
      const limit = Duration.min(policy.maxDelay, left)
      if (Duration.lessThanOrEqualTo(asked.value, limit)) return true
      if (operation !== undefined) {
        const which = Duration.lessThanOrEqualTo(policy.maxDelay, left)
          ? `the retry policy's maxDelay (${show(policy.maxDelay)})`
          : `what is left of the retry budget (${show(left)})`
        yield* Effect.logWarning(
          `${operation}: the warehouse asked to retry after ${show(asked.value)} (Retry-After), ` +
            `longer than ${which}; not waiting: failing with RateLimitError (retryAfter) for the caller to decide`
        )
      }
      return false
    })
}

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
 * What the schedules need besides the policy.
 *
 * @since 0.2.0
 * @category models
 */
export interface ScheduleOptions {
  /** Names the call in the progress lines. */
  readonly operation: string
  /** Run when retrying after a 403 for an expired token: makes the next attempt use a fresh token. */
  readonly onRefresh?: Effect.Effect<void> | undefined
}

/** The policy's backoff for the failures `retryable` accepts, with the Retry-After rules and progress lines. */
const retrying = (given: RetryPolicy, options: ScheduleOptions, retryable: (failure: Classified) => boolean) => {
  // A policy forged by untyped code gets `make`'s defaults for what it cannot use, not a throw.
  const policy = make(given)
  // One fresh token and one fresh session per call: a second expired token or session is real trouble.
  let refreshedToken = false
  let reopenedSession = false
  let reran = false
  let attempt = 1
  return backoff(policy).pipe(
    Schedule.whileInput((failure: Classified) => {
      if (!retryable(failure)) return false
      if (failure.expiredToken) return refreshedToken ? false : (refreshedToken = true)
      if (failure.sessionInvalid) return reopenedSession ? false : (reopenedSession = true)
      // Once: links that expire again mean the result is read too slowly, which another run will not fix.
      if (failure.linkExpired) return reran ? false : (reran = true)
      return true
    }),
    Schedule.checkEffect(retryAfterWithinPolicy(policy, options.operation)),
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
 * The schedule for one call, fed the classified failures: each retry runs
 * the statement again, so only what `isRetryable` allows is retried.
 *
 * @since 0.1.0
 * @category schedules
 */
export const schedule = (
  policy: RetryPolicy,
  options: ScheduleOptions & { readonly idempotent: boolean }
) => retrying(policy, options, (failure) => isRetryable(failure, options.idempotent))

/**
 * The schedule for one call that is always safe to repeat (a status poll,
 * the result's metadata, a cancel), fed its classified failures: each retry
 * sends that call again, never the statement (see `isSafeToRepeat`).
 *
 * @since 0.2.0
 * @category schedules
 */
export const callSchedule = (policy: RetryPolicy, options: ScheduleOptions) => retrying(policy, options, isSafeToRepeat)

/**
 * The schedule for closing a session or a statement, fed the classified failures. A close is always safe
 * to send again, and one that never reaches the warehouse leaves the session or statement open there: it
 * is retried on any failure, with the policy's backoff, attempts and budget, quietly (the caller logs a
 * close that failed for good). It stops once the server no longer knows the handle: that is closed; and at a
 * `Retry-After` beyond `maxDelay` or the budget, which would hold the client's shutdown.
 *
 * @since 0.1.0
 * @category schedules
 */
export const closeSchedule = (
  given: RetryPolicy,
  options?: {
    /** Run before retrying after a 403 for an expired token. */
    readonly onRefresh?: Effect.Effect<void> | undefined
  }
) => {
  const policy = make(given)
  return backoff(policy).pipe(
    Schedule.whileInput((failure: Classified) => !failure.sessionInvalid),
    Schedule.checkEffect(retryAfterWithinPolicy(policy, undefined)),
    Schedule.modifyDelay(atLeastRetryAfter),
    Schedule.tapInput((failure: Classified) =>
      failure.expiredToken && options?.onRefresh !== undefined ? options.onRefresh : Effect.void
    )
  )
}
