/**
 * Statements: `query`, `querySchema`, `execute` and `stream` on sessions from a `Lease` (the pool's, or a
 * reserved session's), each attempt under the retry policy (`retried`); a result that arrives after its
 * caller gave up is closed (late-answer cleanup, in `Connection.callClosing`).
 *
 * @internal
 */
import { PermissionError } from "@effect-databricks/auth/DatabricksError"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as RetryPolicy from "../RetryPolicy.js"
import type { ExecuteResult, Row, SqlClient } from "../SqlClient.js"
import { ParameterError, ResultExpiredError, type SqlClientError, WarehouseError } from "../SqlError.js"
import type * as SqlParam from "../SqlParam.js"
import { checkArgument, checkStatement } from "./arguments.js"
import type { Classified } from "./classify.js"
import { type Connection, replaying } from "./connection.js"
import * as Deadline from "./deadline.js"
import * as Driver from "./driver.js"
import * as Errors from "./errors.js"
import * as Check from "./options.js"
import * as Params from "./params.js"
import * as Rows from "./rows.js"
import type { Lease } from "./sessionPool.js"
import * as Telemetry from "./telemetry.js"

/** The statement methods of a `SqlClient`. */
export type Statements = Omit<SqlClient, "reserve">

/**
 * The error a caller gets for a failure the policy did not retry (or retried until it gave up).
 * `pinned`: the call ran on a reserved session, which a failure that spoils it ends for good.
 */
const finalError = (failure: Classified, idempotent: boolean, pinned: boolean): SqlClientError => {
  if (failure.expiredToken) {
    return new PermissionError({
      message: "The SQL warehouse refused a freshly refreshed token (HTTP 403)",
      status: 403,
      hint: "Check the principal's access to the warehouse",
      cause: failure.error
    })
  }
  // A reserved session that was already lost says so itself (phase "open": a reserved call opens nothing).
  if (pinned && failure.phase !== "open" && RetryPolicy.spoilsSession(failure)) {
    return failure.sessionInvalid
      ? new WarehouseError({
        reason: "Unavailable",
        message: "The reserved session expired on the warehouse; its SET, USE and temporary views are gone",
        hint: "Reserve a new session (SqlClient.reserve) and set it up again",
        cause: failure.error
      })
      : Errors.withNote(
        failure.error,
        "the reserved session cannot be used again (its SET, USE and temporary views cannot move to another " +
          "session); reserve a new one"
      )
  }
  if (failure.phase === "fetch" && !idempotent) {
    return Errors.withNote(
      failure.error,
      "the statement ran on the warehouse, but its result was lost while being read; " +
        "execute is not idempotent, so it is not run again"
    )
  }
  return failure.error
}

/**
 * Runs attempts under the retry policy, the token refreshed once after an expired-token 403, the whole
 * within `timeouts.query`: a `Deadline` every attempt is given and keeps (see `Deadline`), so
 * nothing races the statement. On a reserved session (`pinned`) a retry never moves to another session.
 */
export const retried = <A, R>(
  connection: Connection,
  attempt: (deadline: Deadline.Deadline) => Effect.Effect<A, Classified, R>,
  options: { readonly idempotent: boolean; readonly operation: string; readonly pinned: boolean }
): Effect.Effect<A, SqlClientError, R> => {
  const { queryTimeout, retry: policy } = connection.options
  const { idempotent, operation, pinned } = options
  return Effect.clockWith((clock) => {
    const deadline = Deadline.make(clock, queryTimeout, operation)
    // Each attempt asks for the token first, with this fiber's context: a fetch it needs is then a child of the
    // statement's span (after an expired-token 403 too), not of the driver's per-RPC fiber.
    const tokenFirst = Effect.zipRight(Deadline.within(connection.token, deadline), attempt(deadline))
    return tokenFirst.pipe(
      // The schedule is built only once an attempt failed: most calls succeed at once.
      Effect.catchAll((first) =>
        Deadline.isExpired(first) ? Effect.fail(first) : Deadline.retry(
          replaying(first, tokenFirst),
          Telemetry.observeRetries(
            Deadline.until(
              RetryPolicy.schedule(policy, { idempotent, operation, pinned, onRefresh: connection.source.invalidate }),
              deadline
            )
          )
        )
      ),
      Effect.mapError((failure) =>
        Deadline.isExpired(failure) ? failure.error : finalError(failure, idempotent, pinned)
      )
    )
  })
}

