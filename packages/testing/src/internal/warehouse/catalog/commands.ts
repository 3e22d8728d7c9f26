/**
 * The statements about the catalog itself, answered in Databricks' shapes (SQL reference: SHOW CATALOGS, SHOW
 * SCHEMAS, SHOW TABLES, SHOW COLUMNS, SHOW TBLPROPERTIES, SHOW CREATE TABLE, DESCRIBE TABLE, DESCRIBE QUERY, USE
 * CATALOG, USE SCHEMA, SET, RESET, CREATE CATALOG, CREATE SCHEMA, DROP SCHEMA), and `CREATE TABLE`'s clauses
 * recorded. Anything else is not a command: `undefined`.
 *
 * @internal
 */
import type { DuckDBType, DuckDBValue } from "@duckdb/node-api"
import * as Dialect from "../dialect.js"
import type { Session } from "../engine.js"
import * as Errors from "../errors.js"
import { typeName } from "../types.js"
import * as Clauses from "./clauses.js"
import * as Names from "./names.js"
import * as Objects from "./objects.js"
import * as Rows from "./rows.js"
import * as SessionPlace from "./session.js"

/** What a command answers: rows, nothing, a failure, or a statement for DuckDB. */
export type Answer =
  | ReturnType<typeof Rows.rows>
  | typeof Rows.nothing
  | { readonly _tag: "Fail"; readonly failure: Errors.SqlFailure }
  | { readonly _tag: "Run"; readonly sql: string; readonly before?: ReadonlyArray<string> | undefined }

export interface Context {
  readonly session: Session
  readonly recorded: Objects.Recorded
  /** Whether the session's principal may not see this table (`Emulator.deny`), by its name in any form. */
  readonly denied: (table: string) => boolean
}

/**
 * The tables the session's principal may see. Unity Catalog leaves out of its listings what a user has no
 * privilege on (SQL reference, "Information schema": results are filtered "to include only the objects you have
 * Unity Catalog privileges to access"); the emulator does so in every listing (SHOW TABLES, information_schema,
 * GetTables, GetColumns).
 */
export const visibleTables = async (context: Context): Promise<Array<Objects.Table>> =>
  (await Objects.tables(context.session.connection)).filter((table) => table.temporary || !context.denied(table.table))

const fail = (failure: Errors.SqlFailure) => ({ _tag: "Fail" as const, failure })

