import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import * as Backoff from "../Backoff.js"
import type { RateLimitError } from "../DatabricksError.js"

/**
 * The one place the auth package decides what is retried: transient answers
 * (429, 5xx, no answer, timeout), with exponential backoff, jitter, a cap per
 * wait, a bounded number of attempts, and the server's `Retry-After` as a floor.
 */

export interface RetryOptions {
  /** Retries after the first attempt. Default 4. */
  readonly times?: number | undefined
  /** The first wait. Default 250 ms, doubling. */
  readonly base?: Duration.DurationInput | undefined
  /** No single wait is longer. Default 5 s. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** A `Retry-After` longer than this is not waited for: the error is returned. Default 60 s. */
  readonly maxRetryAfter?: Duration.DurationInput | undefined
}

type Tagged = { readonly _tag: string; readonly message: string }

export const isTransient = (error: Tagged): boolean =>
  error._tag === "RateLimitError" || error._tag === "ServerError" || error._tag === "NetworkError" ||
  error._tag === "TimeoutError"

const retryAfter = (error: Tagged): Option.Option<Duration.Duration> =>
  error._tag === "RateLimitError" ? (error as RateLimitError).retryAfter : Option.none()

export const transient = <E extends Tagged>(what: string, options?: RetryOptions) => {
  const maxRetryAfter = Duration.decode(options?.maxRetryAfter ?? Duration.seconds(60))
  return Backoff.exponential({
    base: options?.base ?? Duration.millis(250),
    maxDelay: options?.maxDelay ?? Duration.seconds(5),
    retries: options?.times ?? 4
  }).pipe(
    Schedule.zipRight(Schedule.identity<E>()),
    Schedule.whileInput((error: E) =>
      isTransient(error) &&
      Option.match(retryAfter(error), {
        onNone: () => true,
        onSome: (d) => Duration.lessThanOrEqualTo(d, maxRetryAfter)
      })
    ),
    Schedule.modifyDelay((error, delay) =>
      Option.match(retryAfter(error), { onNone: () => delay, onSome: (floor) => Duration.max(delay, floor) })
    ),
    Schedule.onDecision((error, decision) =>
      decision._tag === "Done" ? Effect.void : Effect.gen(function*() {
        const wait = ScheduleIntervals.start(decision.intervals) - (yield* Clock.currentTimeMillis)
        yield* Effect.logWarning(
          `${what} failed (${error._tag}: ${error.message}); retrying in ${
            Duration.format(Duration.millis(Math.max(0, wait)))
          }`
        )
      })
    )
  )
}
