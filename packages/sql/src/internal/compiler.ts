/**
 * The Databricks statement compiler for `@effect/sql`, and the rule that tells a read from a write.
 *
 * @internal
 */
import * as Statement from "@effect/sql/Statement"

/**
 * Something the compiler cannot express on Databricks (a `RETURNING` clause, another driver's custom value),
 * put among the binds instead of the value. The connection refuses a statement holding one before anything is
 * sent: the compiler itself cannot fail.
 */
export class Unsupported {
  constructor(readonly message: string, readonly hint: string) {}
}

const returning = new Unsupported(
  "Databricks SQL has no RETURNING clause",
  "Insert or update without .returning(...), then read the rows back with a SELECT"
)

/** Bytes bind as hexadecimal text, unhexed by the statement: the driver has no binary parameter type. */
export const isBytes = (u: unknown): boolean =>
  u instanceof Uint8Array ||
  (typeof u === "object" && u !== null && (u as { _tag?: unknown })._tag === "SqlParam" &&
    (u as { type?: unknown }).type === "BINARY")

const placeholderFor = (value: unknown) => isBytes(value) ? "unhex(?)" : "?"

/**
 * A back-quoted identifier (https://docs.databricks.com/sql/language-manual/sql-ref-identifiers.html): a
 * backtick inside is doubled. A dot separates the parts of a qualified name (`catalog.schema.table`), as in
 * every `@effect/sql` driver.
 */
