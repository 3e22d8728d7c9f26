/**
 * The clauses of a Databricks `CREATE TABLE` that DuckDB has no use for (`USING`, `TBLPROPERTIES`, `COMMENT`,
 * `PARTITIONED BY`, `CLUSTER BY`, `LOCATION`, `OPTIONS`), in any order: read for the catalog, which records them,
 * and stripped before the statement is transpiled (the transpiler fails on some orders of them).
 *
 * @internal
 */
import { isSymbol, isWord, matching, nameOf, nextSignificant, type Token } from "./lexer.js"

/** What a `CREATE TABLE` statement says about its table besides columns. */
export interface TableClauses {
  /** `USING DELTA` → `"delta"` (lower case, as DESCRIBE EXTENDED shows it). */
  readonly provider?: string | undefined
  /** `COMMENT '…'` after the column list. */
  readonly comment?: string | undefined
  /** `TBLPROPERTIES ('k' = 'v', …)`. */
  readonly properties: Readonly<Record<string, string>>
  /** `PARTITIONED BY (a, b)`. */
  readonly partitionColumns: ReadonlyArray<string>
  /** `CLUSTER BY (a, b)`. */
  readonly clusteringColumns: ReadonlyArray<string>
  /** `LOCATION '…'`. */
  readonly location?: string | undefined
  /** `COMMENT '…'` of each column that has one, by column name. */
  readonly columnComments: Readonly<Record<string, string>>
  /**
   * Each column's type as declared, in Databricks' spelling (`char(10)`, `decimal(3,2)`, `map<string,int>`,
   * `struct<city:string>`, `interval day to second`): DuckDB keeps fewer details (no CHAR length, no interval
   * fields), and DESCRIBE shows these.
   */
  readonly columnTypes: Readonly<Record<string, string>>
}

/** Words that end a column's type in its definition. */
const afterType = ["NOT", "NULL", "COMMENT", "DEFAULT", "GENERATED", "PRIMARY", "CONSTRAINT", "MASK", "REFERENCES"]

/** A declared type's tokens in Databricks' spelling: lower case, no spaces but between words. */
const typeText = (tokens: ReadonlyArray<Token>): string => {
  let out = ""
  tokens.forEach((token, i) => {
    const fieldName = isSymbol(tokens[i + 1], ":")
    const text = token.kind === "quoted" ? nameOf(token) : fieldName ? token.text : token.text.toLowerCase()
    if (out !== "" && /[\w`]$/.test(out) && /^[\w`]/.test(text)) out += " "
    out += text
  })
  return out
}

/** A Databricks string literal's value (backslash escapes as Databricks reads them). */
export const stringValue = (literal: string): string => {
  const inner = literal.slice(1, literal.length > 1 && literal.endsWith(literal[0]) ? -1 : undefined)
  const escapes: Record<string, string> = { n: "\n", t: "\t", r: "\r", b: "\b", "0": "\0", Z: "\x1a" }
  return inner.replace(/\\(.)|''|""/gs, (all, c: string | undefined) => c === undefined ? all[0] : escapes[c] ?? c)
}

const literalValue = (token: Token) => token.kind === "string" ? stringValue(token.text) : nameOf(token)

/** The significant tokens between `(` at `open` and its `)`, split at top-level commas. */
const elements = (tokens: ReadonlyArray<Token>, open: number, close: number): Array<Array<Token>> => {
  const out: Array<Array<Token>> = [[]]
  let depth = 0
  for (let i = open + 1; i < close; i++) {
    const token = tokens[i]
    if (token.kind === "space" || token.kind === "comment") continue
    if (isSymbol(token, "(") || isSymbol(token, "<")) depth++
    if (isSymbol(token, ")") || isSymbol(token, ">")) depth--
    if (depth === 0 && isSymbol(token, ",")) out.push([])
    else out[out.length - 1].push(token)
  }
  return out.filter((element) => element.length > 0)
}

/**
 * Reads and removes the table clauses of a `CREATE TABLE` statement (`tokens` of its Databricks text). Returns
 * undefined for any other statement.
 */
