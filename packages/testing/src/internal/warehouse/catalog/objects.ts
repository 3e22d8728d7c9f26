/**
 * What exists in the catalog, read from DuckDB (catalogs = databases, schemas, tables and views, their columns),
 * with what DuckDB does not keep (comments, table properties, partitioning, provider), recorded at `CREATE TABLE`.
 *
 * @internal
 */
import type { DuckDBConnection, DuckDBType } from "@duckdb/node-api"
import * as Names from "./names.js"

/** The Unity Catalog catalogs have an `information_schema`; the legacy `hive_metastore` does not. */
const legacyCatalogs: ReadonlySet<string> = new Set(["hive_metastore"])

const rowsOf = async (connection: DuckDBConnection, sql: string): Promise<Array<Record<string, unknown>>> =>
  (await connection.runAndReadAll(sql)).getRowObjectsJS() as Array<Record<string, unknown>>

/** Every catalog, sorted. */
export const catalogs = async (connection: DuckDBConnection): Promise<Array<string>> =>
  (await rowsOf(connection, "SELECT database_name FROM duckdb_databases()"))
    .map((row) => String(row.database_name))
    .filter((name) => !Names.hiddenDatabases.has(name))
    .map(Names.catalogOf)
    .sort()

export const catalogExists = async (connection: DuckDBConnection, catalog: string) =>
  (await catalogs(connection)).includes(catalog)

/** The schemas of a catalog, sorted, with the `information_schema` Unity Catalog gives every catalog. */
export const schemas = async (connection: DuckDBConnection, catalog: string): Promise<Array<string>> => {
  const names = (await rowsOf(
    connection,
    `SELECT schema_name FROM duckdb_schemas() WHERE database_name = ${
      Names.literal(catalog === "main" ? Names.mainDatabase : catalog)
    }`
  )).map((row) => String(row.schema_name).toLowerCase()).filter((name) => !Names.hiddenSchemas.has(name))
  if (!legacyCatalogs.has(catalog)) names.push("information_schema")
  return names.sort()
}

export const schemaExists = async (connection: DuckDBConnection, catalog: string, schema: string) =>
  (await catalogExists(connection, catalog)) && (await schemas(connection, catalog)).includes(schema)

/** A table or view of the catalog. */
export interface Table {
  readonly catalog: string
  readonly schema: string
  readonly table: string
  readonly kind: "TABLE" | "VIEW"
  /** A session's temporary view (DuckDB's `temp` database). */
  readonly temporary: boolean
}

/** The tables and views (and the session's temporary views), sorted by catalog, schema and name. */
export const tables = async (connection: DuckDBConnection): Promise<Array<Table>> => {
  const found = await rowsOf(
    connection,
    `SELECT database_name, schema_name, table_name, 'TABLE' AS kind, temporary FROM duckdb_tables() WHERE NOT internal
     UNION ALL
     SELECT database_name, schema_name, view_name, 'VIEW', temporary FROM duckdb_views() WHERE NOT internal`
  )
  return found
    // The information schema's session-temporary tables are the catalog's own.
    .filter((row) => !String(row.table_name).startsWith("__information_schema_"))
    .filter((row) =>
      row.temporary === true
        ? true
        : !Names.hiddenDatabases.has(String(row.database_name)) && !Names.hiddenSchemas.has(String(row.schema_name))
    )
    .map((row): Table => ({
      catalog: row.temporary === true ? "" : Names.catalogOf(String(row.database_name)),
      // Unity Catalog keeps names in lower case (DuckDB keeps them as written, and matches them in any case).
      schema: row.temporary === true ? "" : String(row.schema_name).toLowerCase(),
      table: String(row.table_name).toLowerCase(),
      kind: row.kind === "VIEW" ? "VIEW" : "TABLE",
      temporary: row.temporary === true
    }))
    .sort((a, b) =>
      a.catalog.localeCompare(b.catalog) || a.schema.localeCompare(b.schema) || a.table.localeCompare(b.table)
    )
}

