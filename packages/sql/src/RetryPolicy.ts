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
 * - **A reserved session** (`SqlClient.reserve`) is never swapped: a failure
 *   that loses or spoils it ends the call, as its `SET`, `USE` and temporary
 *   views cannot follow to another session.
 *
 * Every decision reads a `Failure`: the facts about one failed driver call
 * (its error, which call it was, whether the statement can have run), so the
 * rules can be read, and tested, without a warehouse. The schedules keep
 * their state inside the schedule: one value can drive any number of calls.
 *
 * @since 0.1.0
 */
import * as Backoff from "@effect-databricks/auth/Backoff"
import type * as DatabricksError from "@effect-databricks/auth/DatabricksError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import * as Check from "./internal/options.js"
import type { SqlClientError } from "./SqlError.js"

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
 * The defaults: `base` 1 second, `maxDelay` 60 seconds, `maxAttempts` 8, `budget` 10 minutes. What `make`
 * gives for a setting left out (or one it cannot use), and what a `SqlClient` without a `retry` option uses.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaults: RetryPolicy = {
  base: Duration.seconds(1),
  maxDelay: Duration.seconds(60),
  maxAttempts: 8,
  budget: Duration.minutes(10)
}

/** At most this many attempts: beyond it, `budget` is the limit that means something. */
const maxAttemptsLimit = 1_000

/**
 * A policy from typed options; a setting left out takes its default (`defaults`).
 *
 * It never throws, and takes nothing it cannot use: each setting is read by
 * the rule `validate` applies (a duration of at most 24 days, Node's longest
 * timer, above zero for `base` and `maxDelay`; `maxAttempts` a whole number
 * from 1 to 1000), and a value that breaks it is replaced by that setting's
 * default (`maxAttempts: 0` too: use 1 for no retry). `make` stays a plain
 * function so typed code needs no `Effect`; options from untyped code or a
 * config go through `validate`, which reports a bad value as a
 * `ConfigurationError` instead, as `SqlClient` does with its `retry` option.
 * For every options object `validate` accepts, `make` returns the same policy.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): RetryPolicy => {
  const setting = (key: keyof Options): unknown => Check.get(options, key)
  const duration = (key: "base" | "maxDelay" | "budget") =>
    Option.getOrElse(
      Check.durationValue(setting(key), { positive: key !== "budget" }),
      () => defaults[key]
    )
  return {
    base: duration("base"),
    maxDelay: duration("maxDelay"),
    maxAttempts: Option.getOrElse(
      Check.countValue(setting("maxAttempts"), maxAttemptsLimit),
      () => defaults.maxAttempts
    ),
    budget: duration("budget")
  }
}

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
export const validate = (
  options: unknown,
  setting = "retry"
): Effect.Effect<RetryPolicy, DatabricksError.ConfigurationError> =>
  Effect.gen(function*() {
    yield* Check.object(options, setting, "{ base?, maxDelay?, maxAttempts?, budget? }")
    for (const key of ["base", "maxDelay", "budget"]) {
      yield* Check.duration(Check.get(options, key), `${setting}.${key}`, { positive: key !== "budget" })
    }
    yield* Check.count(Check.get(options, "maxAttempts"), `${setting}.maxAttempts`, maxAttemptsLimit)
    return make(options as Options | undefined)
  })

/**
 * Which driver call failed: it tells whether the statement can have run. `connect` and `open` come before
 * the statement (OpenSession), `submit` is ExecuteStatement, `wait` GetOperationStatus and
 * GetResultSetMetadata, `fetch` FetchResults (and a CloudFetch file's download), `close` CancelOperation,
 * CloseOperation and CloseSession.
 *
 * @since 0.3.0
 * @category models
 */
export type Phase = "connect" | "open" | "submit" | "wait" | "fetch" | "close"

/**
 * The facts about one failed driver call, which every decision here reads. The client builds one from each
 * failure of the driver; a test can build its own.
 *
 * @since 0.3.0
 * @category models
 */