/** The statement without leading comments and whitespace, and without trailing semicolons. */
const normalize = (sql: string) => {
  let text = sql
  for (;;) {
    const next = text.replace(/^\s+/, "").replace(/^--[^\n]*(\n|$)/, "").replace(/^\/\*[\s\S]*?\*\//, "")
    if (next === text) break
    text = next
  }
  return text.replace(/[\s;]+$/, "")
}

const stringLiteral = /^\s*('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")\s*$/

/** `[LIKE] 'pattern'` at the end of a SHOW, or nothing; `false` when the text is something else. */
const likePattern = (text: string): string | undefined | false => {
  if (text.trim() === "") return undefined
  const match = stringLiteral.exec(text.replace(/^\s*LIKE\b/i, ""))
  return match === null ? false : Clauses.unquote(match[1])
}

/** `{FROM|IN} name` at the head of the text, then the rest. */
const fromName = (text: string) => {
  const match = /^\s*(?:FROM|IN)\s+/i.exec(text)
  if (match === null) return { parts: undefined, rest: text }
  const parsed = Names.parseName(text.slice(match[0].length))
  return parsed === undefined ? undefined : { parts: parsed.parts, rest: parsed.rest }
}

const schemaDisplay = (catalog: string, schema: string) => `\`${catalog}\`.\`${schema}\``

/** The catalog and schema a one- or two-part schema name means in this session, if both exist. */
const resolveSchema = async (context: Context, parts: ReadonlyArray<string>) => {
  const { connection } = context.session
  const catalog = parts.length === 2 ? parts[0] : context.session.catalog
  const schema = parts[parts.length - 1]
  if (parts.length > 2) return fail(Errors.schemaNotFound(parts.map((part) => `\`${part}\``).join(".")))
  if (!(await Objects.catalogExists(connection, catalog))) return fail(Errors.noSuchCatalog(catalog))
  if (!(await Objects.schemas(connection, catalog)).includes(schema)) {
    return fail(Errors.schemaNotFound(schemaDisplay(catalog, schema)))
  }
  return { catalog, schema }
}

const tableNotFound = (parts: ReadonlyArray<string>) =>
  Errors.failure(
    "TABLE_OR_VIEW_NOT_FOUND",
    "42P01",
    `The table or view ${
      parts.map((part) => `\`${part}\``).join(".")
    } cannot be found. Verify the spelling and correctness of the schema and catalog.`
  )

/**
 * The table a name means in this session, or the failure Databricks gives: a denied table is
 * `[INSUFFICIENT_PERMISSIONS]` for DESCRIBE and SHOW as for SELECT.
 */
const resolveTable = async (context: Context, parts: ReadonlyArray<string>) => {
  const name = Names.tableName(parts, context.session)
  const table = name === undefined ? undefined : await Objects.findTable(context.session.connection, name, parts.length)
  if (table === undefined) return fail(tableNotFound(parts))
  return !table.temporary && context.denied(table.table)
    ? fail(Errors.insufficientPermissions(context.session.principal.userName, table.table))
    : table
}

const isFailure = (value: unknown): value is ReturnType<typeof fail> =>
  typeof value === "object" && value !== null && (value as { _tag?: unknown })._tag === "Fail"

// ---------------------------------------------------------------------------------------------------------------
// USE, SET, RESET

const use = async (context: Context, kind: string | undefined, text: string): Promise<Answer> => {
  const parts = Names.wholeName(text)
  if (parts === undefined) return fail(Errors.failure("PARSE_SYNTAX_ERROR", "42601", "Syntax error at or near 'USE'."))
  const { session } = context
  if (kind?.toUpperCase() === "CATALOG") {
    if (parts.length !== 1) return fail(Errors.noSuchCatalog(parts.join(".")))
    if (!(await Objects.catalogExists(session.connection, parts[0]))) return fail(Errors.noSuchCatalog(parts[0]))
    // USE CATALOG makes the catalog's `default` schema current (SQL reference, "USE CATALOG").
    await SessionPlace.use(session, parts[0], "default")
    return Rows.nothing
  }
  const resolved = await resolveSchema(context, parts)
  if (isFailure(resolved)) return resolved
  await SessionPlace.use(session, resolved.catalog, resolved.schema)
  return Rows.nothing
}

const keyValue = [["key", Rows.string], ["value", Rows.string]] as const

const set = (context: Context, text: string): Answer => {
  const { settings } = context.session
  const find = (key: string) =>
    settings.has(key) ? key : [...settings.keys()].find((known) => known.toLowerCase() === key.toLowerCase())
  if (text === "" || /^-v$/i.test(text)) {
    return Rows.rows(keyValue, [...settings.entries()].sort(([a], [b]) => a.localeCompare(b)))
  }
  let match: RegExpExecArray | null
  if ((match = /^TIME\s+ZONE\s+(.+)$/is.exec(text)) !== null) {
    const value = stringLiteral.test(match[1]) ? Clauses.unquote(match[1].trim()) : match[1].trim()
    settings.set("timezone", value)
    return Rows.rows(keyValue, [["timezone", value]])
  }
  if ((match = /^([^=]+?)\s*=\s*([\s\S]*)$/.exec(text)) !== null) {
    const key = find(match[1].trim()) ?? match[1].trim()
    settings.set(key, match[2].trim())
    return Rows.rows(keyValue, [[key, match[2].trim()]])
  }
  // `SET key` shows one setting; Spark's SetCommand answers `<undefined>` for a key never set.
  const key = find(text.trim())
  return Rows.rows(keyValue, [[key ?? text.trim(), key === undefined ? "<undefined>" : settings.get(key)!]])
}

const reset = (context: Context, text: string): Answer => {
  const { settings } = context.session
  if (text === "") settings.clear()
  else {
    for (const key of [...settings.keys()]) if (key.toLowerCase() === text.toLowerCase()) settings.delete(key)
  }
  return Rows.nothing
}

// ---------------------------------------------------------------------------------------------------------------
// SHOW

const showCatalogs = async (context: Context, text: string): Promise<Answer | undefined> => {
  const pattern = likePattern(text)
  if (pattern === false) return undefined
  const matches = Names.showPattern(pattern)
  const catalogs = (await Objects.catalogs(context.session.connection)).filter(matches)
  return Rows.rows([["catalog", Rows.string]], catalogs.map((catalog) => [catalog]))
}

const showSchemas = async (context: Context, text: string): Promise<Answer | undefined> => {
  const from = fromName(text)
  if (from === undefined) return undefined
  const pattern = likePattern(from.rest)
  if (pattern === false) return undefined
  const catalog = from.parts?.[0] ?? context.session.catalog
  if (from.parts !== undefined && from.parts.length !== 1) return fail(Errors.noSuchCatalog(from.parts.join(".")))
  if (!(await Objects.catalogExists(context.session.connection, catalog))) return fail(Errors.noSuchCatalog(catalog))
  const matches = Names.showPattern(pattern)
  const schemas = (await Objects.schemas(context.session.connection, catalog)).filter(matches)
  return Rows.rows([["databaseName", Rows.string]], schemas.map((schema) => [schema]))
}

/**
 * The schema and name filter of SHOW TABLES / SHOW VIEWS (`[FROM|IN schema] [[LIKE] pattern]`): a filter keeping the
 * schema's objects and the session's temporary ones whose name matches; `undefined` when the text is not that form.
 */
const inSchemaMatching = async (context: Context, text: string) => {
  const from = fromName(text)
  if (from === undefined) return undefined
  const pattern = likePattern(from.rest)
  if (pattern === false) return undefined
  const place = await resolveSchema(context, from.parts ?? [context.session.catalog, context.session.schema])
  if (isFailure(place)) return place
  const matches = Names.showPattern(pattern)
  return (table: Objects.Table) =>
    (table.temporary || (table.catalog === place.catalog && table.schema === place.schema)) && matches(table.table)
}

const showTables = async (context: Context, text: string): Promise<Answer | undefined> => {
  const keep = await inSchemaMatching(context, text)
  if (keep === undefined || isFailure(keep)) return keep
  const tables = (await visibleTables(context)).filter(keep)
  // Spark's ShowTablesCommand: the schema's tables, then the session's temporary views (database "").
  tables.sort((a, b) => Number(a.temporary) - Number(b.temporary))
  return Rows.rows(
    [["database", Rows.string], ["tableName", Rows.string], ["isTemporary", Rows.boolean]],
    tables.map((table) => [table.schema, table.table, table.temporary])
  )
}

/** SHOW VIEWS (SQL reference, "SHOW VIEWS": namespace, viewName, isTemporary). */
const showViews = async (context: Context, text: string): Promise<Answer | undefined> => {
  const keep = await inSchemaMatching(context, text)
  if (keep === undefined || isFailure(keep)) return keep
  const views = (await Objects.tables(context.session.connection)).filter((table) =>
    table.kind === "VIEW" && keep(table)
  )
  views.sort((a, b) => Number(a.temporary) - Number(b.temporary))
  return Rows.rows(
    [["namespace", Rows.string], ["viewName", Rows.string], ["isTemporary", Rows.boolean]],
    views.map((view) => [view.schema, view.table, view.temporary])
  )
}

/** SHOW [ALL|SYSTEM|USER] FUNCTIONS [LIKE p] (SQL reference, "SHOW FUNCTIONS": one column, function). */
const showFunctions = async (context: Context, text: string): Promise<Answer | undefined> => {
  const pattern = likePattern(text)
  if (pattern === false) return undefined
  const matches = Names.showPattern(pattern)
  const names = (await Objects.functions(context.session.connection)).filter(matches)
  return Rows.rows([["function", Rows.string]], names.map((name) => [name]))
}

const showColumns = async (context: Context, text: string): Promise<Answer | undefined> => {
  const table = fromName(text)
  if (table?.parts === undefined) return undefined
  const schema = fromName(table.rest)
  if (schema === undefined || schema.rest.trim() !== "") return undefined
  const parts = schema.parts === undefined ? table.parts : [...schema.parts, ...table.parts.slice(-1)]
  const found = await resolveTable(context, parts)
  if (isFailure(found)) return found
  const columns = await Objects.tableColumns(context.session.connection, found)
  return Rows.rows([["col_name", Rows.string]], columns.map((column) => [column.name]))
}

const showTblProperties = async (context: Context, text: string): Promise<Answer | undefined> => {
  const name = Names.parseName(text)
  if (name === undefined) return undefined
  const key = /^\s*\(\s*('(?:[^'\\]|\\.)*'|[A-Za-z0-9_.]+)\s*\)\s*$/.exec(name.rest)
  if (key === null && name.rest.trim() !== "") return undefined
  const found = await resolveTable(context, name.parts)
  if (isFailure(found)) return found
  const properties = context.recorded.get(found)?.properties ?? []
  if (key === null) return Rows.rows(keyValue, properties.map(([k, v]) => [k, v]))
  const wanted = Clauses.unquote(key[1])
  const value = properties.find(([k]) => k === wanted)?.[1]
  return Rows.rows(keyValue, [[
    wanted,
    value ?? `Table ${Names.display(found.catalog, found.schema, found.table)} does not have property: ${wanted}`
  ]])
}

/** A type as `SHOW CREATE TABLE` writes it (upper case keywords, field names as they are). */
const ddlType = (name: string) => name.replace(/[a-z_]+(?=[<(,>)]|$)/g, (word) => word.toUpperCase())

const showCreateTable = async (context: Context, text: string): Promise<Answer | undefined> => {
  const parts = Names.wholeName(text)
  if (parts === undefined) return undefined
  const found = await resolveTable(context, parts)
  if (isFailure(found)) return found
  const columns = await Objects.tableColumns(context.session.connection, found)
  const details = context.recorded.get(found)
  const lines = [
    `CREATE ${found.kind === "VIEW" ? "VIEW" : "TABLE"} ${Names.display(found.catalog, found.schema, found.table)} (`,
    columns.map((column) => {
      const comment = details?.columnComments.get(column.name.toLowerCase())
      const declared = details?.declaredTypes.get(column.name.toLowerCase())
      return `  ${Names.display(column.name)} ${ddlType(declared ?? typeName(column.type))}${
        comment === undefined ? "" : ` COMMENT ${Names.literal(comment)}`
      }`
    }).join(",\n"),
    ")",
    `USING ${details?.provider ?? "delta"}`,
    ...(details?.partitionColumns.length ? [`PARTITIONED BY (${details.partitionColumns.join(", ")})`] : []),
    ...(details?.comment === undefined ? [] : [`COMMENT ${Names.literal(details.comment)}`]),
    ...(details?.properties.length
      ? [
        `TBLPROPERTIES (\n${
          details.properties.map(([k, v]) => `  ${Names.literal(k)} = ${Names.literal(v)}`).join(",\n")
        })`
      ]
      : [])
  ]
  return Rows.rows([["createtab_stmt", Rows.string]], [[`${lines.join("\n")}\n`]])
}

// ---------------------------------------------------------------------------------------------------------------
// DESCRIBE

const describeColumns = [["col_name", Rows.string], ["data_type", Rows.string], ["comment", Rows.string]] as const

const weekdays = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
const months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
const two = (n: number) => String(n).padStart(2, "0")

/** How Spark prints a time (`CatalogTable`'s "Created Time": Java's `Date.toString`, here in UTC). */
const javaDate = (date: Date) =>
  `${weekdays[date.getUTCDay()]} ${months[date.getUTCMonth()]} ${two(date.getUTCDate())} ${two(date.getUTCHours())}:${
    two(date.getUTCMinutes())
  }:${two(date.getUTCSeconds())} UTC ${date.getUTCFullYear()}`

const describeTable = async (context: Context, text: string): Promise<Answer | undefined> => {
  const extended = /^\s*(?:EXTENDED|FORMATTED)\s+/i.exec(text)
  const parts = Names.wholeName(extended === null ? text : text.slice(extended[0].length))
  if (parts === undefined) return undefined
  const found = await resolveTable(context, parts)
  if (isFailure(found)) return found
  const columns = await Objects.tableColumns(context.session.connection, found)
  const details = context.recorded.get(found)
  const comment = (name: string) => details?.columnComments.get(name.toLowerCase()) ?? null
  const type = (column: { readonly name: string; readonly type: DuckDBType }) =>
    details?.declaredTypes.get(column.name.toLowerCase()) ?? typeName(column.type)
  const rows: Array<Array<DuckDBValue>> = columns.map((column) => [column.name, type(column), comment(column.name)])
  const partitions = details?.partitionColumns ?? []
  if (partitions.length > 0) {
    rows.push(["# Partition Information", "", ""], ["# col_name", "data_type", "comment"])
    for (const partition of partitions) {
      const column = columns.find((c) => c.name.toLowerCase() === partition.toLowerCase())
      if (column !== undefined) rows.push([column.name, type(column), comment(column.name)])
    }
  }
  if (extended !== null) {
    const info: Array<readonly [string, string]> = [
      ["Catalog", found.catalog],
      ["Database", found.schema],
      ["Table", found.table],
      ...(details === undefined ? [] : [
        ["Owner", details.owner] as const,
        ["Created Time", javaDate(details.createdAt)] as const,
        ["Last Access", "UNKNOWN"] as const
      ]),
      ["Type", found.kind === "VIEW" ? "VIEW" : "MANAGED"],
      ...(found.kind === "VIEW" ? [] : [["Provider", details?.provider ?? "delta"] as const]),
      ...(details?.comment === undefined ? [] : [["Comment", details.comment] as const]),
      ...(details?.properties.length
        ? [["Table Properties", `[${details.properties.map(([k, v]) => `${k}=${v}`).join(", ")}]`] as const]
        : [])
    ]
    rows.push(["", "", ""], ["# Detailed Table Information", "", ""], ...info.map(([k, v]) => [k, v, ""]))
  }
  return Rows.rows(describeColumns, rows)
}

/** DESCRIBE SCHEMA (SQL reference, "DESCRIBE SCHEMA": database_description_item, database_description_value). */
const describeSchema = async (context: Context, text: string): Promise<Answer | undefined> => {
  const parts = Names.wholeName(text.replace(/^\s*EXTENDED\s+/i, ""))
  if (parts === undefined) return undefined
  const place = await resolveSchema(context, parts)
  if (isFailure(place)) return place
  return Rows.rows(
    [["database_description_item", Rows.string], ["database_description_value", Rows.string]],
    [
      ["Catalog Name", place.catalog],
      ["Database Name", place.schema],
      ["Description", context.recorded.schemaComment(place.catalog, place.schema) ?? ""]
    ]
  )
}

/** DESCRIBE CATALOG (SQL reference, "DESCRIBE CATALOG": info_name, info_value). */
const describeCatalog = async (context: Context, text: string): Promise<Answer | undefined> => {
  const parts = Names.wholeName(text.replace(/^\s*EXTENDED\s+/i, ""))
  if (parts === undefined || parts.length !== 1) return undefined
  if (!(await Objects.catalogExists(context.session.connection, parts[0]))) return fail(Errors.noSuchCatalog(parts[0]))
  return Rows.rows(
    [["info_name", Rows.string], ["info_value", Rows.string]],
    [["Catalog Name", parts[0]], ["Comment", ""], ["Catalog Type", "Regular"]]
  )
}

/** A denied table the (DuckDB) query reads, as the failure SELECT gives. */
const deniedRead = (context: Context, duckSql: string) => {
  const { connection, principal } = context.session
  const hit = connection.getTableNames(Dialect.withoutParameters(duckSql), false).find(context.denied)
  return hit === undefined ? undefined : Errors.insufficientPermissions(principal.userName, hit)
}

const describeQuery = async (context: Context, query: string): Promise<Answer> => {
  const translated = Dialect.translate(query)
  if ("failure" in translated) return fail(translated.failure)
  try {
    const denied = deniedRead(context, translated.sql)
    if (denied !== undefined) return fail(denied)
    const columns = await Objects.columnsOf(context.session.connection, translated.sql)
    const intervals = Clauses.intervalTypes(query)
    return Rows.rows(
      describeColumns,
      columns.map((column) => [column.name, intervals.get(column.name.toLowerCase()) ?? typeName(column.type), null])
    )
  } catch (error) {
    return fail(Errors.fromDuckDB(error))
  }
}

// ---------------------------------------------------------------------------------------------------------------
// CREATE / DROP CATALOG and SCHEMA, CREATE TABLE

const createCatalog = async (context: Context, ifNotExists: boolean, text: string): Promise<Answer | undefined> => {
  const name = Names.parseName(text)
  if (name === undefined || name.parts.length !== 1) return undefined
  const catalog = name.parts[0]
  const { connection } = context.session
  if (await Objects.catalogExists(connection, catalog)) {
    return ifNotExists ? Rows.nothing : fail(Errors.catalogAlreadyExists(catalog))
  }
  if (Names.hiddenDatabases.has(catalog)) {
    return fail(Errors.failure("INVALID_SCHEMA_OR_RELATION_NAME", "42602", `\`${catalog}\` is not a valid name.`))
  }
  await connection.run(`ATTACH ':memory:' AS ${Names.database(catalog)}`)
  await connection.run(`CREATE SCHEMA IF NOT EXISTS ${Names.database(catalog)}."default"`)
  return Rows.nothing
}

