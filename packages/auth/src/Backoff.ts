/**
 * The one backoff schedule of the library: exponential from a first wait,
 * doubling, each wait capped, jittered, for a bounded number of retries.
 * The auth package's REST retries and `SqlClient`'s `RetryPolicy` both build
 * on it, each adding its own rules (what is retried, `Retry-After`, budgets).
 *
 * @since 0.3.0
 */
import type * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"

/**
 * @since 0.3.0
 * @category options
 */
export interface Options {
  /** The first wait; each next one doubles. */
  readonly base: Duration.DurationInput
  /** No single wait is longer (before jitter). */
  readonly maxDelay: Duration.DurationInput
  /** Retries after the first attempt. */
  readonly retries: number
}

/**
 * Waits of `base`, `2 × base`, `4 × base`, … capped at `maxDelay`, each jittered (Effect's default, 80–120 %),
 * for at most `retries` recurrences. The output is the recurrence count.
 *
 * @since 0.3.0
 * @category constructors
 */
export const exponential = (options: Options): Schedule.Schedule<number> =>
  Schedule.exponential(options.base, 2).pipe(
    // `union` takes the shorter of the two waits: the doubling one until it passes the cap.
    Schedule.union(Schedule.spaced(options.maxDelay)),
    Schedule.jittered,
    Schedule.intersect(Schedule.recurs(options.retries)),
    Schedule.map(([, count]) => count)
  )