export const escapeIdentifier = (name: string): string => "`" + name.replace(/`/g, "``").replace(/\./g, "`.`") + "`"

const assignments = (columns: ReadonlyArray<string>, values: ReadonlyArray<unknown>) => {
  let sql = ""
  for (let i = 0; i < columns.length; i++) {
    sql += `${i === 0 ? "" : ", "}${columns[i]} = ${placeholderFor(values[i])}`
  }
  return sql
}

const flatten = (rows: ReadonlyArray<ReadonlyArray<unknown>>) => {
  const binds: Array<unknown> = []
  for (const row of rows) for (const value of row) binds.push(value)
  return binds
}

/**
 * `?` placeholders bound as real parameters (`unhex(?)` for bytes), identifiers back-quoted.
 *
 * - `sql.insert(rows)`: `(a, b) VALUES (?, ?), (?, ?)`, one statement for all rows.
 * - `sql.update(row)`: `a = ?, b = ?`.
 * - `sql.updateValues(rows, "alias")`: an inline table, `(VALUES (?, ?), ...) AS alias(a, b)`, for
 *   `MERGE INTO t USING ${...} ON ...` (Databricks' UPDATE has no FROM).
 * - `.returning(...)` anywhere: refused before sending (Databricks SQL has no RETURNING).
 *
 * The dialect is `"sqlite"`, as for ClickHouse: `@effect/sql` 0.52 has no Databricks dialect, and its
 * generic (`orElse`) paths are the ones that fit.
 */
export const make = (): Statement.Compiler =>
  Statement.makeCompiler({
    dialect: "sqlite",
    placeholder: (_, value) => placeholderFor(value),
    onIdentifier: escapeIdentifier,
    onInsert: (columns, placeholders, values, returningClause) => {
      const binds = flatten(values)
      if (returningClause !== undefined) binds.push(returning)
      return [`(${columns.join(",")}) VALUES ${placeholders}`, binds]
    },
    onRecordUpdateSingle: (columns, values, returningClause) => [
      assignments(columns, values),
      returningClause === undefined ? values : [...values, returning]
    ],
    onRecordUpdate: (placeholders, alias, columns, values, returningClause) => {
      const binds = flatten(values)
      if (returningClause !== undefined) binds.push(returning)
      return [`(VALUES ${placeholders}) AS ${escapeIdentifier(alias)}${columns}`, binds]
    },
    onCustom: (custom) => [
      "?",
      [
        new Unsupported(
          `A custom value of kind ${JSON.stringify(String(custom.kind))} (from another @effect/sql driver) ` +
            "cannot be bound on Databricks",
          "Pass a string, number, bigint, boolean, Date, null, Uint8Array or a SqlParam value"
        )
      ]
    ]
  })

// ---- reads and writes --------------------------------------------------------------------------------------

/** Statements that only read: sent again after a lost answer. */
const readKeywords = new Set(["SELECT", "VALUES", "TABLE", "SHOW", "DESCRIBE", "DESC", "EXPLAIN"])

const isWordChar = (code: number) =>
  (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || (code >= 48 && code <= 57) || code === 95

/** The index after whitespace and comments from `i` (`--` to the line's end, `/* *\/` nested); -1 if unterminated. */
const skipTrivia = (sql: string, i: number): number => {
  while (i < sql.length) {
    const c = sql[i]
    if (c === " " || c === "\t" || c === "\n" || c === "\r" || c === "\f" || c === "\v") {
      i++
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i)
      i = end < 0 ? sql.length : end + 1
    } else if (c === "/" && sql[i + 1] === "*") {
      let depth = 1
      i += 2
      while (depth > 0) {
        if (i >= sql.length) return -1
        if (sql[i] === "/" && sql[i + 1] === "*") {
          depth++
          i += 2
        } else if (sql[i] === "*" && sql[i + 1] === "/") {
          depth--
          i += 2
        } else {
          i++
        }
      }
    } else {
      break
    }
  }
  return i
}

/** The index after the quoted text starting at `i` (a string, or a back-quoted name); -1 if unterminated. */
const skipQuoted = (sql: string, i: number, raw: boolean): number => {
  const quote = sql[i]
  for (let j = i + 1; j < sql.length; j++) {
    const c = sql[j]
    if (c === "\\" && quote !== "`" && !raw) {
      j++
    } else if (c === quote) {
      // A doubled quote stands for itself (a back-quoted name's ``, SQL's '').
      if (sql[j + 1] === quote) j++
      else return j + 1
    }
  }
  return -1
}

/**
 * Hands the statement's words (upper case) and punctuation to `visit`, with their parenthesis depth, skipping
 * strings, quoted names and comments, until `visit` decides. False when nothing decides, or when the text
 * cannot be read (an unterminated string or comment, an unbalanced parenthesis).
 */
const scan = (sql: string, visit: (token: string, depth: number) => boolean | undefined): boolean => {
  let depth = 0
  let i = 0
  while (true) {
    i = skipTrivia(sql, i)
    if (i < 0) return false
    if (i >= sql.length) return false
    const c = sql[i]
    if (c === "'" || c === "\"" || c === "`") {
      // r'...': a raw string, where a backslash is itself.
      const raw = c !== "`" && (sql[i - 1] === "r" || sql[i - 1] === "R") && !isWordChar(sql.charCodeAt(i - 2))
      i = skipQuoted(sql, i, raw)
      if (i < 0) return false
    } else if (c === "(") {
      depth++
      const decided = visit("(", depth - 1)
      if (decided !== undefined) return decided
      i++
    } else if (c === ")") {
      depth--
      if (depth < 0) return false
      i++
    } else if (isWordChar(sql.charCodeAt(i))) {
      let j = i + 1
      while (j < sql.length && isWordChar(sql.charCodeAt(j))) j++
      const decided = visit(sql.slice(i, j).toUpperCase(), depth)
      if (decided !== undefined) return decided
      i = j
    } else {
      const decided = visit(c, depth)
      if (decided !== undefined) return decided
      i++
    }
  }
}

/**
 * Whether a statement only reads, so that it may be sent again after its answer was lost: `SELECT`, `VALUES`,
 * `TABLE`, `SHOW`, `DESCRIBE`, `EXPLAIN` (comments, whitespace and opening parentheses before it ignored), or
 * `WITH … ` whose main statement is one of those. Anything else, and anything this cannot read to a decision
 * (an unterminated comment or string), is a write: never sent twice.
 */
export const isRead = (sql: string): boolean => {
  // The first word decides, except for WITH.
  let first: string | undefined
  // After WITH: the first word at depth 0 that is neither a CTE's name (after WITH, RECURSIVE or a comma) nor AS.
  let nameNext = false
  return scan(sql, (token, depth) => {
    if (first === undefined) {
      if (token === "(") return undefined
      if (token.length === 1 && !isWordChar(token.charCodeAt(0))) return false
      first = token
      if (token !== "WITH") return readKeywords.has(token)
      nameNext = true
      return undefined
    }
    if (depth > 0) return undefined
    if (token === ",") {
      nameNext = true
      return undefined
    }
    if (token === "(") return undefined
    if (token.length === 1 && !isWordChar(token.charCodeAt(0))) return false
    if (nameNext) {
      if (token !== "RECURSIVE") nameNext = false
      return undefined
    }
    if (token === "AS") return undefined
    return token === "SELECT" || token === "VALUES" || token === "TABLE"
  })
}
