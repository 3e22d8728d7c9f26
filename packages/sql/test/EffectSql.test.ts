import { Pat } from "@effect-databricks/auth"
import { SqlClient, SqlError as OurErrors, SqlParam } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Effect, Layer, Stream, Tracer } from "effect"
import * as Compiler from "../src/internal/compiler.js"
import { sqlClient, texts, withSql } from "./EffectSqlUtils.js"
import { stats, withEmulator } from "./utils.js"

/** The template with our compiler and no connection: for what compiles, never run. */
const sql = Statement.make(Effect.dieMessage("compiled only"), Compiler.make(), [], undefined)

describe("@effect/sql on Databricks: the sql template", () => {
  it.scopedLive("binds a value of each type as a parameter, and reads it back as SqlClient does", () =>
    Effect.gen(function*() {
      const when = new Date("2024-05-06T07:08:09.123Z")
      const [row] = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        return yield* sql`SELECT /* each type */ ${"it's \\ \"quoted\" ü 🎉"} AS s, ${42} AS i, ${2.5} AS f,
          ${9_007_199_254_740_993n} AS big, ${true} AS yes, ${null} AS nothing, ${when} AS ts,
          ${SqlParam.decimal("12345678901234567890.123456789")} AS exact, ${SqlParam.date("2024-02-29")} AS day,
          ${new Uint8Array([0, 255, 10])} AS bytes, ${SqlParam.binary(new Uint8Array([1, 2]))} AS typed_bytes`
      }))
      assert.deepStrictEqual({ ...row, bytes: undefined, typed_bytes: undefined }, {
        s: "it's \\ \"quoted\" ü 🎉",
        i: 42,
        f: 2.5,
        big: 9_007_199_254_740_993n,
        yes: true,
        nothing: null,
        ts: when,
        exact: "12345678901234567890.123456789",
        day: "2024-02-29",
        bytes: undefined,
        typed_bytes: undefined
      })
      assert.deepStrictEqual([...(row.bytes as Uint8Array)], [0, 255, 10])
      assert.deepStrictEqual([...(row.typed_bytes as Uint8Array)], [1, 2])
      // Bound, not spliced: the warehouse saw placeholders, and no value in the text.
      const [text] = yield* texts("each type")
      assert.include(text, "? AS s, ? AS i, ? AS f")
      assert.include(text, "unhex(?) AS bytes, unhex(?) AS typed_bytes")
      assert.notInclude(text, "quoted")
      assert.notInclude(text, "9007199254740993")
    }).pipe(Effect.provide(withEmulator())))

  it("compiles identifiers back-quoted (a backtick doubled, a dot between parts) and values as ?", () => {
    const [text, params] = sql`SELECT ${sql("we`ird 'name' \"ü\"")}, ${
      sql("main.default.t")
    } FROM x WHERE a = ${"a'); DROP TABLE x; --"}`.compile()
    assert.strictEqual(text, "SELECT `we``ird 'name' \"ü\"`, `main`.`default`.`t` FROM x WHERE a = ?")
    assert.deepStrictEqual(params, ["a'); DROP TABLE x; --"])
    const [inText, inParams] = sql`SELECT 1 WHERE ${sql.in("id", [1, 2, 3])} AND b IN ${sql.in(["x"])} AND ${
      sql.in("c", [])
    }`.compile()
    assert.strictEqual(inText, "SELECT 1 WHERE `id` IN (?,?,?) AND b IN (?) AND 1=0")
    assert.deepStrictEqual(inParams, [1, 2, 3, "x"])
    const [insert] = sql`INSERT INTO t ${sql.insert([{ a: 1, b: new Uint8Array([1]) }, { a: 2, b: null }])}`
      .compile()
    assert.strictEqual(insert, "INSERT INTO t (`a`,`b`) VALUES (?,unhex(?)),(?,?)")
    const [update, updateParams] = sql`UPDATE t SET ${sql.update({ id: 1, a: "x", b: true }, ["id"])}`.compile()
    assert.strictEqual(update, "UPDATE t SET `a` = ?, `b` = ?")
    assert.deepStrictEqual(updateParams, ["x", true])
    const [where] = sql`SELECT 1 WHERE ${sql.and(["a", sql`b = ${1}`])} OR ${sql.or([])} ORDER BY ${
      sql.csv([sql`${sql("x")}`, "y DESC"])
    }`.compile()
    assert.strictEqual(where, "SELECT 1 WHERE (a AND b = ?) OR 1=1 ORDER BY `x`, y DESC")
  })

  it.scopedLive("identifiers with backticks, quotes and unicode, and values that look like SQL, round-trip", () =>
    Effect.gen(function*() {
      const table = "tbl `with` 'quotes' ü"
      const column = "cöl `x`"
      const values = ["'; DROP TABLE t; --", "back\\slash", "quote ' and \" and `", "日本語 🎉", "line\nbreak", ""]
      const rows = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        yield* sql`CREATE TABLE ${sql(table)} (${sql("id")} INT, ${sql(column)} STRING)`
        yield* sql`INSERT INTO ${sql(table)} ${sql.insert(values.map((value, id) => ({ id, [column]: value })))}`
        return yield* sql<Record<string, unknown>>`SELECT ${sql(column)} FROM ${sql(table)} ORDER BY ${sql("id")}`
      }))
      assert.deepStrictEqual(rows.map((row) => row[column]), values)
      const log = (yield* stats).statements.map((s) => s.text).join("\n")
      assert.notInclude(log, "DROP TABLE t", "a value reached the statement text")
      assert.notInclude(log, "日本語")
      assert.include(log, "`tbl ``with`` 'quotes' ü`")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("sql.insert writes many rows in one statement; sql.in, sql.update and sql.updateValues with MERGE", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE people (id INT, name STRING, score BIGINT)")
      const result = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        const people = [1, 2, 3, 4].map((id) => ({ id, name: `p${id}`, score: BigInt(id * 10) }))
        yield* sql`INSERT INTO people ${sql.insert(people)}`
        const picked = yield* sql`SELECT id FROM people WHERE ${sql.in("id", [2, 4, 99])} ORDER BY id`
        yield* sql`UPDATE people SET ${sql.update({ id: 1, name: "renamed", score: 11n }, ["id"])} WHERE id = ${1}`
        yield* sql`MERGE INTO people USING ${
          sql.updateValues([{ id: 2, name: "merged" }, { id: 5, name: "new" }], "data")
        } ON people.id = data.id
          WHEN MATCHED THEN UPDATE SET name = data.name
          WHEN NOT MATCHED THEN INSERT (id, name, score) VALUES (data.id, data.name, 0)`
        const all = yield* sql`SELECT id, name, score FROM people ORDER BY id`
        return { picked, all }
      }))
      assert.deepStrictEqual(result.picked, [{ id: 2 }, { id: 4 }])
      assert.deepStrictEqual(result.all, [
        { id: 1, name: "renamed", score: 11n },
        { id: 2, name: "merged", score: 20n },
        { id: 3, name: "p3", score: 30n },
        { id: 4, name: "p4", score: 40n },
        { id: 5, name: "new", score: 0n }
      ])
      const inserts = yield* texts("INSERT INTO people")
      assert.deepStrictEqual(inserts, [
        "INSERT INTO people (`id`,`name`,`score`) VALUES (?,?,?),(?,?,?),(?,?,?),(?,?,?)"
      ])
      assert.include((yield* texts("MERGE INTO"))[0], "USING (VALUES (?,?),(?,?)) AS `data`(`id`,`name`)")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("values, raw, stream and withoutTransform", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE counted (id INT)")
      const result = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        const values = yield* sql`SELECT 'x' AS z, 1 AS a, ${2n} AS m`.values
        const raw = yield* sql`INSERT INTO counted VALUES (1), (2)`.raw
        const rawRead = yield* sql`SELECT count(*) AS n FROM counted`.raw
        const streamed = yield* Stream.runCollect(sql`SELECT id FROM range(2500)`.stream)
        const plain = yield* sql`SELECT 1 AS one`.withoutTransform
        const unprepared = yield* sql`SELECT ${"u"} AS u`.unprepared
        return { values, raw, rawRead, streamed: Chunk.toReadonlyArray(streamed), plain, unprepared }
      }))
      assert.deepStrictEqual(result.values, [["x", 1, 2n]])
      assert.deepStrictEqual(result.raw, { rows: [{ num_affected_rows: 2n }], affectedRows: 2n })
      assert.deepStrictEqual(result.rawRead, { rows: [{ n: 2n }], affectedRows: undefined })
      assert.strictEqual(result.streamed.length, 2500)
      assert.deepStrictEqual(result.streamed[2499], { id: 2499n })
      assert.deepStrictEqual(result.plain, [{ one: 1 }])
      assert.deepStrictEqual(result.unprepared, [{ u: "u" }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("RETURNING is refused before anything is sent: SqlError whose cause is a QueryError", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE returned (id INT)")
      const [insert, update] = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        return [
          yield* Effect.flip(sql`INSERT INTO returned ${sql.insert({ id: 1 }).returning("*")}`),
          yield* Effect.flip(sql`UPDATE returned SET ${sql.update({ id: 2 }).returning("*")}`)
        ]
      }))
      for (const error of [insert, update]) {
        assert.instanceOf(error, SqlError)
        assert.instanceOf(error.cause, OurErrors.QueryError)
        assert.include((error.cause as OurErrors.QueryError).message, "Databricks SQL has no RETURNING clause")
      }
      assert.deepStrictEqual(yield* texts("returned"), [], "a statement with RETURNING was sent")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a parameter our binder refuses is a SqlError whose cause is the ParameterError; nothing is sent", () =>
    Effect.gen(function*() {
      const error = yield* withSql(Effect.flatMap(sqlClient, (sql) => Effect.flip(sql`SELECT ${Number.NaN} AS nan`)))
      assert.instanceOf(error, SqlError)
      assert.instanceOf(error.cause, OurErrors.ParameterError)
      assert.strictEqual(error.message, "Failed to execute statement (ParameterError)")
      assert.deepStrictEqual(yield* texts("nan"), [])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("each statement has @effect/sql's client span, with the Databricks attributes", () =>
    Effect.gen(function*() {
      const base = yield* Effect.tracer
      const spans: Array<Tracer.Span> = []
      const recording = Tracer.make({
        context: base.context,
        span: (...args) => {
          const span = base.span(...args)
          spans.push(span)
          return span
        }
      })
      const emulator = yield* Emulator.Emulator
      yield* withSql(Effect.flatMap(sqlClient, (sql) => sql`SELECT ${"traced"} AS marker`)).pipe(
        Effect.withTracer(recording)
      )
      const span = spans.find((span) => span.name === "sql.execute")
      assert.isDefined(span)
      assert.strictEqual(span!.kind, "client")
      assert.strictEqual(span!.attributes.get("db.system.name"), "databricks")
      assert.strictEqual(span!.attributes.get("server.address"), new URL(emulator.host).hostname)
      assert.strictEqual(span!.attributes.get("db.query.text"), "SELECT ? AS marker")
      assert.strictEqual(span!.attributes.get("db.operation.name"), "execute")
      assert.notInclude(JSON.stringify([...span!.attributes]), "traced", "a value in a span")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("layerConfig provides both clients over one pool; the spans name catalog.schema as db.namespace", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const base = yield* Effect.tracer
      const spans: Array<Tracer.Span> = []
      const recording = Tracer.make({
        context: base.context,
        span: (...args) => {
          const span = base.span(...args)
          spans.push(span)
          return span
        }
      })
      const live = SqlClient.layerConfig({ caCert: emulator.caCertPem, catalog: "main", schema: "default" }).pipe(
        Layer.provide(Pat.layer({ token: emulator.pat })),
        Layer.provide(Layer.setConfigProvider(ConfigProvider.fromMap(
          new Map([["DATABRICKS_HOST", emulator.host], ["DATABRICKS_HTTP_PATH", emulator.httpPath]])
        )))
      )
      const [ours, theirs] = yield* Effect.scoped(Effect.provide(
        Effect.gen(function*() {
          const client = yield* SqlClient.SqlClient
          const sql = yield* sqlClient
          return [yield* client.query("SELECT current_schema() AS s"), yield* sql`SELECT current_schema() AS s`]
        }),
        live
      )).pipe(Effect.withTracer(recording))
      assert.deepStrictEqual(ours, [{ s: "default" }])
      assert.deepStrictEqual(theirs, ours)
      const after = yield* stats
      assert.strictEqual(after.rpc.OpenSession, 1, "both clients share one pooled session")
      assert.strictEqual(after.openSessions, 0, "a session was left open")
      assert.strictEqual(after.openOperations, 0, "an operation was left open")
      const span = spans.find((span) => span.name === "sql.execute")
      assert.strictEqual(span?.attributes.get("db.namespace"), "main.default")
    }).pipe(Effect.provide(withEmulator())))
})
