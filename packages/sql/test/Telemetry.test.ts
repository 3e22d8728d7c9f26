// Spans and metrics of SqlClient, exported through @effect/opentelemetry to an in-memory exporter, on the Emulator.
import { TokenSource } from "@effect-databricks/auth"
import { AuthMetrics } from "@effect-databricks/auth"
import { SqlClient, SqlMetrics } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { NodeSdk } from "@effect/opentelemetry"
import { assert, describe, it } from "@effect/vitest"
import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Chunk, Effect, Layer, Metric, Redacted, Stream } from "effect"
import { type Credential, withClient, withEmulator } from "./utils.js"

const client = SqlClient.SqlClient

/**
 * Runs `body` under an OpenTelemetry tracer whose spans go to an in-memory exporter, and hands back the spans
 * exported by the end of `body` (read before the SDK shuts down, which empties the exporter).
 */
const traced = <A, E, R>(body: Effect.Effect<A, E, R>) => {
  const exporter = new InMemorySpanExporter()
  return Effect.map(
    body,
    (result) => ({ result, spans: exporter.getFinishedSpans() as ReadonlyArray<ReadableSpan> })
  ).pipe(Effect.provide(NodeSdk.layer(() => ({ spanProcessor: new SimpleSpanProcessor(exporter) }))))
}

/**
 * A token source that fetches (so `TokenSource.fetch` spans happen), handing out a PAT registered on the
 * emulator: its value is known, for the secret scan. Each test has its own auth type: metrics are global.
 */
const fetching = (token: string, authType: string): Credential => () =>
  Layer.scoped(
    TokenSource.TokenSource,
    TokenSource.make(Effect.succeed({ value: Redacted.make(token), expiresIn: "1 hour" }), { authType })
  )

const named = (spans: ReadonlyArray<ReadableSpan>, name: string) => spans.filter((span) => span.name === name)
const one = (spans: ReadonlyArray<ReadableSpan>, name: string) => {
  const found = named(spans, name)
  assert.strictEqual(found.length, 1, `one ${name} span: ${spans.map((span) => span.name).join(", ")}`)
  return found[0]!
}
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId
const idOf = (span: ReadableSpan) => span.spanContext().spanId

/**
 * Metrics are global and the tests run concurrently: each test's metrics carry a tag of its own, added by
 * `Effect.tagMetrics` after the metric's own tags. A metric's identity includes the order of its tags, so
 * they are read in the order they are recorded: the metric's, then the test's.
 */
const isolated = (test: string) => Effect.tagMetrics("telemetry_test", test)
const count = (
  metric: Metric.Metric.Counter<number>,
  test: string,
  tags: Readonly<Record<string, string>>
) => {
  let tagged = metric
  for (const [key, value] of Object.entries(tags)) tagged = Metric.tagged(tagged, key, value)
  return Effect.map(Metric.value(Metric.tagged(tagged, "telemetry_test", test)), (state) => state.count)
}
const gauge = (test: string) =>
  Effect.map(Metric.value(Metric.tagged(SqlMetrics.sessionsOpen, "telemetry_test", test)), (state) => state.value)
const durations = (test: string, operation: string) =>
  Effect.map(
    Metric.value(
      SqlMetrics.statementDuration.pipe(
        Metric.tagged("operation", operation),
        Metric.tagged("telemetry_test", test)
      )
    ),
    (state) => state.count
  )

