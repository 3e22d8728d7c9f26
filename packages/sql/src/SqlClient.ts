/**
 * Run SQL on a Databricks SQL warehouse, through the official
 * `@databricks/sql` driver, with a `TokenSource` for credentials.
 *
 * - **Credentials:** the driver's `authenticate()` runs `TokenSource.token` on
 *   every RPC; a 403 for an expired token invalidates it and retries once.
 * - **Retries:** the driver's own retry is off; `RetryPolicy` alone decides.
 *   Status polls, result metadata and cancels are sent again by themselves
 *   (after a transient failure or no answer within `timeouts.rpc`);
 *   a FetchResults never is (see docs/sql.md, "When an answer is lost").
 * - **Input:** options are checked when the layer is built
 *   (`ConfigurationError` naming the setting), arguments when a method runs
 *   (`ParameterError` naming it): no defect, nothing malformed sent.
 * - **Secrets:** text from the server or the driver reaches an error or a
 *   log line only through `Redaction.redact`, with the tokens handed out.
 * - **Sessions:** pooled (reused, so a small query costs one RPC thanks to
 *   direct results), thrown away when the server forgets them, closed with the
 *   layer. A client belongs to one identity: its `TokenSource`'s.
 * - **Deadlines:** every driver call has `timeouts.rpc` (60 s; the driver can
 *   wait forever on an empty HTTP 200) and every query `timeouts.query`
 *   (15 minutes). Interrupting a query sends CancelOperation, then
 *   CloseOperation.
 * - **Values:** BIGINT is a `bigint`, DECIMAL an exact string, DATE
 *   `YYYY-MM-DD`, TIMESTAMP a JS `Date` (UTC, millisecond precision).
 * - **CloudFetch:** a large result arrives as files downloaded from cloud
 *   storage, `cloudFetch.concurrentDownloads` (2) at a time per statement, each
 *   fetch (downloads included) under `timeouts.rpc`; with
 *   `cloudFetch.enabled: false`, inline and LZ4-compressed. A link that expired is a
 *   `ResultExpiredError`: `query` runs an idempotent statement once more; a
 *   `stream` fails, saying how many rows it delivered.
 * - **Logs:** the driver logs through Effect's `Logger` (its default logger
 *   would exit the process on an uncaught exception); telemetry is off.
 *
 * @since 0.1.0
 */
import { type DBSQLClient } from "@databricks/sql"
import * as ConnectViewer from "@effect-databricks/auth/ConnectViewer"
import {
  type AuthenticationError,
  ConfigurationError,
  PermissionError,
  RateLimitError,
  TimeoutError
} from "@effect-databricks/auth/DatabricksError"
import * as TokenSource from "@effect-databricks/auth/TokenSource"
import * as WorkspaceHost from "@effect-databricks/auth/WorkspaceHost"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Equal from "effect/Equal"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Hash from "effect/Hash"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Pool from "effect/Pool"
import * as RcMap from "effect/RcMap"
import * as Redacted from "effect/Redacted"
import * as Runtime from "effect/Runtime"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import { checkArgument, checkStatement } from "./internal/arguments.js"
import { type Classified, classify, type Phase } from "./internal/classify.js"
import * as Driver from "./internal/driver.js"
import * as Errors from "./internal/errors.js"
import type { SqlClientError } from "./internal/errors.js"
import * as Check from "./internal/options.js"
import * as Params from "./internal/params.js"
import * as Rows from "./internal/rows.js"
import * as RetryPolicy from "./RetryPolicy.js"
import { ParameterError, type ResultDecodeError, ResultExpiredError } from "./SqlError.js"
import type * as SqlParam from "./SqlParam.js"

export type {
  /**
   * Everything a SqlClient call can fail with.
   *
   * @since 0.1.0
   * @category errors
   */
  SqlClientError
} from "./internal/errors.js"

/**
 * A row: column name → value.
 *
 * @since 0.1.0
 * @category models
 */
export type Row = Readonly<Record<string, unknown>>

/**
 * @since 0.1.0
 * @category models
 */
