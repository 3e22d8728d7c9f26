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
  return body.replace(new RegExp(`\\\\(.)|${quote}${quote}`, "g"), (_, escaped: string | undefined) =>
    escaped === undefined ? quote : escaped === "n" ? "\n" : escaped === "t" ? "\t" : escaped)
}

const head = /^\s*CREATE\s+(OR\s+REPLACE\s+)?(?:EXTERNAL\s+)?TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?/i

/** The table a `CREATE TABLE` statement creates; anything else (temporary tables too) is `undefined`. */
export const createTable = (sql: string): CreateTable | undefined => {
  const start = head.exec(sql)
  if (start === null) return undefined
  const name = Names.parseName(sql.slice(start[0].length))
  return name === undefined ? undefined : { parts: name.parts, orReplace: start[1] !== undefined }
}
