/**
 * Databricks SQL in, DuckDB SQL out: the text of every statement the warehouse runs goes through `translate`.
 *
 * The transpiler (`@polyglot-sql/sdk`, Databricks → DuckDB) does the bulk: types (`array<string>`, `map<…>`,
 * `struct<…>`), constructors (`array(…)`, `map(…)`, `named_struct`), functions, backticks, `DIV`, `QUALIFY`. Our own
 * rules (`dialect/rules.ts`, `dialect/ansi.ts`, `dialect/clauses.ts`) fix what it gets wrong or cannot know: ANSI
 * casts and division, `range()`'s column, joins without a condition, `INSERT OVERWRITE`, the `CREATE TABLE`
 * clauses DuckDB has no use for, parameters and the catalog `main`.
 *
 * @internal
 */
import { Dialect, init, isInitialized, transpile } from "@polyglot-sql/sdk"
import { hasDivision, raisingDivision } from "./dialect/ansi.js"
import { extract, type TableClauses } from "./dialect/clauses.js"
import * as DatabricksCalls from "./dialect/databricksCalls.js"
import { aggregateFirstLast, emulatorTemplates } from "./dialect/emulatorCalls.js"
import { callRewriter, functionTemplates, templates } from "./dialect/functions.js"
import { isSymbol, isWord, join, nextSignificant, previousSignificant, type Token, tokenize } from "./dialect/lexer.js"
import * as Rules from "./dialect/rules.js"
import { subscripts } from "./dialect/subscripts.js"
import { failure, type SqlFailure } from "./errors.js"

export type { TableClauses } from "./dialect/clauses.js"

/**
 * The DuckDB database that plays Unity Catalog's default catalog `main`: DuckDB reserves the name "main" (it is
 * its default schema) and calls its in-memory database "memory".
 */
export const mainDatabase = Rules.mainDatabase

/** `/* emulator:sleep=1500 *\/` in a statement makes it run at least that long. */
export const sleepHint = (sql: string): number | undefined => {
  const match = /\/\*\s*emulator:sleep=(\d+)\s*\*\//.exec(sql)
  return match === null ? undefined : Number(match[1])
}

let loading: Promise<void> | undefined

/** Loads the translator (once); `translate` may be called after it settles. */
export const ready = (): Promise<void> => {
  if (loading === undefined) {
    loading = (isInitialized() ? Promise.resolve() : init()).then(() => {
      // The transpiler's first statement with a function call costs half a second (its function tables load
      // lazily): paid here, so a session's first statement still settles within the direct results wait.
      translate("SELECT upper(current_user()) AS warm")
    })
  }
  return loading
}

/** The statements of a script, split at top-level semicolons (never inside strings, names or comments). */
export const statements = (sql: string): Array<string> => {
  const out: Array<string> = []
  let current = ""
  for (const token of tokenize(sql, "databricks")) {
    if (token.kind === "symbol" && token.text === ";") {
      out.push(current)
      current = ""
    } else current += token.text
  }
  out.push(current)
  return out.filter((statement) => statement.trim() !== "")
}

/** A statement translated for DuckDB, or the error Databricks would give for it. */
export type Translation =
  | { readonly sql: string; readonly before?: ReadonlyArray<string> | undefined }
  | { readonly failure: SqlFailure }

/**
 * Statements made of literals only (`SELECT 1`, `SELECT 1 AS one, 'a' AS s`) mean the same in both dialects: they
 * skip the transpiler, which costs about 0.1 ms even for these (they are what latency benchmarks run).
 */
const trivial =
  /^\s*SELECT\s+(?:\d{1,9}|'[^'\\]*')(?:\s+AS\s+[a-z_][a-z0-9_]*)?(?:\s*,\s*(?:\d{1,9}|'[^'\\]*')(?:\s+AS\s+[a-z_][a-z0-9_]*)?)*\s*;?\s*$/i