/** A table or view by name, if it exists (a one-part name may also be a temporary view). */
export const findTable = async (
  connection: DuckDBConnection,
  name: Names.TableName,
  parts: number
): Promise<Table | undefined> => {
  const all = await tables(connection)
  if (parts === 1) {
    const view = all.find((table) => table.temporary && table.table === name.table)
    if (view !== undefined) return view
  }
  return all.find((table) =>
    !table.temporary && table.catalog === name.catalog && table.schema === name.schema && table.table === name.table
  )
}

/** The DuckDB name of a table (a temporary view by its name alone). */
export const duckName = (table: Table) =>
  table.temporary
    ? Names.quote(table.table)
    : Names.duckName({ catalog: table.catalog, schema: table.schema, table: table.table })

/** The columns of a table, or of a query, with their DuckDB types (prepared, not run). */
export const columnsOf = async (
  connection: DuckDBConnection,
  query: string
): Promise<Array<{ readonly name: string; readonly type: DuckDBType }>> => {
  const prepared = await connection.prepare(query)
  try {
    const columns: Array<{ readonly name: string; readonly type: DuckDBType }> = []
    for (let i = 0; i < prepared.columnCount; i++) {
      columns.push({ name: prepared.columnName(i), type: prepared.columnType(i) })
    }
    return columns
  } finally {
    prepared.destroySync()
  }
}

/** A table's columns. */
export const tableColumns = (connection: DuckDBConnection, table: Table) =>
  columnsOf(connection, `SELECT * FROM ${duckName(table)}`)

/** What `CREATE TABLE` said that DuckDB does not keep. */
export interface Details {
  readonly provider: string | undefined
  readonly comment: string | undefined
  readonly properties: ReadonlyArray<readonly [string, string]>
  readonly partitionColumns: ReadonlyArray<string>
  readonly columnComments: ReadonlyMap<string, string>
  /** Declared types DuckDB does not keep (`char(10)`, `varchar(10)`), by column name in lower case. */
  readonly declaredTypes: ReadonlyMap<string, string>
  readonly owner: string
  readonly createdAt: Date
}

/** The details of every table created with them, by full name (`catalog.schema.table`), and schema comments. */
export class Recorded {
  private readonly details = new Map<string, Details>()
  private readonly schemaComments = new Map<string, string>()

  setSchemaComment(catalog: string, schema: string, comment: string | undefined) {
    if (comment === undefined) this.schemaComments.delete(`${catalog}\u0000${schema}`)
    else this.schemaComments.set(`${catalog}\u0000${schema}`, comment)
  }

  schemaComment(catalog: string, schema: string): string | undefined {
    return this.schemaComments.get(`${catalog}\u0000${schema}`)
  }

  private static key(table: { readonly catalog: string; readonly schema: string; readonly table: string }) {
    return `${table.catalog}\u0000${table.schema}\u0000${table.table}`
  }

  set(table: Names.TableName, details: Details) {
    this.details.set(Recorded.key(table), details)
  }

  get(table: Table): Details | undefined {
    return table.temporary ? undefined : this.details.get(Recorded.key(table))
  }
}

/**
 * The built-in functions, by name: DuckDB's, without its internal ones (`pg_…`, `duckdb_…`, operators), since
 * SQL reaches them through the dialect under their Databricks names.
 */
export const functions = async (connection: DuckDBConnection): Promise<Array<string>> =>
  (await rowsOf(
    connection,
    `SELECT DISTINCT function_name FROM duckdb_functions()
     WHERE database_name = 'system' AND function_type IN ('scalar', 'aggregate', 'macro')
       AND function_name SIMILAR TO '[a-z][a-z0-9_]*' AND NOT function_name LIKE 'pg\\_%' ESCAPE '\\'
       AND NOT function_name LIKE 'duckdb%' ORDER BY function_name`
  )).map((row) => String(row.function_name))