describe("SqlClient telemetry", () => {
  it.scopedLive(
    "a query is a client span with the database attributes; its token fetch and session open are children",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const token = Redacted.value(yield* emulator.registerPat())
        const sql = "SELECT :marker AS marker"
        const { result, spans } = yield* traced(
          withClient(
            Effect.flatMap(client, (c) => c.query(sql, { marker: "a-parameter-value-7f3a" })),
            { catalog: "main", schema: "default" },
            fetching(token, "telemetry-attributes")
          )
        )
        assert.deepStrictEqual(result, [{ marker: "a-parameter-value-7f3a" }])
        const query = one(spans, "SqlClient.query")
        assert.strictEqual(query.kind, SpanKind.CLIENT)
        const url = new URL(emulator.host)
        assert.deepStrictEqual(query.attributes, {
          "db.system.name": "databricks",
          "db.query.text": sql,
          "db.operation.name": "SELECT",
          "server.address": url.hostname,
          "server.port": Number(url.port),
          "db.namespace": "main.default"
        })
        assert.strictEqual(query.status.code, SpanStatusCode.OK)

        // The statement needed a token and a session: both are its children.
        const fetch = one(spans, "TokenSource.fetch")
        assert.strictEqual(parentOf(fetch), idOf(query), "the token fetch is a child of the statement's span")
        assert.strictEqual(fetch.attributes["databricks.auth_type"], "telemetry-attributes")
        const open = one(spans, "SqlClient.openSession")
        assert.strictEqual(parentOf(open), idOf(query), "the session open is a child of the statement's span")
        assert.strictEqual(open.kind, SpanKind.CLIENT)
        assert.strictEqual(open.attributes["server.address"], url.hostname)
        assert.isUndefined(open.attributes["db.query.text"])
        // Closed with the layer, long after the statement: a trace of its own, not a late child of the statement.
        const close = one(spans, "SqlClient.closeSession")
        assert.strictEqual(close.status.code, SpanStatusCode.OK)
        assert.isUndefined(parentOf(close))

        // The parameter's value is bound, never in a span.
        for (const span of spans) assert.notInclude(JSON.stringify([span.attributes, span.events]), "7f3a")
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "a failed query: status error, error.type its tag, counted as a failure by tag",
    () =>
      Effect.gen(function*() {
        const test = "failed-query"
        const emulator = yield* Emulator.Emulator
        const token = Redacted.value(yield* emulator.registerPat())
        const { result: error, spans } = yield* traced(
          withClient(
            Effect.flatMap(client, (c) => Effect.flip(c.query("SELECT * FROM no_such_table"))),
            {},
            fetching(token, "telemetry-failed")
          )
        ).pipe(isolated(test))
        assert.strictEqual(error._tag, "QueryError")
        const query = one(spans, "SqlClient.query")
        assert.strictEqual(query.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(query.attributes["error.type"], "QueryError")
        assert.strictEqual(query.attributes["db.query.text"], "SELECT * FROM no_such_table")
        assert.strictEqual(
          yield* count(SqlMetrics.statements, test, {
            operation: "query",
            outcome: "failure",
            "error.type": "QueryError"
          }),
          1
        )
        assert.strictEqual(yield* count(SqlMetrics.statements, test, { operation: "query", outcome: "success" }), 0)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "a 503 on ExecuteStatement is a retry event (reason warehouse) on the statement's span, and counted",
    () =>
      Effect.gen(function*() {
        const test = "retry-503"
        const emulator = yield* Emulator.Emulator
        const token = Redacted.value(yield* emulator.registerPat())
        const { result, spans } = yield* traced(
          withClient(
            Effect.gen(function*() {
              const c = yield* client
              yield* emulator.faults.add({ target: "ExecuteStatement", status: 503, count: 1 })
              return yield* c.execute("SELECT 1 AS one", undefined, { idempotent: true })
            }),
            {},
            fetching(token, "telemetry-retry")
          )
        ).pipe(isolated(test))
        assert.deepStrictEqual(result.rows, [{ one: 1 }])
        assert.strictEqual((yield* emulator.stats).rpc.ExecuteStatement, 2, "the 503, then the retry")
        const execute = one(spans, "SqlClient.execute")
        assert.strictEqual(execute.status.code, SpanStatusCode.OK)
        const retries = execute.events.filter((event) => event.name === "retry")
        assert.strictEqual(retries.length, 1)
        assert.strictEqual(retries[0]!.attributes?.["retry.reason"], "warehouse")
        assert.strictEqual(retries[0]!.attributes?.["error.type"], "WarehouseError")
        assert.isNumber(retries[0]!.attributes?.["retry.delay_ms"])
        assert.strictEqual(yield* count(SqlMetrics.retries, test, { reason: "warehouse" }), 1)
        assert.strictEqual(yield* count(SqlMetrics.statements, test, { operation: "execute", outcome: "success" }), 1)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "an expired-token 403: a retry (reason token), and the new token's fetch is a child of the statement",
    () =>
      Effect.gen(function*() {
        const test = "retry-token"
        const authType = "telemetry-token-retry"
        const emulator = yield* Emulator.Emulator
        const token = Redacted.value(yield* emulator.registerPat())
        const { spans } = yield* traced(
          withClient(
            Effect.gen(function*() {
              const c = yield* client
              yield* c.query("SELECT 1 AS warm")
              yield* emulator.faults.add({
                target: "ExecuteStatement",
                status: 403,
                body: "{\"error_code\":\"PERMISSION_DENIED\",\"message\":\"Invalid access token.\"}"
              })
              return yield* c.query("SELECT 'after refresh' AS marker")
            }),
            {},
            fetching(token, authType)
          )
        ).pipe(isolated(test))
        const refreshed = named(spans, "SqlClient.query").find((span) =>
          span.attributes["db.query.text"] === "SELECT 'after refresh' AS marker"
        )!
        const retry = refreshed.events.find((event) => event.name === "retry")
        assert.strictEqual(retry?.attributes?.["retry.reason"], "token")
        const fetches = named(spans, "TokenSource.fetch")
        assert.strictEqual(fetches.length, 2, "the first token, then the refresh")
        assert.strictEqual(parentOf(fetches[1]!), idOf(refreshed), "the refresh is a child of the statement's span")
        assert.strictEqual(yield* count(SqlMetrics.retries, test, { reason: "token" }), 1)
        assert.strictEqual(yield* count(AuthMetrics.tokenFetches, test, { auth_type: authType, outcome: "success" }), 2)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "a stream is one client span for its whole life; a failed stream's span is an error",
    () =>
      Effect.gen(function*() {
        const test = "stream"
        const emulator = yield* Emulator.Emulator
        const token = Redacted.value(yield* emulator.registerPat())
        const { result, spans } = yield* traced(
          withClient(
            Effect.gen(function*() {
              const c = yield* client
              // The consumer's spans run while the stream is open: the stream's span must outlast every one.
              const rows = yield* c.stream("SELECT id FROM range(5)", undefined, { chunkSize: 2 }).pipe(
                Stream.tap(() => Effect.void.pipe(Effect.withSpan("consumer"))),
                Stream.runCollect
              )
              const failed = yield* Effect.flip(Stream.runDrain(c.stream("SELECT * FROM no_such_table")))
              return { rows: Chunk.size(rows), failed }
            }),
            {},
            fetching(token, "telemetry-stream")
          )
        ).pipe(isolated(test))
        assert.strictEqual(result.rows, 5)
        assert.strictEqual(result.failed._tag, "QueryError")
        const [ok, failed] = named(spans, "SqlClient.stream")
        assert.isDefined(failed)
        assert.strictEqual(ok!.kind, SpanKind.CLIENT)
        assert.strictEqual(ok!.attributes["db.query.text"], "SELECT id FROM range(5)")
        assert.strictEqual(ok!.attributes["db.operation.name"], "SELECT")
        assert.strictEqual(ok!.status.code, SpanStatusCode.OK)
        const nanos = (time: readonly [number, number]) => BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])
        const consumers = named(spans, "consumer")
        assert.strictEqual(consumers.length, 5)
        for (const consumer of consumers) {
          assert.isTrue(
            nanos(consumer.endTime) <= nanos(ok!.endTime),
            "a row was consumed after the stream's span ended"
          )
        }
        assert.strictEqual(failed!.status.code, SpanStatusCode.ERROR)
        assert.strictEqual(failed!.attributes["error.type"], "QueryError")
        assert.strictEqual(yield* count(SqlMetrics.statements, test, { operation: "stream", outcome: "success" }), 1)
        assert.strictEqual(
          yield* count(SqlMetrics.statements, test, {
            operation: "stream",
            outcome: "failure",
            "error.type": "QueryError"
          }),
          1
        )
        assert.strictEqual(yield* durations(test, "stream"), 2)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "metrics: statements by outcome, durations, sessions open up then back to 0, token fetches",
    () =>
      Effect.gen(function*() {
        const test = "metrics"
        const authType = "telemetry-metrics"
        const emulator = yield* Emulator.Emulator
        const token = Redacted.value(yield* emulator.registerPat())
        const during = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            yield* c.query("SELECT 1")
            yield* c.query("SELECT 2")
            yield* c.execute("SELECT 3")
            yield* Effect.flip(c.execute("SELECT * FROM no_such_table"))
            // Two sessions at once: each statement holds one until it has its rows.
            yield* Effect.all([c.query("SELECT 4"), c.query("SELECT 5")], { concurrency: 2 })
            return yield* gauge(test)
          }),
          {},
          fetching(token, authType)
        ).pipe(isolated(test))
        assert.isAtLeast(during, 1, "sessions open while the client is up")
        assert.isAtMost(during, 2)
        assert.strictEqual(yield* gauge(test), 0, "every session closed with the layer")
        assert.strictEqual(yield* count(SqlMetrics.statements, test, { operation: "query", outcome: "success" }), 4)
        assert.strictEqual(yield* count(SqlMetrics.statements, test, { operation: "execute", outcome: "success" }), 1)
        assert.strictEqual(
          yield* count(SqlMetrics.statements, test, {
            operation: "execute",
            outcome: "failure",
            "error.type": "QueryError"
          }),
          1
        )
        assert.strictEqual(yield* durations(test, "query"), 4)
        assert.strictEqual(yield* durations(test, "execute"), 2)
        assert.strictEqual(yield* count(SqlMetrics.retries, test, { reason: "warehouse" }), 0)
        assert.strictEqual(yield* count(AuthMetrics.tokenFetches, test, { auth_type: authType, outcome: "success" }), 1)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )

  it.scopedLive(
    "no token, PAT or parameter value in any exported span's attributes, events or status",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const token = Redacted.value(yield* emulator.registerPat())
        const { spans } = yield* traced(
          withClient(
            Effect.gen(function*() {
              const c = yield* client
              yield* c.query("SELECT :secret AS s", { secret: "param-d41d8cd9" })
              yield* Effect.flip(c.query("SELECT * FROM no_such_table WHERE x = :v", { v: "param-d41d8cd9" }))
              yield* emulator.faults.add({ target: "ExecuteStatement", status: 503, count: 1 })
              yield* c.query("SELECT 2")
              yield* emulator.faults.add({ target: "ExecuteStatement", reset: "after" })
              yield* Effect.flip(c.execute("SELECT 3"))
              yield* emulator.faults.add({
                target: "ExecuteStatement",
                status: 403,
                body: "{\"error_code\":\"PERMISSION_DENIED\",\"message\":\"Invalid access token.\"}"
              })
              yield* c.query("SELECT 4")
              yield* Stream.runDrain(c.stream("SELECT id FROM range(3)"))
            }),
            { retry: { base: "10 millis", maxDelay: "20 millis", maxAttempts: 3 } },
            fetching(token, "telemetry-secrets")
          )
        )
        assert.isAbove(spans.length, 8)
        const texts = spans.map((span) =>
          JSON.stringify({
            name: span.name,
            attributes: span.attributes,
            events: span.events,
            status: span.status,
            resource: span.resource.attributes
          })
        )
        for (const text of texts) {
          assert.notInclude(text, token)
          assert.notInclude(text, Redacted.value(emulator.pat))
          assert.notInclude(text, "param-d41d8cd9")
        }
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )
})

describe("SqlClient telemetry, the operation name", () => {
  it.scopedLive(
    "db.operation.name is the first keyword, past blanks, parentheses and comments",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const token = Redacted.value(yield* emulator.registerPat())
        const statements = [
          ["  select 1", "SELECT"],
          ["-- a comment\n/* another */ (SELECT 1)", "SELECT"],
          ["\n\tWITH t AS (SELECT 1 AS x) SELECT x FROM t", "WITH"],
          ["VALUES (1)", "VALUES"]
        ] as const
        const { spans } = yield* traced(
          withClient(
            Effect.flatMap(client, (c) => Effect.forEach(statements, ([sql]) => c.query(sql))),
            {},
            fetching(token, "telemetry-operation-name")
          )
        )
        const queries = named(spans, "SqlClient.query")
        for (const [sql, name] of statements) {
          const span = queries.find((span) => span.attributes["db.query.text"] === sql)
          assert.strictEqual(span?.attributes["db.operation.name"], name, sql)
        }
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 30_000 }
  )
})
