/**
 * The driver's metadata RPCs (GetCatalogs, GetSchemas, GetTables, GetTableTypes, GetColumns, GetTypeInfo,
 * GetFunctions, GetPrimaryKeys, GetCrossReference), answered from the catalog with the result columns of the Spark
 * Thrift server that Databricks SQL warehouses speak (Apache Hive's `service/.../cli/operation/Get*Operation.java`
 * define the columns, Spark's `sql/hive-thriftserver/.../SparkGet*Operation.scala` fill them), with the JDBC
 * patterns (`%`, `_`) of the request, and no filter where the request has none.
 *
 * @internal
 */
import type { DuckDBConnection, DuckDBType, DuckDBValue } from "@duckdb/node-api"
import { DuckDBTypeId } from "@duckdb/node-api"
import type { Session } from "../engine.js"
import { typeName } from "../types.js"
import { type Context, visibleTables } from "./commands.js"
import * as Names from "./names.js"
import * as Objects from "./objects.js"
import * as Rows from "./rows.js"

/** `java.sql.Types` codes. */
const JavaTypes = {
  NULL: 0,
  BOOLEAN: 16,
  TINYINT: -6,
  SMALLINT: 5,
  INTEGER: 4,
  BIGINT: -5,
  FLOAT: 6,
  DOUBLE: 8,
  DECIMAL: 3,
  CHAR: 1,
  VARCHAR: 12,
  BINARY: -2,
  DATE: 91,
  TIMESTAMP: 93,
  OTHER: 1111,
  JAVA_OBJECT: 2000,
  STRUCT: 2002,
  ARRAY: 2003
} as const

/** The `java.sql.Types` code Spark's `SparkGetColumnsOperation.toJavaSQLType` gives a Databricks type. */
const javaType = (name: string): number => {
  const head = /^[a-z_]+/.exec(name)?.[0] ?? ""
  switch (head) {
    case "void":
      return JavaTypes.NULL
    case "boolean":
      return JavaTypes.BOOLEAN
    case "tinyint":
      return JavaTypes.TINYINT
    case "smallint":
      return JavaTypes.SMALLINT
    case "int":
      return JavaTypes.INTEGER
    case "bigint":
      return JavaTypes.BIGINT
    case "float":
      return JavaTypes.FLOAT
    case "double":
      return JavaTypes.DOUBLE
    case "decimal":
      return JavaTypes.DECIMAL
    case "string":
    case "varchar":
      return JavaTypes.VARCHAR
    case "char":
      return JavaTypes.CHAR
    case "binary":
      return JavaTypes.BINARY
    case "date":
      return JavaTypes.DATE
    case "timestamp":
    case "timestamp_ntz":
      return JavaTypes.TIMESTAMP
    case "array":
      return JavaTypes.ARRAY
    case "struct":
      return JavaTypes.STRUCT
    case "map":
      return JavaTypes.JAVA_OBJECT
    default:
      return JavaTypes.OTHER
  }
}

/** Spark's `SparkGetColumnsOperation`: COLUMN_SIZE (a type's default size in bytes; a decimal's precision). */
const columnSize = (type: DuckDBType, name: string): number | null => {
  if (type.typeId === DuckDBTypeId.DECIMAL) return (type as unknown as { width: number }).width
  const sizes: Record<string, number> = {
    boolean: 1,
    tinyint: 1,
    smallint: 2,
    int: 4,
    bigint: 8,
    float: 4,
    double: 8,
    date: 4,
    timestamp: 8,
    timestamp_ntz: 8,
    void: 1,
    binary: 1
  }
  return sizes[name] ?? null
}

/** DECIMAL_DIGITS: a decimal's scale, 0 for integers, 7 and 15 for float and double, 6 for timestamps. */
const decimalDigits = (type: DuckDBType, name: string): number | null => {
  if (type.typeId === DuckDBTypeId.DECIMAL) return (type as unknown as { scale: number }).scale
  if (["tinyint", "smallint", "int", "bigint"].includes(name)) return 0
  if (name === "float") return 7
  if (name === "double") return 15
  if (name === "timestamp" || name === "timestamp_ntz") return 6
  return null
}

const isNumeric = (name: string) => /^(tinyint|smallint|int|bigint|float|double|decimal)/.test(name)

const string = (value: unknown): string | undefined => value === undefined || value === null ? undefined : String(value)

