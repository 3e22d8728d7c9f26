/**
 * Databricks SQL, run through the real driver against the Emulator: statements with the results the Databricks SQL
 * language reference documents for them (docs.databricks.com/sql/language-manual/…, cited per row), DDL with
 * Databricks types and clauses, and the ANSI errors of SQL warehouses.
 */
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { connect, query, queryPromise, rejection } from "./driver.js"

const withEmulator = Layer.provideMerge(Emulator.httpClient, Emulator.layer())

/** Statement, the rows Databricks documents for it, and where. */
const documented: ReadonlyArray<readonly [string, ReadonlyArray<Record<string, unknown>>, string]> = [
  // functions/range.html: "A table with a single BIGINT column named id".
  ["SELECT * FROM range(3)", [{ id: 0 }, { id: 1 }, { id: 2 }], "functions/range.html"],
  ["SELECT * FROM range(-3, 0)", [{ id: -3 }, { id: -2 }, { id: -1 }], "functions/range.html"],
  ["SELECT t.id FROM range(0, -5, -2) AS t", [{ id: 0 }, { id: -2 }, { id: -4 }], "functions/range.html"],
  // functions/slashsign.html: `SELECT 3 / 2` is 1.5 (a DOUBLE unless both sides are DECIMAL).
  ["SELECT 3 / 2 AS q", [{ q: 1.5 }], "functions/slashsign.html"],
  // functions/div.html: `SELECT 3 div 2` is 1.
  ["SELECT 3 div 2 AS q", [{ q: 1 }], "functions/div.html"],
  // functions/get_json_object.html: `get_json_object('{"a":"b"}', '$.a')` is b.
  ["SELECT get_json_object('{\"a\":\"b\"}', '$.a') AS v", [{ v: "b" }], "functions/get_json_object.html"],
  // functions/sequence.html: `sequence(1, 5)` is [1, 2, 3, 4, 5]; `sequence(5, 1)` counts down.
  ["SELECT sequence(1, 5) AS s", [{ s: [1, 2, 3, 4, 5] }], "functions/sequence.html"],
  // functions/to_date.html: `to_date('2009-07-30 04:17:52')` is 2009-07-30.
  ["SELECT CAST(to_date('2009-07-30 04:17:52') AS STRING) AS d", [{ d: "2009-07-30" }], "functions/to_date.html"],
  // functions/array.html, functions/size.html, functions/element_at.html.
  ["SELECT array(1, 2, 3) AS a", [{ a: [1, 2, 3] }], "functions/array.html"],
  ["SELECT size(array('b', 'd', 'c', 'a')) AS n", [{ n: 4 }], "functions/size.html"],
  ["SELECT element_at(array(1, 2, 3), 2) AS e", [{ e: 2 }], "functions/element_at.html"],
  // functions/named_struct.html, functions/struct.html, functions/map.html.
  ["SELECT named_struct('a', 1, 'b', 'x') AS s", [{ s: { a: 1, b: "x" } }], "functions/named_struct.html"],
  ["SELECT struct(1 AS a, 'x' AS b) AS s", [{ s: { a: 1, b: "x" } }], "functions/struct.html"],
  ["SELECT map('a', 1, 'b', 2) AS m", [{ m: { a: 1, b: 2 } }], "functions/map.html"],
  // functions/nvl.html: `nvl(NULL, 2)` is 2; functions/coalesce.html.
  ["SELECT nvl(NULL, 2) AS v, coalesce(NULL, 1, NULL) AS c", [{ v: 2, c: 1 }], "functions/nvl.html"],
  // functions/concat_ws.html: `concat_ws(' ', 'Spark', 'SQL')` is Spark SQL.
  ["SELECT concat_ws(' ', 'Spark', 'SQL') AS s", [{ s: "Spark SQL" }], "functions/concat_ws.html"],
  // functions/date_format.html, with the datetime patterns of sql-ref-datetime-pattern.html.
  [
    "SELECT date_format(TIMESTAMP_NTZ'2016-04-08 13:05:09', 'yyyy-MM-dd HH:mm:ss') AS f",
    [{ f: "2016-04-08 13:05:09" }],
    "functions/date_format.html"
  ],
  // functions/try_cast.html: a malformed input is NULL with try_cast.
  ["SELECT try_cast('10' AS INT) AS a, try_cast('a' AS INT) AS b", [{ a: 10, b: null }], "functions/try_cast.html"],
  // functions/collect_list.html: `collect_list(col) FROM VALUES (1), (2), (1)` is [1,2,1].
  [
    "SELECT collect_list(col) AS l FROM VALUES (1), (2), (1) AS tab(col)",
    [{ l: [1, 2, 1] }],
    "functions/collect_list.html"
  ],
  // sql-ref-syntax-qry-select-join.html: an inner join without a condition is a cross join.
  [
    "SELECT a.x, b.y FROM (SELECT 1 AS x) AS a JOIN (SELECT 2 AS y UNION ALL SELECT 3) AS b ORDER BY y",
    [{ x: 1, y: 2 }, { x: 1, y: 3 }],
    "sql-ref-syntax-qry-select-join.html"
  ],
  // sql-ref-syntax-qry-select-qualify.html.
  [
    "SELECT id FROM range(5) QUALIFY row_number() OVER (ORDER BY id DESC) = 1",
    [{ id: 4 }],
    "sql-ref-syntax-qry-select-qualify.html"
  ],
  // functions/slice.html, array_join.html, aggregate.html, exists.html, map_keys.html.
  ["SELECT slice(array(1, 2, 3, 4), 2, 2) AS s", [{ s: [2, 3] }], "functions/slice.html"],
  ["SELECT array_join(array('hello', 'world'), ' ') AS s", [{ s: "hello world" }], "functions/array_join.html"],
  ["SELECT aggregate(array(1, 2, 3), 0, (acc, x) -> acc + x) AS s", [{ s: 6 }], "functions/aggregate.html"],
  ["SELECT exists(array(1, 2, 3), x -> x % 2 == 0) AS e", [{ e: true }], "functions/exists.html"],
  ["SELECT map_keys(map(1, 'a', 2, 'b')) AS k", [{ k: [1, 2] }], "functions/map_keys.html"],
  ["SELECT element_at(map(1, 'a', 2, 'b'), 2) AS e", [{ e: "b" }], "functions/element_at.html"],
  [
    "SELECT element_at(map(1, 'a', 2, 'b'), 3) AS m, try_element_at(array(1, 2, 3), 5) AS t, " +
    "element_at(array(1, 2, 3), -1) AS l",
    [{ m: null, t: null, l: 3 }],
    "functions/element_at.html"
  ],
  // functions/trunc.html: `trunc('2019-08-04', 'MONTH')` is 2019-08-01.
  ["SELECT CAST(trunc(DATE'2019-08-04', 'MONTH') AS STRING) AS d", [{ d: "2019-08-01" }], "functions/trunc.html"],
  // functions/positive.html, negative.html, isnull.html, int.html.
  [
    "SELECT positive(1) AS p, negative(1) AS n, isnull(1) AS i, int('12') AS c",
    [{ p: 1, n: -1, i: false, c: 12 }],
    "functions/positive.html"
  ],
  // functions/try_add.html: an overflow is NULL with try_add.
  ["SELECT try_add(2147483647, 1) AS s", [{ s: null }], "functions/try_add.html"],
  // sql-ref-literals.html#interval-literal: `INTERVAL '1-2' YEAR TO MONTH` is 1 year 2 months.
  [
    "SELECT INTERVAL '1-2' YEAR TO MONTH = INTERVAL 14 MONTH AS ym, " +
    "INTERVAL '1 02:03:04' DAY TO SECOND = INTERVAL 93784 SECOND AS ds",
    [{ ym: true, ds: true }],
    "sql-ref-literals.html"
  ],
  // Binary X'…' literals (sql-ref-literals.html); functions/hex.html: upper-case digits (`hex(17)` is 11).
  ["SELECT hex(X'0A1B') AS h, hex(17) AS n", [{ h: "0A1B", n: "11" }], "functions/hex.html"],
  // functions/date_add.html: `date_add('2016-07-30', 1)` is 2016-07-31, a DATE; the days may be any INTEGER expression.
  [
    "SELECT CAST(date_add('2016-07-30', 1) AS STRING) AS d, typeof(date_add(DATE'2016-07-30', 5)) AS t",
    [{ d: "2016-07-31", t: "date" }],
    "functions/date_add.html"
  ],
  [
    "SELECT CAST(date_add(DATE'2016-07-30', CAST(id AS INT)) AS STRING) AS d FROM range(2)",
    [{ d: "2016-07-30" }, { d: "2016-07-31" }],
    "functions/date_add.html"
  ],
  // functions/date_sub.html: `date_sub('2016-07-30', 1)` is 2016-07-29; functions/add_months.html:
  // `add_months('2016-08-31', 1)` is 2016-09-30 (the end of the shorter month); dateadd.html is date_add.
  [
    "SELECT CAST(date_sub('2016-07-30', 1) AS STRING) AS s, CAST(add_months('2016-08-31', 1) AS STRING) AS m, " +
    "CAST(dateadd('2016-07-30', 1) AS STRING) AS a, typeof(add_months(DATE'2016-08-31', 1)) AS t",
    [{ s: "2016-07-29", m: "2016-09-30", a: "2016-07-31", t: "date" }],
    "functions/date_sub.html"
  ],
  // functions/timestampadd.html: `timestampadd(MONTH, -1, TIMESTAMP'2022-03-31 00:00:00')` is 2022-02-28 00:00:00.
  [
    "SELECT CAST(timestampadd(MONTH, -1, TIMESTAMP_NTZ'2022-03-31 00:00:00') AS STRING) AS m, " +
    "CAST(timestampadd(SECOND, id, TIMESTAMP_NTZ'2022-03-31 00:00:00') AS STRING) AS s FROM range(1, 2)",
    [{ m: "2022-02-28 00:00:00", s: "2022-03-31 00:00:01" }],
    "functions/timestampadd.html"
  ],
  // functions/timestampdiff.html: whole units elapsed: 0, then 1 month; -120 years.
  [
    "SELECT timestampdiff(MONTH, TIMESTAMP'2021-02-28 12:00:00', TIMESTAMP'2021-03-28 11:59:59') AS a, " +
    "timestampdiff(MONTH, TIMESTAMP'2021-02-28 12:00:00', TIMESTAMP'2021-03-28 12:00:00') AS b, " +
    "timestampdiff(YEAR, DATE'2021-01-01', DATE'1900-03-28') AS c",
    [{ a: 0, b: 1, c: -120 }],
    "functions/timestampdiff.html"
  ],
  // functions/timestamp_seconds.html, timestamp_millis.html (1230219000 is 2008-12-25 15:30:00 UTC),
  // unix_timestamp.html (`unix_timestamp('2016-04-08', 'yyyy-MM-dd')` is 1460073600), unix_seconds.html,
  // unix_millis.html; from_unixtime.html (a STRING, `yyyy-MM-dd HH:mm:ss` by default). Session time zone UTC.
  [
    "SELECT unix_seconds(timestamp_seconds(1230219000)) AS s, unix_millis(timestamp_millis(1230219000123)) AS ms, " +
    "unix_timestamp('2016-04-08', 'yyyy-MM-dd') AS u, unix_seconds(TIMESTAMP'1970-01-01 00:00:01Z') AS one, " +
    "from_unixtime(0) AS f",
    [{ s: 1230219000, ms: 1230219000123, u: 1460073600, one: 1, f: "1970-01-01 00:00:00" }],
    "functions/timestamp_seconds.html"
  ],
  // functions/initcap.html, bround.html, pmod.html, crc32.html, format_number.html.
  [
    "SELECT initcap('sPark sql') AS i, bround(2.5, 0) AS b, bround(25, -1) AS c, pmod(10, 3) AS p, " +
    "pmod(-10, 3) AS n, crc32('Spark') AS crc, format_number(12332.123456, 4) AS f",
    [{ i: "Spark Sql", b: 2, c: 20, p: 1, n: 2, crc: 1557323817, f: "12,332.1235" }],
    "functions/initcap.html"
  ],
  // functions/str_to_map.html: `str_to_map('a:1,b:2,c:3', ',', ':')` is {a -> 1, b -> 2, c -> 3}.
  ["SELECT str_to_map('a:1,b:2,c:3', ',', ':') AS m", [{ m: { a: "1", b: "2", c: "3" } }], "functions/str_to_map.html"],
  // functions/array_union.html, array_except.html, array_intersect.html, array_distinct.html.
  [
    "SELECT array_union(array(1, 2, 3), array(1, 3, 5)) AS u, array_except(array(1, 2, 3), array(1, 3, 5)) AS e, " +
    "array_intersect(array(1, 2, 3), array(1, 3, 5)) AS i, array_distinct(array(1, 2, 3, NULL, 3)) AS d",
    [{ u: [1, 2, 3, 5], e: [2], i: [1, 3], d: [1, 2, 3, null] }],
    "functions/array_union.html"
  ],
  // functions/array_contains.html: NULL when not found in an array with a NULL.
  [
    "SELECT array_contains(array(1, 2, 3), 2) AS a, array_contains(array(1, NULL, 3), 2) AS b",
    [{ a: true, b: null }],
    "functions/array_contains.html"
  ],
  // functions/size.html: a map's size; NULL for NULL when spark.sql.ansi.enabled (as on SQL warehouses).
  [
    "SELECT size(map('a', 1, 'b', 2)) AS m, cardinality(array(1, 2)) AS c, size(CAST(NULL AS ARRAY<INT>)) AS n",
    [{ m: 2, c: 2, n: null }],
    "functions/size.html"
  ],
  // functions/first.html, first_value.html: the first value of the group; with ignoreNull the first non-NULL.
  [
    "SELECT first(col) AS a, first(col, true) AS b, first_value(col, true) AS c FROM VALUES (NULL), (5), (20) AS tab(col)",
    [{ a: null, b: 5, c: 5 }],
    "functions/first.html"
  ],
  // functions/from_json.html: `from_json('{"a":1, "b":0.8}', 'a INT, b DOUBLE')` is {"a":1,"b":0.8}.
  [
    "SELECT from_json('{\"a\":1, \"b\":0.8}', 'a INT, b DOUBLE') AS j",
    [{ j: { a: 1, b: 0.8 } }],
    "functions/from_json.html"
  ],
  // functions/typeof.html: `typeof(1)` is int, `typeof(array(1))` is array<int>.
  [
    "SELECT typeof(1) AS a, typeof(array(1)) AS b, typeof('x') AS c, typeof(named_struct('a', 1)) AS d",
    [{ a: "int", b: "array<int>", c: "string", d: "struct<a:int>" }],
    "functions/typeof.html"
  ],
  // sql-ref-datatype-rules.html: decimal / decimal is a DECIMAL with scale max(6, s1 + p2 + 1) and precision
  // p1 - s1 + s2 + scale (capped at 38); `1.0 / 3.0` is DECIMAL(8,6) 0.333333.
  [
    "SELECT 1.0 / 3.0 AS q, typeof(CAST(1 AS DECIMAL(10,2)) / CAST(3 AS DECIMAL(5,1))) AS t",
    [{ q: 0.333333, t: "decimal(17,8)" }],
    "sql-ref-datatype-rules.html"
  ],
  // functions/bracketsign.html: `a[2]` of array(10, 20, 30) is 30 (from 0); `m[1]` of map(1, 'Hello', …) is Hello.
  ["SELECT a[2] AS x FROM VALUES (array(10, 20, 30)) AS T(a)", [{ x: 30 }], "functions/bracketsign.html"],
  [
    "SELECT m[1] AS x FROM VALUES (map(1, 'Hello', 2, 'World')) AS T(m)",
    [{ x: "Hello" }],
    "functions/bracketsign.html"
  ],
  // functions/struct.html: `struct('Spark', 5)` is {"col1":"Spark","col2":5}.
  ["SELECT struct('Spark', 5) AS s", [{ s: { col1: "Spark", col2: 5 } }], "functions/struct.html"]
]

