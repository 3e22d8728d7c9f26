/**
 * A statement's `timeouts.query` as a deadline its work keeps step by step, instead of a race around the
 * whole statement: `Effect.timeout` forks the statement into a fiber of its own and a timer into another, for
 * every query, which is most of what a quick query costs beyond the driver's own work.
 *
 * Each driver call's timer is what is left of the deadline when sooner than `timeouts.rpc`
 * (`Connection.call`), the waits between status polls and before a retry end at it (`until`), and a call that
 * would start after it fails at once. The waits with no timer of their own are bounded here: the token
 * (`within`), a pooled session and a reserved session's turn (`gate`). What fails at the deadline is `Expired`.
 *
 * @internal
 */
import { TimeoutError } from "@effect-databricks/auth/DatabricksError"
import * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Runtime from "effect/Runtime"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import type { Classified } from "./classify.js"

/** A statement's deadline: `timeout` after it started, on Effect's `Clock` (the `TestClock` in a test). */
export interface Deadline {
  /** Milliseconds on `clock`. */
  readonly at: number
  readonly clock: Clock.Clock
  /** The caller's method, for the error. */
  readonly operation: string
  readonly timeout: Duration.Duration
}

/** The deadline `timeout` from now, for `operation`. */
export const make = (clock: Clock.Clock, timeout: Duration.Duration, operation: string): Deadline => ({
  at: clock.unsafeCurrentTimeMillis() + Duration.toMillis(timeout),
  clock,
  operation,
  timeout
})

/** Milliseconds left before the deadline; 0 or less once it has passed. */
export const left = (deadline: Deadline): number => deadline.at - deadline.clock.unsafeCurrentTimeMillis()

/**
 * The failure of work cut short by its statement's deadline: the caller's `TimeoutError` (`<operation> did not
 * finish within <timeouts.query>`), the same as a race would give. No policy retries it (`Statement.retried`
 * ends at it), and unlike a call's own timeout it does not spoil the session: like an interruption, it
 * cancels the statement and gives the session back.
 */
export class Expired implements Classified {
  readonly error: TimeoutError
  readonly phase = "wait" as const
  readonly notExecuted = false
  readonly sessionInvalid = false
  readonly expiredToken = false
  readonly callTimedOut = false
  readonly linkExpired = false
  constructor(deadline: Deadline) {
    this.error = new TimeoutError({
      message: `${deadline.operation} did not finish within ${Duration.format(deadline.timeout)}`,
      operation: deadline.operation,
      timeout: deadline.timeout,
      hint: "Raise timeouts.query, or make the query cheaper; it was cancelled on the warehouse"
    })
  }
}

/** Whether a failure is its statement's deadline (`Expired`). */
export const isExpired = (failure: Classified): failure is Expired => failure instanceof Expired

/** A schedule whose waits end at the deadline: the attempt after one then fails `Expired` at once. */
export const until = <Out, In, R>(
  schedule: Schedule.Schedule<Out, In, R>,
  deadline: Deadline
): Schedule.Schedule<Out, In, R> =>
  Schedule.modifyDelay(schedule, (_, delay) => Math.max(0, Math.min(Duration.toMillis(delay), left(deadline))))

/**
 * `Effect.retry`, except that `Expired` ends it at once: the schedule is never fed it (the deadline is not a
 * failure worth a retry, a log line or a count), where a policy would take it for a transient timeout.
 */
export const retry = <A, R, Out, R2>(
  effect: Effect.Effect<A, Classified, R>,
  schedule: Schedule.Schedule<Out, Classified, R2>
): Effect.Effect<A, Classified, R | R2> => {
  const expiredAsValue: Effect.Effect<A | Expired, Classified, R> = Effect.catchIf(
    effect,
    (failure: Classified): boolean => isExpired(failure),
    (failure) => Effect.succeed(failure as Expired)
  )
  return Effect.retry(expiredAsValue, schedule).pipe(
    Effect.flatMap((result): Effect.Effect<A, Classified> =>
      result instanceof Expired ? Effect.fail(result) : Effect.succeed(result)
    )
  )
}

/**
 * `permits` held one per caller for its scope (a pooled session, a reserved session's turn), each wait bounded
 * by the caller's deadline. On the path of every query, so it costs little: a caller finding a permit free
 * takes it at once (no race, no fiber forked, no fiber refs captured for its release); only a caller that has
 * to wait is raced against its deadline. A released permit goes to the longest waiting caller; one handed over
 * just as its caller gave up (its deadline, an interruption) is passed on.
 */
export const gate = (
  permits: number
): Effect.Effect<(deadline: Deadline) => Effect.Effect<void, Classified, Scope.Scope>> =>
  Effect.sync(() => {
    let free = permits
    // In the order they came (a Set iterates in insertion order); each is called with the permit handed over.
    const waiting = new Set<() => void>()
    const release = Effect.sync(() => {
      for (const next of waiting) {
        waiting.delete(next)
        return next()
      }
      free++
    })
    const hold = Effect.scopeWith((scope) => Scope.addFinalizer(scope, release))
    return (deadline) =>
      Effect.uninterruptibleMask((restore) =>
        Effect.suspend(() => {
          const remaining = left(deadline)
          if (remaining <= 0) return Effect.fail(new Expired(deadline))
          if (free > 0) {
            free--
            return hold
          }
          let handed = false
          const wait = Effect.async<void>((resume) => {
            const take = () => {
              handed = true
              resume(Effect.void)
            }
            waiting.add(take)
            return Effect.sync(() => waiting.delete(take))
          })
          return restore(
            Effect.timeoutFail(wait, { duration: remaining, onTimeout: () => new Expired(deadline) })
          ).pipe(
            Effect.matchCauseEffect({
              onSuccess: () => hold,
              onFailure: (cause) => handed ? Effect.zipRight(release, Effect.failCause(cause)) : Effect.failCause(cause)
            })
          )
        })
      )
  })

/**
 * `effect`, a wait the caller cannot foresee (the token: cached, or fetched), bounded by the deadline without a
 * fiber forked while it need not wait: it runs at once, synchronously, in a fiber with the caller's context and
 * fiber refs (so a fetch's span is the statement's child). Only when it has to wait does the caller wait for
 * that fiber, until the deadline, and then interrupt it. Nothing it acquires may outlive it.
 */
export const within = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  deadline: Deadline
): Effect.Effect<A, E | Classified, R> =>
  Effect.withFiberRuntime((fiber) => {
    if (left(deadline) <= 0) return Effect.fail(new Expired(deadline))
    const exit = Runtime.runSyncExit(
      Runtime.make({
        context: fiber.currentContext as Context.Context<R>,
        fiberRefs: fiber.getFiberRefs(),
        runtimeFlags: Runtime.defaultRuntimeFlags
      }),
      effect
    )
    if (Exit.isSuccess(exit)) return exit
    const defect = Cause.dieOption(exit.cause)
    if (defect._tag === "None" || !Runtime.isAsyncFiberException(defect.value)) return exit
    const waiting = defect.value.fiber as Fiber.RuntimeFiber<A, E>
    // Awaited, not joined: the caller keeps its own fiber refs.
    return Effect.flatten(Fiber.await(waiting)).pipe(
      Effect.timeoutFail({ duration: Math.max(0, left(deadline)), onTimeout: () => new Expired(deadline) }),
      Effect.onError(() => Fiber.interrupt(waiting))
    )
  })
