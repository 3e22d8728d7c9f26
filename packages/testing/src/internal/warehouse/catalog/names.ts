/**
 * Names in Unity Catalog: identifiers (plain or `backtick`), dotted names (`catalog.schema.table`), the DuckDB
 * database that plays each catalog, and the two pattern languages (`SHOW ... LIKE` and the JDBC patterns of the
 * metadata RPCs).
 *
 * @internal
 */

/**
 * The DuckDB database that plays Unity Catalog's default catalog `main`: DuckDB reserves the name "main" (it is
 * its default schema) and calls its in-memory database "memory".
 */
export const mainDatabase = "memory"

/** DuckDB's own databases and schemas: never shown as catalogs or schemas. */
export const hiddenDatabases: ReadonlySet<string> = new Set(["system", "temp"])
export const hiddenSchemas: ReadonlySet<string> = new Set(["main", "pg_catalog", "information_schema"])

/** A SQL identifier in double quotes, for DuckDB. */
export const quote = (name: string) => `"${name.replace(/"/g, "\"\"")}"`

/** A SQL string literal. */
export const literal = (text: string) => `'${text.replace(/'/g, "''")}'`

/** A catalog's DuckDB database, quoted. */
export const database = (catalog: string) => quote(catalog === "main" ? mainDatabase : catalog)

/** The catalog a DuckDB database plays. */
export const catalogOf = (databaseName: string) => databaseName === mainDatabase ? "main" : databaseName

/** One identifier at the head of `text`: a plain name or a `backtick` one (with `` for a backtick). */
const identifierAt = /^\s*(?:`((?:[^`]|``)*)`|([A-Za-z_][\p{L}\p{N}_$]*))/u

/**
 * A dotted name at the head of `text` (`c.s.t`, `` `my table` ``), as its parts (unquoted; plain identifiers in
 * lower case, since Unity Catalog's names are case-insensitive and stored in lower case), and the rest of the text.
 */
export const parseName = (
  text: string
): { readonly parts: ReadonlyArray<string>; readonly rest: string } | undefined => {
  const parts: Array<string> = []
  let rest = text
  for (;;) {
    const match = identifierAt.exec(rest)
    if (match === null) return parts.length === 0 ? undefined : { parts, rest }
    parts.push(match[1] !== undefined ? match[1].replace(/``/g, "`").toLowerCase() : match[2].toLowerCase())
    rest = rest.slice(match[0].length)
    const dot = /^\s*\.(?!\.)/.exec(rest)
    if (dot === null) return { parts, rest }
    rest = rest.slice(dot[0].length)
  }
}

/** A whole text that is exactly one dotted name. */
export const wholeName = (text: string): ReadonlyArray<string> | undefined => {
  const parsed = parseName(text)
  return parsed !== undefined && parsed.rest.trim() === "" ? parsed.parts : undefined
}

/** A table's full name. */
export interface TableName {
  readonly catalog: string
  readonly schema: string
  readonly table: string
}

/** A one-, two- or three-part table name, completed with the session's catalog and schema. */
export const tableName = (
  parts: ReadonlyArray<string>,
  current: { readonly catalog: string; readonly schema: string }
): TableName | undefined =>
  parts.length === 1
    ? { catalog: current.catalog, schema: current.schema, table: parts[0] }
    : parts.length === 2
    ? { catalog: current.catalog, schema: parts[0], table: parts[1] }
    : parts.length === 3
    ? { catalog: parts[0], schema: parts[1], table: parts[2] }
    : undefined

/** The DuckDB name of a table (its catalog's database). */
export const duckName = (name: TableName) => `${database(name.catalog)}.${quote(name.schema)}.${quote(name.table)}`

/** Unity Catalog's way of writing a full name (backticks only where needed). */
export const display = (...parts: ReadonlyArray<string>) =>
  parts.map((part) => /^[a-z_][a-z0-9_]*$/.test(part) ? part : `\`${part.replace(/`/g, "``")}\``).join(".")

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * `SHOW ... LIKE 'pattern'`: `*` matches any characters, `|` separates alternatives, case-insensitively
 * (Databricks SQL reference, "SHOW TABLES": regex_pattern).
 */
export const showPattern = (pattern: string | undefined): (name: string) => boolean => {
  if (pattern === undefined) return () => true
  const alternatives = pattern.split("|").map((alternative) =>
    alternative.trim().split("*").map(escapeRegExp).join(".*")
  )
  const regex = new RegExp(`^(?:${alternatives.join("|")})$`, "i")
  return (name) => regex.test(name)
}

/**
 * A JDBC pattern of the metadata RPCs: `%` matches any characters, `_` one, `\` escapes; no pattern (null,
 * undefined, or `*`, which Spark's Thrift server also takes for "all") matches everything.
 */
export const jdbcPattern = (pattern: string | null | undefined): (name: string) => boolean => {
  if (pattern === undefined || pattern === null || pattern === "" || pattern === "*") return () => true
  let source = ""
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]
    if (c === "\\" && i + 1 < pattern.length) source += escapeRegExp(pattern[++i])
    else if (c === "%") source += ".*"
    else if (c === "_") source += "."
    else source += escapeRegExp(c)
  }
  const regex = new RegExp(`^${source}$`, "i")
  return (name) => regex.test(name)
}
