import { DBSQLParameter, DBSQLParameterType } from "@databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { connect, query, queryPromise, rejection } from "./driver.js"
import { stats, withEmulator } from "./emulator.js"
import { send } from "./utils.js"

/** One row with every type Databricks has, and one with NULL in each. */
const everyType = `
  SELECT * FROM (VALUES
    (true, 1::TINYINT, 2::SMALLINT, 3::INT, 9007199254740993::BIGINT, 1.5::FLOAT, 2.25::DOUBLE,
     12345678901234567890.12::DECIMAL(22,2), 'text', '\\xAB\\xCD'::BLOB, DATE '2024-02-29',
     TIMESTAMP '2024-01-02 03:04:05.123456', [1, 2, 3], MAP {'a': 1, 'b': 2}, {'x': 1, 'y': 'z'}),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)
  ) AS t(b, ti, si, i, bi, f, d, dec, s, bin, dt, ts, arr, m, st)
`

describe("SQL warehouse, through the real driver", () => {
  it.scopedLive("answers SELECT 1 with one RPC (direct results), and current_user() is the caller", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { client } = yield* connect()
      const session = yield* Effect.promise(() => client.openSession())
      const one = yield* Effect.promise(async () => {
        const operation = await session.executeStatement("SELECT 1 AS one")
        const rows = await operation.fetchAll()
        await operation.close()
        return rows
      })
      assert.deepStrictEqual(one, [{ one: 1 }])
      assert.deepStrictEqual((yield* stats).rpc, { OpenSession: 1, ExecuteStatement: 1 })
      const who = yield* Effect.promise(async () => {
        const operation = await session.executeStatement("SELECT current_user() AS me, current_catalog() AS catalog")
        return operation.fetchAll()
      })
      assert.deepStrictEqual(who, [{ me: emulator.user.userName, catalog: "main" }])
      // The open session, by the id the statement log uses (direct results closed both statements).
      const open = yield* stats
      assert.strictEqual(open.sessions.length, 1)
      assert.strictEqual(open.sessions[0].id, session.id)
      assert.strictEqual(open.sessions[0].principal, emulator.user.userName)
      assert.strictEqual(open.sessions[0].openOperations, 0)
      assert.deepStrictEqual(open.statements.map((statement) => statement.sessionId), [session.id, session.id])
      yield* Effect.promise(() => session.close())
      const after = yield* stats
      assert.strictEqual(after.openSessions, 0)
      assert.strictEqual(after.openOperations, 0)
      assert.deepStrictEqual(after.sessions, [])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a service principal's OAuth token is its identity", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const token = yield* send(
        HttpClientRequest.post(`${emulator.host}/oidc/v1/token`).pipe(
          HttpClientRequest.basicAuth(
            emulator.servicePrincipal.clientId,
            Redacted.value(emulator.servicePrincipal.clientSecret)
          ),
          HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials" })
        )
      )
      const { client } = yield* connect({ token: token.body.access_token })
      assert.deepStrictEqual(yield* query(client, "SELECT current_user() AS me"), [{
        me: emulator.servicePrincipal.clientId
      }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("every type, with NULLs, over Arrow with exact BIGINT and DECIMAL", () =>
    Effect.gen(function*() {
      const { client } = yield* connect({ preserveBigNumericPrecision: true })
      const [row, nulls] = (yield* query(client, everyType)) as Array<Record<string, unknown>>
      assert.strictEqual(row.b, true)
      assert.strictEqual(row.ti, 1)
      assert.strictEqual(row.si, 2)
      assert.strictEqual(row.i, 3)
      assert.strictEqual(row.bi, 9007199254740993n)
      assert.strictEqual(row.f, 1.5)
      assert.strictEqual(row.d, 2.25)
      assert.strictEqual(row.dec, "12345678901234567890.12")
      assert.strictEqual(row.s, "text")
      assert.deepStrictEqual([...(row.bin as Uint8Array)], [0xab, 0xcd])
      assert.strictEqual(new Date(row.dt as never).toISOString().slice(0, 10), "2024-02-29")
      assert.strictEqual((row.ts as Date).toISOString(), "2024-01-02T03:04:05.123Z")
      assert.deepStrictEqual(row.arr, [1, 2, 3])
      assert.deepStrictEqual(row.m, { a: 1, b: 2 })
      assert.deepStrictEqual(row.st, { x: 1, y: "z" })
      for (const [name, value] of Object.entries(nulls)) assert.isNull(value, name)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("every type, with NULLs, over COLUMN_BASED_SET", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const [row, nulls] = (yield* query(client, everyType)) as Array<Record<string, unknown>>
      assert.strictEqual(row.b, true)
      assert.strictEqual(row.i, 3)
      // The driver's column path turns BIGINT into a JS number; beyond 2^53 node-int64 gives Infinity.
      assert.strictEqual(row.bi, Infinity)
      assert.deepStrictEqual(yield* query(client, "SELECT 9007199254740991::BIGINT AS safe"), [{
        safe: 9007199254740991
      }])
      assert.strictEqual(row.dec, 12345678901234567000)
      assert.strictEqual(row.s, "text")
      assert.strictEqual(row.dt, "2024-02-29")
      assert.strictEqual(row.ts, "2024-01-02 03:04:05.123456")
      assert.deepStrictEqual(row.arr, [1, 2, 3])
      assert.deepStrictEqual(row.m, { a: 1, b: 2 })
      assert.deepStrictEqual(row.st, { x: 1, y: "z" })
      for (const [name, value] of Object.entries(nulls)) assert.isNull(value, name)
    }).pipe(Effect.provide(withEmulator({ warehouse: { resultFormat: "columns" } }))))

  it.scopedLive("named and ordinal parameters bind as values, never as SQL", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE people (name STRING, born DATE)")
      yield* emulator.sql("INSERT INTO people VALUES ('ada', DATE '1815-12-10')")
      const { client } = yield* connect({ preserveBigNumericPrecision: true })
      const named = yield* query(
        client,
        "SELECT :n + 1 AS n, :s AS s, :big AS big, :flag AS flag, :d AS d, :missing AS missing",
        {
          namedParameters: {
            n: 41,
            s: "it's",
            big: 9007199254740993n,
            flag: true,
            d: new DBSQLParameter({ type: DBSQLParameterType.DATE, value: "2024-02-29" }),
            missing: null
          }
        }
      )
      assert.deepStrictEqual(named, [{
        n: 42,
        s: "it's",
        big: 9007199254740993n,
        flag: true,
        d: named[0] && (named[0] as any).d,
        missing: null
      }])
      assert.strictEqual(new Date((named[0] as any).d).toISOString().slice(0, 10), "2024-02-29")
      const ordinal = yield* query(client, "SELECT ? AS a, ? AS b", { ordinalParameters: [1, "two"] })
      assert.deepStrictEqual(ordinal, [{ a: 1, b: "two" }])
      const decimal = yield* query(client, "SELECT :x AS x", {
        namedParameters: { x: new DBSQLParameter({ type: DBSQLParameterType.DECIMAL, value: "1234567890.123456789" }) }
      })
      assert.deepStrictEqual(decimal, [{ x: "1234567890.123456789" }])
      // An injection attempt is just a string.
      const hostile = "x'; DROP TABLE people; --"
      assert.deepStrictEqual(
        yield* query(client, "SELECT count(*) AS c FROM people WHERE name = :name", {
          namedParameters: { name: hostile }
        }),
        [{ c: 0n }]
      )
      assert.deepStrictEqual(yield* query(client, "SELECT count(*) AS c FROM people"), [{ c: 1n }])
      // `::` casts and quoted text are not parameters.
      assert.deepStrictEqual(yield* query(client, "SELECT '1'::INT AS i, ':not_a_param' AS t"), [{
        i: 1,
        t: ":not_a_param"
      }])
      const logged = (yield* stats).statements.map((s) => s.text)
      assert.isTrue(logged.some((text) => text.includes(":name") && !text.includes("DROP TABLE")))
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("pages through range(250000) with fetchChunk, honouring maxRows", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const counts = yield* Effect.promise(async () => {
        const session = await client.openSession()
        const operation = await session.executeStatement("SELECT * FROM range(250000)", { maxRows: 100_000 })
        const sizes: Array<number> = []
        let sum = 0
        do {
          const chunk = (await operation.fetchChunk({ maxRows: 100_000 })) as Array<{ id: number }>
          sizes.push(chunk.length)
          sum += chunk.reduce((total, row) => total + row.id, 0)
        } while (await operation.hasMoreRows())
        await operation.close()
        await session.close()
        return { sizes, sum }
      })
      assert.deepStrictEqual(counts.sizes, [100_000, 100_000, 50_000])
      assert.strictEqual(counts.sum, (250_000 * 249_999) / 2)
      const after = yield* stats
      assert.strictEqual(after.rpc.FetchResults, 2)
      assert.strictEqual(after.openOperations, 0)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a running statement moves PENDING/RUNNING → CANCELED on cancel", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const outcome = yield* Effect.promise(async () => {
        const session = await client.openSession()
        const operation = await session.executeStatement("SELECT 1 /* emulator:sleep=600000 */") // runs until cancelled
        const running = await operation.status()
        await operation.cancel()
        const error = await operation.fetchAll().then(() => undefined, (e: unknown) => e)
        await operation.close().catch(() => undefined)
        await session.close()
        return { running: running.operationState, error }
      })
      assert.strictEqual(outcome.running, 1) // RUNNING_STATE
      assert.strictEqual((outcome.error as { errorCode?: string }).errorCode, "CANCELED")
      assert.strictEqual((yield* stats).openOperations, 0)
    }).pipe(Effect.provide(withEmulator())), { timeout: 20_000 })

  it.scopedLive("SQL errors carry the Databricks error class and SQLSTATE", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE secrets (x INT)")
      yield* emulator.deny(emulator.user, "secrets")
      const { client } = yield* connect()
      const cases: ReadonlyArray<readonly [string, string, string]> = [
        ["SELECT * FROM missing_table", "42P01", "[TABLE_OR_VIEW_NOT_FOUND]"],
        ["SELEC 1", "42601", "[PARSE_SYNTAX_ERROR]"],
        ["SELECT * FROM secrets", "42501", "[INSUFFICIENT_PERMISSIONS]"],
        ["SELECT nope", "42703", "[UNRESOLVED_COLUMN.WITHOUT_SUGGESTION]"],
        // With a candidate in scope Databricks suggests it: UNRESOLVED_COLUMN.WITH_SUGGESTION (Databricks error
        // classes reference, UNRESOLVED_COLUMN).
        ["SELECT nope FROM range(1)", "42703", "[UNRESOLVED_COLUMN.WITH_SUGGESTION]"]
      ]
      // With parameters too (DuckDB names no tables for a statement with placeholders).
      const parameterised: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
        ["SELECT * FROM secrets WHERE x > :min LIMIT :n", { namedParameters: { min: 0, n: 1 } }],
        ["SELECT * FROM secrets WHERE x > ?", { ordinalParameters: [0] }]
      ]
      for (const [sql, options] of parameterised) {
        const error = (yield* rejection(() => queryPromise(client, sql, options))) as any
        assert.isTrue(String(error?.message).startsWith("[INSUFFICIENT_PERMISSIONS]"), `${sql}: ${error?.message}`)
      }
      for (const [sql, sqlState, errorClass] of cases) {
        const error = (yield* rejection(() => queryPromise(client, sql))) as any
        assert.strictEqual(error?.constructor?.name, "OperationStateError", sql)
        assert.strictEqual(error.response?.sqlState, sqlState, sql)
        assert.isTrue(String(error.message).startsWith(errorClass), error.message)
        assert.include(error.message, `SQLSTATE: ${sqlState}`)
      }
    }).pipe(Effect.provide(withEmulator())))

  // Not documented: how Databricks answers a session used with another principal's token is not in our sources;
  // the 403 (PERMISSION_DENIED) is chosen by us, as the safe answer.
  it.scopedLive("identity is pinned: a session opened by A and used with B's token gets 403", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const bob = yield* emulator.registerUser({ userName: "bob@example.com", displayName: "Bob" })
      const bobPat = yield* emulator.registerPat({ principal: bob })
      const connection = yield* connect()
      const session = yield* Effect.promise(() => connection.client.openSession())
      connection.token = Redacted.value(bobPat)
      const error = (yield* rejection(() => session.executeStatement("SELECT 1"))) as any
      assert.strictEqual(error?.statusCode, 403)
      connection.token = Redacted.value(emulator.pat)
      yield* Effect.promise(() => session.close())
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("COLUMN_BASED_SET without direct results makes the extra empty FetchResults", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const rows = yield* query(client, "SELECT * FROM range(3)", { maxRows: null })
      assert.lengthOf(rows, 3)
      const after = yield* stats
      assert.strictEqual(after.rpc.GetOperationStatus >= 1, true)
      assert.strictEqual(after.rpc.GetResultSetMetadata, 1)
      assert.strictEqual(after.rpc.FetchResults, 2)
      assert.strictEqual(after.rpc.CloseOperation, 1)
    }).pipe(Effect.provide(withEmulator({ warehouse: { resultFormat: "columns" } }))))

  it.scopedLive("initialCatalog and initialSchema set the session's place; CREATE, INSERT and SELECT work", () =>
    Effect.gen(function*() {
      const { client } = yield* connect({ preserveBigNumericPrecision: true })
      const rows = yield* Effect.promise(async () => {
        const session = await client.openSession({ initialCatalog: "sales", initialSchema: "eu" })
        const run = async (sql: string) => {
          const operation = await session.executeStatement(sql)
          const result = await operation.fetchAll()
          await operation.close()
          return result
        }
        const place = await run("SELECT current_catalog() AS catalog, current_schema() AS schema")
        await run("CREATE TABLE orders (id INT, amount DECIMAL(10,2))")
        const inserted = await run("INSERT INTO orders VALUES (1, 9.99), (2, 20.00)")
        const read = await run("SELECT id, amount FROM sales.eu.orders ORDER BY id")
        await session.close()
        return { place, inserted, read }
      })
      assert.deepStrictEqual(rows.place, [{ catalog: "sales", schema: "eu" }])
      assert.deepStrictEqual(rows.inserted, [{ num_affected_rows: 2n }])
      assert.deepStrictEqual(rows.read, [{ id: 1, amount: "9.99" }, { id: 2, amount: "20.00" }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("three-part names in the catalog main reach main.default from any catalog; text and aliases stay", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE main.default.audit (note STRING, n INT)")
      yield* emulator.sql("INSERT INTO audit VALUES ('seeded', 0)")
      const { client } = yield* connect({ preserveBigNumericPrecision: true })
      const rows = yield* Effect.promise(async () => {
        // A session elsewhere: only the three-part name can reach main.default.
        const session = await client.openSession({ initialCatalog: "sales", initialSchema: "eu" })
        const run = async (sql: string, options?: Record<string, unknown>) => {
          const operation = await session.executeStatement(sql, options as never)
          const result = await operation.fetchAll()
          await operation.close()
          return result
        }
        const inserted = await run(
          "INSERT INTO main.default.audit /* main.default.audit */ VALUES ('main.default.audit', :n) -- main.x.y",
          { namedParameters: { n: 1 } }
        )
        await run("INSERT INTO `main`.`default`.audit VALUES ('`main`.default.audit', 2)")
        const read = await run(
          "SELECT Main.default.audit.note AS note, n FROM MAIN.DEFAULT.audit WHERE note <> 'main.default.x' ORDER BY n"
        )
        // An alias named main keeps its meaning: main.s.f is the field f of its column s.
        const alias = await run("SELECT main.s.f AS f FROM (SELECT {'f': 7} AS s) AS main")
        await session.close()
        return { inserted, read, alias }
      })
      assert.deepStrictEqual(rows.inserted, [{ num_affected_rows: 1n }])
      assert.deepStrictEqual(rows.read, [
        { note: "seeded", n: 0 },
        { note: "main.default.audit", n: 1 },
        { note: "`main`.default.audit", n: 2 }
      ])
      assert.deepStrictEqual(rows.alias, [{ f: 7 }])
      // Errors and permissions name the table as before.
      yield* emulator.deny(emulator.user, "audit")
      const denied = (yield* rejection(() => queryPromise(client, "SELECT * FROM main.default.audit"))) as any
      assert.isTrue(String(denied?.message).startsWith("[INSUFFICIENT_PERMISSIONS]"), denied?.message)
      const missing = (yield* rejection(() => queryPromise(client, "SELECT * FROM main.default.nope"))) as any
      assert.isTrue(String(missing?.message).startsWith("[TABLE_OR_VIEW_NOT_FOUND]"), missing?.message)
      assert.include(missing.message, "nope")
    }).pipe(Effect.provide(withEmulator())))
})
