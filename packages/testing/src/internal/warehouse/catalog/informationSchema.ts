/**
 * Each catalog's `information_schema` (Databricks SQL reference, "Information schema"): a query that names one of
 * its views (`information_schema.tables`, `main.information_schema.columns`, ...) reads a session-temporary table
 * the catalog fills just before the query runs, in place of DuckDB's own `information_schema` (whose names are
 * DuckDB's). The views have the documented columns most queries read, not every one.
 *
 * @internal
 */
import type { DuckDBValue } from "@duckdb/node-api"
import { typeName } from "../types.js"
import { type Context, visibleTables } from "./commands.js"
import * as Names from "./names.js"
import * as Objects from "./objects.js"

/** The session-temporary tables that play the views, hidden from every listing. */
export const temporaryPrefix = "__information_schema_"

type Kind = "VARCHAR" | "INTEGER"

const views: Record<string, ReadonlyArray<readonly [string, Kind]>> = {
  catalogs: [["catalog_name", "VARCHAR"], ["catalog_owner", "VARCHAR"], ["comment", "VARCHAR"]],
  schemata: [["catalog_name", "VARCHAR"], ["schema_name", "VARCHAR"], ["schema_owner", "VARCHAR"], [
    "comment",
    "VARCHAR"
  ]],
  tables: [
    ["table_catalog", "VARCHAR"],
    ["table_schema", "VARCHAR"],
    ["table_name", "VARCHAR"],
    ["table_type", "VARCHAR"],
    ["is_insertable_into", "VARCHAR"],
    ["table_owner", "VARCHAR"],
    ["comment", "VARCHAR"],
    ["data_source_format", "VARCHAR"]
  ],
  columns: [
    ["table_catalog", "VARCHAR"],
    ["table_schema", "VARCHAR"],
    ["table_name", "VARCHAR"],
    ["column_name", "VARCHAR"],
    ["ordinal_position", "INTEGER"],
    ["column_default", "VARCHAR"],
    ["is_nullable", "VARCHAR"],
    ["full_data_type", "VARCHAR"],
    ["data_type", "VARCHAR"],
    ["partition_index", "INTEGER"],
    ["comment", "VARCHAR"]
  ],
  views: [["table_catalog", "VARCHAR"], ["table_schema", "VARCHAR"], ["table_name", "VARCHAR"], [
    "view_definition",
    "VARCHAR"
  ]]
}

const identifier = "(?:`(?:[^`]|``)+`|[A-Za-z_][A-Za-z0-9_]*)"
/** `[catalog.]information_schema.view`, outside strings and comments (checked by the scanner below). */
const reference = new RegExp(`^(?:(${identifier})\\s*\\.\\s*)?information_schema\\s*\\.\\s*(${identifier})`, "i")

const unquoted = (name: string) => name.startsWith("`") ? name.slice(1, -1).replace(/``/g, "`") : name

