/**
 * The driver connection: one `DBSQLClient`, and each driver call with its deadline (open a session, submit,
 * poll, result metadata, fetch, cancel, close). A failure comes back classified (`RetryPolicy.Failure`);
 * whether it is tried again is `RetryPolicy`'s decision. Closes no caller waits for run in the background,
 * in a `FiberSet` owned by the connection's scope, which the client waits for before it closes.
 *
 * @internal
 */
import { type DBSQLClient } from "@databricks/sql"
import * as TokenSource from "@effect-databricks/auth/TokenSource"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as RetryPolicy from "../RetryPolicy.js"
import { type Classified, classify, type Phase, timedOut } from "./classify.js"
import type { Resolved } from "./clientOptions.js"
import { type Deadline, Expired, isExpired, left, retry, until } from "./deadline.js"
import * as Driver from "./driver.js"
import * as Telemetry from "./telemetry.js"

/** The driver connection's calls, each under its deadline, each failure classified. */
export interface Connection {
  readonly options: Resolved
  /** What the client's spans say about where its statements go (built once). */
  readonly target: Telemetry.Target
  /** The client's `TokenSource`, remembering the tokens it hands out (see `secrets`). */
  readonly source: TokenSource.TokenSource
  /**
   * The source's token, asked for in the caller's fiber before a statement's driver calls: cached, it costs a
   * clock read; otherwise its fetch runs here, a child of the statement's span (the driver's own request for
   * it, per RPC, runs in a fiber of its own, outside every span), and the driver then finds it cached. A
   * failure is classified as the driver's would be, as a failure before anything was sent.
   */
  readonly token: Effect.Effect<void, Classified>
  /**
   * One driver call with its deadline, `timeouts.rpc`, or what is left of the statement's `deadline` when that
   * is sooner (then it fails `Expired`, and at once when nothing is left: `f` is not called); its failure
   * classified. The deadline is a timer of its own, not `Effect.timeout`: it holds where the caller cannot be
   * interrupted (the pool opening a session, a finalizer closing one), where an empty HTTP 200 would otherwise
   * leave the call pending forever; and it forks no fiber, which matters on a path of several calls per query.
   * Like a socket timeout, it runs on real time. An interruptible caller can still give up at any moment.
   */
  readonly call: <A>(phase: Phase, f: () => Promise<A>, deadline?: Deadline) => Effect.Effect<A, Classified>
  /**
   * A driver call whose result holds a server resource: when the caller gives up first (its deadline or an
   * interruption), a result that still arrives is closed (`close`, in the background), or the session or
   * statement would stay open there. An answer later than one more `timeouts.rpc` is not waited for.
   */
  readonly callClosing: <A>(
    phase: Phase,
    f: () => Promise<A>,
    close: (value: A) => Effect.Effect<void>,
    deadline?: Deadline
  ) => Effect.Effect<A, Classified>
  /**
   * A call that is always safe to send again (GetOperationStatus, GetResultSetMetadata: it only reads the
   * statement's state): a transient failure, or no answer within `timeouts.rpc`, is retried in place, under
   * `RetryPolicy.callSchedule`, never by running the statement again nor by cancelling it; `f` must send a
   * new request each time (the driver's `status()` does; see `Driver.resultSchema`). Within the `deadline`.
   */
  readonly repeated: <A>(
    phase: Phase,
    f: () => Promise<A>,
    operation: string,
    deadline?: Deadline
  ) => Effect.Effect<A, Classified>
  /**
   * A close the warehouse must hear of, or the session or operation stays open there. The caller waits for
   * the first try only; a failed one is retried in the background under `RetryPolicy.closeSchedule`, each
   * try under `timeouts.rpc`. Never fails; a close that failed for good is logged.
   */
  readonly closeQuietly: (what: "session" | "statement", close: () => Promise<unknown>) => Effect.Effect<void>
  /**
   * Closes an operation, cancelling it first when it may still run (`cancel`). Bounded; never fails. The
   * driver then forgets it: closing the session would otherwise close it again, and fail if it is gone.
   */
  readonly release: (operation: Driver.Operation, cancel: boolean) => Effect.Effect<void>
  /**
   * Waits for a statement to finish, one GetOperationStatus at a time, each under `timeouts.rpc`: the
   * driver's own `finished()` polls every 100 ms with no deadline per RPC, so an empty HTTP 200 would stall it
   * until `timeouts.query`. Polls back off to 1 s; long waits log progress. `onSettled` runs once the
   * statement stopped (finished, failed or was cancelled): from then on there is nothing left to cancel.
   * Polls and the waits between them end at the `deadline`.
   */
  readonly awaitFinished: (
    operation: Driver.Operation,
    onSettled: () => void,
    label: string,
    deadline?: Deadline
  ) => Effect.Effect<void, Classified>
  /**
   * OpenSession with the options' catalog, schema and configuration; a late answer is closed. The span
   * `SqlClient.openSession`; the session counts in `SqlMetrics.sessionsOpen` until `closeSession`.
   */
  readonly openSession: Effect.Effect<Driver.Session, Classified>
  /** CloseSession, as `closeQuietly`, for a session `openSession` gave. The span `SqlClient.closeSession`. */
  readonly closeSession: (session: Driver.Session) => Effect.Effect<void>
  /** Waits until no background close is under way. */
  readonly awaitBackground: Effect.Effect<void>
}

