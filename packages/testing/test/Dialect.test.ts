/**
 * The dialect's translation rules, one test each: Databricks SQL in, the DuckDB SQL the warehouse runs out (no
 * server; DatabricksSql.test.ts runs the same statements through the real driver).
 */
import { assert, describe, it } from "@effect/vitest"
import { beforeAll } from "vitest"
import * as Dialect from "../src/internal/warehouse/dialect.js"

const sql = (databricks: string): string => {
  const translated = Dialect.translate(databricks)
  if ("failure" in translated) assert.fail(`${databricks}: ${translated.failure.message}`)
  return translated.sql
}

const failure = (databricks: string) => {
  const translated = Dialect.translate(databricks)
  if (!("failure" in translated)) return assert.fail(`${databricks} translated to ${translated.sql}`)
  return translated.failure
}

describe("Dialect: Databricks SQL → DuckDB", () => {
  beforeAll(() => Dialect.ready())

  it("parameters: :name becomes $name, ? stays, :: is a cast, strings and comments are left alone", () => {
    const out = sql("SELECT :a, ?, x::int FROM t WHERE s = 'it''s :b' -- :c\n AND u = ':d'")
    assert.include(out, "$a, ?, CAST(x AS INT)")
    assert.include(out, "'it''s :b'")
    assert.include(out, "':d'")
    assert.notInclude(out, "$b")
    assert.notInclude(out, "$c")
  })

  it("the catalog main is DuckDB's memory database in three-part names, unless main names something else", () => {
    assert.strictEqual(sql("SELECT * FROM main.default.t"), "SELECT * FROM memory.default.t")
    assert.strictEqual(sql("SELECT * FROM `main`.`default`.`t`"), "SELECT * FROM memory.\"default\".\"t\"")
    assert.include(sql("SELECT 'main.default.t' FROM MAIN.default.t"), "'main.default.t' FROM memory.default.t")
    // An alias called main: main.s.f is the field f of its column s.
    assert.include(sql("SELECT main.s.f FROM (SELECT {'f': 7} AS s) AS main"), "SELECT main.s.f")
  })

  it("sleep hints are read from the statement as written", () => {
    assert.strictEqual(Dialect.sleepHint("SELECT 1 /* emulator:sleep=250 */"), 250)
    assert.strictEqual(Dialect.sleepHint("SELECT 1"), undefined)
  })

  it("statements of literals only skip the transpiler and are unchanged", () => {
    assert.strictEqual(sql("SELECT 1"), "SELECT 1")
    assert.strictEqual(sql("SELECT 1 AS one, 'a' AS s"), "SELECT 1 AS one, 'a' AS s")
  })

  it("the transpiler's work: complex types, constructors, functions, backticks, DIV", () => {
    assert.strictEqual(
      sql("CREATE TABLE t (a array<string>, m map<string,int>, s struct<x:int,y:string>, `b c` binary)"),
      "CREATE TABLE t (a TEXT[], m MAP(TEXT, INT), s STRUCT(x INT, y TEXT), \"b c\" BLOB)"
    )
    assert.strictEqual(
      sql("SELECT array(1, 2), named_struct('a', 1), nvl(NULL, 2)"),
      "SELECT [1, 2], {'a': 1}, COALESCE(NULL, 2)"
    )
  })

  it("CAST raises (ANSI) and try_cast does not: TRY_CAST only inside TRY", () => {
    assert.strictEqual(sql("SELECT CAST('x' AS INT)"), "SELECT CAST('x' AS INT)")
    assert.strictEqual(sql("SELECT '1'::int"), "SELECT CAST('1' AS INT)")
    assert.strictEqual(sql("SELECT try_cast('x' AS INT)"), "SELECT TRY(CAST('x' AS INT))")
    assert.strictEqual(
      sql("SELECT try_cast(try_cast(a AS STRING) AS INT)"),
      "SELECT TRY(CAST(TRY(CAST(a AS TEXT)) AS INT))"
    )
  })

  it("to_date is a raising cast to DATE", () => {
    assert.strictEqual(sql("SELECT to_date('2020-01-02')"), "SELECT CAST('2020-01-02' AS DATE)")
  })

  it("TIMESTAMP is an instant (TIMESTAMPTZ), TIMESTAMP_NTZ is DuckDB's TIMESTAMP", () => {
    assert.strictEqual(
      sql("SELECT CAST(a AS TIMESTAMP), CAST(b AS TIMESTAMP_NTZ)"),
      "SELECT CAST(a AS TIMESTAMPTZ), CAST(b AS TIMESTAMP)"
    )
    assert.strictEqual(
      sql("CREATE TABLE t (a timestamp, b timestamp_ntz)"),
      "CREATE TABLE t (a TIMESTAMPTZ, b TIMESTAMP)"
    )
  })

  it("X'0A' is binary: unhex('0A'), wherever it stands", () => {
    assert.strictEqual(sql("SELECT X'0A'"), "SELECT UNHEX('0A')")
    // The transpiler writes this one as DuckDB's x'0A' (a bit string there).
    assert.include(sql("SELECT typeof(X'0A')"), "typeof(UNHEX('0A'))")
  })

  it("'\\xAB' keeps its backslash, so DuckDB's cast to BLOB reads the byte", () => {
    assert.strictEqual(sql("SELECT '\\xAB\\xCD'::BLOB"), "SELECT CAST('\\xAB\\xCD' AS BLOB)")
  })

  it("get_json_object is json_extract_string, sequence is generate_series", () => {
    assert.strictEqual(sql("SELECT get_json_object(j, '$.a')"), "SELECT json_extract_string(j, '$.a')")
    assert.strictEqual(sql("SELECT sequence(1, 5, 2)"), "SELECT generate_series(1, 5, 2)")
  })

  it("element_at(a, i) is DuckDB's subscript, for arrays and maps, nested too; an array index out of bounds raises", () => {
    assert.strictEqual(sql("SELECT element_at(m, 'k')"), "SELECT (m)['k']")
    const out = sql("SELECT element_at(element_at(m, 'k'), f(1, 2))")
    assert.include(out, "ELSE ((m)['k'])[F(1, 2)] END")
    // Whether the value is an array is known only when it runs: its JSON form tells (a map's is an object).
    assert.include(out, "WHEN json_type(to_json((m)['k'])) = 'ARRAY' AND TRY_CAST(F(1, 2) AS BIGINT) = 0 THEN error(")
    assert.include(out, "'[INVALID_ARRAY_INDEX_IN_ELEMENT_AT] '")
  })

  it("functions DuckDB has in another shape are rewritten, nested calls too; a cast's type is not a call", () => {
    assert.strictEqual(sql("SELECT positive(1), negative(x)"), "SELECT (1), (- (x))")
    assert.strictEqual(sql("SELECT isnull(a), isnotnull(a)"), "SELECT (a IS NULL), (a IS NOT NULL)")
    assert.strictEqual(sql("SELECT map_keys(map('a', 1))"), "SELECT MAP_KEYS(MAP(['a'], [1]))")
    assert.strictEqual(sql("SELECT cardinality(array(1, 2))"), "SELECT CAST(len([1, 2]) AS INTEGER)")
    assert.strictEqual(sql("SELECT slice(a, 2, 3)"), "SELECT list_slice(a, 2, (2) + (3) - 1)")
    assert.strictEqual(sql("SELECT int('1'), CAST(x AS INT)"), "SELECT CAST('1' AS INT), CAST(x AS INT)")
    assert.strictEqual(sql("SELECT trunc(d, 'MM')"), "SELECT CAST(date_trunc('month', d) AS DATE)")
    assert.strictEqual(sql("SELECT trunc(1.5)"), "SELECT TRUNC(1.5)")
  })

  it("hex() is upper case, as in Databricks (the transpiler lowers it)", () => {
    assert.strictEqual(sql("SELECT hex(X'0A')"), "SELECT HEX(UNHEX('0A'))")
  })

  it("TIMESTAMP '…' is an instant like a cast to TIMESTAMP; TIMESTAMP_NTZ '…' is a wall-clock time", () => {
    assert.strictEqual(
      sql("SELECT TIMESTAMP '2024-01-02 03:04:05'"),
      "SELECT CAST('2024-01-02 03:04:05' AS TIMESTAMPTZ)"
    )
    assert.strictEqual(
      sql("SELECT TIMESTAMP_NTZ '2024-01-02 03:04:05'"),
      "SELECT CAST('2024-01-02 03:04:05' AS TIMESTAMP)"
    )
  })

  it("interval literals with a range of fields are DuckDB interval text", () => {
    assert.strictEqual(sql("SELECT INTERVAL '1-2' YEAR TO MONTH"), "SELECT INTERVAL '1 years 2 months'")
    assert.strictEqual(sql("SELECT INTERVAL '-1 2:03:04.5' DAY TO SECOND"), "SELECT (-INTERVAL '1 days 02:03:04.5')")
    assert.strictEqual(sql("SELECT INTERVAL '10:30' HOUR TO MINUTE"), "SELECT INTERVAL '10:30:00'")
    assert.strictEqual(sql("SELECT INTERVAL '1' DAY"), "SELECT INTERVAL '1' DAY")
  })

  it("range() as a table yields the column id", () => {
    assert.strictEqual(sql("SELECT * FROM range(3)"), "SELECT * FROM (SELECT range AS id FROM RANGE(0, 3))")
    assert.strictEqual(
      sql("SELECT id FROM range(1, 10, 2) AS r"),
      "SELECT id FROM (SELECT range AS id FROM RANGE(1, 10, 2)) AS r"
    )
  })

  it("a join without ON or USING joins every row (ON TRUE); CROSS and conditioned joins stay", () => {
    assert.strictEqual(sql("SELECT * FROM a JOIN b"), "SELECT * FROM a JOIN b ON TRUE")
    assert.strictEqual(
      sql("SELECT * FROM a LEFT JOIN (SELECT 1) AS s WHERE true"),
      "SELECT * FROM a LEFT JOIN (SELECT 1) AS s ON TRUE WHERE TRUE"
    )
    assert.strictEqual(
      sql("SELECT * FROM a JOIN b ON a.x = b.x JOIN c"),
      "SELECT * FROM a JOIN b ON a.x = b.x JOIN c ON TRUE"
    )
    assert.strictEqual(sql("SELECT * FROM a CROSS JOIN b"), "SELECT * FROM a CROSS JOIN b")
    assert.strictEqual(sql("SELECT * FROM a JOIN b USING (x)"), "SELECT * FROM a JOIN b USING (x)")
  })

  it("LIMIT ALL and ORDER BY ALL keep ALL a keyword; MERGE's UPDATE * is UPDATE SET *", () => {
    assert.strictEqual(sql("SELECT * FROM t LIMIT ALL"), "SELECT * FROM t LIMIT ALL")
    assert.strictEqual(sql("SELECT a FROM t ORDER BY ALL"), "SELECT a FROM t ORDER BY ALL NULLS FIRST")
    assert.include(
      sql("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"),
      "WHEN MATCHED THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *"
    )
  })

  it("UPDATE and MERGE assign to a column's name (DuckDB takes no qualified target)", () => {
    assert.strictEqual(sql("UPDATE t SET t.a = 1, b = t.c WHERE t.a = 2"), "UPDATE t SET a = 1, b = t.c WHERE t.a = 2")
    assert.include(
      sql("MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN UPDATE SET t.b = s.b, t.c = f(s.c, 1)"),
      "UPDATE SET b = s.b, c = F(s.c, 1)"
    )
  })

  it("ALTER TABLE … ADD COLUMNS (a, b) is one ADD COLUMN per column", () => {
    assert.deepStrictEqual(Dialect.translate("ALTER TABLE main.default.t ADD COLUMNS (a INT, b map<string, int>)"), {
      sql: "ALTER TABLE memory.default.t ADD COLUMN b MAP(TEXT, INT)",
      before: ["ALTER TABLE memory.default.t ADD COLUMN a INT"]
    })
    assert.deepStrictEqual(Dialect.translate("ALTER TABLE t ADD COLUMN a STRING"), {
      sql: "ALTER TABLE t ADD COLUMN a TEXT"
    })
  })

  it("INSERT OVERWRITE empties the table first, then inserts", () => {
    assert.deepStrictEqual(Dialect.translate("INSERT OVERWRITE TABLE main.default.t SELECT 1"), {
      sql: "INSERT INTO memory.default.t SELECT 1",
      before: ["DELETE FROM memory.default.t"]
    })
    assert.deepStrictEqual(Dialect.translate("INSERT OVERWRITE `t` VALUES (1)"), {
      sql: "INSERT INTO \"t\" VALUES (1)",
      before: ["DELETE FROM \"t\""]
    })
  })

  it("division, remainder and DIV by zero raise DIVIDE_BY_ZERO (22012) through DuckDB's error()", () => {
    const out = sql("SELECT a / b, a % b, a DIV b FROM t")
    assert.strictEqual(out.match(/CASE WHEN b = 0 THEN error\('\[DIVIDE_BY_ZERO\] Division by zero\./g)?.length, 3)
    assert.include(out, "SQLSTATE: 22012')")
    // The divisor is guarded whole: a / (b + 1) is not (a / b) + 1.
    assert.include(sql("SELECT a / (b + 1) FROM t"), "CASE WHEN (b + 1) = 0")
    // Parameters survive the round trip through the syntax tree.
    assert.include(sql("SELECT :a / :b"), "$a / CASE WHEN $b = 0")
  })

  it("a division keeps its column name under the guard; a non-zero literal divisor needs no guard", () => {
    assert.match(sql("SELECT a / b FROM t"), / END AS "\(a \/ b\)" FROM t$/)
    assert.match(sql("SELECT a DIV b AS q FROM t"), / END AS q FROM t$/)
    assert.strictEqual(sql("SELECT a / 2, a % 3 FROM t"), "SELECT a / 2, a % 3 FROM t")
  })

  it("CREATE TABLE clauses in any order are read for the catalog and stripped for DuckDB", () => {
    const statement = "CREATE TABLE IF NOT EXISTS main.default.t (a INT COMMENT 'the a', b STRING) " +
      "TBLPROPERTIES ('delta.appendOnly' = 'true', k = 1) COMMENT 'it\\'s' USING DELTA PARTITIONED BY (a) " +
      "LOCATION '/x' CLUSTER BY (b)"
    assert.strictEqual(sql(statement), "CREATE TABLE IF NOT EXISTS memory.default.t (a INT, b TEXT)")
    assert.deepStrictEqual(Dialect.tableClauses(statement), {
      provider: "delta",
      comment: "it's",
      properties: { "delta.appendOnly": "true", k: "1" },
      partitionColumns: ["a"],
      clusteringColumns: ["b"],
      location: "/x",
      columnComments: { a: "the a" },
      columnTypes: { a: "int", b: "string" }
    })
    // Declared types in Databricks' spelling, for DESCRIBE (DuckDB keeps no CHAR length, no interval fields).
    assert.deepStrictEqual(
      Dialect.tableClauses(
        "CREATE TABLE t (c CHAR(10) NOT NULL, d DECIMAL(3, 2), m MAP<STRING, INT>, " +
          "s STRUCT<City: STRING, `b c`: ARRAY<INT>>, i INTERVAL DAY TO SECOND COMMENT 'x')"
      )?.columnTypes,
      {
        c: "char(10)",
        d: "decimal(3,2)",
        m: "map<string,int>",
        s: "struct<City:string,b c:array<int>>",
        i: "interval day to second"
      }
    )
    assert.strictEqual(
      sql("CREATE TABLE t USING DELTA COMMENT 'c' AS SELECT 1 AS a"),
      "CREATE TABLE t AS SELECT 1 AS a"
    )
    assert.strictEqual(Dialect.tableClauses("SELECT 1"), undefined)
  })

  it("what cannot be parsed is PARSE_SYNTAX_ERROR (42601), at the token or at the end of input", () => {
    assert.strictEqual(
      failure("SELECT 1 +").message,
      "[PARSE_SYNTAX_ERROR] Syntax error at or near end of input. SQLSTATE: 42601"
    )
    assert.strictEqual(failure("SELECT * FROM").sqlState, "42601")
    assert.match(
      failure("SELECT (1 FROM t").message,
      /^\[PARSE_SYNTAX_ERROR\] Syntax error at or near '.+'\. SQLSTATE: 42601$/
    )
  })

  it("Databricks statements with no DuckDB counterpart are UNSUPPORTED_FEATURE (0A000)", () => {
    const optimize = failure("OPTIMIZE t ZORDER BY (a)")
    assert.strictEqual(optimize.errorClass, "UNSUPPORTED_FEATURE")
    assert.strictEqual(optimize.sqlState, "0A000")
    assert.strictEqual(
      failure("CREATE TABLE t (id BIGINT GENERATED ALWAYS AS IDENTITY)").errorClass,
      "UNSUPPORTED_FEATURE"
    )
  })

  it("statements the catalog answers (SHOW, DESCRIBE, USE, SET) pass through without a crash", () => {
    assert.strictEqual(sql("SHOW TABLES IN `main`.`default`"), "SHOW TABLES IN \"main\".\"default\"")
    assert.strictEqual(sql("SET spark.sql.ansi.enabled = true"), "SET spark.sql.ansi.enabled = true")
    assert.strictEqual(sql("USE CATALOG main"), "USE CATALOG main")
    assert.strictEqual(sql("DESCRIBE TABLE EXTENDED t"), "DESCRIBE TABLE EXTENDED t")
  })

  it("date_add, date_sub, add_months take any expression and stay DATEs (DATE + INTEGER in DuckDB)", () => {
    assert.strictEqual(
      sql("SELECT date_add(d, CAST(id AS INT)) FROM t"),
      "SELECT CAST(CAST(d AS DATE) + CAST(CAST(id AS INT) AS INTEGER) AS DATE) FROM t"
    )
    assert.strictEqual(sql("SELECT date_sub(d, n)"), "SELECT CAST(CAST(d AS DATE) - CAST(n AS INTEGER) AS DATE)")
    assert.strictEqual(sql("SELECT dateadd(d, 1)"), "SELECT CAST(CAST(d AS DATE) + CAST(1 AS INTEGER) AS DATE)")
    assert.strictEqual(
      sql("SELECT add_months(d, id + 1)"),
      "SELECT CAST(CAST(d AS DATE) + to_months(CAST(id + 1 AS INTEGER)) AS DATE)"
    )
  })

  it("timestampadd (and three-argument date_add) and timestampdiff take expressions; units never become columns", () => {
    assert.strictEqual(
      sql("SELECT timestampadd(SECOND, id, ts) FROM t"),
      "SELECT (ts + to_seconds(CAST(id AS BIGINT))) FROM t"
    )
    assert.strictEqual(sql("SELECT dateadd(MONTH, n, ts)"), "SELECT (ts + to_months(CAST(n AS INTEGER)))")
    // Whole units elapsed: DuckDB's date_sub, not date_diff (which counts boundaries).
    assert.strictEqual(sql("SELECT timestampdiff(HOUR, a, b + c)"), "SELECT date_sub('hour', a, b + c)")
    assert.strictEqual(sql("SELECT datediff(DAY, a, b)"), "SELECT date_sub('day', a, b)")
    // An unknown unit keeps the function's own name, for DuckDB to report.
    assert.include(sql("SELECT timestampadd(FORTNIGHT, 1, ts)"), "timestampadd('FORTNIGHT', 1, ts)")
  })

  it("epoch conversions are exact: timestamp_seconds/millis/micros add microseconds, unix_* round down", () => {
    assert.strictEqual(
      sql("SELECT timestamp_millis(x)"),
      "SELECT (to_timestamp(0) + to_microseconds(CAST(x AS BIGINT) * 1000))"
    )
    assert.strictEqual(sql("SELECT unix_seconds(ts)"), "SELECT CAST(floor(epoch_us(ts) / 1000000) AS BIGINT)")
    assert.include(sql("SELECT unix_timestamp(s, 'yyyy-MM-dd')"), "epoch_us(STRPTIME(s, '%Y-%m-%d'))")
    assert.include(sql("SELECT from_unixtime(x)"), "STRFTIME(TO_TIMESTAMP(x), '%Y-%m-%d %H:%M:%S')")
    assert.include(sql("SELECT make_interval(1, 2)"), "to_months(CAST(1 AS INTEGER) * 12 + CAST(2 AS INTEGER))")
  })

  it("raise_error(x) raises [USER_RAISED_EXCEPTION] x SQLSTATE: P0001; the division guard keeps its own class", () => {
    assert.strictEqual(
      sql("SELECT raise_error(concat('x', a))"),
      "SELECT error('[USER_RAISED_EXCEPTION] ' || CAST(CONCAT('x', a) AS VARCHAR) || ' SQLSTATE: P0001')"
    )
    assert.notInclude(sql("SELECT a / b"), "USER_RAISED_EXCEPTION")
  })

  it("a statement's unknown first word, or a stray name at the end, is where the syntax error is", () => {
    assert.strictEqual(
      failure("SELEC 1").message,
      "[PARSE_SYNTAX_ERROR] Syntax error at or near 'SELEC'. SQLSTATE: 42601"
    )
    assert.strictEqual(
      failure("SELECT a b c").message,
      "[PARSE_SYNTAX_ERROR] Syntax error at or near 'c'. SQLSTATE: 42601"
    )
    assert.strictEqual(
      failure("SELECT * FROM t WHERE").message,
      "[PARSE_SYNTAX_ERROR] Syntax error at or near end of input. SQLSTATE: 42601"
    )
    assert.notProperty(Dialect.translate("(SELECT 1) UNION ALL (SELECT 2)"), "failure")
  })

  it("struct() names unnamed fields col1, col2, … and a column's field by its name", () => {
    assert.strictEqual(
      sql("SELECT struct(1, t.a, `b c`) FROM t"),
      "SELECT {'col1': 1, 'a': t.a, 'b c': \"b c\"} FROM t"
    )
    assert.strictEqual(sql("SELECT struct(1 AS x)"), "SELECT {'x': 1}")
  })

  it("collection functions keep Databricks' order, NULLs and result types", () => {
    assert.strictEqual(
      sql("SELECT array_distinct(a)"),
      "SELECT list_filter(a, lambda x, i: list_position(a, x) = i)"
    )
    assert.include(sql("SELECT array_union(a, b)"), "CASE WHEN (a) IS NULL OR (b) IS NULL THEN NULL ELSE")
    assert.include(sql("SELECT array_contains(a, 2)"), "len(list_filter(a, lambda x: x IS NULL)) > 0 THEN NULL")
    assert.strictEqual(sql("SELECT size(map('a', 1))"), "SELECT CAST(cardinality(MAP(['a'], [1])) AS INTEGER)")
    assert.include(sql("SELECT str_to_map('a:1')"), "map_from_entries(list_transform(string_split('a:1', ','),")
  })

  it("string and number functions DuckDB lacks: initcap, bround, pmod, format_number, crc32", () => {
    assert.include(sql("SELECT initcap(s)"), "string_split(lower(s), ' '), lambda w: upper(w[1]) || w[2:]")
    assert.strictEqual(sql("SELECT bround(x, 1)"), "SELECT round_even(x, 1)")
    // pmod is written with %, so its zero divisor raises DIVIDE_BY_ZERO as % does.
    assert.include(sql("SELECT pmod(a, b)"), "CASE WHEN (b) = 0 THEN error('[DIVIDE_BY_ZERO]")
    assert.strictEqual(sql("SELECT format_number(x, 2)"), "SELECT format('{:,.2f}', CAST(x AS DOUBLE))")
    assert.include(sql("SELECT crc32(s)"), "3988292384")
  })

  it("first_value/last_value without OVER are aggregates (first, last, any_value); with OVER they stay", () => {
    assert.strictEqual(sql("SELECT first_value(a) FROM t"), "SELECT first(a) FROM t")
    assert.strictEqual(sql("SELECT first_value(a, true) FROM t"), "SELECT any_value(a  ) FROM t")
    assert.strictEqual(
      sql("SELECT last_value(a) IGNORE NULLS FROM t"),
      "SELECT last(a  ) FILTER (WHERE a IS NOT NULL) FROM t"
    )
    assert.include(sql("SELECT first_value(a) OVER (ORDER BY b) FROM t"), "FIRST_VALUE(a) OVER (ORDER BY b")
  })

  it("typeof answers Spark's type names; from_json takes a DDL schema", () => {
    assert.include(sql("SELECT typeof(a)"), "'\\bVARCHAR\\b', 'string'")
    assert.strictEqual(
      sql("SELECT from_json(j, 'a INT, b ARRAY<STRING>')"),
      "SELECT json_transform(j, '\"STRUCT(a INT, b TEXT[])\"')"
    )
  })

  it("a division of decimals the statement types stays a DECIMAL of Databricks' precision and scale", () => {
    assert.strictEqual(sql("SELECT 1.0 / 3.0 AS q"), "SELECT CAST(ROUND(1.0 / 3.0, 6) AS DECIMAL(8, 6)) AS q")
    // sql-ref-datatype-rules.html: scale max(6, s1 + p2 + 1), precision p1 - s1 + s2 + scale, at most 38.
    assert.include(
      sql("SELECT CAST(a AS DECIMAL(38,10)) / CAST(b AS DECIMAL(38,10)) AS q"),
      ", 6) AS DECIMAL(38, 6)) AS q"
    )
    assert.include(sql("SELECT CAST(a AS DECIMAL(10,2)) / CAST(b AS DECIMAL(5,1))"), "AS DECIMAL(17, 8))")
    // Integers divide as DOUBLEs; a column's type is unknown here, so it divides as DuckDB does.
    assert.strictEqual(sql("SELECT 3 / 2"), "SELECT 3 / 2")
    assert.strictEqual(sql("SELECT x / 2.0 FROM t"), "SELECT x / 2.0 FROM t")
  })

  it("x[n] with an integer literal counts an array from 0 and raises out of bounds; a map's key, other indexes stay", () => {
    const out = sql("SELECT t.a[2] FROM t")
    assert.include(out, "CASE WHEN json_type(to_json(t.a)) <> 'ARRAY' THEN (t.a)[2] WHEN 2 >= json_array_length")
    assert.include(out, "[INVALID_ARRAY_INDEX] The index 2 is out of bounds.")
    assert.include(out, "ELSE (t.a)[2 + 1] END")
    assert.include(sql("SELECT f(x)[0]"), "ELSE (F(x))[0 + 1] END")
    assert.strictEqual(sql("SELECT m['k'], a[i] FROM t"), "SELECT m['k'], a[i] FROM t")
  })

  it("withoutParameters replaces $name and ? by NULL, and nothing in strings", () => {
    assert.strictEqual(Dialect.withoutParameters("SELECT $a, ?, '$b ?' FROM t"), "SELECT NULL, NULL, '$b ?' FROM t")
  })
})