export interface ExecuteResult {
  /** The rows the server answered with (for DML, the counts it reports). */
  readonly rows: ReadonlyArray<Row>
  /** `num_affected_rows`, when the server reported it. */
  readonly affectedRows: bigint | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SqlClient {
  /** All rows. Idempotent: retried on transient failures. */
  readonly query: (sql: string, params?: SqlParam.Params) => Effect.Effect<ReadonlyArray<Row>, SqlClientError>
  /** All rows, decoded with a Schema; a failure names the row and the column. */
  readonly querySchema: <A, I, R>(
    schema: Schema.Schema<A, I, R>
  ) => (sql: string, params?: SqlParam.Params) => Effect.Effect<ReadonlyArray<A>, SqlClientError | ResultDecodeError, R>
  /** Rows as they are fetched, `chunkSize` (10 000) at a time; leaving early closes the statement. */
  readonly stream: (
    sql: string,
    params?: SqlParam.Params,
    options?: { readonly chunkSize?: number | undefined }
  ) => Stream.Stream<Row, SqlClientError>
  /** A statement for its effect. Not idempotent unless said so: a lost answer is never sent twice. */
  readonly execute: (
    sql: string,
    params?: SqlParam.Params,
    options?: { readonly idempotent?: boolean | undefined }
  ) => Effect.Effect<ExecuteResult, SqlClientError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const SqlClient: Context.Tag<SqlClient, SqlClient> = Context.GenericTag<SqlClient>(
  "@effect-databricks/sql/SqlClient"
)

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The workspace URL. */
  readonly host: string
  /** The warehouse's HTTP path, `/sql/1.0/warehouses/<id>`. */
  readonly httpPath: string
  /** The session's initial catalog and schema. */
  readonly catalog?: string | undefined
  readonly schema?: string | undefined
  /** Session configuration (for example `{ STATEMENT_TIMEOUT: "3600" }`). */
  readonly sessionConfig?: Readonly<Record<string, string>> | undefined
  /** `<ISV>_<Product>/<Version>`, appended to the user agent after this library's name. */
  readonly userAgentEntry?: string | undefined
  /** A CA certificate (PEM) to trust in addition to the system's, for private endpoints and the emulator. */
  readonly caCert?: string | Uint8Array | undefined
  readonly pool?: {
    /** Sessions open at most. Default 8. */
    readonly max?: number | undefined
    /** A session unused this long is closed. Default 10 minutes. */
    readonly idleTimeToLive?: Duration.DurationInput | undefined
  } | undefined
  readonly retry?: RetryPolicy.Options | undefined
  readonly cloudFetch?: {
    /**
     * Let the warehouse answer a large result with links to files in cloud storage (CloudFetch). Default true.
     * Turn it off where the client cannot reach the workspace's storage (a private network that allows only
     * the workspace's host): every result then comes inline, LZ4-compressed (the driver asks for LZ4 only
     * when CloudFetch is off).
     */
    readonly enabled?: boolean | undefined
    /**
     * Result files downloaded at once, per statement being read. Default 2 (the driver's own default is 10).
     * A large result comes as links to files in cloud storage, up to about 20 MB each, and the driver holds
     * each file it downloads in memory until its rows are read: memory grows with this number times the file
     * size, for every stream open at once. Two keep one file downloading while the other is read.
     */
    readonly concurrentDownloads?: number | undefined
  } | undefined
  /** Let the driver send its usage telemetry to Databricks. Default false. */
  readonly telemetry?: boolean | undefined
  readonly timeouts?: {
    /** Each driver call. Default 60 seconds. */
    readonly rpc?: Duration.DurationInput | undefined
    /** A whole query, retries included. Default 15 minutes. */
    readonly query?: Duration.DurationInput | undefined
  } | undefined
}

const userAgentPattern = /^[A-Za-z0-9][A-Za-z0-9.-]*_[A-Za-z0-9][A-Za-z0-9.-]*\/[A-Za-z0-9][A-Za-z0-9.+-]*$/

const warehousePath =
  /^\/?sql\/[0-9.]+\/(warehouses|endpoints)\/[A-Za-z0-9]+\/?$|^\/?sql\/protocolv1\/o\/\d+\/[A-Za-z0-9-]+\/?$/

/**
 * Every option, checked at the boundary: plain JavaScript or a config read as `any` can pass anything, and a
 * wrong value is a `ConfigurationError` naming the setting, never a defect further in.
 */
const checkOptions = (options: Options) =>
  Effect.gen(function*() {
    if (options === null || typeof options !== "object") {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "options",
          message: "SqlClient options are not an object",
          hint: "Pass { host, httpPath, ... }"
        })
      )
    }
    const option = (key: string) => Check.get(options, key)
    const host = yield* WorkspaceHost.make(option("host") as string, { setting: "host" })
    if (!host.secure) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "host",
          message: "host must be https://: the SQL driver only speaks HTTPS",
          hint: "Use the https:// workspace URL (the emulator serves HTTPS too)"
        })
      )
    }
    const pathHint = "Copy it from the warehouse's Connection details: /sql/1.0/warehouses/<id>"
    yield* Check.string(option("httpPath"), "httpPath", pathHint)
    const httpPath = (option("httpPath") as string | undefined)?.trim() ?? ""
    if (!warehousePath.test(httpPath)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "httpPath",
          message: `httpPath ${JSON.stringify(httpPath.slice(0, 80))} is not a warehouse HTTP path`,
          hint: pathHint
        })
      )
    }
    yield* Check.string(option("userAgentEntry"), "userAgentEntry", "For example Acme_Dashboards/1.4.0")
    const entry = (option("userAgentEntry") as string | undefined)?.trim()
    if (entry !== undefined && entry !== "" && !userAgentPattern.test(entry)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "userAgentEntry",
          message: `userAgentEntry ${JSON.stringify(entry.slice(0, 80))} is not <ISV>_<Product>/<Version>`,
          hint: "For example Acme_Dashboards/1.4.0"
        })
      )
    }
    yield* Check.string(option("catalog"), "catalog", "Pass the catalog's name")
    yield* Check.string(option("schema"), "schema", "Pass the schema's name")
    yield* Check.stringRecord(option("sessionConfig"), "sessionConfig")
    const caCert = option("caCert")
    if (caCert !== undefined && typeof caCert !== "string" && !(caCert instanceof Uint8Array)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "caCert",
          message: "caCert is not a PEM string or bytes",
          hint: "Pass the CA certificate's PEM text"
        })
      )
    }
    yield* Check.boolean(option("telemetry"), "telemetry")
    const pool = option("pool")
    yield* Check.object(pool, "pool", "{ max?, idleTimeToLive? }")
    yield* Check.count(Check.get(pool, "max"), "pool.max", 10_000)
    yield* Check.duration(Check.get(pool, "idleTimeToLive"), "pool.idleTimeToLive")
    const timeouts = option("timeouts")
    yield* Check.object(timeouts, "timeouts", "{ rpc?, query? }")
    yield* Check.duration(Check.get(timeouts, "rpc"), "timeouts.rpc", { positive: true })
    yield* Check.duration(Check.get(timeouts, "query"), "timeouts.query", { positive: true })
    const retry = yield* RetryPolicy.validate(option("retry"), "retry")
    const cloudFetch = option("cloudFetch")
    yield* Check.object(cloudFetch, "cloudFetch", "{ enabled?, concurrentDownloads? }")
    yield* Check.boolean(Check.get(cloudFetch, "enabled"), "cloudFetch.enabled")
    yield* Check.count(Check.get(cloudFetch, "concurrentDownloads"), "cloudFetch.concurrentDownloads", 32)
    return {
      host,
      httpPath: httpPath.startsWith("/") ? httpPath : `/${httpPath}`,
      userAgentEntry: entry || undefined,
      retry,
      rpcTimeout: Duration.decode((Check.get(timeouts, "rpc") as Duration.DurationInput) ?? Duration.seconds(60)),
      queryTimeout: Duration.decode(
        (Check.get(timeouts, "query") as Duration.DurationInput) ?? Duration.minutes(15)
      ),
      // Read as checked: own properties only.
      catalog: option("catalog") as string | undefined,
      schema: option("schema") as string | undefined,
      sessionConfig: option("sessionConfig") as Readonly<Record<string, string>> | undefined,
      caCert: caCert as string | Uint8Array | undefined,
      telemetry: (option("telemetry") as boolean | undefined) ?? false,
      useCloudFetch: (Check.get(cloudFetch, "enabled") as boolean | undefined) ?? true,
      concurrentDownloads: (Check.get(cloudFetch, "concurrentDownloads") as number | undefined) ?? 2,
      poolMax: (Check.get(pool, "max") as number | undefined) ?? 8,
      idleTimeToLive: (Check.get(pool, "idleTimeToLive") as Duration.DurationInput | undefined) ??
        Duration.minutes(10)
    }
  })

