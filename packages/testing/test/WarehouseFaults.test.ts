import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import { connect, query, queryPromise, rejection } from "./driver.js"
import { send } from "./utils.js"

const withEmulator = (options?: Emulator.Options) => Layer.provideMerge(Emulator.httpClient, Emulator.layer(options))
const stats = Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))
const addFault = (fault: Emulator.Fault) => Effect.flatMap(Emulator.Emulator, (e) => e.faults.add(fault))
const pause = (millis: number) => Effect.promise(() => new Promise((resolve) => setTimeout(resolve, millis)))

describe("SQL warehouse faults, as the real driver sees them", () => {
  it.scopedLive("401 on OpenSession for an unknown token; 403 once a token has expired", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const unknown = yield* connect({ token: "dapi-not-a-token" })
      const refused = (yield* rejection(() => unknown.client.openSession())) as any
      assert.strictEqual(refused?.statusCode, 401)

      const shortLived = yield* emulator.registerPat({ lifetime: "1 second" })
      const expiring = yield* connect({ token: shortLived })
      const session = yield* Effect.promise(() => expiring.client.openSession())
      yield* pause(1100)
      const expired = (yield* rejection(() => session.executeStatement("SELECT 1"))) as any
      assert.strictEqual(expired?.statusCode, 403)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("429 (with Retry-After) and 503 on OpenSession/ExecuteStatement are not retried by the driver", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      yield* addFault({ target: "OpenSession", status: 503, body: "{\"error_code\":\"TEMPORARILY_UNAVAILABLE\"}" })
      const unavailable = (yield* rejection(() => client.openSession())) as any
      assert.strictEqual(unavailable?.statusCode, 503)

      const session = yield* Effect.promise(() => client.openSession())
      yield* addFault({ target: "ExecuteStatement", status: 429, headers: { "retry-after": "3" } })
      const limited = (yield* rejection(() => session.executeStatement("SELECT 1"))) as any
      assert.strictEqual(limited?.statusCode, 429)
      assert.strictEqual((yield* stats).rpc.ExecuteStatement, 1)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("500 on FetchResults surfaces as a THTTPException", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      yield* addFault({ target: "FetchResults", status: 500 })
      const error = (yield* rejection(() => queryPromise(client, "SELECT * FROM range(10)", { maxRows: 2 }))) as any
      assert.strictEqual(error?.statusCode, 500)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("503 on GetOperationStatus is retried by the driver; exhaustion says 'Max retry count exceeded'", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      yield* addFault({ target: "GetOperationStatus", status: 503, count: 2 })
      assert.deepStrictEqual(yield* query(client, "SELECT 7 AS x /* emulator:sleep=400 */"), [{ x: 7 }])
      assert.isAtLeast((yield* stats).rpc.GetOperationStatus, 3)

      yield* addFault({ target: "GetOperationStatus", status: 503, count: 20 })
      const exhausted = (yield* rejection(() => queryPromise(client, "SELECT 8 /* emulator:sleep=400 */"))) as any
      assert.match(String(exhausted?.message), /503 when connecting to resource\. Max retry count exceeded/)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a reset after ExecuteStatement loses the answer but the statement ran exactly once; before, it never ran", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const session = yield* Effect.promise(() => client.openSession())
      yield* addFault({ target: "ExecuteStatement", reset: "after" })
      const lost = (yield* rejection(() => session.executeStatement("SELECT 'after' AS marker"))) as any
      assert.match(String(lost?.message ?? lost?.code), /socket hang up|ECONNRESET|other side closed/i)
      yield* addFault({ target: "ExecuteStatement", reset: "before" })
      const dropped = (yield* rejection(() => session.executeStatement("SELECT 'before' AS marker"))) as any
      assert.isDefined(dropped)
      const texts = (yield* stats).statements.map((s) => s.text)
      assert.deepStrictEqual(texts.filter((t) => t.includes("'after'")).length, 1)
      assert.deepStrictEqual(texts.filter((t) => t.includes("'before'")).length, 0)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a delay is a delay; an empty HTTP 200 makes the driver wait forever", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const session = yield* Effect.promise(() => client.openSession())
      yield* addFault({ target: "ExecuteStatement", delayMs: 300 })
      const started = Date.now()
      yield* Effect.promise(() => session.executeStatement("SELECT 1").then((op) => op.fetchAll()))
      assert.isAtLeast(Date.now() - started, 290)

      yield* addFault({ target: "ExecuteStatement", emptyBody: true })
      let settled = false
      session.executeStatement("SELECT 2").then(() => (settled = true), () => (settled = true))
      yield* pause(1500)
      assert.isFalse(settled, "the driver answered an empty 200; the reference says it hangs")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("warehouse starting: every RPC gets 503 until the time has passed", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      yield* addFault({ target: "warehouse", startingMs: 500 })
      const starting = (yield* rejection(() => client.openSession())) as any
      assert.strictEqual(starting?.statusCode, 503)
      yield* pause(600)
      assert.deepStrictEqual(yield* query(client, "SELECT 1 AS up"), [{ up: 1 }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("session expiry: the next call on a forgotten session is an invalid handle", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const session = yield* Effect.promise(() => client.openSession())
      yield* addFault({ target: "warehouse", expireSessions: true })
      assert.strictEqual((yield* stats).openSessions, 0)
      const error = (yield* rejection(() => session.executeStatement("SELECT 1"))) as any
      assert.include(String(error?.message), "Invalid SessionHandle")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive(
    "forgetting a session while DuckDB runs its statement does not bring the emulator down",
    () =>
      Effect.gen(function*() {
        const { client } = yield* connect()
        const session = yield* Effect.promise(() => client.openSession())
        // Still running when ExecuteStatement answers (after its 250 ms direct-results wait).
        yield* Effect.promise(() =>
          session.executeStatement("SELECT sum(a.range * b.range) AS s FROM range(30000) a, range(30000) b")
        )
        assert.strictEqual((yield* stats).statements.at(-1)?.state, "RUNNING")
        yield* addFault({ target: "warehouse", expireSessions: true })
        yield* pause(300)
        assert.strictEqual((yield* stats).openSessions, 0)
        assert.deepStrictEqual(yield* query(client, "SELECT 1 AS up"), [{ up: 1 }])
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 60_000 }
  )

  it.scopedLive("the admin API takes RPC and warehouse faults, seeds SQL and reports the warehouse stats", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const admin = (path: string, body?: unknown) =>
        send(
          (body === undefined
            ? HttpClientRequest.get(`${emulator.host}/__emulator/${path}`)
            : HttpClientRequest.post(`${emulator.host}/__emulator/${path}`).pipe(
              HttpClientRequest.bodyUnsafeJson(body)
            )).pipe(
              HttpClientRequest.bearerToken(Redacted.value(emulator.adminToken))
            )
        )
      const seeded = yield* admin("sql", { sql: "CREATE TABLE t AS SELECT range AS id FROM range(3)" })
      assert.strictEqual(seeded.status, 200)
      assert.deepStrictEqual((yield* admin("sql", { sql: "SELECT count(*) AS n FROM t" })).body, { rows: [{ n: "3" }] })
      assert.strictEqual((yield* admin("sql", { sql: "SELECT * FROM nope" })).status, 400)
      assert.strictEqual((yield* admin("faults", { target: "OpenSession", status: 429 })).status, 200)
      assert.strictEqual((yield* admin("faults", { target: "warehouse" })).status, 400)
      const { client } = yield* connect()
      const limited = (yield* rejection(() => client.openSession())) as any
      assert.strictEqual(limited?.statusCode, 429)
      assert.deepStrictEqual(yield* query(client, "SELECT count(*) AS n FROM t"), [{ n: 3 }])
      const report = (yield* admin("stats")).body
      assert.strictEqual(report.rpc.OpenSession, 2)
      assert.strictEqual(report.openSessions, 0)
      assert.strictEqual(report.openOperations, 0)
      assert.deepStrictEqual(report.statements.map((s: { text: string }) => s.text), ["SELECT count(*) AS n FROM t"])
      assert.strictEqual(report.statements[0].principal, emulator.user.userName)
    }).pipe(Effect.provide(withEmulator())))
})