export interface Failure {
  /** The tagged error the caller gets if the failure is not retried. */
  readonly error: SqlClientError
  /** Which driver call failed. */
  readonly phase: Phase
  /** The server's answer proves the statement did not run (an HTTP 429 or 503 on submit, or before submit). */
  readonly notExecuted: boolean
  /** The session is gone on the server: only a fresh one can go on. */
  readonly sessionInvalid: boolean
  /** A 403 for an expired or invalid token: refresh it once. */
  readonly expiredToken: boolean
  /**
   * The call got no answer within its deadline (`timeouts.rpc`, or the driver's socket timeout): the server
   * may never have heard it. Not the statement's own timeout on the warehouse, which is its final state.
   */
  readonly callTimedOut: boolean
  /**
   * A CloudFetch result file's link expired or was refused (403 from storage): the statement's result is
   * lost to this reader, but running the statement again gives fresh links.
   */
  readonly linkExpired: boolean
}

const transientTags: ReadonlySet<string> = new Set(["RateLimitError", "WarehouseError", "NetworkError"])

/**
 * Whether the failure may pass by itself (a rate limit, a warehouse starting or unavailable, the network):
 * waiting and trying again can help. Everything else (credentials, permissions, SQL errors, bad input) is
 * permanent: trying again gives the same answer.
 *
 * @since 0.3.0
 * @category decisions
 */
export const isTransient = (failure: Failure): boolean => transientTags.has(failure.error._tag)

/** Submit failures after which the statement may be running under a handle the client never got. */
const lostAnswerTags: ReadonlySet<string> = new Set(["NetworkError", "TimeoutError", "ServerError", "WarehouseError"])

/**
 * Whether an ExecuteStatement's answer was lost: the request may have reached the warehouse, so the
 * statement may be running (or have run) under a handle the client never got. Such a statement is sent
 * again only when it is idempotent.
 *
 * @since 0.3.0
 * @category decisions
 */
export const isLostAnswer = (failure: Failure): boolean =>
  failure.phase === "submit" && !failure.notExecuted && lostAnswerTags.has(failure.error._tag)

/**
 * Whether a session must not be used again after `failure`: the server forgot it, a call on it got no
 * answer in time, or an ExecuteStatement's answer was lost (closing the session ends whatever the statement
 * left running). A pooled session is thrown away; a reserved one ends its reservation's calls.
 *
 * @since 0.3.0
 * @category decisions
 */
export const spoilsSession = (failure: Failure): boolean =>
  failure.sessionInvalid || failure.error._tag === "TimeoutError" || isLostAnswer(failure)

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
export const isSafeToRepeat = (failure: Failure): boolean =>
  safePhases.has(failure.phase) && !failure.sessionInvalid &&
  (failure.expiredToken || failure.callTimedOut || isTransient(failure))

/**
 * Whether a failure may be retried at all, and whether the statement may be
 * sent again. A failure of a call that is safe to repeat is retried in
 * place (`callSchedule`), never by running the statement again. On a
 * `pinned` (reserved) session, a failure that spoils the session is not
 * retried: another session would not have its `SET`, `USE` or temporary views.
 *
 * @since 0.1.0
 * @category decisions
 */
export const isRetryable = (failure: Failure, idempotent: boolean, pinned = false): boolean => {
  if (safePhases.has(failure.phase) && !failure.sessionInvalid) return false
  if (pinned && spoilsSession(failure)) return false
  if (failure.sessionInvalid) return idempotent || failure.notExecuted
  if (failure.expiredToken) return true
  // The result's links expired while it was read: running the statement again gives fresh ones. Only a
  // statement that may run twice; a stream that emitted rows never gets here (its fetches are not retried).
  if (failure.linkExpired) return idempotent
  // An ExecuteStatement with no answer within `timeouts.rpc` (an empty HTTP 200, a stalled connection) is a lost
  // answer like a reset: an idempotent statement is sent again, on a fresh session (the one it went to is
  // closed, which ends it there if it did arrive); any other statement never is.
  if (failure.callTimedOut && isLostAnswer(failure)) return idempotent
  if (!isTransient(failure)) return false
  return idempotent || failure.notExecuted
}

/** Retries that fix the cause at once rather than wait for it to pass. */
const immediate = (failure: Failure) => failure.sessionInvalid || failure.expiredToken || failure.linkExpired