/**
 * `acquire`, what it holds kept in a scope of its own under the caller's: closed at once when `acquire` fails
 * (so the next attempt of a retry starts clean), else held until the caller's scope closes.
 */
export const holding = <A, E, R>(
  acquire: Effect.Effect<A, E, R>
): Effect.Effect<A, E, Exclude<R, Scope.Scope> | Scope.Scope> =>
  Effect.flatMap(
    Effect.scope,
    (outer) =>
      Effect.flatMap(Scope.fork(outer, ExecutionStrategy.sequential), (scope) =>
        acquire.pipe(
          Scope.extend(scope),
          Effect.onError(() => Scope.close(scope, Exit.void))
        ))
  )

/** The statement methods on the sessions `lease` gives; `pinned` when that is one reserved session. */
export const make = (connection: Connection, lease: Lease, pinned: boolean): Statements => {
  const { release, repeated, target } = connection
  const { useCloudFetch } = connection.options

  /**
   * Submits a statement and waits until it has finished; the operation is closed with the scope.
   * On a failure it is released at once: cancelled first while it may still run.
   */
  const submit = (
    session: Driver.Session,
    sql: string,
    params: Params.DriverParams,
    maxRows: number,
    label: string,
    deadline: Deadline.Deadline
  ): Effect.Effect<{ readonly operation: Driver.Operation; readonly schema: Rows.Schema }, Classified, Scope.Scope> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function*() {
        const operation = yield* restore(
          connection.callClosing(
            "submit",
            () => session.executeStatement(sql, { ...params, maxRows, useCloudFetch }),
            (late) => release(late, true),
            deadline
          )
        )
        Driver.exactDecimals(operation)
        let settled = false
        const schema = yield* restore(
          Effect.gen(function*() {
            yield* connection.awaitFinished(operation, () => (settled = true), label, deadline)
            return Rows.schemaOf(
              yield* repeated("wait", Driver.resultSchema(operation), `${label} (result metadata)`, deadline)
            )
          })
        ).pipe(Effect.onError(() => release(operation, !settled)))
        // Finished: from here on, leaving early (even interrupted mid-fetch) just closes it.
        yield* Effect.addFinalizer(() => release(operation, false))
        return { operation, schema }
      })
    )

  /** The rows as the driver gives them; `run` normalises them once the call has succeeded. */
  const fetchAll = (operation: Driver.Operation, schema: Rows.Schema, deadline: Deadline.Deadline) =>
    Effect.gen(function*() {
      const rows: Array<Record<string, unknown>> = []
      while (yield* connection.call("fetch", () => operation.hasMoreRows(), deadline)) {
        const chunk = yield* connection.call("fetch", () => operation.fetchChunk({ maxRows: 10_000 }), deadline)
        for (const row of chunk as Array<Record<string, unknown>>) rows.push(row)
      }
      return { rows, schema }
    })

  const run = (sql: string, params: SqlParam.Params | undefined, idempotent: boolean, operation: string) =>
    Effect.flatMap(
      Effect.zip(checkStatement(sql), Params.toDriver(params)),
      ([statement, driverParams]) =>
        retried(
          connection,
          // One scope for the lease and the statement: the statement's close was added last, so it runs first,
          // and the session goes back to the pool (or is thrown away) after it.
          (deadline) =>
            Effect.scoped(
              lease(
                (session) =>
                  Effect.flatMap(
                    submit(session, statement, driverParams, 10_000, operation, deadline),
                    ({ operation, schema }) => fetchAll(operation, schema, deadline)
                  ),
                deadline
              )
            ),
          { idempotent, operation, pinned }
        ).pipe(
          // A value the client cannot represent is not a transient failure: it is not retried.
          Effect.flatMap(({ rows, schema }) => Rows.normalizeAll(rows, schema))
        )
    )

  const query: SqlClient["query"] = (sql, params) =>
    Telemetry.statement(run(sql, params, true, "query"), target, "query", sql)

  const querySchema: SqlClient["querySchema"] = (schema) => (sql, params) =>
    Schema.isSchema(schema)
      ? Effect.flatMap(query(sql, params), (rows) => Rows.decode(schema, rows))
      : Effect.fail(
        new ParameterError({
          parameter: "schema",
          message: "querySchema was given something that is not a Schema",
          hint: "Pass an effect/Schema schema, for example Schema.Struct({ id: Schema.BigIntFromSelf })"
        })
      )

  const execute: SqlClient["execute"] = (sql, params, executeOptions) =>
    Effect.flatMap(
      checkArgument(
        Check.get(executeOptions, "idempotent"),
        "idempotent",
        "a boolean",
        (u): u is boolean => typeof u === "boolean"
      ),
      (idempotent) => run(sql, params, idempotent ?? false, "execute")
    ).pipe(
      Effect.map((rows): ExecuteResult => {
        const affected = rows.length === 1 ? rows[0].num_affected_rows : undefined
        return {
          rows,
          affectedRows: typeof affected === "bigint"
            ? affected
            : typeof affected === "number"
            ? BigInt(affected)
            : undefined
        }
      }),
      (effect) => Telemetry.statement(effect, target, "execute", sql)
    )

  const stream: SqlClient["stream"] = (sql, params, streamOptions) =>
    Telemetry.stream(streamOf(sql, params, streamOptions), target, sql)

  const streamOf: SqlClient["stream"] = (sql, params, streamOptions) =>
    Stream.unwrapScoped(
      Effect.gen(function*() {
        const chunkSize = (yield* checkArgument(
          Check.get(streamOptions, "chunkSize"),
          "chunkSize",
          "a whole number from 1 to 1000000",
          (u): u is number => typeof u === "number" && Number.isSafeInteger(u) && u >= 1 && u <= 1_000_000
        )) ?? 10_000
        const statement = yield* checkStatement(sql)
        const driverParams = yield* Params.toDriver(params)
        // Each attempt leases its own session (a spoiled one is thrown away before the next); the one
        // that succeeds keeps its session and statement until the stream ends.
        const outer = yield* Effect.scope
        const attempt = (deadline: Deadline.Deadline) =>
          holding(
            lease(
              (session, invalidate) =>
                Effect.map(
                  submit(session, statement, driverParams, chunkSize, "stream", deadline),
                  (opened) => ({ ...opened, invalidate })
                ),
              deadline
            )
          )
        const { invalidate, operation: started, schema } = yield* retried(connection, attempt, {
          idempotent: true,
          operation: "stream",
          pinned
        })
        let delivered = 0
        const fetch = Effect.gen(function*() {
          const more = yield* connection.call("fetch", () => started.hasMoreRows())
          if (!more) return yield* Effect.fail(Option.none())
          return (yield* connection.call("fetch", () => started.fetchChunk({ maxRows: chunkSize }))) as Array<
            Record<string, unknown>
          >
        }).pipe(
          Effect.tapError((failure) =>
            !Option.isOption(failure) && RetryPolicy.spoilsSession(failure)
              ? Scope.extend(invalidate, outer)
              : Effect.void
          ),
          // A FetchResults is never sent again: its lost answer may have moved the server's cursor, and rows
          // already emitted cannot be taken back, so the stream fails saying its rows are incomplete.
          Effect.mapError((failure) =>
            Option.isOption(failure) ? failure : Option.some(
              failure.error._tag === "ResultExpiredError" ?
                new ResultExpiredError({
                  ...failure.error,
                  rowsDelivered: delivered,
                  message: `${failure.error.message}; the stream stopped after ${delivered} rows, and the rest ` +
                    "cannot be read: run the query again (a stream is not re-run by itself, as it would repeat rows)"
                }) :
                Errors.withNote(
                  failure.error,
                  `the stream stopped after ${delivered} rows, and rows after those may be missing: ` +
                    "a lost FetchResults is not sent again, as it could skip rows; run the query again"
                )
            )
          )
        )
        const pull = Effect.gen(function*() {
          const fetched = yield* fetch
          const rows = yield* Rows.normalizeAll(fetched, schema, delivered).pipe(Effect.mapError(Option.some))
          delivered += rows.length
          // Slices of at most 1024 rows, without copying them one by one: Effect's element-wise sinks
          // (runFold) recurse per element of a chunk, and very large chunks overflow the stack.
          const slices: Array<Chunk.Chunk<Row>> = []
          for (let i = 0; i < rows.length; i += 1024) slices.push(Chunk.unsafeFromArray(rows.slice(i, i + 1024)))
          return Chunk.unsafeFromArray(slices)
        })
        // Fetched `chunkSize` rows at a time, emitted in chunks of at most 1024.
        return Stream.repeatEffectChunkOption(pull).pipe(Stream.flattenChunks)
      })
    )

  return { query, querySchema, stream, execute }
}