/** The views a statement names, and the statement naming their temporary tables instead. */
export const rewrite = (
  sql: string,
  currentCatalog: string
): { readonly sql: string; readonly used: ReadonlyArray<readonly [string, string]> } | undefined => {
  if (!/information_schema/i.test(sql)) return undefined
  const used = new Map<string, readonly [string, string]>()
  let out = ""
  let i = 0
  while (i < sql.length) {
    const c = sql[i]
    if (c === "'" || c === "\"") {
      let end = i + 1
      while (end < sql.length && sql[end] !== c) end += sql[end] === "\\" ? 2 : 1
      out += sql.slice(i, end + 1)
      i = end + 1
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i)
      out += end < 0 ? sql.slice(i) : sql.slice(i, end)
      i = end < 0 ? sql.length : end
    } else if (c === "/" && sql[i + 1] === "*") {
      const end = sql.indexOf("*/", i + 2)
      out += end < 0 ? sql.slice(i) : sql.slice(i, end + 2)
      i = end < 0 ? sql.length : end + 2
    } else if (/[A-Za-z_`]/.test(c) && !/[A-Za-z0-9_.]/.test(sql[i - 1] ?? "")) {
      const match = reference.exec(sql.slice(i))
      const view = match === null ? undefined : unquoted(match[2]).toLowerCase()
      if (match !== null && view !== undefined && view in views) {
        const catalog = match[1] === undefined ? currentCatalog : unquoted(match[1]).toLowerCase()
        const table = `${temporaryPrefix}${catalog}_${view}`
        used.set(table, [catalog, view])
        out += `\`${table.replace(/`/g, "``")}\``
        i += match[0].length
      } else {
        const word = /^(?:`(?:[^`]|``)*`|[A-Za-z0-9_]+)/.exec(sql.slice(i))![0]
        out += word
        i += word.length
      }
    } else {
      out += c
      i++
    }
  }
  return used.size === 0 ? undefined : { sql: out, used: [...used.values()] }
}

const literal = (value: DuckDBValue) =>
  value === null ? "NULL" : typeof value === "number" ? String(value) : Names.literal(String(value))

/** The rows of one view of one catalog. */
const rowsOf = async (context: Context, catalog: string, view: string): Promise<Array<Array<DuckDBValue>>> => {
  const { connection } = context.session
  if (view === "catalogs") return [[catalog, null, null]]
  if (view === "schemata") {
    return (await Objects.schemas(connection, catalog)).map((schema) => [
      catalog,
      schema,
      null,
      context.recorded.schemaComment(catalog, schema) ?? null
    ])
  }
  const tables = (await visibleTables(context)).filter((table) => !table.temporary && table.catalog === catalog)
  if (view === "tables") {
    return tables.map((table) => {
      const details = context.recorded.get(table)
      return [
        table.catalog,
        table.schema,
        table.table,
        table.kind === "VIEW" ? "VIEW" : "MANAGED",
        table.kind === "VIEW" ? "NO" : "YES",
        details?.owner ?? null,
        details?.comment ?? null,
        table.kind === "VIEW" ? null : (details?.provider ?? "delta").toUpperCase()
      ]
    })
  }
  if (view === "views") {
    const definitions = new Map(
      ((await connection.runAndReadAll("SELECT database_name, schema_name, view_name, sql FROM duckdb_views()"))
        .getRowObjectsJS())
        .map((row) => [
          `${Names.catalogOf(String(row.database_name))}.${String(row.schema_name).toLowerCase()}.${
            String(row.view_name).toLowerCase()
          }`,
          String(row.sql)
        ])
    )
    return tables.filter((table) => table.kind === "VIEW").map((table) => [
      table.catalog,
      table.schema,
      table.table,
      definitions.get(`${table.catalog}.${table.schema}.${table.table}`) ?? null
    ])
  }
  const rows: Array<Array<DuckDBValue>> = []
  for (const table of tables) {
    const details = context.recorded.get(table)
    const columns = await Objects.tableColumns(connection, table)
    columns.forEach((column, position) => {
      const key = column.name.toLowerCase()
      const full = details?.declaredTypes.get(key) ?? typeName(column.type)
      const partition = details?.partitionColumns.findIndex((name) => name.toLowerCase() === key) ?? -1
      rows.push([
        table.catalog,
        table.schema,
        table.table,
        column.name,
        // Numbered from 0 (SQL reference, "COLUMNS": ordinal_position).
        position,
        null,
        "YES",
        full,
        (/^[a-z_]+/.exec(full)?.[0] ?? full).toUpperCase(),
        partition < 0 ? null : partition,
        details?.columnComments.get(key) ?? null
      ])
    })
  }
  return rows
}

/** The statements that fill the temporary tables a rewritten statement reads. */
export const fill = async (
  context: Context,
  used: ReadonlyArray<readonly [string, string]>
): Promise<Array<string>> => {
  const statements: Array<string> = []
  for (const [catalog, view] of used) {
    const table = Names.quote(`${temporaryPrefix}${catalog}_${view}`)
    const columns = views[view]
    statements.push(
      `CREATE OR REPLACE TEMP TABLE ${table} (${
        columns.map(([name, kind]) => `${Names.quote(name)} ${kind}`).join(", ")
      })`
    )
    const rows = (await Objects.catalogExists(context.session.connection, catalog))
      ? await rowsOf(context, catalog, view)
      : []
    if (rows.length > 0) {
      statements.push(`INSERT INTO ${table} VALUES ${rows.map((row) => `(${row.map(literal).join(", ")})`).join(", ")}`)
    }
  }
  return statements
}