/**
 * Why a failed call is retried: the `reason` tag of `SqlMetrics.retries` and the `retry.reason` of a retry
 * event on the statement's span.
 *
 * @since 0.3.0
 * @category models
 */
export type Reason = "session" | "token" | "link_expired" | "warehouse" | "rate_limit" | "timeout" | "network"

/**
 * The reason a failure is retried for: a fresh session, a fresh token and fresh links first (what the retry
 * fixes at once), then what the failure is.
 *
 * @since 0.3.0
 * @category decisions
 */
export const reason = (failure: Failure): Reason => {
  if (failure.sessionInvalid) return "session"
  if (failure.expiredToken) return "token"
  if (failure.linkExpired) return "link_expired"
  switch (failure.error._tag) {
    case "WarehouseError":
      return "warehouse"
    case "RateLimitError":
      return "rate_limit"
    case "TimeoutError":
      return "timeout"
    default:
      return "network"
  }
}

/** The reason, worded for a progress line. */
const why = (failure: Failure): string => {
  switch (reason(failure)) {
    case "session":
      return "the session expired; reopening it"
    case "token":
      return "the token expired; refreshing it"
    case "link_expired":
      return "a result file's link expired; running the statement again for fresh links"
    case "warehouse":
      return failure.error._tag === "WarehouseError" && failure.error.reason === "Starting"
        ? "warehouse is starting"
        : "warehouse is unavailable"
    case "rate_limit":
      return "rate limited by the warehouse"
    case "timeout":
      return "no answer in time"
    case "network":
      return "network error"
  }
}

const retryAfter = (failure: Failure): Option.Option<Duration.Duration> =>
  failure.error._tag === "RateLimitError" ? failure.error.retryAfter : Option.none()

/** A `Retry-After` the warehouse sent is a floor on the wait. */
const atLeastRetryAfter = (failure: Failure, delay: Duration.Duration): Duration.Duration =>
  Option.match(retryAfter(failure), { onNone: () => delay, onSome: (floor) => Duration.max(delay, floor) })

/** `Duration.format`, which throws on durations beyond about 30 years (a server may send any number). */
const show = (duration: Duration.Duration): string =>
  Duration.toMillis(duration) <= 1e12 ? Duration.format(duration) : "more than 30 years"

/**
 * The failures a schedule has seen so far, kept in the schedule's own state: a schedule value starts from
 * nothing each time `Effect.retry` (or `Schedule.driver`) runs it.
 */
interface Seen {
  /** The failure just fed in. */
  readonly failure: Failure
  /** Failures fed in so far, this one included: the attempt that just failed. */
  readonly attempts: number
  /** Expired tokens, expired sessions and expired result links seen, each counted once per failure. */
  readonly tokens: number
  readonly sessions: number
  readonly reruns: number
  /** When the first failure was fed in (the schedule's clock), for what is left of the budget. */
  readonly startedAt: number
}

const seen: Schedule.Schedule<Seen, Failure> = Schedule.makeWithState<Seen | undefined, Failure, Seen>(
  undefined,
  (now, failure, previous) => {
    const next: Seen = {
      failure,
      attempts: (previous?.attempts ?? 0) + 1,
      // The first of these facts a failure has is the one its retry fixes.
      tokens: (previous?.tokens ?? 0) + (failure.expiredToken ? 1 : 0),
      sessions: (previous?.sessions ?? 0) + (!failure.expiredToken && failure.sessionInvalid ? 1 : 0),
      reruns: (previous?.reruns ?? 0) +
        (!failure.expiredToken && !failure.sessionInvalid && failure.linkExpired ? 1 : 0),
      startedAt: previous?.startedAt ?? now
    }
    return Effect.succeed([next, next, ScheduleDecision.continueWith(ScheduleInterval.after(now))] as const)
  }
)

/**
 * Whether the `Retry-After` of the failure, if any, may be waited for: not beyond `maxDelay`, nor beyond what
 * is left of the budget (counted from the first failure the schedule saw). A longer one would hold the
 * caller up to `timeouts.query` for an answer the server has already given: it goes to the caller, who
 * decides. It logs why, when given an operation to name.
 */