/** The schemas the request's catalog and schema patterns match, as `[catalog, schema]`. */
const matchingSchemas = async (connection: DuckDBConnection, catalogPattern: unknown, schemaPattern: unknown) => {
  const catalogMatches = Names.jdbcPattern(string(catalogPattern))
  const schemaMatches = Names.jdbcPattern(string(schemaPattern))
  const found: Array<readonly [string, string]> = []
  for (const catalog of (await Objects.catalogs(connection)).filter(catalogMatches)) {
    for (const schema of await Objects.schemas(connection, catalog)) {
      if (schemaMatches(schema)) found.push([catalog, schema])
    }
  }
  return found
}

/** The tables (not the session's temporary views) the request's patterns match, that the caller may see. */
const matchingTables = async (context: Context, request: any) => {
  const catalogMatches = Names.jdbcPattern(string(request.catalogName))
  const schemaMatches = Names.jdbcPattern(string(request.schemaName))
  const tableMatches = Names.jdbcPattern(string(request.tableName))
  return (await visibleTables(context)).filter((table) =>
    !table.temporary && catalogMatches(table.catalog) && schemaMatches(table.schema) && tableMatches(table.table)
  )
}

const s = Rows.string
const i = Rows.int

const getCatalogs = async (session: Session) =>
  Rows.rows([["TABLE_CAT", s]], (await Objects.catalogs(session.connection)).map((catalog) => [catalog]))

const getSchemas = async (session: Session, request: any) =>
  Rows.rows(
    [["TABLE_SCHEM", s], ["TABLE_CATALOG", s]],
    (await matchingSchemas(session.connection, request.catalogName, request.schemaName)).map(([catalog, schema]) => [
      schema,
      catalog
    ])
  )

const getTables = async (context: Context, request: any) => {
  const types: ReadonlyArray<string> | undefined = Array.isArray(request.tableTypes) && request.tableTypes.length > 0
    ? request.tableTypes.map((type: unknown) => String(type).toUpperCase())
    : undefined
  const tables = (await matchingTables(context, request)).filter((table) =>
    types === undefined || types.includes(table.kind)
  )
  return Rows.rows(
    [
      ["TABLE_CAT", s],
      ["TABLE_SCHEM", s],
      ["TABLE_NAME", s],
      ["TABLE_TYPE", s],
      ["REMARKS", s],
      ["TYPE_CAT", s],
      ["TYPE_SCHEM", s],
      ["TYPE_NAME", s],
      ["SELF_REFERENCING_COL_NAME", s],
      ["REF_GENERATION", s]
    ],
    tables.map((table) => [
      table.catalog,
      table.schema,
      table.table,
      table.kind,
      context.recorded.get(table)?.comment ?? "",
      null,
      null,
      null,
      null,
      null
    ])
  )
}

/** Spark's `CatalogTableType` as the Thrift server names it: managed and external tables are both "TABLE". */
const getTableTypes = () => Rows.rows([["TABLE_TYPE", s]], [["TABLE"], ["VIEW"]])

const getColumns = async (context: Context, request: any) => {
  const { connection } = context.session
  const columnMatches = Names.jdbcPattern(string(request.columnName))
  const data: Array<Array<DuckDBValue>> = []
  for (const table of await matchingTables(context, request)) {
    const details = context.recorded.get(table)
    const columns = await Objects.tableColumns(connection, table)
    columns.forEach((column, position) => {
      if (!columnMatches(column.name)) return
      const name = details?.declaredTypes.get(column.name.toLowerCase()) ?? typeName(column.type)
      data.push([
        table.catalog,
        table.schema,
        table.table,
        column.name,
        javaType(name),
        // Spark names the type in upper case here (`DataType.sql`): INT, STRING, ARRAY<STRING>.
        name.toUpperCase(),
        columnSize(column.type, name),
        null,
        decimalDigits(column.type, name),
        isNumeric(name) ? 10 : null,
        1,
        details?.columnComments.get(column.name.toLowerCase()) ?? "",
        null,
        null,
        null,
        null,
        // Spark's ORDINAL_POSITION counts from 0.
        position,
        "YES",
        null,
        null,
        null,
        null,
        "NO"
      ])
    })
  }
  return Rows.rows(
    [
      ["TABLE_CAT", s],
      ["TABLE_SCHEM", s],
      ["TABLE_NAME", s],
      ["COLUMN_NAME", s],
      ["DATA_TYPE", i],
      ["TYPE_NAME", s],
      ["COLUMN_SIZE", i],
      ["BUFFER_LENGTH", Rows.tinyint],
      ["DECIMAL_DIGITS", i],
      ["NUM_PREC_RADIX", i],
      ["NULLABLE", i],
      ["REMARKS", s],
      ["COLUMN_DEF", s],
      ["SQL_DATA_TYPE", i],
      ["SQL_DATETIME_SUB", i],
      ["CHAR_OCTET_LENGTH", i],
      ["ORDINAL_POSITION", i],
      ["IS_NULLABLE", s],
      ["SCOPE_CATALOG", s],
      ["SCOPE_SCHEMA", s],
      ["SCOPE_TABLE", s],
      ["SOURCE_DATA_TYPE", Rows.smallint],
      ["IS_AUTO_INCREMENT", s]
    ],
    data
  )
}