/** Statements the catalog answers itself: never transpiled (only their names and parameters are DuckDB's). */
const catalogStatements = ["SHOW", "DESCRIBE", "DESC", "USE", "SET", "RESET"]

/** Databricks statements with no DuckDB counterpart. */
const unsupported = ["OPTIMIZE", "VACUUM", "RESTORE", "COPY", "GRANT", "REVOKE", "FSCK", "MSCK", "CACHE", "UNCACHE"]

/** The words a Databricks statement may start with (sql-ref-syntax.html); any other first word is a syntax error. */
const statementKeywords = [
  "SELECT",
  "WITH",
  "VALUES",
  "FROM",
  "TABLE",
  "INSERT",
  "UPDATE",
  "DELETE",
  "MERGE",
  "CREATE",
  "DROP",
  "ALTER",
  "REPLACE",
  "TRUNCATE",
  "EXPLAIN",
  "DESCRIBE",
  "DESC",
  "SHOW",
  "USE",
  "SET",
  "RESET",
  "COMMENT",
  "ANALYZE",
  "REFRESH",
  "CACHE",
  "UNCACHE",
  "CLEAR",
  "LIST",
  "GET",
  "PUT",
  "REMOVE",
  "MSCK",
  "REPAIR",
  "DECLARE",
  "EXECUTE",
  "BEGIN",
  "CALL",
  "COPY",
  "GRANT",
  "REVOKE",
  "RESTORE",
  "VACUUM",
  "OPTIMIZE",
  "FSCK",
  "UNDROP",
  "SYNC",
  "CONVERT",
  "MAP",
  "REDUCE",
  "ADD",
  "LOAD"
]

/** Whether a statement starts with a word a Databricks statement may start with (else it is a syntax error). */
export const isStatementKeyword = (token: Token | undefined): boolean => isWord(token, ...statementKeywords)

/** Keywords after which a statement may not end: a parse error there is "at end of input". */
const expressionKeywords = new Set([
  "SELECT",
  "FROM",
  "WHERE",
  "AND",
  "OR",
  "NOT",
  "BY",
  "GROUP",
  "ORDER",
  "HAVING",
  "JOIN",
  "ON",
  "AS",
  "IN",
  "IS",
  "LIKE",
  "ILIKE",
  "BETWEEN",
  "CASE",
  "WHEN",
  "THEN",
  "ELSE",
  "LIMIT",
  "OFFSET",
  "UNION",
  "EXCEPT",
  "INTERSECT",
  "ALL",
  "DISTINCT",
  "INTO",
  "VALUES",
  "SET",
  "TABLE",
  "USING",
  "WITH",
  "QUALIFY",
  "WINDOW",
  "OVER",
  "PARTITION",
  "INSERT",
  "UPDATE",
  "DELETE",
  "CREATE",
  "DROP",
  "ALTER",
  "INNER",
  "LEFT",
  "RIGHT",
  "FULL",
  "OUTER",
  "CROSS",
  "IF",
  "EXISTS",
  "NULL",
  "TRUE",
  "FALSE",
  "INTERVAL",
  "CAST",
  "DIV",
  "END"
])

const unsupportedFeature = (what: string) =>
  failure("UNSUPPORTED_FEATURE", "0A000", `The feature is not supported: ${what} (in the Databricks emulator).`)

const syntaxError = (near: string | undefined) =>
  failure(
    "PARSE_SYNTAX_ERROR",
    "42601",
    `Syntax error at or near ${near === undefined ? "end of input" : `'${near}'`}.`
  )

/** Words after which `returning` is a name (a column, an alias), not a clause. */
const beforeName = new Set(["SELECT", "SET", "WHERE", "AND", "OR", "NOT", "BY", "ON", "WHEN", "THEN", "ELSE", "AS"])