export const extract = (
  tokens: ReadonlyArray<Token>
): { readonly tokens: Array<Token>; readonly clauses: TableClauses } | undefined => {
  let i = nextSignificant(tokens, -1)
  if (!isWord(tokens[i], "CREATE")) return undefined
  i = nextSignificant(tokens, i)
  while (isWord(tokens[i], "OR", "REPLACE", "TEMPORARY", "TEMP", "EXTERNAL", "GLOBAL")) {
    i = nextSignificant(tokens, i)
  }
  if (!isWord(tokens[i], "TABLE")) return undefined
  i = nextSignificant(tokens, i)
  // IF NOT EXISTS
  while (isWord(tokens[i], "IF", "NOT", "EXISTS")) i = nextSignificant(tokens, i)
  // The table name: parts separated by dots.
  while (i < tokens.length && (tokens[i].kind === "word" || tokens[i].kind === "quoted")) {
    const dot = nextSignificant(tokens, i)
    if (!isSymbol(tokens[dot], ".")) {
      i = nextSignificant(tokens, i)
      break
    }
    i = nextSignificant(tokens, dot)
  }
  const columnComments: Record<string, string> = {}
  const columnTypes: Record<string, string> = {}
  if (isSymbol(tokens[i], "(")) {
    const close = matching(tokens, i)
    for (const element of elements(tokens, i, close)) {
      if (isWord(element[0], "CONSTRAINT", "PRIMARY", "FOREIGN")) continue
      const end = element.findIndex((token, k) => k > 0 && isWord(token, ...afterType))
      const type = element.slice(1, end < 0 ? undefined : end)
      if (type.length > 0) columnTypes[nameOf(element[0])] = typeText(type)
      const at = element.findIndex((token) => isWord(token, "COMMENT"))
      if (at > 0 && element[at + 1]?.kind === "string") {
        columnComments[nameOf(element[0])] = literalValue(element[at + 1])
      }
    }
    i = nextSignificant(tokens, close)
  }
  const properties: Record<string, string> = {}
  const partitionColumns: Array<string> = []
  const clusteringColumns: Array<string> = []
  let provider: string | undefined
  let comment: string | undefined
  let location: string | undefined
  const removed = new Set<number>()
  const remove = (from: number, to: number) => {
    for (let k = from; k <= to; k++) removed.add(k)
  }
  const columnsOf = (open: number, close: number) => elements(tokens, open, close).map((element) => nameOf(element[0]))
  while (i < tokens.length) {
    const start = i
    const next = nextSignificant(tokens, i)
    if (isWord(tokens[i], "USING") && next < tokens.length) {
      provider = nameOf(tokens[next]).toLowerCase()
      remove(start, next)
      i = nextSignificant(tokens, next)
    } else if (isWord(tokens[i], "COMMENT", "LOCATION") && tokens[next]?.kind === "string") {
      if (isWord(tokens[i], "COMMENT")) comment = literalValue(tokens[next])
      else location = literalValue(tokens[next])
      remove(start, next)
      i = nextSignificant(tokens, next)
    } else if (isWord(tokens[i], "TBLPROPERTIES", "OPTIONS") && isSymbol(tokens[next], "(")) {
      const close = matching(tokens, next)
      if (isWord(tokens[i], "TBLPROPERTIES")) {
        for (const element of elements(tokens, next, close)) {
          const eq = element.findIndex((token) => isSymbol(token, "="))
          const key = (eq < 0 ? element.slice(0, 1) : element.slice(0, eq)).map(literalValue).join("")
          const value = eq < 0 ? element.slice(1) : element.slice(eq + 1)
          properties[key] = value.map(literalValue).join("")
        }
      }
      remove(start, close)
      i = nextSignificant(tokens, close)
    } else if (isWord(tokens[i], "PARTITIONED", "CLUSTER") && isWord(tokens[next], "BY")) {
      const open = nextSignificant(tokens, next)
      if (!isSymbol(tokens[open], "(")) break
      const close = matching(tokens, open)
      ;(isWord(tokens[i], "PARTITIONED") ? partitionColumns : clusteringColumns).push(...columnsOf(open, close))
      remove(start, close)
      i = nextSignificant(tokens, close)
    } else {
      break
    }
  }
  return {
    tokens: tokens.filter((_, k) => !removed.has(k)),
    clauses: {
      provider,
      comment,
      properties,
      partitionColumns,
      clusteringColumns,
      location,
      columnComments,
      columnTypes
    }
  }
}
