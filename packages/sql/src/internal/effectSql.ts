/**
 * `@effect/sql`'s `SqlClient` on top of ours: every statement goes through the public `SqlClient` interface
 * (`query`, `execute`, `stream`, `reserve`), so retries, deadlines, redaction, typed errors and CloudFetch are
 * the same on both.
 *
 * @internal
 */
import type * as Reactivity from "@effect/experimental/Reactivity"
import * as Client from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import type * as Ours from "../SqlClient.js"
import { QueryError } from "../SqlError.js"
import * as SqlParam from "../SqlParam.js"
import * as Compiler from "./compiler.js"

/** Where the client connects, for the statements' span attributes. */
export interface Target {
  readonly hostname: string
  readonly port: number
  readonly catalog?: string | undefined
  readonly schema?: string | undefined
}

type TransformRows = (<A extends object>(rows: ReadonlyArray<A>) => ReadonlyArray<A>) | undefined

/** Our typed error as `@effect/sql`'s `SqlError`: `cause` is the tagged error, the message short and fixed. */
const failed = (message: string) => (cause: Ours.SqlClientError) =>
  new SqlError({ cause, message: `${message} (${cause._tag})` })

const toSqlError = failed("Failed to execute statement")

/**
 * The compiler's binds as our parameters: bytes as `SqlParam.binary` (the compiler wrote `unhex(?)`), the rest
 * as they are (our binder checks them). Copies only when something changes. Fails, before anything is sent, on
 * what the compiler marked as impossible on Databricks.
 */
const toParams = (params: ReadonlyArray<unknown>): Effect.Effect<ReadonlyArray<SqlParam.Value>, SqlError> => {
  let converted: Array<unknown> | undefined
  for (let i = 0; i < params.length; i++) {
    const value = params[i]
    if (value instanceof Compiler.Unsupported) {
      return Effect.fail(
        new SqlError({
          cause: new QueryError({ message: `${value.message}; the statement was not sent. ${value.hint}` }),
          message: `${value.message} (QueryError)`
        })
      )
    }
    if (value instanceof Uint8Array) {
      converted ??= params.slice()
      converted[i] = SqlParam.binary(value)
    }
  }
  return Effect.succeed((converted ?? params) as ReadonlyArray<SqlParam.Value>)
}

/** A row's values in column order. */
const valuesOf = (rows: ReadonlyArray<Ours.Row>): ReadonlyArray<ReadonlyArray<unknown>> => rows.map(Object.values)

/**
 * A connection over one of our clients (the pooled one, or one pinned by `reserve`). A read goes to `query`
 * (sent again after a lost answer), anything else to `execute` (never sent twice): see `Compiler.isRead`.
 */
export const makeConnection = (client: Ours.SqlClient): Connection => {
  /** The statement through `query` (a read) or `execute`, as our `ExecuteResult`. */
  const raw = (sql: string, params: ReadonlyArray<unknown>): Effect.Effect<Ours.ExecuteResult, SqlError> =>
    Effect.flatMap(toParams(params), (bound) =>
      Effect.mapError(
        Compiler.isRead(sql)
          ? Effect.map(client.query(sql, bound), (rows): Ours.ExecuteResult => ({ rows, affectedRows: undefined }))
          : client.execute(sql, bound),
        toSqlError
      ))
  const run = (sql: string, params: ReadonlyArray<unknown>) => Effect.map(raw(sql, params), (result) => result.rows)
  const execute = (sql: string, params: ReadonlyArray<unknown>, transformRows: TransformRows) =>
    transformRows === undefined ? run(sql, params) : Effect.map(run(sql, params), transformRows)
  return {
    execute,
    executeUnprepared: execute,
    executeValues: (sql, params) => Effect.map(run(sql, params), valuesOf),
    // Our ExecuteResult: the rows, and the count of affected rows the warehouse reported for a write.
    executeRaw: raw,
    executeStream: (sql, params, transformRows) =>
      Stream.unwrap(Effect.map(toParams(params), (bound) => {
        // A write is not streamed: a stream's statement is sent again after a lost answer.
        const rows = Compiler.isRead(sql)
          ? Stream.mapError(client.stream(sql, bound), toSqlError)
          : Stream.fromIterableEffect(
            Effect.mapError(Effect.map(client.execute(sql, bound), (r) => r.rows), toSqlError)
          )
        return transformRows === undefined
          ? rows
          : Stream.mapChunks(rows, (chunk) => Chunk.unsafeFromArray(transformRows(Chunk.toReadonlyArray(chunk))))
      }))
  }
}

// ---- transactions -------------------------------------------------------------------------------------------

/**
 * What SQL warehouses support, for the error when BEGIN TRANSACTION fails
 * (https://docs.databricks.com/aws/en/transactions/transaction-modes).
 */