/** Statement, error class, SQLSTATE (Databricks error conditions reference, error-messages/*). */
const failing: ReadonlyArray<readonly [string, string, string]> = [
  // functions/slashsign.html: `SELECT 3 / 0` is Error: DIVIDE_BY_ZERO (SQLSTATE 22012).
  ["SELECT 3 / 0", "DIVIDE_BY_ZERO", "22012"],
  ["SELECT 3.0 / 0", "DIVIDE_BY_ZERO", "22012"],
  // functions/div.html: `SELECT -5.9 div 0` is Error: DIVIDE_BY_ZERO; functions/percentsign.html likewise.
  ["SELECT -5.9 div 0", "DIVIDE_BY_ZERO", "22012"],
  ["SELECT 5 % 0", "DIVIDE_BY_ZERO", "22012"],
  ["SELECT id / (id - 1) FROM range(3)", "DIVIDE_BY_ZERO", "22012"],
  // functions/cast.html: a malformed string raises CAST_INVALID_INPUT (22018) under ANSI.
  ["SELECT CAST('a' AS INT)", "CAST_INVALID_INPUT", "22018"],
  ["SELECT 'a'::INT", "CAST_INVALID_INPUT", "22018"],
  // functions/plussign.html: an INT sum that overflows raises ARITHMETIC_OVERFLOW (22003).
  ["SELECT 2147483647 + 1", "ARITHMETIC_OVERFLOW", "22003"],
  // error-messages/error-classes.html: PARSE_SYNTAX_ERROR is 42601, UNSUPPORTED_FEATURE 0A000.
  ["SELECT 1 +", "PARSE_SYNTAX_ERROR", "42601"],
  ["OPTIMIZE some_table", "UNSUPPORTED_FEATURE", "0A000"],
  // functions/raise_error.html: USER_RAISED_EXCEPTION, SQLSTATE P0001.
  ["SELECT raise_error('custom error message')", "USER_RAISED_EXCEPTION", "P0001"],
  ["SELEC 1", "PARSE_SYNTAX_ERROR", "42601"],
  // functions/element_at.html: INVALID_ARRAY_INDEX_IN_ELEMENT_AT and INVALID_INDEX_OF_ZERO (SQLSTATE 22003,
  // error-messages/error-classes.html); try_element_at is NULL instead (documented above).
  ["SELECT element_at(array(1, 2, 3), 5)", "INVALID_ARRAY_INDEX_IN_ELEMENT_AT", "22003"],
  ["SELECT element_at(array(1, 2, 3), 0)", "INVALID_INDEX_OF_ZERO", "22003"],
  // functions/bracketsign.html: `SELECT array(1, 2, 3)[5]` is Error: INVALID_ARRAY_INDEX.
  ["SELECT array(1, 2, 3)[5]", "INVALID_ARRAY_INDEX", "22003"]
]

