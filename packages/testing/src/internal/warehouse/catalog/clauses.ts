/**
 * The name of the table a `CREATE TABLE` statement creates, and whether it replaces one; its other clauses
 * (`USING`, `COMMENT`, `TBLPROPERTIES`, `PARTITIONED BY`, column comments) are read by the dialect
 * (`Dialect.tableClauses`), which also strips them for DuckDB.
 *
 * @internal
 */
import * as Names from "./names.js"

export interface CreateTable {
  /** The name as written (one to three parts). */
  readonly parts: ReadonlyArray<string>
  readonly orReplace: boolean
}

/** The value of a string literal (`'...'` or `"..."`, with `\` escapes and doubled quotes). */
export const unquote = (token: string): string => {
  const quote = token[0]
  if (quote !== "'" && quote !== "\"") return token
  const body = token.slice(1, -1)
  return body.replace(
    new RegExp(`\\\\(.)|${quote}${quote}`, "g"),
    (_, escaped: string | undefined) =>
      escaped === undefined ? quote : escaped === "n" ? "\n" : escaped === "t" ? "\t" : escaped
  )
}

const head = /^\s*CREATE\s+(OR\s+REPLACE\s+)?(?:EXTERNAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?/i

/** The table a `CREATE TABLE` statement creates; anything else (temporary tables too) is `undefined`. */
export const createTable = (sql: string): CreateTable | undefined => {
  const start = head.exec(sql)
  if (start === null) return undefined
  const name = Names.parseName(sql.slice(start[0].length))
  return name === undefined ? undefined : { parts: name.parts, orReplace: start[1] !== undefined }
}

/** Where the parenthesised group opening at `open` closes (the index of its `)`), skipping quoted text. */
const closingParen = (text: string, open: number) => {
  let depth = 0
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (c === "'" || c === "\"" || c === "`") {
      const end = text.indexOf(c, i + 1)
      i = end < 0 ? text.length : end
    } else if (c === "(") depth++
    else if (c === ")" && --depth === 0) return i
  }
  return text.length
}

/**
 * The `CHAR(n)` and `VARCHAR(n)` columns of a `CREATE TABLE` column list, by column name (lower case), as
 * Databricks names their types (`char(10)`, `varchar(10)`): DuckDB keeps both as plain strings.
 */
export const declaredTypes = (sql: string): ReadonlyMap<string, string> => {
  const types = new Map<string, string>()
  const start = head.exec(sql)
  if (start === null) return types
  const name = Names.parseName(sql.slice(start[0].length))
  const open = name === undefined ? null : /^\s*\(/.exec(name.rest)
  if (name === undefined || open === null) return types
  const list = name.rest.slice(open[0].length, closingParen(name.rest, open[0].length - 1))
  // Top-level commas only: a column's own type may have commas inside parentheses or angle brackets.
  let depth = 0
  let from = 0
  const definitions: Array<string> = []
  for (let i = 0; i <= list.length; i++) {
    const c = list[i]
    if (c === "(" || c === "<") depth++
    else if (c === ")" || c === ">") depth--
    else if (i === list.length || (c === "," && depth === 0)) {
      definitions.push(list.slice(from, i))
      from = i + 1
    }
  }
  for (const definition of definitions) {
    const column = Names.parseName(definition)
    const type = column === undefined ? null : /^\s*(VARCHAR|CHAR)\s*\(\s*(\d+)\s*\)/i.exec(column.rest)
    if (column !== undefined && type !== null) types.set(column.parts[0], `${type[1].toLowerCase()}(${type[2]})`)
  }
  return types
}

const intervalUnit = "(YEAR|MONTH|DAY|HOUR|MINUTE|SECOND)S?"
const intervalItem = new RegExp(
  `\\bINTERVAL\\s+'[^']*'\\s+${intervalUnit}(?:\\s+TO\\s+${intervalUnit})?\\s+(?:AS\\s+)?([A-Za-z_][A-Za-z0-9_]*|\`[^\`]+\`)`,
  "gi"
)

/**
 * The Databricks types of the interval literals a query names (`INTERVAL '1' DAY AS d` is `interval day`,
 * `INTERVAL '1-2' YEAR TO MONTH AS m` is `interval year to month`), by column name (lower case): DuckDB has one
 * INTERVAL type, and the qualifier is only in the text.
 */
export const intervalTypes = (sql: string): ReadonlyMap<string, string> => {
  const types = new Map<string, string>()
  for (const match of sql.matchAll(intervalItem)) {
    const [, from, to, alias] = match
    const name = alias.startsWith("`") ? alias.slice(1, -1) : alias
    types.set(name.toLowerCase(), `interval ${from.toLowerCase()}${to === undefined ? "" : ` to ${to.toLowerCase()}`}`)
  }
  return types
}