/**
 * `attempt`, except that its first run fails with `first` at once: a retry schedule is fed a failure that
 * already happened before it tries again (the schedule is built only once an attempt failed: most succeed).
 */
export const replaying = <A, E, R>(first: E, attempt: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => {
  // One value per failed call, retried at once: its runs are that call's attempts.
  let replayed = false
  return Effect.suspend(() => replayed ? attempt : (replayed = true, Effect.fail(first)))
}

/** What a driver call rejected with, before it is classified. */
class DriverFailure {
  constructor(readonly cause: unknown) {}
}

/**
 * Opens the driver connection for the scope (no network I/O until the first call). On close it waits for
 * the background closes, then closes the driver.
 */
export const make = (options: Resolved): Effect.Effect<Connection, never, TokenSource.TokenSource | Scope.Scope> =>
  Effect.gen(function*() {
    const { retry: policy, rpcTimeout } = options
    const target = Telemetry.target(options)
    const runtime = yield* Effect.runtime<never>()
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

    // Made first, so closed last: by then the client has waited for every fiber in it (`awaitBackground`).
    const background = yield* FiberSet.make<void, never>()
    /**
     * Work no caller waits for (retried closes, results that arrived after their caller gave up). Often
     * started from a finalizer or the pool's acquisition, which cannot be interrupted; the forked fiber must
     * be, or its own deadlines (`Effect.timeout`) could never end a call that hangs.
     */
    const inBackground = (effect: Effect.Effect<void>): Effect.Effect<void> =>
      Effect.asVoid(FiberSet.run(background, Effect.interruptible(effect)))
    const awaitBackground = FiberSet.awaitEmpty(background)

    const rpcMillis = Duration.toMillis(rpcTimeout)
    const call = <A>(phase: Phase, f: () => Promise<A>, deadline?: Deadline): Effect.Effect<A, Classified> =>
      Effect.async<A, Classified | DriverFailure>((resume) => {
        let millis = rpcMillis
        let expires = false
        if (deadline !== undefined) {
          const remaining = left(deadline)
          if (remaining <= 0) return resume(Effect.fail(new Expired(deadline)))
          if (remaining < millis) {
            millis = remaining
            expires = true
          }
        }
        const timer = setTimeout(
          () => resume(Effect.fail(expires ? new Expired(deadline!) : timedOut(phase, rpcTimeout))),
          millis
        )
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

    const callClosing = <A>(
      phase: Phase,
      f: () => Promise<A>,
      close: (value: A) => Effect.Effect<void>,
      deadline?: Deadline
    ) =>
      Effect.suspend(() => {
        let pending: Promise<A> | undefined
        return call(phase, () => (pending = f()), deadline).pipe(
          Effect.onError(() => {
            const answer = pending
            return answer === undefined ? Effect.void : inBackground(
              Effect.tryPromise(() => answer).pipe(Effect.timeout(rpcTimeout), Effect.flatMap(close), Effect.ignore)
            )
          })
        )
      })

    const closeQuietly = (what: "session" | "statement", close: () => Promise<unknown>) => {
      const attempt = call("close", close)
      return Effect.catchAll(attempt, (first) =>
        inBackground(
          replaying(first, attempt).pipe(
            Effect.retry(Telemetry.observeRetries(RetryPolicy.closeSchedule(policy, { onRefresh: source.invalidate }))),
            Effect.catchAll((failure) =>
              failure.sessionInvalid ? Effect.void : Effect.logWarning(
                `SqlClient: could not close a ${what} on the warehouse (${failure.error.message}); ` +
                  "it stays open there until the warehouse expires it"
              )
            )
          )
        ))
    }

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
              Effect.retry(
                Telemetry.observeRetries(RetryPolicy.closeSchedule(policy, { onRefresh: source.invalidate }))
              ),
              Effect.ignore,
              Effect.zipRight(close)
            )
          ),
        onSuccess: () => close
      })
    }

    const release = (operation: Driver.Operation, cancel: boolean) =>
      Effect.ensuring(
        cancel ? cancelThenClose(operation) : closeQuietly("statement", () => operation.close()),
        Effect.sync(() => Driver.forgetOperation(operation))
      )

    const repeated = <A>(
      phase: Phase,
      f: () => Promise<A>,
      operation: string,
      deadline?: Deadline
    ): Effect.Effect<A, Classified> => {
      const attempt = call(phase, f, deadline)
      return Effect.catchAll(attempt, (first) => {
        if (isExpired(first)) return Effect.fail(first)
        const schedule = RetryPolicy.callSchedule(policy, { operation, onRefresh: source.invalidate })
        return deadline === undefined
          ? Effect.retry(replaying(first, attempt), Telemetry.observeRetries(schedule))
          : retry(replaying(first, attempt), Telemetry.observeRetries(until(schedule, deadline)))
      })
    }

    const awaitFinished = (
      operation: Driver.Operation,
      onSettled: () => void,
      label: string,
      deadline?: Deadline
    ): Effect.Effect<void, Classified> =>
      Effect.gen(function*() {
        const started = yield* Clock.currentTimeMillis
        let delay = 100
        let reported = 0
        const poll = repeated("wait", () => operation.status(false), `${label} (status poll)`, deadline)
        while (Driver.isRunning((yield* poll).operationState)) {
          const waited = (yield* Clock.currentTimeMillis) - started
          if (waited - reported >= 30_000) {
            reported = waited
            yield* Effect.logInfo(`statement still running after ${Math.round(waited / 1000)}s`).pipe(
              Effect.annotateLogs("operationId", operation.id)
            )
          }
          // Not past the deadline: the poll after it then fails `Expired`.
          yield* Effect.sleep(deadline === undefined ? delay : Math.max(0, Math.min(delay, left(deadline))))
          delay = Math.min(1_000, Math.round(delay * 1.5))
        }
        onSettled()
        // Finished, failed or cancelled: the driver reads its cached final status and raises its own error.
        yield* call("wait", () => operation.finished(), deadline)
      })

    const driver: DBSQLClient = yield* Effect.acquireRelease(
      Effect.promise(() =>
        Driver.connect({
          host: options.host,
          httpPath: options.httpPath,
          caCert: options.caCert,
          userAgentEntry: options.userAgentEntry,
          source,
          secrets: handedOut,
          runtime,
          telemetry: options.telemetry,
          concurrentDownloads: options.concurrentDownloads,
          socketTimeoutMs: Duration.toMillis(rpcTimeout) + 5_000
        })
      ),
      (driver) => Effect.ignore(call("close", () => driver.close()))
    )
    yield* Effect.addFinalizer(() => awaitBackground)

    const closeQuietlySession = (session: Driver.Session) => closeQuietly("session", Driver.sessionClose(session))
    // A late answer's session was never the pool's: it is closed without a span or a count of its own.
    const openSession = Telemetry.openSession(
      callClosing(
        "open",
        () =>
          driver.openSession({
            ...(options.catalog === undefined ? {} : { initialCatalog: options.catalog }),
            ...(options.schema === undefined ? {} : { initialSchema: options.schema }),
            ...(options.sessionConfig === undefined ? {} : { configuration: { ...options.sessionConfig } })
          }),
        closeQuietlySession
      ),
      target
    )
    const closeSession = (session: Driver.Session) => Telemetry.closeSession(closeQuietlySession(session), target)

    // As `TokenSource.toDriverAuthentication` rejects: the typed failure, or the cause squashed.
    const token = Effect.catchAllCause(
      Effect.asVoid(source.token),
      (cause) => Effect.flatMap(classify(Cause.squash(cause), "open", handedOut), Effect.fail)
    )

    return {
      options,
      target,
      source,
      token,
      call,
      callClosing,
      repeated,
      closeQuietly,
      release,
      awaitFinished,
      openSession,
      closeSession,
      awaitBackground
    }
  })
