/**
 * `SqlClient.make`: the options checked, the driver connection, the session pool and the statements put
 * together; `reserve` pins one pooled session for a scope.
 *
 * @internal
 */
import type { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import type * as TokenSource from "@effect-databricks/auth/TokenSource"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import * as RetryPolicy from "../RetryPolicy.js"
import type { Options, SqlClient } from "../SqlClient.js"
import { WarehouseError } from "../SqlError.js"
import type { Classified } from "./classify.js"
import { checkOptions } from "./clientOptions.js"
import * as Connection from "./connection.js"
import * as Deadline from "./deadline.js"
import type * as Driver from "./driver.js"
import * as SessionPool from "./sessionPool.js"
import * as Statement from "./statement.js"

/** Why a reserved session can take no more calls: the failure a call on it gets at once. */
const unusable = (message: string): Classified => ({
  error: new WarehouseError({
    reason: "Unavailable",
    message,
    hint: "Reserve a new session (SqlClient.reserve) and set it up again"
  }),
  // A reserved call opens nothing: phase "open" marks a failure of the reservation itself.
  phase: "open",
  notExecuted: true,
  sessionInvalid: true,
  expiredToken: false,
  callTimedOut: false,
  linkExpired: false
})

/**
 * A client on one reserved session: its calls take turns (one at a time, a stream holding its turn until it
 * ends), and a failure that spoils the session ends the reservation: later calls fail at once.
 */
const pinned = (
  connection: Connection.Connection,
  session: Driver.Session
): Effect.Effect<SqlClient, never, Scope.Scope> =>
  Effect.gen(function*() {
    // One call at a time; a call finding the turn free takes it at once, with no race against its deadline.
    const turn = yield* Deadline.gate(1)
    let lost: Classified | undefined
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        lost ??= unusable("The reserved session was released when its scope closed")
      })
    )
    const markLost = Effect.sync(() => {
      lost ??= unusable(
        "The reserved session was lost after an earlier call on it failed; its SET, USE and temporary views are gone"
      )
    })
    const lease: SessionPool.Lease = (use, deadline) =>
      turn(deadline).pipe(
        Effect.zipRight(Effect.suspend(() => lost === undefined ? Effect.void : Effect.fail(lost))),
        Effect.zipRight(Effect.suspend(() =>
          use(session, markLost).pipe(
            Effect.tapError((failure) =>
              !Deadline.isExpired(failure) && RetryPolicy.spoilsSession(failure) ? markLost : Effect.void
            )
          )
        ))
      )
    const client: SqlClient = {
      ...Statement.make(connection, lease, true),
      reserve: Effect.sync(() => client)
    }
    return client
  })

/** `SqlClient.make`. */
export const make = (
  options: Options
): Effect.Effect<SqlClient, ConfigurationError, TokenSource.TokenSource | Scope.Scope> =>
  Effect.gen(function*() {
    const checked = yield* checkOptions(options)
    const connection = yield* Connection.make(checked)
    const pool = yield* SessionPool.make(connection)

    const reserve: SqlClient["reserve"] = Effect.gen(function*() {
      // Each attempt holds its session in a scope of its own, closed if the attempt fails.
      const session = yield* Statement.retried(connection, (deadline) => Statement.holding(pool.reserve(deadline)), {
        idempotent: true,
        operation: "reserve",
        pinned: false
      })
      return yield* pinned(connection, session)
    })

    return { ...Statement.make(connection, pool.lease, false), reserve }
  })
