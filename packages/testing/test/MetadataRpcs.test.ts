import type { DBSQLClient } from "@databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { openSession } from "./driver.js"
import { assertNoDuckDBNames } from "./duckdbNames.js"
import { withEmulator } from "./emulator.js"

type IDBSQLSession = Awaited<ReturnType<DBSQLClient["openSession"]>>
type IOperation = Awaited<ReturnType<IDBSQLSession["executeStatement"]>>

const run = (session: IDBSQLSession, sql: string) =>
  Effect.promise(async () => {
    const operation = await session.executeStatement(sql)
    await operation.fetchAll()
    await operation.close()
  })

/** The result columns (in order) and the rows of a metadata RPC. */
const answer = (call: () => Promise<IOperation>) =>
  Effect.promise(async () => {
    const operation = await call()
    try {
      const schema = await operation.getSchema()
      const rows = (await operation.fetchAll()) as Array<Record<string, unknown>>
      return { columns: (schema?.columns ?? []).map((column) => column.columnName), rows }
    } finally {
      await operation.close()
    }
  })

/**
 * The result columns of the metadata RPCs are those of the Spark Thrift server Databricks SQL warehouses speak:
 * Apache Hive `service/src/java/org/apache/hive/service/cli/operation/GetColumnsOperation.java` (and
 * GetTablesOperation, GetSchemasOperation, GetCatalogsOperation, GetTableTypesOperation, GetTypeInfoOperation,
 * GetFunctionsOperation, GetPrimaryKeysOperation, GetCrossReferenceOperation) define them, Spark's
 * `sql/hive-thriftserver/.../SparkGetColumnsOperation.scala` (and SparkGetTablesOperation, ...) fill them; they are
 * the JDBC `DatabaseMetaData` columns (java.sql.DatabaseMetaData#getColumns etc.).
 */
const columnsColumns = [
  "TABLE_CAT",
  "TABLE_SCHEM",
  "TABLE_NAME",
  "COLUMN_NAME",
  "DATA_TYPE",
  "TYPE_NAME",
  "COLUMN_SIZE",
  "BUFFER_LENGTH",
  "DECIMAL_DIGITS",
  "NUM_PREC_RADIX",
  "NULLABLE",
  "REMARKS",
  "COLUMN_DEF",
  "SQL_DATA_TYPE",
  "SQL_DATETIME_SUB",
  "CHAR_OCTET_LENGTH",
  "ORDINAL_POSITION",
  "IS_NULLABLE",
  "SCOPE_CATALOG",
  "SCOPE_SCHEMA",
  "SCOPE_TABLE",
  "SOURCE_DATA_TYPE",
  "IS_AUTO_INCREMENT"
]

const tablesColumns = [
  "TABLE_CAT",
  "TABLE_SCHEM",
  "TABLE_NAME",
  "TABLE_TYPE",
  "REMARKS",
  "TYPE_CAT",
  "TYPE_SCHEM",
  "TYPE_NAME",
  "SELF_REFERENCING_COL_NAME",
  "REF_GENERATION"
]

/** A schema `sales` with a table (comments, a primary key), a table referencing it, and a view. */
const seed = (session: IDBSQLSession) =>
  Effect.gen(function*() {
    yield* run(session, "CREATE SCHEMA main.sales")
    yield* run(
      session,
      `CREATE TABLE main.sales.orders (
         id BIGINT NOT NULL COMMENT 'Order id',
         amount DECIMAL(10,2),
         note STRING,
         placed TIMESTAMP,
         CONSTRAINT orders_pk PRIMARY KEY (id)
       ) USING DELTA COMMENT 'One row an order'`
    )
    // DuckDB takes a foreign key's parent by its name in the current schema only.
    yield* run(session, "USE main.sales")
    yield* run(
      session,
      `CREATE TABLE main.sales.lines (
         order_id BIGINT,
         sku STRING,
         CONSTRAINT lines_orders_fk FOREIGN KEY (order_id) REFERENCES orders (id)
       )`
    )
    yield* run(session, "CREATE VIEW main.sales.big_orders AS SELECT * FROM main.sales.orders WHERE amount > 100")
  })