const beginFailed = (error: SqlError) =>
  new SqlError({
    cause: error.cause,
    message: `Failed to begin a transaction (${(error.cause as Ours.SqlClientError)._tag}): Databricks runs ` +
      "BEGIN TRANSACTION on SQL warehouses only, and a transaction writes only to Unity Catalog managed tables " +
      "with catalog-managed commits"
  })

const nested = () =>
  new SqlError({
    cause: new QueryError({
      message: "Databricks has no nested transactions or savepoints; the inner transaction was not started. " +
        "Run the inner effect as part of the outer transaction, without withTransaction",
      errorClass: "TRANSACTION_NOT_SUPPORTED.NESTED_TRANSACTION"
    }),
    message: "Databricks has no nested transactions or savepoints (QueryError)"
  })

/**
 * `withTransaction` on a session pinned by `reserve`: BEGIN TRANSACTION, the effect (its `sql` statements on
 * that session), then COMMIT, or ROLLBACK after a failure or an interruption. Unlike `@effect/sql`'s own,
 * a failed BEGIN or COMMIT is a typed `SqlError` (not a defect), and no ROLLBACK is sent for a BEGIN that
 * failed. A ROLLBACK that fails is not reported: the pinned session is closed right after, which ends the
 * transaction uncommitted. A nested `withTransaction` fails (Databricks has no savepoints) without touching the
 * outer transaction.
 */
const makeWithTransaction = (
  reserve: Effect.Effect<Connection, SqlError, Scope.Scope>,
  spanAttributes: ReadonlyArray<readonly [string, unknown]>
) =>
<A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<A, E | SqlError, R> =>
  Effect.uninterruptibleMask((restore) =>
    Effect.useSpan(
      "sql.transaction",
      { kind: "client", captureStackTrace: false },
      (span) =>
        Effect.withFiberRuntime<A, E | SqlError, R>((fiber) => {
          for (const [key, value] of spanAttributes) span.attribute(key, value)
          const context = fiber.currentContext
          if (Context.getOption(context, Client.TransactionConnection)._tag === "Some") return Effect.fail(nested())
          const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
          const event = (name: string) => span.event(name, clock.unsafeCurrentTimeNanos())
          const statement = (conn: Connection, sql: string) => conn.executeUnprepared(sql, [], undefined)
          return Effect.acquireUseRelease(
            Scope.make(),
            (scope) =>
              Effect.gen(function*() {
                const conn = yield* restore(Scope.extend(reserve, scope))
                yield* restore(statement(conn, "BEGIN TRANSACTION")).pipe(
                  Effect.mapError(beginFailed)
                )
                const exit = yield* Effect.exit(
                  Effect.locally(
                    restore(effect),
                    FiberRef.currentContext,
                    Context.add(context, Client.TransactionConnection, [conn, 0] as const).pipe(
                      Context.add(Tracer.ParentSpan, span)
                    )
                  )
                )
                if (Exit.isSuccess(exit)) {
                  event("db.transaction.commit")
                  yield* statement(conn, "COMMIT").pipe(
                    Effect.mapError((error) =>
                      new SqlError({
                        cause: error.cause,
                        message: `Failed to commit the transaction (${(error.cause as Ours.SqlClientError)._tag})`
                      })
                    ),
                    // After a failed COMMIT Databricks wants a ROLLBACK before anything else.
                    Effect.tapError(() => Effect.ignore(statement(conn, "ROLLBACK")))
                  )
                } else {
                  event("db.transaction.rollback")
                  yield* Effect.ignore(statement(conn, "ROLLBACK"))
                }
                return yield* exit
              }),
            (scope, exit) => Scope.close(scope, exit)
          )
        })
    )
  )

// ---- the client ---------------------------------------------------------------------------------------------

/**
 * `@effect/sql`'s `SqlClient` over `client`. Built once per layer: a statement costs its compile (cached on the
 * statement), a span, and our client's call.
 */
export const make = (
  client: Ours.SqlClient,
  target: Target
): Effect.Effect<Client.SqlClient, never, Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const namespace = [target.catalog, target.schema].filter((part) => part !== undefined && part !== "").join(".")
    const spanAttributes: ReadonlyArray<readonly [string, unknown]> = [
      ["db.system.name", "databricks"],
      ["server.address", target.hostname],
      ...(target.port === 443 ? [] : [["server.port", target.port] as const]),
      ...(namespace === "" ? [] : [["db.namespace", namespace] as const])
    ]
    const reserve = Effect.map(Effect.mapError(client.reserve, failed("Failed to reserve a session")), makeConnection)
    const sql = yield* Client.make({
      acquirer: Effect.succeed(makeConnection(client)),
      transactionAcquirer: reserve,
      compiler: Compiler.make(),
      spanAttributes
    })
    return Object.assign(sql, { withTransaction: makeWithTransaction(reserve, spanAttributes) })
  })
