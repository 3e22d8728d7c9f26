/**
 * The metrics a `SqlClient` records, as `effect/Metric` values: read them with
 * `Metric.value` (add the tags you want with `Metric.tagged`), or export them
 * all with `@effect/opentelemetry` (`NodeSdk.layer({ metricReader })`), which
 * reads Effect's metric registry.
 *
 * Every client in the process records into the same metrics (a metric is
 * keyed by its name and tags). To tell clients apart, run them under
 * `Effect.tagMetrics("client", "reporting")`: the tag is added to every
 * metric they record.
 *
 * Nothing recorded here holds a parameter value, a token or any text of the
 * statement: the tags are the fixed words listed on each metric, and an
 * error's `_tag`.
 *
 * @since 0.3.0
 */
import type * as Duration from "effect/Duration"
import type * as Metric from "effect/Metric"
import type * as MetricKeyType from "effect/MetricKeyType"
import type * as MetricState from "effect/MetricState"
import * as internal from "./internal/metrics.js"

/**
 * Statements run, by how they ended.
 *
 * - name: `databricks.sql.statements`
 * - kind: counter (monotonic; an OpenTelemetry `Counter`), unit 1
 * - tags: `operation` (`query`, `execute` or `stream`; `querySchema` counts as
 *   `query`), `outcome` (`success` or `failure`) and, on a failure only,
 *   `error.type`: the tagged error's `_tag` (`QueryError`, `TimeoutError`, …)
 *
 * A call counts once, however many times it was retried (see `retries`); a
 * stream counts when it ends. An interrupted call counts as a `failure` with
 * `error.type` `Interrupted`, and a defect (a bug) with `error.type` `Defect`.
 *
 * @example
 * ```ts
 * import { SqlMetrics } from "@effect-databricks/sql"
 * import { Effect, Metric } from "effect"
 *
 * const failedQueries = Metric.value(
 *   SqlMetrics.statements.pipe(
 *     Metric.tagged("operation", "query"),
 *     Metric.tagged("outcome", "failure"),
 *     Metric.tagged("error.type", "QueryError")
 *   )
 * ).pipe(Effect.map((state) => state.count))
 * ```
 *
 * @since 0.3.0
 * @category metrics
 */
export const statements: Metric.Metric.Counter<number> = internal.statements

/**
 * How long statements take, from the call to its last row (a stream: until
 * it ends), retries and waits for a session included.
 *
 * - name: `databricks.sql.statement.duration`
 * - kind: timer (a histogram of `Duration`s; an OpenTelemetry `Histogram`),
 *   unit milliseconds (the tag `time_unit` says so, as on every Effect timer)
 * - tags: `operation` (`query`, `execute` or `stream`) and `time_unit`
 *   (`milliseconds`)
 * - buckets (ms): 1, 2, 5, 10, 25, 50, 100, 250, 500, 1 000, 2 500, 5 000,
 *   10 000, 30 000, 60 000, 300 000, 900 000
 *
 * Measured on the fiber's `Clock`, as Effect's timers are.
 *
 * @since 0.3.0
 * @category metrics
 */
export const statementDuration: Metric.Metric<
  MetricKeyType.MetricKeyType.Histogram,
  Duration.Duration,
  MetricState.MetricState.Histogram
> = internal.statementDuration

/**
 * Retries, by what caused them: each time `RetryPolicy` decided to send a
 * call again (the statement, or a status poll, result metadata, cancel or
 * close that is safe to repeat).
 *
 * - name: `databricks.sql.retries`
 * - kind: counter (monotonic), unit 1
 * - tags: `reason`, one of
 *   - `session`: the warehouse forgot the session; a fresh one is used
 *   - `token`: a 403 for an expired token; the token is refreshed
 *   - `link_expired`: a CloudFetch result file's link expired; the statement runs again
 *   - `warehouse`: the warehouse is starting or unavailable (502, 503, 504)
 *   - `rate_limit`: HTTP 429
 *   - `timeout`: a call got no answer within `timeouts.rpc`
 *   - `network`: the connection failed or was reset (and any other transient failure)
 *
 * The statement's span gets an event `retry` with the same `retry.reason`.
 *
 * @since 0.3.0
 * @category metrics
 */
export const retries: Metric.Metric.Counter<number> = internal.retries

/**
 * Sessions open on the warehouse now: up by one when a pooled (or reserved)
 * session opens, down by one when it is closed or thrown away.
 *
 * - name: `databricks.sql.sessions.open`
 * - kind: gauge (an OpenTelemetry `ObservableGauge`), unit 1
 * - tags: none
 *
 * Zero once every client's layer has closed.
 *
 * @since 0.3.0
 * @category metrics
 */
export const sessionsOpen: Metric.Metric.Gauge<number> = internal.sessionsOpen