const retryAfterWithinPolicy = (policy: RetryPolicy, operation: string | undefined, at: Seen) =>
  Effect.gen(function*() {
    const asked = retryAfter(at.failure)
    if (Option.isNone(asked)) return true
    const now = yield* Clock.currentTimeMillis
    const left = Duration.millis(Math.max(0, Duration.toMillis(policy.budget) - (now - at.startedAt)))
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

/**
 * The policy's jittered backoff (the library's one `Backoff`), capped at `maxDelay`, within its attempts and budget; its output is what
 * the schedule has seen (`Seen`), with the failure just fed in.
 */
const backoff = (policy: RetryPolicy): Schedule.Schedule<Seen, Failure> =>
  Backoff.exponential({ base: policy.base, maxDelay: policy.maxDelay, retries: policy.maxAttempts - 1 }).pipe(
    Schedule.upTo(policy.budget),
    Schedule.zipRight(seen)
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
const retrying = (
  given: RetryPolicy,
  options: ScheduleOptions,
  retryable: (failure: Failure) => boolean
): Schedule.Schedule<Failure, Failure> => {
  // A policy forged by untyped code gets `make`'s defaults for what it cannot use, not a throw.
  const policy = make(given)
  return backoff(policy).pipe(
    // One fresh token, one fresh session and one fresh run per call: a second is real trouble (links that
    // expire again mean the result is read too slowly, which another run will not fix).
    Schedule.whileOutput((at) => retryable(at.failure) && at.tokens <= 1 && at.sessions <= 1 && at.reruns <= 1),
    Schedule.checkEffect((_, at) => retryAfterWithinPolicy(policy, options.operation, at)),
    Schedule.modifyDelay((at, delay) => immediate(at.failure) ? Duration.zero : atLeastRetryAfter(at.failure, delay)),
    Schedule.onDecision((at, decision) =>
      decision._tag === "Done" ? Effect.void : Effect.gen(function*() {
        if (at.failure.expiredToken && options.onRefresh !== undefined) yield* options.onRefresh
        const now = yield* Clock.currentTimeMillis
        const wait = Math.max(0, ScheduleIntervals.start(decision.intervals) - now)
        const rounded = Math.round(wait / 100) * 100
        yield* Effect.logWarning(
          `${options.operation}: ${why(at.failure)}; ${
            rounded === 0 ? "retrying now" : `retrying in ${Duration.format(Duration.millis(rounded))}`
          } (attempt ${at.attempts + 1} of ${policy.maxAttempts})`
        )
      })
    ),
    Schedule.map((at) => at.failure)
  )
}

/**
 * The schedule for one call, fed its failures: each retry runs the statement again, so only what
 * `isRetryable` allows is retried. `pinned`: the call runs on a reserved session, which is never swapped.
 *
 * @since 0.1.0
 * @category schedules
 */
export const schedule = (
  policy: RetryPolicy,
  options: ScheduleOptions & { readonly idempotent: boolean; readonly pinned?: boolean | undefined }
): Schedule.Schedule<Failure, Failure> =>
  retrying(policy, options, (failure) => isRetryable(failure, options.idempotent, options.pinned === true))

/**
 * The schedule for one call that is always safe to repeat (a status poll,
 * the result's metadata, a cancel), fed its failures: each retry sends that
 * call again, never the statement (see `isSafeToRepeat`).
 *
 * @since 0.2.0
 * @category schedules
 */
export const callSchedule = (policy: RetryPolicy, options: ScheduleOptions): Schedule.Schedule<Failure, Failure> =>
  retrying(policy, options, isSafeToRepeat)

/**
 * The schedule for closing a session or a statement, fed its failures. A close is always safe
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
): Schedule.Schedule<Failure, Failure> => {
  const policy = make(given)
  return backoff(policy).pipe(
    Schedule.whileOutput((at) => !at.failure.sessionInvalid),
    Schedule.checkEffect((_, at) => retryAfterWithinPolicy(policy, undefined, at)),
    Schedule.modifyDelay((at, delay) => atLeastRetryAfter(at.failure, delay)),
    Schedule.tapOutput((at) =>
      at.failure.expiredToken && options?.onRefresh !== undefined ? options.onRefresh : Effect.void
    ),
    Schedule.map((at) => at.failure)
  )
}
