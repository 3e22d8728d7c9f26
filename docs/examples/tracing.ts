// Type-checked by `pnpm check`, run by docs/test/tracing.test.ts. SqlClient's spans and metrics, exported with
// @effect/opentelemetry: here to in-memory exporters, on the emulator, printed as a tree; in production to OTLP.
import { LocalM2M } from "@effect-databricks/auth"
import { SqlClient, SqlMetrics } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { NodeSdk, Otlp } from "@effect/opentelemetry"
import { NodeHttpClient } from "@effect/platform-node"
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Config, Console, Effect, Layer, Metric } from "effect"

// #region otlp
// In production: spans, metrics and logs to an OpenTelemetry collector over OTLP/HTTP, with no OpenTelemetry SDK.
export const OtlpObservability = Layer.unwrapEffect(
  Effect.map(
    Config.string("OTEL_EXPORTER_OTLP_ENDPOINT").pipe(Config.withDefault("http://localhost:4318")),
    (baseUrl) => Otlp.layerJson({ baseUrl, resource: { serviceName: "trips-report" } })
  )
).pipe(Layer.provide(NodeHttpClient.layerUndici))
// #endregion

// #region read
// Read in code: how many queries failed with a QueryError so far.
export const failedQueries = Metric.value(
  SqlMetrics.statements.pipe(
    Metric.tagged("operation", "query"),
    Metric.tagged("outcome", "failure"),
    Metric.tagged("error.type", "QueryError")
  )
).pipe(Effect.map((state) => state.count))
// #endregion

// The emulator plays the workspace; the client authenticates as its service principal (OAuth M2M), so the
// first statement fetches a token.
const Databricks = Layer.unwrapEffect(
  Effect.map(Emulator.Emulator, (emulator) =>
    SqlClient.layer({
      host: emulator.host,
      httpPath: emulator.httpPath,
      caCert: emulator.caCertPem,
      catalog: "samples",
      schema: "nyctaxi",
      retry: { base: "20 millis" }
    }).pipe(
      Layer.provide(
        LocalM2M.layer({
          host: emulator.host,
          clientId: emulator.servicePrincipal.clientId,
          clientSecret: emulator.servicePrincipal.clientSecret
        })
      ),
      Layer.provide(Emulator.httpClient)
    ))
)

const report = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const emulator = yield* Emulator.Emulator
  // The warehouse answers the first ExecuteStatement with a 503, as one that is starting does: one retry.
  yield* emulator.faults.add({ target: "ExecuteStatement", status: 503, count: 1 })
  const rows = yield* sql.query("SELECT count(*) AS trips FROM trips WHERE fare_amount > :min", { min: 10 })
  yield* Effect.flip(sql.query("SELECT * FROM no_such_table"))
  return rows
}).pipe(Effect.withSpan("report"), Effect.provide(Databricks))

/** What a span says in the tree: its kind, then the attributes worth reading there. */
const describe = (span: ReadableSpan) => {
  const shown = ["db.operation.name", "db.namespace", "databricks.auth_type", "error.type"]
    .filter((key) => span.attributes[key] !== undefined)
    .map((key) => `${key}=${span.attributes[key]}`)
  return [span.name, span.kind === 2 ? "(client)" : "", ...shown].filter((part) => part !== "").join(" ")
}

/** The spans as a tree, children under their parent in the order they started; retries as `· retry` lines. */
const tree = (spans: ReadonlyArray<ReadableSpan>) => {
  const ids = new Set(spans.map((span) => span.spanContext().spanId))
  const children = (parent: string | undefined) =>
    spans
      .filter((span) => {
        const id = span.parentSpanContext?.spanId
        return parent === undefined ? id === undefined || !ids.has(id) : id === parent
      })
      .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
  const lines: Array<string> = []
  const walk = (span: ReadableSpan, depth: number) => {
    lines.push(`${"  ".repeat(depth)}${describe(span)}`)
    for (const event of span.events.filter((event) => event.name === "retry")) {
      lines.push(`${"  ".repeat(depth + 1)}· retry reason=${event.attributes?.["retry.reason"]}`)
    }
    for (const child of children(span.spanContext().spanId)) walk(child, depth + 1)
  }
  for (const root of children(undefined)) walk(root, 0)
  return lines.join("\n")
}

export const program = Effect.suspend(() => {
  // #region sdk
  // In memory, for this example and tests; in production use OTLP (above) or the SDK's exporters here.
  const spanExporter = new InMemorySpanExporter()
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const metricReader = new PeriodicExportingMetricReader({ exporter: metricExporter })
  const Observability = NodeSdk.layer(() => ({
    resource: { serviceName: "trips-report" },
    spanProcessor: new SimpleSpanProcessor(spanExporter),
    metricReader
  }))
  // #endregion

  return Effect.gen(function*() {
    const rows = yield* report
    const spans = tree(spanExporter.getFinishedSpans())
    yield* Console.log(spans)

    // The metrics, as the reader exports them (here on demand; a PeriodicExportingMetricReader also does it
    // every minute).
    yield* Effect.promise(() => metricReader.forceFlush())
    const points = metricExporter.getMetrics().flatMap((resource) =>
      resource.scopeMetrics.flatMap((scope) => scope.metrics)
    ).filter((metric) => metric.descriptor.name.startsWith("databricks."))
      .flatMap((metric) =>
        metric.dataPoints.map((point) => {
          const tags = Object.entries(point.attributes).map(([key, value]) => `${key}=${value}`).sort().join(",")
          const value = typeof point.value === "number" ? point.value : `${point.value.count} recorded`
          return `${metric.descriptor.name}{${tags}} ${value}`
        })
      )
      .sort()
    const metrics = points.join("\n")
    yield* Console.log(metrics)
    return { rows, spans, metrics }
  }).pipe(
    Effect.provide(Observability),
    // Outside the tracer: the emulator's own server spans are not the app's.
    Effect.provide(Emulator.layer({ samples: true }))
  )
})