const timeoutFailure = (phase: Phase, after: Duration.Duration): Classified => ({
  error: new TimeoutError({
    message: phase === "fetch"
      ? `No rows arrived within ${Duration.format(after)} (fetch: a FetchResults, or a result file's download ` +
        "from cloud storage)"
      : `The SQL warehouse did not answer within ${Duration.format(after)} (${phase})`,
    operation: phase,
    timeout: after,
    hint: "The call is abandoned; its session is not reused"
  }),
  phase,
  notExecuted: phase === "open",
  sessionInvalid: false,
  expiredToken: false,
  callTimedOut: true,
  linkExpired: false
})

/** Submit failures after which the statement may be running under a handle the client never got. */
const lostAnswer = new Set(["NetworkError", "TimeoutError", "ServerError", "WarehouseError"])

/**
 * Whether a session must not be reused after `failure`: the server forgot it, a call on it hung, or an
 * ExecuteStatement's answer was lost (closing the session ends whatever the statement left running).
 */
const spoilsSession = (failure: Classified) =>
  failure.sessionInvalid || failure.error._tag === "TimeoutError" ||
  (failure.phase === "submit" && !failure.notExecuted && lostAnswer.has(failure.error._tag))

/** What a driver call rejected with, before it is classified. */
class DriverFailure {
  constructor(readonly cause: unknown) {}
}

