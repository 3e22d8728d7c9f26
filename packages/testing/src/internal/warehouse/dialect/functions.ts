/**
 * Databricks functions DuckDB has under another name or shape, rewritten after the transpiler (which passes them
 * through, or writes them in a form DuckDB rejects). One entry per function; each takes the call's arguments (as
 * DuckDB tokens) and returns the replacement, or undefined to leave the call as it is.
 *
 * @internal
 */
import {
  type Flavour,
  isSymbol,
  matching,
  nextSignificant,
  previousSignificant,
  significant,
  type Token,
  tokenize
} from "./lexer.js"

export type Arguments = ReadonlyArray<ReadonlyArray<Token>>

/** DuckDB text around arguments: `t\`(${0} IS NULL)\`` style templates, written as functions of the argument texts. */
export type Template = (args: ReadonlyArray<string>, raw: Arguments) => string | undefined

const cast = (type: string): Template => ([a], raw) => raw.length === 1 ? `CAST(${a} AS ${type})` : undefined

export const stringLiteral = (arg: ReadonlyArray<Token> | undefined): string | undefined => {
  const tokens = arg?.filter(significant) ?? []
  return tokens.length === 1 && tokens[0].kind === "string"
    ? tokens[0].text.slice(1, -1).replace(/''/g, "'")
    : undefined
}

/** Databricks' `trunc(date, fmt)` units, as `date_trunc` names them. */
const truncUnits: Record<string, string> = {
  YEAR: "year",
  YYYY: "year",
  YY: "year",
  QUARTER: "quarter",
  MONTH: "month",
  MM: "month",
  MON: "month",
  WEEK: "week"
}