describe("Databricks SQL through the real driver", () => {
  it.scopedLive("documented functions and table-valued functions answer as Databricks documents", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const wrong: Array<string> = []
      for (const [sql, rows, source] of documented) {
        const got = yield* Effect.promise(() => queryPromise(client, sql).catch((error: Error) => error.message))
        if (JSON.stringify(got) !== JSON.stringify(rows)) wrong.push(`${sql} (${source}): ${JSON.stringify(got)}`)
      }
      assert.deepStrictEqual(wrong, [])
    }).pipe(Effect.provide(withEmulator)))

  it.scopedLive("ANSI errors and untranslatable statements fail with the Databricks class and SQLSTATE", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      for (const [sql, errorClass, sqlState] of failing) {
        const error = (yield* rejection(() => queryPromise(client, sql))) as any
        assert.strictEqual(error?.constructor?.name, "OperationStateError", `${sql}: ${error}`)
        assert.isTrue(String(error.message).startsWith(`[${errorClass}]`), `${sql}: ${error.message}`)
        assert.strictEqual(error.response?.sqlState, sqlState, sql)
        // Never the engine underneath.
        assert.notMatch(error.message, /DuckDB|Binder Error|Parser Error|Invalid Input Error|polyglot/i, sql)
      }
    }).pipe(Effect.provide(withEmulator)))

  it.scopedLive("raise_error and a misspelt statement read as Databricks words them", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      // functions/raise_error.html: `[USER_RAISED_EXCEPTION] custom error message SQLSTATE: P0001`.
      const raised = (yield* rejection(() => queryPromise(client, "SELECT raise_error('custom error message')"))) as any
      assert.strictEqual(raised.message, "[USER_RAISED_EXCEPTION] custom error message SQLSTATE: P0001")
      // error-messages/parse-syntax-error: the parser names the token it could not take.
      const misspelt = (yield* rejection(() => queryPromise(client, "SELEC 1"))) as any
      assert.strictEqual(misspelt.message, "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601")
    }).pipe(Effect.provide(withEmulator)))

  it.scopedLive("DDL with Databricks types and Delta clauses in any order; values round-trip", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      // sql-ref-syntax-ddl-create-table-using.html: USING, TBLPROPERTIES, COMMENT and PARTITIONED BY are clauses
      // of CREATE TABLE in any order.
      yield* query(
        client,
        "CREATE TABLE dialect_types (s string, i int, b bigint, d decimal(10,2), a array<string>, " +
          "m map<string,int>, st struct<x:int,y:string>, bin binary, ts timestamp, ntz timestamp_ntz) " +
          "USING DELTA TBLPROPERTIES ('delta.appendOnly' = 'false') COMMENT 'every type' PARTITIONED BY (i)"
      )
      yield* query(
        client,
        "INSERT INTO dialect_types VALUES ('x', 1, 9007199254740991, 12.34, array('a', 'b'), map('k', 1), " +
          "named_struct('x', 2, 'y', 'z'), X'0A0B', TIMESTAMP'2024-01-02 03:04:05Z', " +
          "TIMESTAMP_NTZ'2024-01-02 03:04:05')"
      )
      const [row] = (yield* query(client, "SELECT * FROM dialect_types")) as Array<Record<string, unknown>>
      assert.strictEqual(row.s, "x")
      assert.strictEqual(row.i, 1)
      assert.strictEqual(row.b, 9007199254740991)
      assert.strictEqual(row.d, 12.34)
      assert.deepStrictEqual(row.a, ["a", "b"])
      assert.deepStrictEqual(row.m, { k: 1 })
      assert.deepStrictEqual(row.st, { x: 2, y: "z" })
      assert.deepStrictEqual([...(row.bin as Uint8Array)], [0x0a, 0x0b])
      // TIMESTAMP is an instant; TIMESTAMP_NTZ a wall-clock time (sql-ref-datatypes.html).
      assert.strictEqual((row.ts as Date).toISOString(), "2024-01-02T03:04:05.000Z")
      assert.strictEqual((row.ntz as Date).toISOString(), "2024-01-02T03:04:05.000Z")
      // sql-ref-syntax-dml-insert-into.html: INSERT OVERWRITE replaces the table's rows.
      yield* query(client, "INSERT OVERWRITE dialect_types (s, i) VALUES ('y', 2)")
      yield* query(client, "INSERT OVERWRITE TABLE dialect_types (s, i) SELECT 'z', 3")
      assert.deepStrictEqual(yield* query(client, "SELECT s, i FROM dialect_types"), [{ s: "z", i: 3 }])
      // sql-ref-syntax-ddl-alter-table-manage-column.html: ADD COLUMNS takes several columns at once.
      yield* query(client, "ALTER TABLE dialect_types ADD COLUMNS (extra INT, more array<int>)")
      assert.deepStrictEqual(yield* query(client, "SELECT s, extra, more FROM dialect_types"), [
        { s: "z", extra: null, more: null }
      ])
      // sql-ref-syntax-dml-merge-into.html: UPDATE SET * and INSERT * take every column of the source.
      yield* query(
        client,
        "MERGE INTO dialect_types AS t USING (SELECT 'z' AS s, 4 AS i) AS u ON t.s = u.s " +
          "WHEN MATCHED THEN UPDATE SET t.i = u.i WHEN NOT MATCHED THEN INSERT (s, i) VALUES (u.s, u.i)"
      )
      assert.deepStrictEqual(yield* query(client, "SELECT s, i FROM dialect_types"), [{ s: "z", i: 4 }])
      // Named parameters reach DuckDB as bound values.
      assert.deepStrictEqual(
        yield* query(client, "SELECT id FROM range(10) WHERE id > :min AND id < :max", {
          namedParameters: { min: 6, max: 9 }
        }),
        [{ id: 7 }, { id: 8 }]
      )
    }).pipe(Effect.provide(withEmulator)))
})
