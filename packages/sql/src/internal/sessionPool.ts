/**
 * The session pool: sessions leased one call at a time, reused while they work, thrown away after a failure
 * that spoils them (`RetryPolicy.spoilsSession`), closed when idle for `pool.idleTimeToLive` and with the
 * client. `reserve` takes a session out of it for a scope, after which it is closed, never returned.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Pool from "effect/Pool"
import type * as Scope from "effect/Scope"
import * as RetryPolicy from "../RetryPolicy.js"
import type { Classified } from "./classify.js"
import type { Connection } from "./connection.js"
import * as Deadline from "./deadline.js"
import type * as Driver from "./driver.js"

/**
 * A session for `use`, held for the scope, waited for until the statement's `deadline`; `use`'s failures that
 * spoil the session make it unusable, and `invalidate` does so later, for a failure `use` did not see (a
 * stream's fetch). The deadline (`Expired`) spoils nothing.
 */
export type Lease = <A, R>(
  use: (
    session: Driver.Session,
    invalidate: Effect.Effect<void, never, Scope.Scope>
  ) => Effect.Effect<A, Classified, R>,
  deadline: Deadline.Deadline
) => Effect.Effect<A, Classified, R | Scope.Scope>

export interface SessionPool {
  readonly lease: Lease
  /**
   * A session of the pool for the scope, thrown away (closed) when the scope closes: whatever the caller set
   * on it (`SET`, `USE`, temporary views) never reaches another caller. Waited for until the `deadline`.
   */
  readonly reserve: (deadline: Deadline.Deadline) => Effect.Effect<Driver.Session, Classified, Scope.Scope>
}

/**
 * What the pool holds: a session, or the failure of the OpenSession that was to give one.
 *
 * A failed open is an item, not a failed acquisition, because of how Effect's `Pool` (3.22.4, checked in its
 * source and by a probe) treats the latter: the pool's resize loop stops at a failed acquisition and the
 * failure goes to one waiter, while every other caller already waiting for a session stays blocked,
 * uninterruptibly, until some later `Pool.get` starts a resize. As an item, the failure is handed to the
 * caller that drew it (and thrown away); the resize loop goes on, so the other waiters each get a session or
 * a failure of their own. Tested: "N callers waiting while OpenSession fails each get the failure" in
 * Reserve.test.ts, and "a failed OpenSession does not strand a query already waiting" in Cleanup.test.ts.
 */
type Opened = Either.Either<Driver.Session, Classified>

export const make = (connection: Connection): Effect.Effect<SessionPool, never, Scope.Scope> =>
  Effect.gen(function*() {
    const pool = yield* Pool.makeWithTTL({
      acquire: Effect.either(Effect.acquireRelease(connection.openSession, connection.closeSession)),
      min: 0,
      max: connection.options.poolMax,
      timeToLive: connection.options.idleTimeToLive
    })
    // The pool's first resize (nothing to open: min 0) runs in a fiber it forked, not yet started: let it run
    // now. Else it could be running when the first `get` asks for a session, and open it in its own fiber, with
    // the pool's context: the OpenSession span would not be a child of the statement that needed it.
    yield* Effect.yieldNow()
    // Closed before the pool closes its sessions (they go first): a late or retried close needs its session.
    yield* Effect.addFinalizer(() => connection.awaitBackground)

    const get = Effect.flatMap(Pool.get(pool), (item: Opened) => {
      const invalidate = Pool.invalidate(pool, item)
      return Either.isLeft(item)
        ? Effect.zipRight(invalidate, Effect.fail(item.left))
        : Effect.succeed({ session: item.right, invalidate })
    })

    // The pool's leases are counted out in front of it, by a gate of our own (Effect's Pool has no way to ask
    // whether a get will wait, and raced gets of a pool whose opens keep failing leave it opening a second
    // round of sessions nobody waits for): the gate's wait is bounded by the deadline, and with a permit held
    // `Pool.get` never waits for a lease, only for a session being opened, which OpenSession's own timer
    // (`timeouts.rpc`) bounds (and which a race could not cut short either: the pool waits uninterruptibly).
    // The gate's permit is released after the pool's lease (its finalizer is added first, so it runs last).
    const gate = yield* Deadline.gate(connection.options.poolMax)
    const acquire = (deadline: Deadline.Deadline) => Effect.zipRight(gate(deadline), get)

    const lease: Lease = (use, deadline) =>
      Effect.flatMap(acquire(deadline), ({ invalidate, session }) =>
        use(session, invalidate).pipe(
          Effect.tapError((failure) =>
            !Deadline.isExpired(failure) && RetryPolicy.spoilsSession(failure) ? invalidate : Effect.void
          )
        ))

    // Invalidated while leased: the pool closes it once the lease ends (the finalizer added first runs last).
    const reserve = (deadline: Deadline.Deadline) =>
      Effect.flatMap(acquire(deadline), ({ invalidate, session }) =>
        Effect.as(Effect.addFinalizer(() => invalidate), session))

    return { lease, reserve }
  })
