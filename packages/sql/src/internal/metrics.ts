/**
 * The metrics of `SqlMetrics`, and how the client updates them cheaply.
 *
 * A metric's state is found in Effect's registry by its key (name, type, description and tags, in order).
 * `Metric.tagged` twice, or `Metric.timer`'s own tag, rebuild the tags array on every update, and each new
 * array is a registry lookup (building and hashing a key); the registry's cache is keyed by the array itself.
 * `withTags` keeps one array per set of fiber labels, so an update is a cache hit.
 *
 * @internal
 */
import * as Arr from "effect/Array"
import * as Duration from "effect/Duration"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import type * as MetricKeyType from "effect/MetricKeyType"
import * as MetricLabel from "effect/MetricLabel"
import type * as MetricState from "effect/MetricState"

export const statements = Metric.counter("databricks.sql.statements", {
  description: "Statements run by a SqlClient, by operation and outcome (error.type on a failure)",
  incremental: true
})

const durationName = "databricks.sql.statement.duration"
const durationDescription = "How long SqlClient statements take, retries included, by operation"
// One boundaries value for both metrics below: Effect compares histogram keys' boundaries by reference, so two
// equal lists built apart would be two metrics.
const durationBoundaries = MetricBoundaries.fromIterable([
  1,
  2,
  5,
  10,
  25,
  50,
  100,
  250,
  500,
  1_000,
  2_500,
  5_000,
  10_000,
  30_000,
  60_000,
  300_000,
  900_000
])

/** The histogram under `statementDuration` (the same key), in milliseconds; its tags start with `time_unit`. */
export const statementDurationMillis = Metric.histogram(durationName, durationBoundaries, durationDescription)

/** As `Metric.timerWithBoundaries` makes it: milliseconds, tagged `time_unit`. */
export const statementDuration: Metric.Metric<
  MetricKeyType.MetricKeyType.Histogram,
  Duration.Duration,
  MetricState.MetricState.Histogram
> = statementDurationMillis.pipe(
  Metric.tagged("time_unit", "milliseconds"),
  Metric.mapInput(Duration.toMillis)
)

/** `statementDuration`'s own tag, first in its tags. */
export const millisecondsTag = MetricLabel.make("time_unit", "milliseconds")

export const retries = Metric.counter("databricks.sql.retries", {
  description: "Calls a SqlClient sent again under its RetryPolicy, by reason",
  incremental: true
})

export const sessionsOpen = Metric.gauge("databricks.sql.sessions.open", {
  description: "Sessions SqlClients hold open on the warehouse"
})

/**
 * An update of `metric` with `tags`, then the fiber's metric labels (`Effect.tagMetrics`): the key
 * `Metric.tagged` in that order, then `Metric.update`, would record into. `metric` must be an untagged
 * metric (`Metric.counter`, `Metric.histogram`, ...), whose registry cache is keyed by the tags array.
 */
export const withTags = <Type, In, Out>(
  metric: Metric.Metric<Type, In, Out>,
  tags: ReadonlyArray<MetricLabel.MetricLabel>
) => {
  const byLabels = new WeakMap<ReadonlyArray<MetricLabel.MetricLabel>, ReadonlyArray<MetricLabel.MetricLabel>>()
  return (input: In, labels: ReadonlyArray<MetricLabel.MetricLabel>): void => {
    if (labels.length === 0) return metric.unsafeUpdate(input, tags)
    let all = byLabels.get(labels)
    if (all === undefined) {
      all = Arr.union(tags, labels)
      byLabels.set(labels, all)
    }
    metric.unsafeUpdate(input, all)
  }
}
