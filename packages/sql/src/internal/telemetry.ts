/**
 * Spans and metrics of a `SqlClient`: the statement spans (kind client, with the OpenTelemetry database
 * attributes), the session spans, retry events, and the updates of `SqlMetrics`.
 *
 * They sit on the path of every statement, so they cost little: a client's span options and attribute
 * record are built once (`target`), the statement's own attributes are two `span.attribute` calls, the
 * operation name is read from the first keyword without a regular expression over the text, no stack trace
 * is captured, no fiber is forked, and the metrics are tagged once per operation, not per call.
 *
 * Never recorded: parameter values (they are bound, so the text holds none), tokens, session configuration.
 *
 * @internal
 */
import type * as WorkspaceHost from "@effect-databricks/auth/WorkspaceHost"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Schedule from "effect/Schedule"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import * as Stream from "effect/Stream"
import * as Tracer from "effect/Tracer"
import * as RetryPolicy from "../RetryPolicy.js"
import * as Metrics from "./metrics.js"

/** The span names, by operation. */
export const spanNames = {
  query: "SqlClient.query",
  execute: "SqlClient.execute",
  stream: "SqlClient.stream",
  openSession: "SqlClient.openSession",
  closeSession: "SqlClient.closeSession"
} as const

/** A statement's operation, the `operation` tag of its metrics. */
export type Operation = "query" | "execute" | "stream"

/** Where a client's statements go, as its spans say it: built once per client. */
export interface Target {
  /** `db.system.name`, `server.address`, `server.port` (when not 443), `db.namespace` (when set). */
  readonly attributes: Readonly<Record<string, unknown>>
  /** The options of every span the client opens: kind client, those attributes, no stack trace. */
  readonly spanOptions: Tracer.SpanOptions
  /** The same, for a span that starts a trace of its own. */
  readonly rootSpanOptions: Tracer.SpanOptions
}

/**
 * The client's span attributes, from its checked options. `db.namespace` is the session's initial
 * `catalog.schema` (or whichever of the two is set; neither: the warehouse's default, which the client does
 * not know, and no attribute), as the `@effect/sql` client's spans say it.
 */
export const target = (options: {
  readonly host: WorkspaceHost.WorkspaceHost
  readonly catalog?: string | undefined
  readonly schema?: string | undefined
}): Target => {
  const attributes: Record<string, unknown> = {
    "db.system.name": "databricks",
    "server.address": options.host.hostname
  }
  if (options.host.port !== 443) attributes["server.port"] = options.host.port
  const namespace = [options.catalog, options.schema].filter((part) => part !== undefined && part !== "").join(".")
  if (namespace !== "") attributes["db.namespace"] = namespace
  const spanOptions: Tracer.SpanOptions = { kind: "client", captureStackTrace: false, attributes }
  return { attributes, spanOptions, rootSpanOptions: { ...spanOptions, root: true } }
}

/**
 * The statement's first keyword, upper-cased (`SELECT`, `INSERT`, `WITH`, …): `db.operation.name`. Leading
 * blanks, parentheses and comments (`-- …`, `/* … *\/`) are skipped; only the keyword's characters are read
 * after them. `undefined` when the text starts with no keyword (or is not text: the call fails on it anyway).
 */
export const operationName = (sql: unknown): string | undefined => {
  if (typeof sql !== "string") return undefined
  const length = sql.length
  let i = 0
  while (i < length) {
    const c = sql.charCodeAt(i)
    if (c === 32 || c === 40 || (c >= 9 && c <= 13)) {
      i++
    } else if (c === 45 && sql.charCodeAt(i + 1) === 45) {
      const end = sql.indexOf("\n", i + 2)
      if (end < 0) return undefined
      i = end + 1
    } else if (c === 47 && sql.charCodeAt(i + 1) === 42) {
      const end = sql.indexOf("*/", i + 2)
      if (end < 0) return undefined
      i = end + 2
    } else {
      break
    }
  }
  let j = i
  // ASCII letters only (a keyword); at most 32 of them.
  while (j < length && j - i < 32) {
    const lower = sql.charCodeAt(j) | 0x20
    if (lower < 97 || lower > 122) break
    j++
  }
  return j > i ? sql.slice(i, j).toUpperCase() : undefined
}

/**
 * The `error.type` of a failure: the tagged error's `_tag` (also when it is carried as `error`, as a
 * classified driver failure is), `Interrupted` for an interruption, `Defect` for a defect.
 */