/** The types Spark's `SparkGetTypeInfoOperation` lists (Hive's `Type` without the ones Spark lacks). */
const typeInfo: ReadonlyArray<readonly [name: string, precision: number | null]> = [
  ["VOID", null],
  ["BOOLEAN", null],
  ["TINYINT", 3],
  ["SMALLINT", 5],
  ["INT", 10],
  ["BIGINT", 19],
  ["FLOAT", 7],
  ["DOUBLE", 15],
  ["STRING", null],
  ["DATE", null],
  ["TIMESTAMP", null],
  ["TIMESTAMP_NTZ", null],
  ["BINARY", null],
  ["DECIMAL", 38],
  ["ARRAY", null],
  ["MAP", null],
  ["STRUCT", null],
  ["INTERVAL", null]
]

const getTypeInfo = () =>
  Rows.rows(
    [
      ["TYPE_NAME", s],
      ["DATA_TYPE", i],
      ["PRECISION", i],
      ["LITERAL_PREFIX", s],
      ["LITERAL_SUFFIX", s],
      ["CREATE_PARAMS", s],
      ["NULLABLE", Rows.smallint],
      ["CASE_SENSITIVE", Rows.boolean],
      ["SEARCHABLE", Rows.smallint],
      ["UNSIGNED_ATTRIBUTE", Rows.boolean],
      ["FIXED_PREC_SCALE", Rows.boolean],
      ["AUTO_INCREMENT", Rows.boolean],
      ["LOCAL_TYPE_NAME", s],
      ["MINIMUM_SCALE", Rows.smallint],
      ["MAXIMUM_SCALE", Rows.smallint],
      ["SQL_DATA_TYPE", i],
      ["SQL_DATETIME_SUB", i],
      ["NUM_PREC_RADIX", i]
    ],
    typeInfo.map(([name, precision]) => {
      const complex = ["ARRAY", "MAP", "STRUCT"].includes(name)
      return [
        name,
        javaType(name.toLowerCase()),
        precision,
        null,
        null,
        null,
        1, // typeNullable
        name === "STRING",
        complex ? 0 : 3, // typePredNone for complex types, typeSearchable for the others
        !isNumeric(name.toLowerCase()),
        false,
        false,
        null,
        0,
        0,
        null,
        null,
        isNumeric(name.toLowerCase()) ? 10 : null
      ]
    })
  )

/**
 * The built-in functions whose names match the request's pattern (FUNCTION_TYPE 0, `functionResultUnknown`, as
 * Spark's `SparkGetFunctionsOperation` answers), one row a name.
 */
const getFunctions = async (session: Session, request: any) => {
  const matches = Names.jdbcPattern(string(request.functionName))
  // Built-in functions belong to no catalog or schema: the catalog and schema patterns do not filter them.
  const names = (await Objects.functions(session.connection)).filter(matches)
  return Rows.rows(
    [["FUNCTION_CAT", s], ["FUNCTION_SCHEM", s], ["FUNCTION_NAME", s], ["REMARKS", s], ["FUNCTION_TYPE", i], [
      "SPECIFIC_NAME",
      s
    ]],
    names.map((name) => [null, null, name, "", 0, name])
  )
}