const createSchema = async (context: Context, ifNotExists: boolean, text: string): Promise<Answer | undefined> => {
  const name = Names.parseName(text)
  if (name === undefined || name.parts.length > 2) return undefined
  const catalog = name.parts.length === 2 ? name.parts[0] : context.session.catalog
  const schema = name.parts[name.parts.length - 1]
  const { connection } = context.session
  if (!(await Objects.catalogExists(connection, catalog))) return fail(Errors.noSuchCatalog(catalog))
  if ((await Objects.schemas(connection, catalog)).includes(schema)) {
    return ifNotExists ? Rows.nothing : fail(Errors.schemaAlreadyExists(schemaDisplay(catalog, schema)))
  }
  // The rest (LOCATION, WITH DBPROPERTIES) has no meaning for an in-memory schema; COMMENT is shown by DESCRIBE.
  const comment = /\bCOMMENT\s+('(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")/i.exec(name.rest)
  await connection.run(`CREATE SCHEMA ${Names.database(catalog)}.${Names.quote(schema)}`)
  context.recorded.setSchemaComment(catalog, schema, comment === null ? undefined : Clauses.unquote(comment[1]))
  return Rows.nothing
}

const dropSchema = async (context: Context, ifExists: boolean, text: string): Promise<Answer | undefined> => {
  const name = Names.parseName(text)
  if (name === undefined || name.parts.length > 2) return undefined
  const mode = /^\s*(CASCADE|RESTRICT)?\s*$/i.exec(name.rest)
  if (mode === null) return undefined
  const catalog = name.parts.length === 2 ? name.parts[0] : context.session.catalog
  const schema = name.parts[name.parts.length - 1]
  const { connection } = context.session
  const exists = (await Objects.catalogExists(connection, catalog)) &&
    (await Objects.schemas(connection, catalog)).includes(schema)
  if (!exists) return ifExists ? Rows.nothing : fail(Errors.schemaNotFound(schemaDisplay(catalog, schema)))
  const cascade = mode[1]?.toUpperCase() === "CASCADE"
  const tables = (await Objects.tables(connection)).filter((table) =>
    table.catalog === catalog && table.schema === schema
  )
  if (!cascade && tables.length > 0) return fail(Errors.schemaNotEmpty(schemaDisplay(catalog, schema)))
  await connection.run(`DROP SCHEMA ${Names.database(catalog)}.${Names.quote(schema)} CASCADE`)
  return Rows.nothing
}

const createTable = async (context: Context, sql: string, statement: Clauses.CreateTable): Promise<Answer> => {
  const { session } = context
  const translated = Dialect.translate(sql)
  if ("failure" in translated) return fail(translated.failure)
  const name = Names.tableName(statement.parts, session)
  const clauses = Dialect.tableClauses(sql)
  if (name !== undefined && clauses !== undefined) {
    const exists = await Objects.findTable(session.connection, name, 3)
    // Recorded before DuckDB runs the statement: a failed CREATE leaves no table for the record to describe.
    if (exists === undefined || statement.orReplace) {
      context.recorded.set(name, {
        provider: clauses.provider,
        comment: clauses.comment,
        properties: Object.entries(clauses.properties),
        partitionColumns: clauses.partitionColumns,
        columnComments: new Map(Object.entries(clauses.columnComments).map(([k, v]) => [k.toLowerCase(), v])),
        declaredTypes: new Map([
          ...Clauses.intervalTypes(sql),
          ...Clauses.declaredTypes(sql.replace(/^\s*(?:(?:--[^\n]*\n)|(?:\/\*[\s\S]*?\*\/)|\s)+/, ""))
        ]),
        owner: session.principal.userName,
        createdAt: new Date()
      })
    }
  }
  return { _tag: "Run", ...translated }
}

// ---------------------------------------------------------------------------------------------------------------

/** The answer to a statement about the catalog, or `undefined` for any other statement. */
export const command = async (context: Context, sql: string): Promise<Answer | undefined> => {
  const text = normalize(sql)
  let match: RegExpExecArray | null
  if ((match = /^USE(?:\s+(CATALOG|SCHEMA|DATABASE|NAMESPACE)\b)?\s+([\s\S]+)$/i.exec(text)) !== null) {
    return use(context, match[1], match[2])
  }
  if ((match = /^SET(?:\s+([\s\S]*))?$/i.exec(text)) !== null) {
    // SET VAR / SET VARIABLE assign SQL session variables: not settings.
    if (/^VAR(?:IABLE)?\b/i.test(match[1] ?? "")) return undefined
    return set(context, (match[1] ?? "").trim())
  }
  if ((match = /^RESET(?:\s+([\s\S]*))?$/i.exec(text)) !== null) return reset(context, (match[1] ?? "").trim())
  if ((match = /^SHOW\s+CATALOGS\b([\s\S]*)$/i.exec(text)) !== null) return showCatalogs(context, match[1])
  if ((match = /^SHOW\s+(?:SCHEMAS|DATABASES)\b([\s\S]*)$/i.exec(text)) !== null) return showSchemas(context, match[1])
  if ((match = /^SHOW\s+TABLES\b([\s\S]*)$/i.exec(text)) !== null) return showTables(context, match[1])
  if ((match = /^SHOW\s+COLUMNS\b([\s\S]*)$/i.exec(text)) !== null) return showColumns(context, match[1])
  if ((match = /^SHOW\s+VIEWS\b([\s\S]*)$/i.exec(text)) !== null) return showViews(context, match[1])
  if ((match = /^SHOW\s+(?:(?:ALL|SYSTEM|USER)\s+)?FUNCTIONS\b([\s\S]*)$/i.exec(text)) !== null) {
    return showFunctions(context, match[1])
  }
  if ((match = /^SHOW\s+TBLPROPERTIES\s+([\s\S]*)$/i.exec(text)) !== null) return showTblProperties(context, match[1])
  if ((match = /^SHOW\s+CREATE\s+TABLE\s+([\s\S]*)$/i.exec(text)) !== null) return showCreateTable(context, match[1])
  if ((match = /^DESC(?:RIBE)?\s+([\s\S]*)$/i.exec(text)) !== null) {
    const rest = match[1]
    const query = /^QUERY\s+([\s\S]*)$/i.exec(rest) ?? /^((?:SELECT|WITH|VALUES|FROM)\b[\s\S]*)$/i.exec(rest)
    if (query !== null) return describeQuery(context, query[1])
    const namespace = /^(CATALOG|SCHEMA|DATABASE)\s+([\s\S]*)$/i.exec(rest)
    if (namespace !== null) {
      return namespace[1].toUpperCase() === "CATALOG"
        ? describeCatalog(context, namespace[2])
        : describeSchema(context, namespace[2])
    }
    if (/^(?:FUNCTION|HISTORY|DETAIL|VOLUME|CONNECTION|CREDENTIAL|LOCATION)\b/i.test(rest)) {
      return undefined
    }
    return describeTable(context, rest.replace(/^TABLE\s+/i, ""))
  }
  if ((match = /^CREATE\s+CATALOG\s+(IF\s+NOT\s+EXISTS\s+)?([\s\S]*)$/i.exec(text)) !== null) {
    return createCatalog(context, match[1] !== undefined, match[2])
  }
  if ((match = /^CREATE\s+(?:SCHEMA|DATABASE)\s+(IF\s+NOT\s+EXISTS\s+)?([\s\S]*)$/i.exec(text)) !== null) {
    return createSchema(context, match[1] !== undefined, match[2])
  }
  if ((match = /^DROP\s+(?:SCHEMA|DATABASE)\s+(IF\s+EXISTS\s+)?([\s\S]*)$/i.exec(text)) !== null) {
    return dropSchema(context, match[1] !== undefined, match[2])
  }
  const create = Clauses.createTable(text)
  if (create !== undefined) return createTable(context, sql, create)
  return undefined
}