/** A DML statement's top-level `RETURNING` keyword, if it has one. */
const returningClause = (tokens: ReadonlyArray<Token>): Token | undefined => {
  let depth = 0
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (isSymbol(token, "(")) depth++
    else if (isSymbol(token, ")")) depth--
    else if (depth === 0 && isWord(token, "RETURNING")) {
      const previous = tokens[previousSignificant(tokens, i)]
      const isName = previous === undefined || (previous.kind === "symbol" && previous.text !== ")") ||
        (previous.kind === "word" && beforeName.has(previous.text.toUpperCase()))
      if (!isName) return token
    }
  }
  return undefined
}

/** The DuckDB text of one statement the transpiler wrote: our rules after it. */
const afterTranspiler = (duckSql: string): string => {
  // Each rule runs only when the text has what it looks for (a cheap test: translation is on every query's path).
  const applicable = after.filter(([pattern]) => pattern.test(duckSql))
  if (applicable.length === 0) return duckSql
  return join(applicable.reduce((tokens, [, rule]) => rule(tokens), tokenize(duckSql, "duckdb")))
}

const functionPattern = new RegExp(`\\b(?:${Object.keys(templates).join("|")})\\s*\\(`, "i")

const emulatorCalls = callRewriter(emulatorTemplates, "duckdb")

