/**
 * A small SQL tokenizer for the two texts the dialect rewrites: the Databricks statement as written (backtick
 * identifiers, backslash escapes in strings, `"…"` strings) and the DuckDB statement the transpiler produced (`"…"`
 * identifiers, `''` escapes). Rules work on tokens, so strings, quoted identifiers and comments are never touched
 * by accident, and `::` casts are never parameters.
 *
 * @internal
 */

export type TokenKind =
  | "space"
  | "comment"
  | "string"
  /** An identifier in quotes: `` `x` `` in Databricks, `"x"` in DuckDB. */
  | "quoted"
  | "word"
  | "number"
  /** `:name` (Databricks and the transpiler's output) or `$name` (DuckDB). */
  | "parameter"
  | "symbol"

export interface Token {
  readonly kind: TokenKind
  readonly text: string
}

/** Which text is scanned: they differ in what `"` and `` ` `` mean, and in string escapes. */
export type Flavour = "databricks" | "duckdb"

/** The end (exclusive) of the quoted run that starts at `start`; a doubled quote, or a backslash, escapes. */
const closing = (sql: string, start: number, quote: string, backslash: boolean) => {
  let i = start + 1
  while (i < sql.length) {
    const c = sql[i]
    if (backslash && c === "\\") i += 2
    else if (c === quote) {
      if (sql[i + 1] === quote) i += 2
      else return i + 1
    } else i++
  }
  return sql.length
}

const letter = /\p{L}/u
const letterOrDigit = /[\p{L}\p{N}]/u
const ascii = (c: string) => c.charCodeAt(0) < 128
/** A character that starts a word: a letter or `_` (checked without a regex for ASCII, the common case). */
const isWordStart = (c: string | undefined): boolean =>
  c !== undefined && c !== "" &&
  (ascii(c) ? (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c === "_" : letter.test(c))
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= "0" && c <= "9" && c.length === 1
/** A character that continues a word. */
const isWordPart = (c: string | undefined): boolean =>
  isWordStart(c) || isDigit(c) || c === "$" || (c !== undefined && c !== "" && !ascii(c) && letterOrDigit.test(c))
const isSpace = (c: string | undefined): boolean =>
  c === " " || c === "\n" || c === "\t" || c === "\r" || c === "\f" ||
  (c !== undefined && c !== "" && !ascii(c) && /\s/.test(c))

/** Splits `sql` into tokens whose texts concatenate back to `sql`. */
export const tokenize = (sql: string, flavour: Flavour): Array<Token> => {
  const tokens: Array<Token> = []
  let i = 0
  const push = (kind: TokenKind, end: number) => {
    tokens.push({ kind, text: sql.slice(i, end) })
    i = end
  }
  while (i < sql.length) {
    const c = sql[i]
    const next = sql[i + 1] ?? ""
    if (isSpace(c)) {
      let end = i + 1
      while (end < sql.length && isSpace(sql[end])) end++
      push("space", end)
    } else if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i)
      push("comment", end < 0 ? sql.length : end)
    } else if (c === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2)
      push("comment", end < 0 ? sql.length : end + 2)
    } else if (c === "'") {
      push("string", closing(sql, i, "'", flavour === "databricks"))
    } else if (c === "\"") {
      if (flavour === "databricks") push("string", closing(sql, i, "\"", true))
      else push("quoted", closing(sql, i, "\"", false))
    } else if (c === "`" && flavour === "databricks") {
      push("quoted", closing(sql, i, "`", false))
    } else if (c === ":" && next === ":") {
      push("symbol", i + 2)
    } else if ((c === ":" || c === "$") && isWordStart(next) && !isWordPart(sql[i - 1])) {
      let end = i + 2
      while (end < sql.length && isWordPart(sql[end]) && sql[end] !== "$") end++
      push("parameter", end)
    } else if (isWordStart(c)) {
      let end = i + 1
      while (end < sql.length && isWordPart(sql[end])) end++
      push("word", end)
    } else if (isDigit(c) || (c === "." && isDigit(next))) {
      let end = i + 1
      while (end < sql.length && (isWordPart(sql[end]) || sql[end] === ".") && sql[end] !== "$") {
        // An exponent's sign belongs to the number.
        if (/[eE]/.test(sql[end]) && /[+-]/.test(sql[end + 1] ?? "")) end += 2
        else end++
      }
      push("number", end)
    } else {
      push("symbol", i + 1)
    }
  }
  return tokens
}

/** The tokens' text, back together. */
export const join = (tokens: ReadonlyArray<Token>): string => tokens.map((token) => token.text).join("")

/** Is this token the keyword (or unquoted name) `word`, in any case? */
export const isWord = (token: Token | undefined, ...words: ReadonlyArray<string>): boolean =>
  token !== undefined && token.kind === "word" && words.includes(token.text.toUpperCase())

/** Is this token the symbol `symbol`? */
export const isSymbol = (token: Token | undefined, symbol: string): boolean =>
  token !== undefined && token.kind === "symbol" && token.text === symbol

/** Does the token carry meaning (not space, not a comment)? */
export const significant = (token: Token): boolean => token.kind !== "space" && token.kind !== "comment"

/** The index of the next significant token after `i` (or `tokens.length`). */
export const nextSignificant = (tokens: ReadonlyArray<Token>, i: number): number => {
  let j = i + 1
  while (j < tokens.length && !significant(tokens[j])) j++
  return j
}

/** The index of the previous significant token before `i` (or -1). */
export const previousSignificant = (tokens: ReadonlyArray<Token>, i: number): number => {
  let j = i - 1
  while (j >= 0 && !significant(tokens[j])) j--
  return j
}

/** The index of the `)` that closes the `(` at `open` (or `tokens.length` when it is never closed). */
export const matching = (tokens: ReadonlyArray<Token>, open: number): number => {
  let depth = 0
  for (let i = open; i < tokens.length; i++) {
    if (isSymbol(tokens[i], "(")) depth++
    else if (isSymbol(tokens[i], ")") && --depth === 0) return i
  }
  return tokens.length
}

/** The name an identifier token stands for (unquoted; quotes undoubled). */
export const nameOf = (token: Token): string => {
  if (token.kind !== "quoted") return token.text
  const quote = token.text[0]
  const inner = token.text.endsWith(quote) && token.text.length > 1 ? token.text.slice(1, -1) : token.text.slice(1)
  return inner.split(quote + quote).join(quote)
}