describe("Metadata RPCs, through the real driver", () => {
  it.scopedLive(
    "GetCatalogs, GetSchemas, GetTableTypes, GetTables answer from the catalog, patterns honoured",
    () =>
      Effect.gen(function*() {
        const session = yield* openSession
        yield* seed(session)

        const catalogs = yield* answer(() => session.getCatalogs())
        assert.deepStrictEqual(catalogs.columns, ["TABLE_CAT"])
        assert.deepStrictEqual(catalogs.rows.map((row) => row.TABLE_CAT), ["hive_metastore", "main", "samples"])

        // GetSchemas: TABLE_SCHEM, TABLE_CATALOG (GetSchemasOperation.java).
        const schemas = yield* answer(() => session.getSchemas({ catalogName: "main" }))
        assert.deepStrictEqual(schemas.columns, ["TABLE_SCHEM", "TABLE_CATALOG"])
        assert.deepStrictEqual(schemas.rows, [
          { TABLE_SCHEM: "default", TABLE_CATALOG: "main" },
          { TABLE_SCHEM: "information_schema", TABLE_CATALOG: "main" },
          { TABLE_SCHEM: "sales", TABLE_CATALOG: "main" }
        ])
        // JDBC patterns: `%` any characters, `_` one (java.sql.DatabaseMetaData, "pattern").
        const pattern = yield* answer(() => session.getSchemas({ schemaName: "s_l%" }))
        assert.deepStrictEqual(pattern.rows, [{ TABLE_SCHEM: "sales", TABLE_CATALOG: "main" }])
        // No catalog: every catalog's schemas.
        const all = yield* answer(() => session.getSchemas({}))
        assert.deepStrictEqual(
          all.rows.filter((row) => row.TABLE_SCHEM === "default").map((row) => row.TABLE_CATALOG),
          ["hive_metastore", "main"]
        )

        // GetTableTypes: Spark's Thrift server names managed and external tables "TABLE", views "VIEW"
        // (SparkGetTableTypesOperation.scala, SparkGetTablesOperation.tableTypeString).
        const types = yield* answer(() => session.getTableTypes())
        assert.deepStrictEqual(types.columns, ["TABLE_TYPE"])
        assert.deepStrictEqual(types.rows, [{ TABLE_TYPE: "TABLE" }, { TABLE_TYPE: "VIEW" }])

        const tables = yield* answer(() => session.getTables({ catalogName: "main", schemaName: "sales" }))
        assert.deepStrictEqual(tables.columns, tablesColumns)
        assert.deepStrictEqual(
          tables.rows.map((row) => [row.TABLE_CAT, row.TABLE_SCHEM, row.TABLE_NAME, row.TABLE_TYPE, row.REMARKS]),
          [
            ["main", "sales", "big_orders", "VIEW", ""],
            ["main", "sales", "lines", "TABLE", ""],
            ["main", "sales", "orders", "TABLE", "One row an order"]
          ]
        )
        const views = yield* answer(() => session.getTables({ schemaName: "sales", tableTypes: ["VIEW"] }))
        assert.deepStrictEqual(views.rows.map((row) => row.TABLE_NAME), ["big_orders"])
        const named = yield* answer(() => session.getTables({ tableName: "ord_rs" }))
        assert.deepStrictEqual(named.rows.map((row) => `${row.TABLE_CAT}.${row.TABLE_SCHEM}.${row.TABLE_NAME}`), [
          "main.sales.orders"
        ])
        const none = yield* answer(() => session.getTables({ catalogName: "samples" }))
        assert.deepStrictEqual(none.columns, tablesColumns)
        assert.deepStrictEqual(none.rows, [])
        for (const [what, rows] of [["catalogs", catalogs], ["schemas", all], ["tables", tables]] as const) {
          assertNoDuckDBNames(what, rows.rows)
        }
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 120_000 }
  )

  it.scopedLive(
    "GetColumns answers JDBC's columns with java.sql.Types codes and Databricks type names",
    () =>
      Effect.gen(function*() {
        const session = yield* openSession
        yield* seed(session)
        const columns = yield* answer(() =>
          session.getColumns({ catalogName: "main", schemaName: "sales", tableName: "orders" })
        )
        assert.deepStrictEqual(columns.columns, columnsColumns)
        // DATA_TYPE is the java.sql.Types code (BIGINT -5, DECIMAL 3, VARCHAR 12, TIMESTAMP 93), TYPE_NAME the
        // type's SQL name, COLUMN_SIZE its size (a decimal's precision), DECIMAL_DIGITS its scale, ORDINAL_POSITION
        // counted from 0 (SparkGetColumnsOperation.scala).
        assert.deepStrictEqual(
          columns.rows.map((row) => [
            row.TABLE_CAT,
            row.TABLE_SCHEM,
            row.TABLE_NAME,
            row.COLUMN_NAME,
            row.DATA_TYPE,
            row.TYPE_NAME,
            row.COLUMN_SIZE,
            row.DECIMAL_DIGITS,
            row.NUM_PREC_RADIX,
            row.REMARKS,
            row.ORDINAL_POSITION,
            row.IS_NULLABLE
          ]),
          [
            ["main", "sales", "orders", "id", -5, "BIGINT", 8, 0, 10, "Order id", 0, "YES"],
            ["main", "sales", "orders", "amount", 3, "DECIMAL(10,2)", 10, 2, 10, "", 1, "YES"],
            ["main", "sales", "orders", "note", 12, "STRING", null, null, null, "", 2, "YES"],
            ["main", "sales", "orders", "placed", 93, "TIMESTAMP", 8, 6, null, "", 3, "YES"]
          ]
        )
        const some = yield* answer(() => session.getColumns({ schemaName: "sales", columnName: "%o%" }))
        assert.deepStrictEqual(some.rows.map((row) => `${row.TABLE_NAME}.${row.COLUMN_NAME}`), [
          "big_orders.amount",
          "big_orders.note",
          "lines.order_id",
          "orders.amount",
          "orders.note"
        ])
        assertNoDuckDBNames("columns", columns.rows)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 120_000 }
  )

  it.scopedLive("GetTypeInfo, GetFunctions, GetPrimaryKeys, GetCrossReference", () =>
    Effect.gen(function*() {
      const session = yield* openSession
      yield* seed(session)

      const types = yield* answer(() => session.getTypeInfo())
      // GetTypeInfoOperation.java's columns (java.sql.DatabaseMetaData#getTypeInfo).
      assert.deepStrictEqual(types.columns, [
        "TYPE_NAME",
        "DATA_TYPE",
        "PRECISION",
        "LITERAL_PREFIX",
        "LITERAL_SUFFIX",
        "CREATE_PARAMS",
        "NULLABLE",
        "CASE_SENSITIVE",
        "SEARCHABLE",
        "UNSIGNED_ATTRIBUTE",
        "FIXED_PREC_SCALE",
        "AUTO_INCREMENT",
        "LOCAL_TYPE_NAME",
        "MINIMUM_SCALE",
        "MAXIMUM_SCALE",
        "SQL_DATA_TYPE",
        "SQL_DATETIME_SUB",
        "NUM_PREC_RADIX"
      ])
      const int = types.rows.find((row) => row.TYPE_NAME === "INT")
      assert.deepStrictEqual([int?.DATA_TYPE, int?.PRECISION, int?.NUM_PREC_RADIX], [4, 10, 10])
      assert.strictEqual(types.rows.find((row) => row.TYPE_NAME === "STRING")?.DATA_TYPE, 12)
      assertNoDuckDBNames("types", types.rows)

      // GetFunctionsOperation.java's columns; the function name is a JDBC pattern.
      const functions = yield* answer(() => session.getFunctions({ functionName: "uppe_" }))
      assert.deepStrictEqual(functions.columns, [
        "FUNCTION_CAT",
        "FUNCTION_SCHEM",
        "FUNCTION_NAME",
        "REMARKS",
        "FUNCTION_TYPE",
        "SPECIFIC_NAME"
      ])
      assert.deepStrictEqual(functions.rows.map((row) => row.FUNCTION_NAME), ["upper"])

      // GetPrimaryKeysOperation.java: KEY_SEQ counts from 1 (java.sql.DatabaseMetaData#getPrimaryKeys).
      const keys = yield* answer(() =>
        session.getPrimaryKeys({ catalogName: "main", schemaName: "sales", tableName: "orders" })
      )
      assert.deepStrictEqual(keys.columns, [
        "TABLE_CAT",
        "TABLE_SCHEM",
        "TABLE_NAME",
        "COLUMN_NAME",
        "KEY_SEQ",
        "PK_NAME"
      ])
      assert.deepStrictEqual(
        keys.rows.map((row) => [row.TABLE_CAT, row.TABLE_SCHEM, row.TABLE_NAME, row.COLUMN_NAME, row.KEY_SEQ]),
        [["main", "sales", "orders", "id", 1]]
      )
      const noKeys = yield* answer(() =>
        session.getPrimaryKeys({ catalogName: "main", schemaName: "sales", tableName: "lines" })
      )
      assert.deepStrictEqual(noKeys.rows, [])

      // GetCrossReferenceOperation.java's columns (java.sql.DatabaseMetaData#getCrossReference).
      const references = yield* answer(() =>
        session.getCrossReference({
          parentCatalogName: "main",
          parentSchemaName: "sales",
          parentTableName: "orders",
          foreignCatalogName: "main",
          foreignSchemaName: "sales",
          foreignTableName: "lines"
        })
      )
      assert.deepStrictEqual(references.columns, [
        "PKTABLE_CAT",
        "PKTABLE_SCHEM",
        "PKTABLE_NAME",
        "PKCOLUMN_NAME",
        "FKTABLE_CAT",
        "FKTABLE_SCHEM",
        "FKTABLE_NAME",
        "FKCOLUMN_NAME",
        "KEY_SEQ",
        "UPDATE_RULE",
        "DELETE_RULE",
        "FK_NAME",
        "PK_NAME",
        "DEFERRABILITY"
      ])
      assert.deepStrictEqual(
        references.rows.map((row) => [row.PKTABLE_NAME, row.PKCOLUMN_NAME, row.FKTABLE_NAME, row.FKCOLUMN_NAME]),
        [["orders", "id", "lines", "order_id"]]
      )
    }).pipe(Effect.provide(withEmulator())), { timeout: 120_000 })
})