/** The rules after the transpiler, in order, each with a pattern the text must match for it to apply. */
const after: ReadonlyArray<readonly [RegExp, (tokens: Array<Token>) => Array<Token>]> = [
  [/EMULATOR_/i, emulatorCalls],
  [/FIRST_VALUE|LAST_VALUE/i, aggregateFirstLast],
  [/TRY_CAST|GET_JSON_OBJECT|SEQUENCE|RAISE_ERROR/i, Rules.functionNames],
  [functionPattern, functionTemplates],
  [/LOWER\s*\(\s*HEX/i, Rules.upperHex],
  [/NTZ/i, Rules.typeNames],
  [/x'/i, Rules.binaryLiterals],
  [/range/i, Rules.rangeColumn],
  [/join/i, Rules.joinWithoutCondition],
  [/"ALL"/i, Rules.allKeyword],
  [/INTERVAL[\s\S]*\bTO\b/i, Rules.intervalRanges],
  [/UPDATE\s*\*/i, Rules.mergeUpdateAll],
  [/\bSET\b/i, Rules.qualifiedAssignments],
  [/:/, Rules.parameters],
  [/main/i, Rules.mainCatalog]
]

/** A Databricks statement the transpiler does not see: backtick names become DuckDB's quoted names. */
const passThrough = (tokens: ReadonlyArray<Token>): string =>
  afterTranspiler(
    join(tokens.map((token) =>
      token.kind === "quoted" ? { kind: "quoted", text: `"${token.text.slice(1, -1).replace(/"/g, "\"\"")}"` } : token
    ))
  )

/**
 * Recent translations by statement text: translation is pure, costs about a millisecond, and applications (and
 * their tests) run the same statements again and again with new parameter values.
 */
const cache = new Map<string, Translation>()
const cacheSize = 512

/** Translates one Databricks SQL statement (parameters `:name` and `?` kept as DuckDB's `$name` and `?`). */
export const translate = (sql: string): Translation => {
  if (trivial.test(sql)) return { sql }
  const cached = cache.get(sql)
  if (cached !== undefined) {
    // Most recently used last: the first key is the one to evict.
    cache.delete(sql)
    cache.set(sql, cached)
    return cached
  }
  const translation = translateOnce(sql)
  if (cache.size >= cacheSize) cache.delete(cache.keys().next().value!)
  cache.set(sql, translation)
  return translation
}

const translateOnce = (sql: string): Translation => {
  try {
    let tokens = tokenize(sql, "databricks")
    const first = tokens[nextSignificant(tokens, -1)]
    if (first === undefined) return { sql }
    if (isWord(first, ...catalogStatements)) return { sql: passThrough(tokens) }
    if (isWord(first, ...unsupported)) return { failure: unsupportedFeature(first.text.toUpperCase()) }
    // Databricks SQL has no RETURNING clause (SQL reference: INSERT, UPDATE, DELETE FROM, MERGE INTO); DuckDB has.
    if (isWord(first, "INSERT", "UPDATE", "DELETE", "MERGE", "WITH")) {
      const returning = returningClause(tokens)
      if (returning !== undefined) return { failure: syntaxError(returning.text) }
    }
    // Identity and generated columns: DuckDB has neither, and a column that silently stays NULL would mislead.
    if (isWord(first, "CREATE", "ALTER") && tokens.some((token) => isWord(token, "GENERATED"))) {
      return { failure: unsupportedFeature("generated or identity columns") }
    }
    const added = Rules.addColumns(tokens)
    if (added !== undefined && added.length > 0) {
      const each = added.map(translate)
      const failed = each.find((one) => "failure" in one)
      if (failed !== undefined) return failed
      const statements = each.map((one) => (one as { sql: string }).sql)
      return { sql: statements.at(-1)!, before: statements.length > 1 ? statements.slice(0, -1) : undefined }
    }
    tokens = extract(tokens)?.tokens ?? tokens
    const overwrite = Rules.insertOverwrite(tokens)
    if (overwrite !== undefined) tokens = overwrite.tokens
    tokens = Rules.tryCast(Rules.hexEscapes(Rules.typedLiterals(tokens)))
    if (sql.includes("[")) tokens = subscripts(tokens)
    if (DatabricksCalls.pattern.test(sql)) tokens = DatabricksCalls.databricksCalls(tokens)
    let text = join(tokens)
    if (hasDivision(tokens)) text = raisingDivision(text) ?? text
    const result = transpile(text, Dialect.Databricks, Dialect.DuckDB)
    if (!result.success || result.sql === undefined) {
      // The transpiler points at the last token it read; when nothing follows it, the statement ended too early.
      const start = result.errorStart ?? text.length
      const end = Math.max(result.errorEnd ?? start, start + 1)
      const near = text.slice(start, end).trim()
      const rest = text.slice(end).replace(/;\s*$/, "").trim()
      // Spark's parser stops at the first token no rule accepts: a statement's unknown first word (`SELEC 1`),
      // or a name where none may stand (`SELECT a b c`); the transpiler points past the first.
      if (first.kind === "word" && !isWord(first, ...statementKeywords)) return { failure: syntaxError(first.text) }
      const offending = near !== "" && rest === "" && /^[A-Za-z_][A-Za-z_0-9]*$/.test(near) &&
        !expressionKeywords.has(near.toUpperCase())
      return { failure: syntaxError(near === "" || (rest === "" && !offending) ? undefined : near) }
    }
    const statements = result.sql.map(afterTranspiler)
    if (overwrite === undefined) return { sql: statements.join(";\n") }
    const emptied = translate(`DELETE FROM ${overwrite.table}`)
    if ("failure" in emptied) return emptied
    return { sql: statements.join(";\n"), before: [emptied.sql] }
  } catch {
    // The transpiler throws on what it cannot handle at all (its message is never shown: it names its own parser).
    return { failure: unsupportedFeature(`statement ${JSON.stringify(sql.trim().slice(0, 60))}`) }
  }
}

/**
 * What a `CREATE TABLE` statement says about its table besides columns (`USING`, `COMMENT`, `TBLPROPERTIES`,
 * `PARTITIONED BY`, `CLUSTER BY`, `LOCATION`, column comments), for the catalog to record; undefined for any
 * other statement.
 */
export const tableClauses = (sql: string): TableClauses | undefined => extract(tokenize(sql, "databricks"))?.clauses

/**
 * The translated statement with every parameter replaced by `NULL`: DuckDB names no tables for a statement with
 * parameters, and the permission check needs them.
 */
export const withoutParameters = (duckSql: string): string =>
  join(
    tokenize(duckSql, "duckdb").map((token) =>
      token.kind === "parameter" || (token.kind === "symbol" && token.text === "?")
        ? { kind: "word", text: "NULL" }
        : token
    )
  )