/** `element_at(a, i)`: DuckDB's subscript, with Databricks' errors for an array index of 0 or out of bounds. */
const elementAt = (a: string, i: string, index: ReadonlyArray<Token>): string => {
  // A string key: a map's lookup (NULL when absent, functions/element_at.html).
  if (stringLiteral(index) !== undefined) return `(${a})[${i}]`
  const isArray = `json_type(to_json(${a})) = 'ARRAY'`
  const n = `TRY_CAST(${i} AS BIGINT)`
  const size = `json_array_length(to_json(${a}))`
  const raise = (errorClass: string, text: string) => `error('[${errorClass}] ' || ${text} || ' SQLSTATE: 22003')`
  return `CASE WHEN ${isArray} AND ${n} = 0 THEN ${
    raise(
      "INVALID_INDEX_OF_ZERO",
      "'The index 0 is invalid. An index shall be either < 0 or > 0 (the first element has index 1).'"
    )
  } WHEN ${isArray} AND abs(${n}) > ${size} THEN ${
    raise(
      "INVALID_ARRAY_INDEX_IN_ELEMENT_AT",
      `'The index ' || CAST(${n} AS VARCHAR) || ' is out of bounds. The array has ' || CAST(${size} AS VARCHAR) || ` +
        `' elements. Use \`try_element_at\` to tolerate accessing element at invalid index and return NULL ` +
        `instead. If necessary set "ansi_mode" to "false" to bypass this error.'`
    )
  } ELSE (${a})[${i}] END`
}

export const templates: Record<string, Template> = {
  // Databricks functions/positive.html, negative.html.
  POSITIVE: ([a], raw) => raw.length === 1 ? `(${a})` : undefined,
  NEGATIVE: ([a], raw) => raw.length === 1 ? `(- (${a}))` : undefined,
  ISNULL: ([a], raw) => raw.length === 1 ? `(${a} IS NULL)` : undefined,
  ISNOTNULL: ([a], raw) => raw.length === 1 ? `(${a} IS NOT NULL)` : undefined,
  // An array's element by 1-based index, a map's value by key: DuckDB's subscript does both (its element_at
  // takes maps only). An array index out of bounds raises, as on SQL warehouses (functions/element_at.html);
  // whether the value is an array is only known when it runs, so its JSON form tells.
  ELEMENT_AT: ([a, i], raw) => raw.length === 2 ? elementAt(a, i, raw[1]) : undefined,
  ARRAY_JOIN: ([a, s], raw) => raw.length === 2 ? `array_to_string(${a}, ${s})` : undefined,
  ARRAYS_OVERLAP: ([a, b], raw) => raw.length === 2 ? `list_has_any(${a}, ${b})` : undefined,
  // slice(array, start, length); DuckDB's list_slice takes the (inclusive) end.
  SLICE: ([a, s, n], raw) => raw.length === 3 ? `list_slice(${a}, ${s}, (${s}) + (${n}) - 1)` : undefined,
  TRANSFORM: ([a, f], raw) => raw.length === 2 ? `list_transform(${a}, ${f})` : undefined,
  EXISTS: ([a, f], raw) => raw.length === 2 && /->/.test(f) ? `(len(list_filter(${a}, ${f})) > 0)` : undefined,
  REDUCE: ([a, init, f], raw) => raw.length === 3 ? `list_reduce(${a}, ${f}, ${init})` : undefined,
  MAP_CONTAINS_KEY: ([m, k], raw) => raw.length === 2 ? `list_contains(map_keys(${m}), ${k})` : undefined,
  // map(k1, v1, k2, v2) where the transpiler left it (inside other calls): DuckDB's map takes two lists.
  MAP: (args) => {
    if (args.length === 0 || args.length % 2 !== 0 || args[0].trimStart().startsWith("[")) return undefined
    const keys = args.filter((_, i) => i % 2 === 0)
    const values = args.filter((_, i) => i % 2 === 1)
    return `MAP([${keys.join(", ")}], [${values.join(", ")}])`
  },
  // array(1, 2) where the transpiler left it: a list literal (ARRAY(SELECT …) is DuckDB's and stays).
  ARRAY: (args, raw) =>
    raw.length === 1 && raw[0].some((token) => token.kind === "word" && /^SELECT$/i.test(token.text))
      ? undefined
      : `[${args.join(", ")}]`,
  NAMED_STRUCT: (args, raw) => {
    if (args.length % 2 !== 0) return undefined
    const fields: Array<string> = []
    for (let i = 0; i < args.length; i += 2) {
      if (stringLiteral(raw[i]) === undefined) return undefined
      fields.push(`${args[i]}: ${args[i + 1]}`)
    }
    return `({${fields.join(", ")}})`
  },
  UNBASE64: ([a], raw) => raw.length === 1 ? `from_base64(${a})` : undefined,
  SHA2: ([a], raw) =>
    raw.length === 2 && /^\s*(256|0)\s*$/.test(raw[1].map((t) => t.text).join("")) ? `sha256(${a})` : undefined,
  NANVL: ([a, b], raw) => raw.length === 2 ? `CASE WHEN isnan(${a}) THEN ${b} ELSE ${a} END` : undefined,
  TRY_ADD: ([a, b], raw) => raw.length === 2 ? `TRY((${a}) + (${b}))` : undefined,
  TRY_SUBTRACT: ([a, b], raw) => raw.length === 2 ? `TRY((${a}) - (${b}))` : undefined,
  TRY_MULTIPLY: ([a, b], raw) => raw.length === 2 ? `TRY((${a}) * (${b}))` : undefined,
  FORMAT_STRING: (args) => `printf(${args.join(", ")})`,
  SOME: ([a], raw) => raw.length === 1 ? `bool_or(${a})` : undefined,
  APPROX_PERCENTILE: ([a, p], raw) => raw.length === 2 ? `approx_quantile(${a}, ${p})` : undefined,
  TRUNC: ([d], raw) => {
    const unit = raw.length === 2 ? truncUnits[stringLiteral(raw[1])?.toUpperCase() ?? ""] : undefined
    return unit === undefined ? undefined : `CAST(date_trunc('${unit}', ${d}) AS DATE)`
  },
  // The cast functions (functions/int.html, …) and current_timestamp() with parentheses.
  INT: cast("INT"),
  BIGINT: cast("BIGINT"),
  SMALLINT: cast("SMALLINT"),
  TINYINT: cast("TINYINT"),
  DOUBLE: cast("DOUBLE"),
  FLOAT: cast("FLOAT"),
  DECIMAL: cast("DECIMAL(10,0)"),
  BOOLEAN: cast("BOOLEAN"),
  BINARY: cast("BLOB"),
  CURRENT_TIMESTAMP: (_, raw) => raw.length === 0 ? "CURRENT_TIMESTAMP" : undefined
}

/** The call's arguments, split at top-level commas. */
const splitArguments = (tokens: ReadonlyArray<Token>, open: number, close: number): Array<Array<Token>> => {
  const out: Array<Array<Token>> = [[]]
  let depth = 0
  for (let i = open + 1; i < close; i++) {
    const token = tokens[i]
    if (isSymbol(token, "(") || isSymbol(token, "[") || isSymbol(token, "{")) depth++
    else if (isSymbol(token, ")") || isSymbol(token, "]") || isSymbol(token, "}")) depth--
    if (depth === 0 && isSymbol(token, ",")) out.push([])
    else out[out.length - 1].push(token)
  }
  return out.length === 1 && !out[0].some(significant) ? [] : out
}

/** Keywords after which a name followed by `(` is a call (and not a type, as in `m MAP(TEXT, INT)`). */
const beforeExpression = new Set([
  "SELECT",
  "WHERE",
  "AND",
  "OR",
  "NOT",
  "THEN",
  "ELSE",
  "WHEN",
  "ON",
  "BY",
  "HAVING",
  "IN",
  "IS",
  "DISTINCT",
  "CASE",
  "VALUES",
  "RETURN",
  "QUALIFY",
  "LIMIT",
  "OFFSET",
  "SET",
  "BETWEEN",
  "LIKE",
  "ILIKE",
  "ALL",
  "ANY"
])

/** Is a name after this token a call: at the start, after an operator or `(`/`,`, or after an expression keyword. */
const expressionPosition = (before: Token | undefined): boolean =>
  before === undefined ||
  (before.kind === "symbol" && ![")", "]", "}", ".", "::"].includes(before.text)) ||
  (before.kind === "word" && beforeExpression.has(before.text.toUpperCase()))

const text = (tokens: ReadonlyArray<Token>) => tokens.map((token) => token.text).join("").trim()

/**
 * A rule that rewrites every call of a function in `table` (innermost first, so nested calls are rewritten too);
 * `flavour` is the text's (the replacements are written in it).
 */
export const callRewriter = (table: Readonly<Record<string, Template>>, flavour: Flavour) => {
  const rewrite = (tokens: Array<Token>): Array<Token> => {
    const out: Array<Token> = []
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i]
      const template = token.kind === "word" ? table[token.text.toUpperCase()] : undefined
      const open = template === undefined ? i : nextSignificant(tokens, i)
      if (
        template === undefined || !isSymbol(tokens[open], "(") ||
        !expressionPosition(tokens[previousSignificant(tokens, i)])
      ) {
        out.push(token)
        continue
      }
      const close = matching(tokens, open)
      const raw = splitArguments(tokens, open, close).map((arg) => rewrite(arg))
      const replacement = close < tokens.length ? template(raw.map(text), raw) : undefined
      if (replacement === undefined) {
        out.push(token, ...tokens.slice(i + 1, open + 1))
        i = open
        continue
      }
      out.push(...tokenize(replacement, flavour))
      i = close
    }
    return out
  }
  return rewrite
}

/** Rewrites every call of a function in `templates` in DuckDB text. */
export const functionTemplates = callRewriter(templates, "duckdb")