export const errorType = (cause: Cause.Cause<unknown>): string => {
  const failure = Cause.failureOption(cause)
  if (failure._tag === "Some") {
    const error = failure.value as { readonly _tag?: unknown; readonly error?: { readonly _tag?: unknown } } | null
    if (typeof error?._tag === "string") return error._tag
    if (typeof error?.error?._tag === "string") return error.error._tag
    return "Error"
  }
  return Cause.isInterruptedOnly(cause) ? "Interrupted" : "Defect"
}

type Update<In> = (input: In, labels: ReadonlyArray<MetricLabel.MetricLabel>) => void

/** An operation's metric updates, their tags built once (`Metrics.withTags`). */
interface OperationMetrics {
  readonly operation: MetricLabel.MetricLabel
  readonly succeeded: Update<number>
  readonly failures: Map<string, Update<number>>
  /** Milliseconds. */
  readonly duration: Update<number>
}

const operationMetrics = (operation: Operation): OperationMetrics => {
  const label = MetricLabel.make("operation", operation)
  return {
    operation: label,
    succeeded: Metrics.withTags(Metrics.statements, [label, MetricLabel.make("outcome", "success")]),
    failures: new Map(),
    duration: Metrics.withTags(Metrics.statementDurationMillis, [Metrics.millisecondsTag, label])
  }
}

const metricsByOperation: Record<Operation, OperationMetrics> = {
  query: operationMetrics("query"),
  execute: operationMetrics("execute"),
  stream: operationMetrics("stream")
}

const failureCounter = (metrics: OperationMetrics, type: string) => {
  let update = metrics.failures.get(type)
  if (update === undefined) {
    update = Metrics.withTags(Metrics.statements, [
      metrics.operation,
      MetricLabel.make("outcome", "failure"),
      MetricLabel.make("error.type", type)
    ])
    metrics.failures.set(type, update)
  }
  return update
}

/**
 * Records how a statement ended: `error.type` on its span (before the span ends), one count in
 * `SqlMetrics.statements`, its duration in `SqlMetrics.statementDuration`. The metrics carry the fiber's
 * metric labels (`Effect.tagMetrics`), as `Metric.update` would, in one step.
 */
const record = (
  span: Tracer.Span,
  metrics: OperationMetrics,
  exit: Exit.Exit<unknown, unknown>,
  labels: ReadonlyArray<MetricLabel.MetricLabel>,
  clock: Clock.Clock,
  start: bigint
): void => {
  if (Exit.isSuccess(exit)) {
    metrics.succeeded(1, labels)
  } else {
    const type = errorType(exit.cause)
    span.attribute("error.type", type)
    failureCounter(metrics, type)(1, labels)
  }
  metrics.duration(Number(clock.unsafeCurrentTimeNanos() - start) / 1e6, labels)
}

/** `record`, with the fiber's metric labels. */
const finish = (
  span: Tracer.Span,
  metrics: OperationMetrics,
  exit: Exit.Exit<unknown, unknown>,
  clock: Clock.Clock,
  start: bigint
) =>
  Effect.withFiberRuntime<void>((fiber) => {
    record(span, metrics, exit, fiber.getFiberRef(FiberRef.currentMetricLabels), clock, start)
    return Effect.void
  })

/** The statement's own attributes, on a span opened with the client's options. */
const describe = (span: Tracer.Span, sql: unknown) => {
  if (typeof sql !== "string") return
  span.attribute("db.query.text", sql)
  const name = operationName(sql)
  if (name !== undefined) span.attribute("db.operation.name", name)
}

/**
 * A statement (`query`, `execute`) as a span of kind client named `SqlClient.<operation>`, a child of the
 * caller's span, with the database attributes; counted and timed in `SqlMetrics` when it ends.
 */
export const statement = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  target: Target,
  operation: Operation,
  sql: unknown
): Effect.Effect<A, E, R> =>
  Effect.useSpan(spanNames[operation], target.spanOptions, (span) =>
    // On the path of every query, so in one step what `Effect.withParentSpan`, `Effect.clockWith` and a metrics
    // update in `Effect.onExit` would each do in several (`withParentSpan` alone is an acquire-use-release of
    // the fiber's context): the span is made the parent by setting the context inside the `onExit`, which puts
    // the caller's context back however `self` ends.
    Effect.withFiberRuntime((fiber) => {
      describe(span, sql)
      const clock = Context.get(fiber.currentDefaultServices, Clock.Clock)
      const start = clock.unsafeCurrentTimeNanos()
      const context = fiber.currentContext
      const labels = fiber.getFiberRef(FiberRef.currentMetricLabels)
      return Effect.onExit(
        Effect.zipRight(FiberRef.set(FiberRef.currentContext, Context.add(context, Tracer.ParentSpan, span)), self),
        (exit) => {
          record(span, metricsByOperation[operation], exit, labels, clock, start)
          return FiberRef.set(FiberRef.currentContext, context)
        }
      )
    }))

