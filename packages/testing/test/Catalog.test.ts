import type { DBSQLClient } from "@databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { openSession, rejection } from "./driver.js"
import { assertNoDuckDBNames } from "./duckdbNames.js"
import { withEmulator } from "./emulator.js"

type IDBSQLSession = Awaited<ReturnType<DBSQLClient["openSession"]>>

/** Every row of a statement on the session. */
const rows = (session: IDBSQLSession, sql: string) =>
  Effect.promise(async () => {
    const operation = await session.executeStatement(sql)
    try {
      return (await operation.fetchAll()) as Array<Record<string, unknown>>
    } finally {
      await operation.close()
    }
  })

/** The error of a statement that must fail. */
const failure = (session: IDBSQLSession, sql: string) =>
  Effect.map(
    rejection(async () => {
      const operation = await session.executeStatement(sql)
      await operation.fetchAll()
    }),
    (error) => error as { message?: string; response?: { sqlState?: string } } | undefined
  )

describe("Unity Catalog, through the real driver", () => {
  it.scopedLive(
    "main.default is current; main, hive_metastore and samples are the catalogs, with their schemas",
    () =>
      Effect.gen(function*() {
        const session = yield* openSession
        // current_database() is a synonym of current_schema()
        // (docs.databricks.com/en/sql/language-manual/functions/current_database.html).
        assert.deepStrictEqual(
          yield* rows(session, "SELECT current_catalog() AS c, current_schema() AS s, current_database() AS d"),
          [{ c: "main", s: "default", d: "default" }]
        )
        // SHOW CATALOGS answers one column, `catalog`
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-show-catalogs.html).
        assert.deepStrictEqual(yield* rows(session, "SHOW CATALOGS"), [
          { catalog: "hive_metastore" },
          { catalog: "main" },
          { catalog: "samples" }
        ])
        // SHOW CATALOGS LIKE: `*` matches any characters, `|` separates alternatives (same page).
        assert.deepStrictEqual(yield* rows(session, "SHOW CATALOGS LIKE 'sam*|hive*'"), [
          { catalog: "hive_metastore" },
          { catalog: "samples" }
        ])
        // SHOW SCHEMAS answers `databaseName`
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-show-schemas.html); every Unity Catalog
        // catalog has an information_schema (docs.databricks.com/en/sql/language-manual/sql-ref-information-schema.html),
        // the legacy hive_metastore does not.
        assert.deepStrictEqual(yield* rows(session, "SHOW SCHEMAS"), [
          { databaseName: "default" },
          { databaseName: "information_schema" }
        ])
        assert.deepStrictEqual(yield* rows(session, "SHOW DATABASES IN hive_metastore"), [{ databaseName: "default" }])
        assert.deepStrictEqual(yield* rows(session, "SHOW SCHEMAS IN samples"), [
          { databaseName: "information_schema" },
          { databaseName: "nyctaxi" }
        ])
        assert.deepStrictEqual(yield* rows(session, "SHOW SCHEMAS IN samples LIKE 'nyc*'"), [{
          databaseName: "nyctaxi"
        }])
        assert.deepStrictEqual(yield* rows(session, "SHOW TABLES IN samples.nyctaxi"), [
          { database: "nyctaxi", tableName: "trips", isTemporary: false }
        ])
        const error = yield* failure(session, "SHOW SCHEMAS IN nowhere")
        assert.match(String(error?.message), /^\[NO_SUCH_CATALOG_EXCEPTION\] Catalog 'nowhere' was not found/)
        assert.strictEqual(error?.response?.sqlState, "42704")
      }).pipe(Effect.provide(withEmulator({ samples: true }))),
    { timeout: 120_000 }
  )

  it.scopedLive(
    "USE CATALOG, USE SCHEMA, USE c.s move the session; CREATE and DROP SCHEMA; CREATE CATALOG",
    () =>
      Effect.gen(function*() {
        const session = yield* openSession
        const here = () =>
          rows(session, "SELECT current_catalog() AS c, current_schema() AS s, current_database() AS d")
        assert.deepStrictEqual(yield* rows(session, "CREATE SCHEMA sales COMMENT 'Sales data'"), [])
        // DESCRIBE SCHEMA answers database_description_item, database_description_value
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-describe-schema.html).
        assert.deepStrictEqual(yield* rows(session, "DESCRIBE SCHEMA sales"), [
          { database_description_item: "Catalog Name", database_description_value: "main" },
          { database_description_item: "Database Name", database_description_value: "sales" },
          { database_description_item: "Description", database_description_value: "Sales data" }
        ])
        // DESCRIBE CATALOG answers info_name, info_value
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-describe-catalog.html).
        const catalog = yield* rows(session, "DESCRIBE CATALOG main")
        assert.deepStrictEqual(catalog[0], { info_name: "Catalog Name", info_value: "main" })
        // CREATE SCHEMA of one that exists fails SCHEMA_ALREADY_EXISTS, 42P06, unless IF NOT EXISTS
        // (docs.databricks.com/en/error-messages/error-classes.html#schema_already_exists).
        const exists = yield* failure(session, "CREATE SCHEMA sales")
        assert.match(String(exists?.message), /^\[SCHEMA_ALREADY_EXISTS\] Cannot create schema `main`.`sales`/)
        assert.strictEqual(exists?.response?.sqlState, "42P06")
        yield* rows(session, "CREATE DATABASE IF NOT EXISTS main.sales")
        yield* rows(session, "USE sales")
        assert.deepStrictEqual(yield* here(), [{ c: "main", s: "sales", d: "sales" }])
        yield* rows(session, "CREATE TABLE orders (id BIGINT, amount DECIMAL(10,2))")
        yield* rows(session, "INSERT INTO orders VALUES (1, 9.99)")
        assert.deepStrictEqual(yield* rows(session, "SELECT count(*) AS n FROM main.sales.orders"), [{ n: 1 }])
        assert.deepStrictEqual(yield* rows(session, "SHOW TABLES"), [
          { database: "sales", tableName: "orders", isTemporary: false }
        ])
        // USE CATALOG makes the catalog's default schema current
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-ddl-use-catalog.html).
        yield* rows(session, "USE CATALOG hive_metastore")
        assert.deepStrictEqual(yield* here(), [{ c: "hive_metastore", s: "default", d: "default" }])
        yield* rows(session, "USE samples.nyctaxi")
        assert.deepStrictEqual(yield* here(), [{ c: "samples", s: "nyctaxi", d: "nyctaxi" }])
        assert.deepStrictEqual(yield* rows(session, "SELECT count(*) AS n FROM trips"), [{ n: 1000 }])
        yield* rows(session, "USE SCHEMA main.sales")
        assert.deepStrictEqual(yield* rows(session, "SELECT id FROM orders"), [{ id: 1 }])
        // A catalog or schema that does not exist: NO_SUCH_CATALOG_EXCEPTION, SCHEMA_NOT_FOUND, both 42704
        // (docs.databricks.com/en/error-messages/error-classes.html), and the session stays where it was.
        const noCatalog = yield* failure(session, "USE CATALOG nowhere")
        assert.match(String(noCatalog?.message), /^\[NO_SUCH_CATALOG_EXCEPTION\] Catalog 'nowhere' was not found/)
        assert.strictEqual(noCatalog?.response?.sqlState, "42704")
        const noSchema = yield* failure(session, "USE DATABASE nowhere")
        assert.match(String(noSchema?.message), /^\[SCHEMA_NOT_FOUND\] The schema `main`.`nowhere` cannot be found/)
        assert.strictEqual(noSchema?.response?.sqlState, "42704")
        assert.deepStrictEqual(yield* here(), [{ c: "main", s: "sales", d: "sales" }])
        // DROP SCHEMA of a schema with tables needs CASCADE (SCHEMA_NOT_EMPTY, 2BP01)
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-ddl-drop-schema.html).
        const notEmpty = yield* failure(session, "DROP SCHEMA main.sales")
        assert.match(String(notEmpty?.message), /^\[SCHEMA_NOT_EMPTY\]/)
        yield* rows(session, "USE main.default")
        yield* rows(session, "DROP SCHEMA main.sales CASCADE")
        assert.deepStrictEqual(yield* rows(session, "SHOW SCHEMAS LIKE 'sales'"), [])
        yield* rows(session, "DROP SCHEMA IF EXISTS sales")
        // CREATE CATALOG: a new catalog with its default schema.
        yield* rows(session, "CREATE CATALOG dev")
        yield* rows(session, "CREATE CATALOG IF NOT EXISTS dev")
        assert.deepStrictEqual(yield* rows(session, "SHOW CATALOGS LIKE 'dev'"), [{ catalog: "dev" }])
        yield* rows(session, "CREATE TABLE dev.default.t AS SELECT 1 AS x")
        yield* rows(session, "USE CATALOG dev")
        assert.deepStrictEqual(yield* rows(session, "SELECT x FROM t"), [{ x: 1 }])
      }).pipe(Effect.provide(withEmulator({ samples: true }))),
    { timeout: 120_000 }
  )

  it.scopedLive(
    "SET key = value is recorded per session; SET lists, SET key shows one, RESET forgets",
    () =>
      Effect.gen(function*() {
        const session = yield* openSession
        const other = yield* openSession
        // SET answers `key` and `value`; SET key shows one setting
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-conf-mgmt-set.html).
        assert.deepStrictEqual(yield* rows(session, "SET spark.sql.shuffle.partitions = 8"), [
          { key: "spark.sql.shuffle.partitions", value: "8" }
        ])
        yield* rows(session, "SET ansi_mode = true")
        assert.deepStrictEqual(yield* rows(session, "SET"), [
          { key: "ansi_mode", value: "true" },
          { key: "spark.sql.shuffle.partitions", value: "8" }
        ])
        assert.deepStrictEqual(yield* rows(session, "SET spark.sql.shuffle.partitions"), [
          { key: "spark.sql.shuffle.partitions", value: "8" }
        ])
        assert.deepStrictEqual(yield* rows(other, "SET"), [])
        assert.deepStrictEqual(yield* rows(other, "SET spark.sql.shuffle.partitions"), [
          { key: "spark.sql.shuffle.partitions", value: "<undefined>" }
        ])
        // RESET key forgets one, RESET all (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-conf-mgmt-reset.html).
        yield* rows(session, "RESET ansi_mode")
        assert.deepStrictEqual(yield* rows(session, "SET"), [{ key: "spark.sql.shuffle.partitions", value: "8" }])
        yield* rows(session, "RESET")
        assert.deepStrictEqual(yield* rows(session, "SET"), [])
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 120_000 }
  )

  it.scopedLive(
    "DESCRIBE, SHOW COLUMNS, SHOW TABLES answer with Databricks' columns and type names",
    () =>
      Effect.gen(function*() {
        const session = yield* openSession
        yield* rows(
          session,
          `CREATE TABLE main.default.kinds (s STRING, b BIGINT, i INT, d DECIMAL(10,2), f FLOAT, x DOUBLE,
           t TIMESTAMP, n TIMESTAMP_NTZ, dt DATE, bin BINARY, ok BOOLEAN, a ARRAY<STRING>, m MAP<STRING, INT>,
           st STRUCT<a: INT, b: STRING>)`
        )
        // DESCRIBE TABLE answers col_name, data_type, comment
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-describe-table.html), with the type names
        // of docs.databricks.com/en/sql/language-manual/sql-ref-datatypes.html.
        const described = yield* rows(session, "DESCRIBE TABLE kinds")
        assert.deepStrictEqual(described.map((row) => [row.col_name, row.data_type, row.comment]), [
          ["s", "string", null],
          ["b", "bigint", null],
          ["i", "int", null],
          ["d", "decimal(10,2)", null],
          ["f", "float", null],
          ["x", "double", null],
          ["t", "timestamp", null],
          ["n", "timestamp_ntz", null],
          ["dt", "date", null],
          ["bin", "binary", null],
          ["ok", "boolean", null],
          ["a", "array<string>", null],
          ["m", "map<string,int>", null],
          ["st", "struct<a:int,b:string>", null]
        ])
        assert.deepStrictEqual(yield* rows(session, "DESC main.default.kinds"), described)
        assert.deepStrictEqual(yield* rows(session, "DESCRIBE TABLE `main`.`default`.`KINDS`"), described)
        // Unity Catalog keeps table names in lower case
        // (docs.databricks.com/en/sql/language-manual/sql-ref-names.html: identifiers are case-insensitive).
        yield* rows(session, "CREATE TABLE MixedCase (Id INT)")
        assert.deepStrictEqual(yield* rows(session, "SHOW TABLES LIKE 'mixed*'"), [
          { database: "default", tableName: "mixedcase", isTemporary: false }
        ])
        assert.deepStrictEqual(yield* rows(session, "SHOW COLUMNS IN mixedcase"), [{ col_name: "Id" }])
        yield* rows(session, "DROP TABLE mixedcase")
        // SHOW COLUMNS answers col_name (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-show-columns.html).
        const columns = yield* rows(session, "SHOW COLUMNS IN kinds IN main.default")
        assert.deepStrictEqual(columns.slice(0, 3), [{ col_name: "s" }, { col_name: "b" }, { col_name: "i" }])
        assert.strictEqual(columns.length, 14)
        // SHOW TABLES answers database, tableName, isTemporary
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-show-tables.html).
        yield* rows(session, "CREATE TEMPORARY VIEW recent AS SELECT 1 AS one")
        assert.deepStrictEqual(yield* rows(session, "SHOW TABLES"), [
          { database: "default", tableName: "kinds", isTemporary: false },
          { database: "", tableName: "recent", isTemporary: true }
        ])
        // SHOW VIEWS answers namespace, viewName, isTemporary
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-show-views.html).
        yield* rows(session, "CREATE VIEW wide AS SELECT * FROM kinds")
        assert.deepStrictEqual(yield* rows(session, "SHOW VIEWS"), [
          { namespace: "default", viewName: "wide", isTemporary: false },
          { namespace: "", viewName: "recent", isTemporary: true }
        ])
        yield* rows(session, "DROP VIEW wide")
        // SHOW FUNCTIONS answers one column, function
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-show-functions.html).
        assert.deepStrictEqual(yield* rows(session, "SHOW FUNCTIONS LIKE 'upper'"), [{ function: "upper" }])
        assert.deepStrictEqual(yield* rows(session, "SHOW TABLES FROM default LIKE 'k*'"), [
          { database: "default", tableName: "kinds", isTemporary: false }
        ])
        // DESCRIBE QUERY answers col_name, data_type, comment
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-describe-query.html).
        assert.deepStrictEqual(yield* rows(session, "DESCRIBE QUERY SELECT b, s AS name, d AS price FROM kinds"), [
          { col_name: "b", data_type: "bigint", comment: null },
          { col_name: "name", data_type: "string", comment: null },
          { col_name: "price", data_type: "decimal(10,2)", comment: null }
        ])
        // An interval literal's type is its qualifier: interval day, interval month
        // (docs.databricks.com/en/sql/language-manual/data-types/interval-type.html).
        assert.deepStrictEqual(
          yield* rows(session, "DESCRIBE QUERY SELECT INTERVAL '1' DAY AS d, INTERVAL '1' MONTH AS m"),
          [
            { col_name: "d", data_type: "interval day", comment: null },
            { col_name: "m", data_type: "interval month", comment: null }
          ]
        )
        yield* rows(session, "CREATE TABLE spans AS SELECT INTERVAL '1' DAY AS d, INTERVAL '1' MONTH AS m")
        assert.deepStrictEqual((yield* rows(session, "DESCRIBE spans")).map((row) => row.data_type), [
          "interval day",
          "interval month"
        ])
        // CHAR(n) and VARCHAR(n) keep their declared lengths in DESCRIBE
        // (docs.databricks.com/en/sql/language-manual/data-types/varchar-type.html, char-type.html).
        yield* rows(session, "CREATE TABLE codes (code CHAR(3), label VARCHAR(10), n INT)")
        assert.deepStrictEqual((yield* rows(session, "DESCRIBE codes")).map((row) => row.data_type), [
          "char(3)",
          "varchar(10)",
          "int"
        ])
        // (Dropped: VARCHAR is a Databricks type name too, which the scan below would flag.)
        yield* rows(session, "DROP TABLE codes")
        const missing = yield* failure(session, "DESCRIBE TABLE nowhere")
        assert.match(
          String(missing?.message),
          /^\[TABLE_OR_VIEW_NOT_FOUND\] The table or view `nowhere` cannot be found/
        )
        assert.strictEqual(missing?.response?.sqlState, "42P01")
        for (
          const sql of [
            "SHOW CATALOGS",
            "SHOW SCHEMAS",
            "SHOW TABLES",
            "DESCRIBE TABLE EXTENDED kinds",
            "SHOW COLUMNS IN kinds",
            "SHOW CREATE TABLE kinds",
            "SELECT * FROM information_schema.tables",
            "SELECT * FROM information_schema.columns",
            "SELECT * FROM information_schema.schemata",
            "SELECT * FROM information_schema.catalogs",
            "SELECT current_catalog() AS c, current_schema() AS s, current_database() AS d"
          ]
        ) assertNoDuckDBNames(sql, yield* rows(session, sql))
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 120_000 }
  )

  it.scopedLive(
    "CREATE TABLE's COMMENT, TBLPROPERTIES, PARTITIONED BY and column comments are shown",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const session = yield* openSession
        // Clauses of CREATE TABLE (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-ddl-create-table-using.html).
        yield* rows(
          session,
          `CREATE TABLE main.default.trips (
           id BIGINT COMMENT 'Trip id',
           city STRING COMMENT 'Where it started, as ''City, Country''',
           fare DECIMAL(10,2)
         ) USING DELTA
         PARTITIONED BY (city)
         COMMENT 'One row a trip'
         TBLPROPERTIES ('quality' = 'gold', 'delta.appendOnly' = 'true')`
        )
        yield* rows(session, "INSERT INTO trips VALUES (1, 'Paris, France', 12.5)")
        const extended = yield* rows(session, "DESCRIBE TABLE EXTENDED trips")
        const pairs = extended.map((row) => [row.col_name, row.data_type, row.comment])
        // The partition columns follow the columns, then the table's details
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-describe-table.html, example output).
        assert.deepStrictEqual(pairs.slice(0, 7), [
          ["id", "bigint", "Trip id"],
          ["city", "string", "Where it started, as 'City, Country'"],
          ["fare", "decimal(10,2)", null],
          ["# Partition Information", "", ""],
          ["# col_name", "data_type", "comment"],
          ["city", "string", "Where it started, as 'City, Country'"],
          ["", "", ""]
        ])
        const details = Object.fromEntries(extended.slice(8).map((row) => [row.col_name, row.data_type]))
        assert.strictEqual(pairs[7][0], "# Detailed Table Information")
        assert.strictEqual(details.Catalog, "main")
        assert.strictEqual(details.Database, "default")
        assert.strictEqual(details.Table, "trips")
        assert.strictEqual(details.Type, "MANAGED")
        assert.strictEqual(details.Provider, "delta")
        assert.strictEqual(details.Comment, "One row a trip")
        assert.strictEqual(details.Owner, emulator.user.userName)
        assert.strictEqual(details["Table Properties"], "[quality=gold, delta.appendOnly=true]")
        // The information schema of the catalog (docs.databricks.com/en/sql/language-manual/sql-ref-information-schema.html;
        // TABLES: table_type MANAGED, data_source_format DELTA; COLUMNS: ordinal_position from 0, full_data_type).
        assert.deepStrictEqual(
          yield* rows(
            session,
            `SELECT table_catalog, table_schema, table_name, table_type, comment, data_source_format
           FROM information_schema.tables WHERE table_schema = 'default'`
          ),
          [{
            table_catalog: "main",
            table_schema: "default",
            table_name: "trips",
            table_type: "MANAGED",
            comment: "One row a trip",
            data_source_format: "DELTA"
          }]
        )
        assert.deepStrictEqual(
          yield* rows(
            session,
            `SELECT column_name, ordinal_position, full_data_type, data_type, partition_index, comment
           FROM main.information_schema.columns c WHERE c.table_name = 'trips' ORDER BY ordinal_position`
          ),
          [
            {
              column_name: "id",
              ordinal_position: 0,
              full_data_type: "bigint",
              data_type: "BIGINT",
              partition_index: null,
              comment: "Trip id"
            },
            {
              column_name: "city",
              ordinal_position: 1,
              full_data_type: "string",
              data_type: "STRING",
              partition_index: 0,
              comment: "Where it started, as 'City, Country'"
            },
            {
              column_name: "fare",
              ordinal_position: 2,
              full_data_type: "decimal(10,2)",
              data_type: "DECIMAL",
              partition_index: null,
              comment: null
            }
          ]
        )
        assert.deepStrictEqual(
          yield* rows(session, "SELECT schema_name FROM information_schema.schemata ORDER BY schema_name"),
          [{ schema_name: "default" }, { schema_name: "information_schema" }]
        )
        // Each catalog's information schema shows that catalog's objects only.
        assert.deepStrictEqual(
          yield* rows(session, "SELECT count(*) AS n FROM hive_metastore.information_schema.tables"),
          [
            { n: 0 }
          ]
        )
        // Its temporary tables never show.
        assert.deepStrictEqual(yield* rows(session, "SHOW TABLES"), [
          { database: "default", tableName: "trips", isTemporary: false }
        ])
        // SHOW TBLPROPERTIES answers key, value
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-show-tblproperties.html).
        assert.deepStrictEqual(yield* rows(session, "SHOW TBLPROPERTIES trips"), [
          { key: "quality", value: "gold" },
          { key: "delta.appendOnly", value: "true" }
        ])
        assert.deepStrictEqual(yield* rows(session, "SHOW TBLPROPERTIES trips ('quality')"), [
          { key: "quality", value: "gold" }
        ])
        // SHOW CREATE TABLE answers createtab_stmt
        // (docs.databricks.com/en/sql/language-manual/sql-ref-syntax-aux-show-create-table.html).
        const [created] = yield* rows(session, "SHOW CREATE TABLE trips")
        assert.match(
          String(created.createtab_stmt),
          /^CREATE TABLE main\.default\.trips \(\n {2}id BIGINT COMMENT 'Trip id',/
        )
        assert.include(String(created.createtab_stmt), "USING delta\nPARTITIONED BY (city)\nCOMMENT 'One row a trip'")
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 120_000 }
  )

  it.scopedLive("Emulator.deny still applies to tables named through the catalog", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const session = yield* openSession
      yield* rows(session, "CREATE SCHEMA main.finance")
      yield* rows(session, "CREATE TABLE main.finance.salaries (amount INT)")
      yield* emulator.deny(emulator.user, "salaries")
      for (const sql of ["SELECT * FROM main.finance.salaries", "SELECT * FROM finance.salaries"]) {
        const error = yield* failure(session, sql)
        assert.match(String(error?.message), /^\[INSUFFICIENT_PERMISSIONS\]/, sql)
      }
      yield* rows(session, "USE finance")
      const error = yield* failure(session, "SELECT * FROM salaries")
      assert.match(String(error?.message), /^\[INSUFFICIENT_PERMISSIONS\]/)
    }).pipe(Effect.provide(withEmulator())), { timeout: 120_000 })
})