/**
 * `attempt`, except that its first run fails with `first` at once: a retry schedule is fed a failure that
 * already happened before it tries again.
 */
const replaying = <A, E, R>(first: E, attempt: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  let replayed = false
  return Effect.suspend(() => replayed ? attempt : (replayed = true, Effect.fail(first)))
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: Options
): Effect.Effect<SqlClient, ConfigurationError, TokenSource.TokenSource | Scope.Scope> =>
  Effect.gen(function*() {
    const checked = yield* checkOptions(options)
    const runtime = yield* Effect.runtime<never>()
    const { queryTimeout, retry: policy, rpcTimeout, useCloudFetch } = checked
    // The tokens handed to the driver lately: a server that echoes the request (an HTTP body, a driver message)
    // must not put one into an error or a log line, so classify and the driver's logger remove them.
    const handedOut: Array<Redacted.Redacted<string>> = []
    const given = yield* TokenSource.TokenSource
    const source: TokenSource.TokenSource = {
      ...given,
      token: Effect.tap(given.token, (token) =>
        Effect.sync(() => {
          if (handedOut.some((known) => Redacted.value(known) === Redacted.value(token.value))) return
          handedOut.push(token.value)
          if (handedOut.length > 4) handedOut.shift()
        }))
    }

    /**
     * One driver call with its deadline; its failure classified. The deadline is a timer of its own, not
     * `Effect.timeout`: it holds where the caller cannot be interrupted (the pool opening a session, a
     * finalizer closing one), where an empty HTTP 200 would otherwise leave the call pending forever; and it
     * forks no fiber, which matters on a path of several calls per query. Like a socket timeout, it runs on
     * real time. An interruptible caller can still give up at any moment.
     */
    const call = <A>(
      phase: Phase,
      f: () => Promise<A>,
      timeout: Duration.Duration = rpcTimeout
    ): Effect.Effect<A, Classified> =>
      Effect.async<A, Classified | DriverFailure>((resume) => {
        const timer = setTimeout(() => resume(Effect.fail(timeoutFailure(phase, timeout))), Duration.toMillis(timeout))
        f().then(
          (value) => {
            clearTimeout(timer)
            resume(Effect.succeed(value))
          },
          (cause) => {
            clearTimeout(timer)
            resume(Effect.fail(new DriverFailure(cause)))
          }
        )
        return Effect.sync(() => clearTimeout(timer))
      }).pipe(
        Effect.catchAll((failure) =>
          failure instanceof DriverFailure
            ? Effect.flatMap(classify(failure.cause, phase, handedOut), Effect.fail)
            : Effect.fail(failure)
        )
      )

    /**
     * Closes under way that no caller waits for (retries, and results that arrived after their caller gave
     * up): the client waits for them before it closes its sessions (a statement needs its session open) and
     * again before it closes the driver.
     */
    const closing = new Set<Promise<void>>()
    const inBackground = (effect: Effect.Effect<void>) =>
      Effect.sync(() => {
        const running = Runtime.runPromise(runtime)(effect)
        closing.add(running)
        void running.finally(() => closing.delete(running))
      })
    const awaitClosing = Effect.promise(async () => {
      while (closing.size > 0) await Promise.allSettled([...closing])
    })

    /**
     * A driver call whose result holds a server resource: when the caller gives up first (its deadline or an
     * interruption), a result that still arrives is closed, or the session or statement would stay open there.
     * An answer later than one more `timeouts.rpc` is not waited for: an empty HTTP 200 never settles.
     */
    const callClosing = <A>(phase: Phase, f: () => Promise<A>, close: (value: A) => Effect.Effect<void>) =>
      Effect.suspend(() => {
        let pending: Promise<A> | undefined
        return call(phase, () => (pending = f())).pipe(
          Effect.onError(() => {
            const answer = pending
            return answer === undefined ? Effect.void : inBackground(
              Effect.tryPromise(() => answer).pipe(Effect.timeout(rpcTimeout), Effect.flatMap(close), Effect.ignore)
            )
          })
        )
      })

    /**
     * A close the warehouse must hear of, or the session or operation stays open there. The caller waits for
     * the first try only; a failed one is retried in the background under `RetryPolicy.closeSchedule`, each
     * try under `timeouts.rpc`. Never fails; a close that failed for good is logged.
     */
    const closeQuietly = (what: "session" | "statement", close: () => Promise<unknown>) => {
      const attempt = call("close", close)
      return Effect.catchAll(attempt, (first) =>
        inBackground(
          replaying(first, attempt).pipe(
            Effect.retry(RetryPolicy.closeSchedule(policy, { onRefresh: source.invalidate })),
            Effect.catchAll((failure) =>
              failure.sessionInvalid ? Effect.void : Effect.logWarning(
                `SqlClient: could not close a ${what} on the warehouse (${failure.error.message}); ` +
                  "it stays open there until the warehouse expires it"
              )
            )
          )
        ))
    }

    const client: DBSQLClient = yield* Effect.acquireRelease(
      Effect.promise(() =>
        Driver.connect({
          host: checked.host,
          httpPath: checked.httpPath,
          caCert: checked.caCert,
          userAgentEntry: checked.userAgentEntry,
          source,
          secrets: handedOut,
          runtime,
          telemetry: checked.telemetry,
          concurrentDownloads: checked.concurrentDownloads,
          socketTimeoutMs: Duration.toMillis(rpcTimeout) + 5_000
        })
      ),
      (client) => Effect.ignore(call("close", () => client.close()))
    )
    yield* Effect.addFinalizer(() => awaitClosing)

    // A failed open is an item too (a Left, handed to the caller that drew it, then thrown away): when an
    // acquisition fails, Effect's Pool (3.22) stops growing and strands any other caller already waiting,
    // uninterruptibly, until some later `get` arrives.
    const pool = yield* Pool.makeWithTTL({
      acquire: Effect.either(Effect.acquireRelease(
        callClosing("open", () =>
          client.openSession({
            ...(checked.catalog === undefined ? {} : { initialCatalog: checked.catalog }),
            ...(checked.schema === undefined ? {} : { initialSchema: checked.schema }),
            ...(checked.sessionConfig === undefined ? {} : { configuration: { ...checked.sessionConfig } })
          }), (late) => closeQuietly("session", Driver.sessionClose(late))),
        (session) => closeQuietly("session", Driver.sessionClose(session))
      )),
      min: 0,
      max: checked.poolMax,
      timeToLive: checked.idleTimeToLive
    })
    yield* Effect.addFinalizer(() => awaitClosing)

    /**
     * A pooled session for `use`, held for the scope; thrown away after a failure that spoils it
     * (`invalidate` throws it away later, for a failure `use` did not see).
     */
    const leaseSession = <A, R>(
      use: (
        session: Driver.Session,
        invalidate: Effect.Effect<void, never, Scope.Scope>
      ) => Effect.Effect<A, Classified, R>
    ): Effect.Effect<A, Classified, R | Scope.Scope> =>
      Effect.flatMap(Pool.get(pool), (item) => {
        const invalidate = Pool.invalidate(pool, item)
        if (Either.isLeft(item)) return Effect.zipRight(invalidate, Effect.fail(item.left))
        return use(item.right, invalidate).pipe(
          Effect.tapError((failure) => spoilsSession(failure) ? invalidate : Effect.void)
        )
      })

    /**
     * Closes an operation, cancelling it first when it may still run. Bounded; never fails. The driver then
     * forgets it: closing the session would otherwise close it again, and fail if it is gone already.
     */
    const release = (operation: Driver.Operation, cancel: boolean) =>
      Effect.ensuring(
        cancel ? cancelThenClose(operation) : closeQuietly("statement", () => operation.close()),
        Effect.sync(() => Driver.forgetOperation(operation))
      )

    /**
     * CancelOperation, then CloseOperation. The caller waits for the first cancel only: a failed one is sent
     * again in the background under `RetryPolicy.closeSchedule` (a cancel is always safe to repeat), and the
     * close follows it there.
     */
    const cancelThenClose = (operation: Driver.Operation) => {
      const cancel = call("close", () => operation.cancel())
      const close = closeQuietly("statement", Driver.operationBackendClose(operation))
      return Effect.matchEffect(cancel, {
        onFailure: (first) =>
          inBackground(
            replaying(first, cancel).pipe(
              Effect.retry(RetryPolicy.closeSchedule(policy, { onRefresh: source.invalidate })),
              Effect.ignore,
              Effect.zipRight(close)
            )
          ),
        onSuccess: () => close
      })
    }

    /**
     * A call that is always safe to send again (GetOperationStatus, GetResultSetMetadata: it only reads the
     * statement's state): a transient failure, or no answer within `timeouts.rpc`, is retried in place, under
     * `RetryPolicy.callSchedule`, never by running the statement again nor by cancelling it; `f` must send a
     * new request each time (the driver's `status()` does; see `Driver.resultSchema`). The schedule is built
     * only once an attempt failed.
     */
    const repeated = <A>(phase: Phase, f: () => Promise<A>, operation: string): Effect.Effect<A, Classified> => {
      const attempt = call(phase, f)
      return Effect.catchAll(attempt, (first) =>
        Effect.retry(
          replaying(first, attempt),
          RetryPolicy.callSchedule(policy, { operation, onRefresh: source.invalidate })
        ))
    }

    /**
     * Submits a statement and waits until it has finished; the operation is closed with the scope.
     * On a failure it is released at once: cancelled first while it may still run.
     */
    const submit = (
      session: Driver.Session,
      sql: string,
      params: Params.DriverParams,
      maxRows: number,
      label: string
    ): Effect.Effect<{ readonly operation: Driver.Operation; readonly schema: Rows.Schema }, Classified, Scope.Scope> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const operation = yield* restore(
            callClosing(
              "submit",
              () => session.executeStatement(sql, { ...params, maxRows, useCloudFetch }),
              (late) => release(late, true)
            )
          )
          Driver.exactDecimals(operation)
          let settled = false
          const schema = yield* restore(
            Effect.gen(function*() {
              yield* awaitFinished(operation, () => (settled = true), label)
              return Rows.schemaOf(
                yield* repeated("wait", Driver.resultSchema(operation), `${label} (result metadata)`)
              )
            })
          ).pipe(Effect.onError(() => release(operation, !settled)))
          // Finished: from here on, leaving early (even interrupted mid-fetch) just closes it.
          yield* Effect.addFinalizer(() => release(operation, false))
          return { operation, schema }
        })
      )

    /** Runs attempts under the retry policy, the token refreshed once after an expired-token 403. */
    const retried = <A, R>(attempt: Effect.Effect<A, Classified, R>, idempotent: boolean, operation: string) =>
      attempt.pipe(
        // The schedule is built only once an attempt failed: most calls succeed at once.
        Effect.catchAll((first) =>
          Effect.retry(
            replaying(first, attempt),
            RetryPolicy.schedule(policy, { idempotent, operation, onRefresh: source.invalidate })
          )
        ),
        Effect.mapError((failure) =>
          failure.expiredToken
            ? new PermissionError({
              message: "The SQL warehouse refused a freshly refreshed token (HTTP 403)",
              status: 403,
              hint: "Check the principal's access to the warehouse",
              cause: failure.error
            })
            : failure.phase === "fetch" && !idempotent
            ? Errors.withNote(
              failure.error,
              "the statement ran on the warehouse, but its result was lost while being read; " +
                "execute is not idempotent, so it is not run again"
            )
            : failure.error
        ),
        Effect.timeoutFail({
          duration: queryTimeout,
          onTimeout: () =>
            new TimeoutError({
              message: `${operation} did not finish within ${Duration.format(queryTimeout)}`,
              operation,
              timeout: queryTimeout,
              hint: "Raise timeouts.query, or make the query cheaper; it was cancelled on the warehouse"
            })
        })
      )

    /**
     * Waits for a statement to finish, one GetOperationStatus at a time, each
     * under `timeouts.rpc`: the driver's own `finished()` polls every 100 ms
     * with no deadline per RPC, so an empty HTTP 200 would stall it until
     * `timeouts.query`. Polls back off to 1 s; long waits log progress. The
     * whole wait is bounded by `timeouts.query`, which `retried` applies to
     * the call.
     * `onSettled` runs once the statement stopped (finished, failed or was
     * cancelled): from then on there is nothing left to cancel.
     */
    const awaitFinished = (
      operation: Driver.Operation,
      onSettled: () => void,
      label: string
    ): Effect.Effect<void, Classified> =>
      Effect.gen(function*() {
        const started = yield* Clock.currentTimeMillis
        let delay = 100
        let reported = 0
        const poll = repeated("wait", () => operation.status(false), `${label} (status poll)`)
        while (Driver.isRunning((yield* poll).operationState)) {
          const waited = (yield* Clock.currentTimeMillis) - started
          if (waited - reported >= 30_000) {
            reported = waited
            yield* Effect.logInfo(`statement still running after ${Math.round(waited / 1000)}s`).pipe(
              Effect.annotateLogs("operationId", operation.id)
            )
          }
          yield* Effect.sleep(Duration.millis(delay))
          delay = Math.min(1_000, Math.round(delay * 1.5))
        }
        onSettled()
        // Finished, failed or cancelled: the driver reads its cached final status and raises its own error.
        yield* call("wait", () => operation.finished())
      })

    /** The rows as the driver gives them; `run` normalises them once the call has succeeded. */
    const fetchAll = (operation: Driver.Operation, schema: Rows.Schema) =>
      Effect.gen(function*() {
        const rows: Array<Record<string, unknown>> = []
        while (yield* call("fetch", () => operation.hasMoreRows())) {
          const chunk = yield* call("fetch", () => operation.fetchChunk({ maxRows: 10_000 }))
          for (const row of chunk as Array<Record<string, unknown>>) rows.push(row)
        }
        return { rows, schema }
      })

    const run = (sql: string, params: SqlParam.Params | undefined, idempotent: boolean, operation: string) =>
      Effect.flatMap(
        Effect.zip(checkStatement(sql), Params.toDriver(params)),
        ([statement, driverParams]) =>
          retried(
            Effect.scoped(
              leaseSession((session) =>
                Effect.scoped(
                  Effect.flatMap(
                    submit(session, statement, driverParams, 10_000, operation),
                    ({ operation, schema }) => fetchAll(operation, schema)
                  )
                )
              )
            ),
            idempotent,
            operation
          ).pipe(
            // A value the client cannot represent is not a transient failure: it is not retried.
            Effect.flatMap(({ rows, schema }) => Rows.normalizeAll(rows, schema))
          )
      )

    const query: SqlClient["query"] = (sql, params) =>
      run(sql, params, true, "query").pipe(Effect.withSpan("SqlClient.query"))

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
        Effect.withSpan("SqlClient.execute")
      )

    const stream: SqlClient["stream"] = (sql, params, streamOptions) =>
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
          const attempt = Effect.gen(function*() {
            const scope = yield* Scope.fork(outer, ExecutionStrategy.sequential)
            return yield* leaseSession((session, invalidate) =>
              Effect.map(
                submit(session, statement, driverParams, chunkSize, "stream"),
                (opened) => ({ ...opened, invalidate })
              )
            ).pipe(
              Scope.extend(scope),
              Effect.onError(() => Scope.close(scope, Exit.void))
            )
          })
          const { invalidate, operation: started, schema } = yield* retried(attempt, true, "stream")
          let delivered = 0
          const fetch = Effect.gen(function*() {
            const more = yield* call("fetch", () => started.hasMoreRows())
            if (!more) return yield* Effect.fail(Option.none())
            return (yield* call("fetch", () => started.fetchChunk({ maxRows: chunkSize }))) as Array<
              Record<string, unknown>
            >
          }).pipe(
            Effect.tapError((failure) =>
              !Option.isOption(failure) && spoilsSession(failure)
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
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<SqlClient, ConfigurationError, TokenSource.TokenSource> =>
  Layer.scoped(SqlClient, make(options))

/**
 * Reads `DATABRICKS_HOST` and `DATABRICKS_HTTP_PATH`; the other options may be passed directly.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options?: Omit<Options, "host" | "httpPath">
): Layer.Layer<SqlClient, ConfigurationError, TokenSource.TokenSource> =>
  Layer.scoped(
    SqlClient,
    Effect.gen(function*() {
      const read = (name: string) =>
        Config.string(name).pipe(
          Effect.mapError(() =>
            new ConfigurationError({
              setting: name,
              message: `${name} is not set`,
              hint: name === "DATABRICKS_HOST"
                ? "Set it to the workspace URL"
                : "Set it to the warehouse's HTTP path, /sql/1.0/warehouses/<id>"
            })
          )
        )
      const host = yield* read("DATABRICKS_HOST")
      const httpPath = yield* read("DATABRICKS_HTTP_PATH")
      return yield* make({ ...options, host, httpPath })
    })
  )

/**
 * One `SqlClient` per Posit Connect viewer, for apps that query Databricks as
 * the person viewing them.
 *
 * @since 0.1.0
 * @category viewers
 */
export interface Viewers {
  /** The viewer's client (their own sessions, their own token), held for the scope. */
  readonly forViewer: (
    userSessionToken: Option.Option<Redacted.Redacted<string>> | Redacted.Redacted<string> | undefined
  ) => Effect.Effect<SqlClient, AuthenticationError | ConfigurationError | RateLimitError, Scope.Scope>
}

/**
 * @since 0.1.0
 * @category viewers
 */
export const Viewers: Context.Tag<Viewers, Viewers> = Context.GenericTag<Viewers>(
  "@effect-databricks/sql/SqlClient/Viewers"
)

/** Equal by a hash of the session token, so the map never holds it in a key's identity. */
class ViewerKey implements Equal.Equal {
  readonly id: string
  constructor(readonly token: Redacted.Redacted<string> | undefined) {
    this.id = token === undefined ? "" : Crypto.createHash("sha256").update(Redacted.value(token)).digest("hex")
  }
  [Equal.symbol](that: Equal.Equal): boolean {
    return that instanceof ViewerKey && that.id === this.id
  }
  [Hash.symbol](): number {
    return Hash.string(this.id)
  }
}

/**
 * The per-viewer pattern: a client per viewer, built on `ConnectViewer.Viewers`
 * (which exchanges and caches their tokens), kept while in use and for
 * `idleTimeToLive` (5 minutes) after, at most `maxViewers` (100) at once. A
 * session is only ever used with the identity that opened it. The options
 * are checked when the layer is built (`ConfigurationError`).
 *
 * @since 0.1.0
 * @category viewers
 */
export const layerViewers = (
  options: Options & {
    readonly maxViewers?: number | undefined
    readonly idleTimeToLive?: Duration.DurationInput | undefined
  }
): Layer.Layer<Viewers, ConfigurationError, ConnectViewer.Viewers> =>
  Layer.scoped(
    Viewers,
    Effect.gen(function*() {
      // Checked once, up front: a bad option fails the layer rather than every viewer's first query.
      yield* checkOptions(options)
      yield* Check.count(Check.get(options, "maxViewers"), "maxViewers", 1_000_000)
      yield* Check.duration(Check.get(options, "idleTimeToLive"), "idleTimeToLive")
      const viewers = yield* ConnectViewer.Viewers
      // Read as checked: own properties only.
      const maxViewers = (Check.get(options, "maxViewers") as number | undefined) ?? 100
      const idleTimeToLive = (Check.get(options, "idleTimeToLive") as Duration.DurationInput | undefined) ??
        Duration.minutes(5)
      const clients = yield* RcMap.make({
        lookup: (key: ViewerKey) =>
          Effect.flatMap(viewers.sourceFor(key.token), (source) =>
            make(options).pipe(Effect.provideService(TokenSource.TokenSource, source))),
        idleTimeToLive,
        capacity: maxViewers
      })
      return {
        forViewer: (token) =>
          RcMap.get(clients, new ViewerKey(Option.isOption(token) ? Option.getOrUndefined(token) : token)).pipe(
            Effect.catchTag("ExceededCapacityException", () =>
              Effect.fail(
                new RateLimitError({
                  message: `More than ${maxViewers} viewers are querying at once`,
                  hint: "Raise maxViewers, or retry shortly"
                })
              ))
          )
      }
    })
  )

/**
 * The current `SqlClient`'s `query`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const query = (
  sql: string,
  params?: SqlParam.Params
): Effect.Effect<ReadonlyArray<Row>, SqlClientError, SqlClient> =>
  Effect.flatMap(SqlClient, (client) => client.query(sql, params))