/**
 * A stream as a span of kind client named `SqlClient.stream`, open for the stream's whole life (submit, every
 * fetch, until it ends, fails or its consumer stops), a child of the span the stream runs in; counted and
 * timed in `SqlMetrics` when it ends.
 */
export const stream = <A, E, R>(self: Stream.Stream<A, E, R>, target: Target, sql: unknown): Stream.Stream<A, E, R> =>
  Stream.unwrapScoped(
    Effect.flatMap(Effect.makeSpanScoped(spanNames.stream, target.spanOptions), (span) => {
      describe(span, sql)
      return Effect.clockWith((clock) => {
        const start = clock.unsafeCurrentTimeNanos()
        // Added after the span's own finalizer, so it runs first: the span ends with its error.type set.
        return Effect.as(
          Effect.addFinalizer((exit) => finish(span, metricsByOperation.stream, exit, clock, start)),
          Stream.provideService(self, Tracer.ParentSpan, span)
        )
      })
    })
  )

/** `error.type` on the span when `self` fails. */
const spanned = <A, E, R>(self: Effect.Effect<A, E, R>, name: string, options: Tracer.SpanOptions) =>
  Effect.useSpan(name, options, (span) =>
    Effect.withParentSpan(self, span).pipe(
      Effect.onError((cause) => Effect.sync(() => span.attribute("error.type", errorType(cause))))
    ))

/** An OpenSession, as the span `SqlClient.openSession`; the session counts in `SqlMetrics.sessionsOpen`. */
export const openSession = <A, E, R>(open: Effect.Effect<A, E, R>, target: Target): Effect.Effect<A, E, R> =>
  spanned(Effect.tap(open, () => Metric.increment(Metrics.sessionsOpen)), spanNames.openSession, target.spanOptions)

/**
 * A CloseSession, as the span `SqlClient.closeSession`, the root of a trace of its own: a session is closed
 * long after the statement that opened it (idle, thrown away, or with the layer), and a pool's finalizer runs
 * with the fibers' state of its acquisition, which would make it a late child of that statement. The session
 * no longer counts in `SqlMetrics.sessionsOpen`, whether the warehouse heard the close or not (it is not the
 * client's any more).
 */
export const closeSession = <A, E, R>(close: Effect.Effect<A, E, R>, target: Target): Effect.Effect<A, E, R> =>
  spanned(
    Effect.ensuring(close, Metric.modify(Metrics.sessionsOpen, -1)),
    spanNames.closeSession,
    target.rootSpanOptions
  )

const retriesByReason: Record<RetryPolicy.Reason, Metric.Metric.Counter<number>> = {
  session: Metric.tagged(Metrics.retries, "reason", "session"),
  token: Metric.tagged(Metrics.retries, "reason", "token"),
  link_expired: Metric.tagged(Metrics.retries, "reason", "link_expired"),
  warehouse: Metric.tagged(Metrics.retries, "reason", "warehouse"),
  rate_limit: Metric.tagged(Metrics.retries, "reason", "rate_limit"),
  timeout: Metric.tagged(Metrics.retries, "reason", "timeout"),
  network: Metric.tagged(Metrics.retries, "reason", "network")
}

/**
 * A retry schedule whose every decision to go on is counted in `SqlMetrics.retries` and is an event `retry`
 * on the current span, with `retry.reason`, `error.type` and `retry.delay_ms` (the wait before the next
 * attempt). The schedule decides as before: this only observes its decisions, on the failure path.
 */
export const observeRetries = <F extends RetryPolicy.Failure>(
  schedule: Schedule.Schedule<F, F>
): Schedule.Schedule<F, F> =>
  Schedule.onDecision(schedule, (failure, decision) =>
    decision._tag === "Done" ? Effect.void : Effect.gen(function*() {
      const reason = RetryPolicy.reason(failure)
      yield* Metric.increment(retriesByReason[reason])
      const span = yield* Effect.option(Effect.currentSpan)
      if (span._tag === "None") return
      const now = yield* Effect.clockWith((clock) => Effect.succeed(clock.unsafeCurrentTimeNanos()))
      const wait = Math.max(0, ScheduleIntervals.start(decision.intervals) - Number(now / 1_000_000n))
      span.value.event("retry", now, {
        "retry.reason": reason,
        "error.type": failure.error._tag,
        "retry.delay_ms": wait
      })
    }))
