import { DBSQLClient } from "@databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, TestClock } from "effect"
import { query } from "./driver.js"
import { emulatorLayer, machineToken, send } from "./utils.js"

/** `GET /api/2.0/sql/warehouses[/{id}]`, with a bearer token unless `token` is `undefined`. */
const warehouses = (path: string, token: string | undefined) =>
  Effect.flatMap(Emulator.Emulator, (emulator) => {
    const request = HttpClientRequest.get(`${emulator.host}/api/2.0/sql/warehouses${path}`)
    return send(token === undefined ? request : HttpClientRequest.bearerToken(request, token))
  })

/** The warehouse id in the emulator's `httpPath` (`/sql/1.0/warehouses/<id>`). */
const warehouseId = (emulator: Emulator.Emulator) => emulator.httpPath.split("/").at(-1)!

describe("SQL Warehouses API", () => {
  it.scoped("lists the one warehouse, RUNNING, with the http path's id and ODBC parameters that reach it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const pat = Redacted.value(emulator.pat)
      const list = yield* warehouses("", pat)
      assert.strictEqual(list.status, 200)
      assert.lengthOf(list.body.warehouses, 1)
      const [warehouse] = list.body.warehouses
      const { hostname, port } = new URL(emulator.host)
      assert.strictEqual(warehouse.id, warehouseId(emulator))
      assert.strictEqual(warehouse.name, "Emulator Warehouse")
      assert.strictEqual(warehouse.state, "RUNNING")
      assert.deepStrictEqual(warehouse.odbc_params, {
        hostname,
        path: emulator.httpPath,
        protocol: "https",
        port: Number(port)
      })
      // The single-warehouse endpoint answers the same description.
      const one = yield* warehouses(`/${warehouse.id}`, pat)
      assert.strictEqual(one.status, 200)
      assert.deepStrictEqual(one.body, warehouse)
      // An OAuth token of a service principal is as good as a PAT.
      assert.strictEqual((yield* warehouses("", yield* machineToken)).status, 200)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scopedLive("its ODBC parameters are all the real driver needs to run a query", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const [{ odbc_params }] = (yield* warehouses("", Redacted.value(emulator.pat))).body.warehouses
      const client = new DBSQLClient({ logger: { log: () => undefined } as never })
      yield* Effect.acquireRelease(
        Effect.promise(() =>
          client.connect({
            host: odbc_params.hostname,
            port: odbc_params.port,
            path: odbc_params.path,
            token: Redacted.value(emulator.pat),
            customCaCert: Buffer.from(emulator.caCertPem),
            telemetryEnabled: false
          } as never)
        ),
        () => Effect.promise(() => client.close().catch(() => undefined))
      )
      assert.deepStrictEqual(yield* query(client, "SELECT 1 AS up"), [{ up: 1 }])
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("an unknown id is 404 RESOURCE_DOES_NOT_EXIST, after authentication", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const unknown = yield* warehouses("/0123456789abcdef", Redacted.value(emulator.pat))
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(unknown.body.error_code, "RESOURCE_DOES_NOT_EXIST")
      assert.include(unknown.body.message, "0123456789abcdef")
      assert.strictEqual((yield* warehouses("/0123456789abcdef", undefined)).status, 401)
    }).pipe(Effect.provide(emulatorLayer())))

  // 401 unknown / 403 expired: databricks-sql-python#407 (malformed token: 401), n8n-io/n8n#37854 and
  // databricks-vscode#583 (expired or expiring token: 403), in reference/user-asks.md. The body's error_code and
  // message are not documented; chosen by us (see authenticate in src/internal/emulator/workspace.ts).
  it.scoped("401 without a token or with an unknown one, 403 'Invalid access token' once a PAT has expired", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const id = warehouseId(emulator)
      for (const path of ["", `/${id}`]) {
        const missing = yield* warehouses(path, undefined)
        assert.strictEqual(missing.status, 401)
        assert.strictEqual(missing.body.error_code, "UNAUTHENTICATED")
        assert.strictEqual((yield* warehouses(path, "dapi0000not-a-token")).status, 401)
      }
      const shortLived = Redacted.value(yield* emulator.registerPat({ lifetime: "10 minutes" }))
      assert.strictEqual((yield* warehouses("", shortLived)).status, 200)
      yield* TestClock.adjust("11 minutes")
      const expired = yield* warehouses(`/${id}`, shortLived)
      assert.strictEqual(expired.status, 403)
      assert.deepStrictEqual(expired.body, { error_code: "PERMISSION_DENIED", message: "Invalid access token." })
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("STARTING while a warehouse startingMs fault lasts, then RUNNING", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const pat = Redacted.value(emulator.pat)
      yield* emulator.faults.add({ target: "warehouse", startingMs: 30_000 })
      const starting = yield* warehouses(`/${warehouseId(emulator)}`, pat)
      assert.strictEqual(starting.status, 200, "the REST API answers while the warehouse starts")
      assert.strictEqual(starting.body.state, "STARTING")
      yield* TestClock.adjust("30 seconds")
      assert.strictEqual((yield* warehouses("", pat)).body.warehouses[0].state, "RUNNING")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("faults target it as sql_warehouses, and the stats record its requests", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const pat = Redacted.value(emulator.pat)
      yield* emulator.faults.add({ target: "sql_warehouses", status: 503, count: 1 })
      assert.strictEqual((yield* warehouses("", pat)).status, 503)
      assert.strictEqual((yield* warehouses(`/${warehouseId(emulator)}`, pat)).status, 200)
      assert.strictEqual((yield* warehouses("", undefined)).status, 401)
      const stats = yield* emulator.stats
      assert.strictEqual(stats.requests.sql_warehouses, 3)
      assert.deepStrictEqual(stats.faultsInjected, { sql_warehouses: 1 })
      assert.deepStrictEqual(
        stats.recentRequests.map(({ endpoint, path, principal, status }) => ({ endpoint, path, principal, status })),
        [
          { endpoint: "sql_warehouses", path: "/api/2.0/sql/warehouses", principal: undefined, status: 503 },
          {
            endpoint: "sql_warehouses",
            path: `/api/2.0/sql/warehouses/${warehouseId(emulator)}`,
            principal: emulator.user.userName,
            status: 200
          },
          { endpoint: "sql_warehouses", path: "/api/2.0/sql/warehouses", principal: undefined, status: 401 }
        ]
      )
    }).pipe(Effect.provide(emulatorLayer())))
})