/** Primary and foreign keys as DuckDB keeps them (Unity Catalog's informational constraints). */
const constraints = async (connection: DuckDBConnection, kind: "PRIMARY KEY" | "FOREIGN KEY") =>
  (await connection.runAndReadAll(
    `SELECT database_name, schema_name, table_name, constraint_name, constraint_column_names,
            referenced_table, referenced_column_names
     FROM duckdb_constraints() WHERE constraint_type = '${kind}'`
  )).getRowObjectsJS().filter((row) => !Names.hiddenDatabases.has(String(row.database_name))).map((row) => ({
    catalog: Names.catalogOf(String(row.database_name)),
    schema: String(row.schema_name),
    table: String(row.table_name),
    name: String(row.constraint_name),
    columns: (row.constraint_column_names as Array<unknown>).map(String),
    referencedTable: row.referenced_table === null ? undefined : String(row.referenced_table),
    referencedColumns: ((row.referenced_column_names ?? []) as Array<unknown>).map(String)
  }))

const equalsOrAny = (wanted: unknown, value: string) =>
  wanted === undefined || wanted === null || String(wanted).toLowerCase() === value.toLowerCase()

const getPrimaryKeys = async (session: Session, request: any) => {
  const keys = (await constraints(session.connection, "PRIMARY KEY")).filter((key) =>
    equalsOrAny(request.catalogName, key.catalog) && equalsOrAny(request.schemaName, key.schema) &&
    equalsOrAny(request.tableName, key.table)
  )
  return Rows.rows(
    [["TABLE_CAT", s], ["TABLE_SCHEM", s], ["TABLE_NAME", s], ["COLUMN_NAME", s], ["KEY_SEQ", i], ["PK_NAME", s]],
    keys.flatMap((key) =>
      key.columns.map((column, position) => [key.catalog, key.schema, key.table, column, position + 1, key.name])
    )
  )
}

const getCrossReference = async (session: Session, request: any) => {
  const keys = (await constraints(session.connection, "FOREIGN KEY")).filter((key) =>
    equalsOrAny(request.foreignCatalogName, key.catalog) && equalsOrAny(request.foreignSchemaName, key.schema) &&
    equalsOrAny(request.foreignTableName, key.table) &&
    // DuckDB's foreign keys point into their own schema.
    equalsOrAny(request.parentCatalogName, key.catalog) && equalsOrAny(request.parentSchemaName, key.schema) &&
    key.referencedTable !== undefined && equalsOrAny(request.parentTableName, key.referencedTable)
  )
  return Rows.rows(
    [
      ["PKTABLE_CAT", s],
      ["PKTABLE_SCHEM", s],
      ["PKTABLE_NAME", s],
      ["PKCOLUMN_NAME", s],
      ["FKTABLE_CAT", s],
      ["FKTABLE_SCHEM", s],
      ["FKTABLE_NAME", s],
      ["FKCOLUMN_NAME", s],
      ["KEY_SEQ", i],
      ["UPDATE_RULE", Rows.smallint],
      ["DELETE_RULE", Rows.smallint],
      ["FK_NAME", s],
      ["PK_NAME", s],
      ["DEFERRABILITY", Rows.smallint]
    ],
    keys.flatMap((key) =>
      key.columns.map((column, position) => [
        key.catalog,
        key.schema,
        key.referencedTable!,
        key.referencedColumns[position] ?? null,
        key.catalog,
        key.schema,
        key.table,
        column,
        position + 1,
        3, // importedKeyNoAction
        3,
        key.name,
        null,
        7 // importedKeyNotDeferrable
      ])
    )
  )
}

export type Rpc =
  | "GetCatalogs"
  | "GetSchemas"
  | "GetTables"
  | "GetTableTypes"
  | "GetColumns"
  | "GetTypeInfo"
  | "GetFunctions"
  | "GetPrimaryKeys"
  | "GetCrossReference"

/** The answer to one metadata RPC. */
export const answer = (context: Context, rpc: Rpc, request: any): Promise<ReturnType<typeof Rows.rows>> => {
  switch (rpc) {
    case "GetCatalogs":
      return getCatalogs(context.session)
    case "GetSchemas":
      return getSchemas(context.session, request)
    case "GetTables":
      return getTables(context, request)
    case "GetTableTypes":
      return Promise.resolve(getTableTypes())
    case "GetColumns":
      return getColumns(context, request)
    case "GetTypeInfo":
      return Promise.resolve(getTypeInfo())
    case "GetFunctions":
      return getFunctions(context.session, request)
    case "GetPrimaryKeys":
      return getPrimaryKeys(context.session, request)
    case "GetCrossReference":
      return getCrossReference(context.session, request)
  }
}
