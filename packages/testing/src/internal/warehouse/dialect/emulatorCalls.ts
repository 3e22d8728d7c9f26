/**
 * The `emulator_<name>` calls `databricksCalls.ts` set aside, written in DuckDB SQL after the transpiler ran (their
 * arguments are DuckDB text by then). A call whose shape has no translation keeps its Databricks name, so that
 * DuckDB's error names the function the user wrote.
 *
 * @internal
 */
import { Dialect, transpile } from "@polyglot-sql/sdk"
import { prefix } from "./databricksCalls.js"
import { stringLiteral, type Template } from "./functions.js"
import { isSymbol, isWord, matching, nextSignificant, type Token } from "./lexer.js"

/** DuckDB's interval constructor for each Databricks unit, with the integer type it takes. */
const intervalUnits: Record<string, readonly [string, string]> = {
  MICROSECOND: ["to_microseconds", "BIGINT"],
  MILLISECOND: ["to_milliseconds", "BIGINT"],
  SECOND: ["to_seconds", "BIGINT"],
  MINUTE: ["to_minutes", "BIGINT"],
  HOUR: ["to_hours", "BIGINT"],
  DAY: ["to_days", "INTEGER"],
  DAYOFYEAR: ["to_days", "INTEGER"],
  WEEK: ["to_weeks", "INTEGER"],
  MONTH: ["to_months", "INTEGER"],
  QUARTER: ["to_quarters", "INTEGER"],
  YEAR: ["to_years", "INTEGER"]
}

/** Databricks units as DuckDB's `date_sub` parts (which count whole units, as timestampdiff does). */
const diffParts: Record<string, string> = {
  MICROSECOND: "microseconds",
  MILLISECOND: "milliseconds",
  SECOND: "second",
  MINUTE: "minute",
  HOUR: "hour",
  DAY: "day",
  DAYOFYEAR: "day",
  WEEK: "week",
  MONTH: "month",
  QUARTER: "quarter",
  YEAR: "year"
}

/** The epoch as a TIMESTAMP (an instant), plus exact microseconds: no floating point on the way. */
const fromMicros = (micros: string) => `(to_timestamp(0) + to_microseconds(${micros}))`

/** An expression evaluated once per element test: the list without repeats, first occurrences in order. */
const distinct = (list: string) => `list_filter(${list}, lambda x, i: list_position(${list}, x) = i)`

/** Is `x` in `list`, NULLs equal (array_except and array_intersect compare as Spark's `<=>`)? */
const member = (list: string, x: string) => `(len(list_filter(${list}, lambda y: y IS NOT DISTINCT FROM ${x})) > 0)`

/** Spark's names for DuckDB's types in `typeof` (scalar names, then composite shapes, innermost first). */
const typeofRewrites: ReadonlyArray<readonly [string, string]> = [
  ["TIMESTAMP WITH TIME ZONE", "timestamp"],
  ["\\bTIMESTAMP\\b", "timestamp_ntz"],
  ["\\bVARCHAR\\b", "string"],
  ["\\bBIGINT\\b", "bigint"],
  ["\\bHUGEINT\\b", "decimal(38,0)"],
  ["\\bINTEGER\\b", "int"],
  ["\\bSMALLINT\\b", "smallint"],
  ["\\bTINYINT\\b", "tinyint"],
  ["\\bDOUBLE\\b", "double"],
  ["\\bFLOAT\\b", "float"],
  ["\\bBOOLEAN\\b", "boolean"],
  ["\\bDATE\\b", "date"],
  ["\\bBLOB\\b", "binary"],
  ["\\bINTERVAL\\b", "interval"],
  ["\"NULL\"", "void"],
  ["DECIMAL\\((\\d+),(\\d+)\\)", "decimal(\\1;\\2)"]
]

/** Innermost composite types, repeated for nesting: `x[]` → array<x>, MAP(k, v) → map<k,v>, STRUCT(a t) → struct<a:t>. */
const composite = (expression: string): string => {
  let out = expression
  for (let level = 0; level < 3; level++) {
    out = `regexp_replace(${out}, '([a-z_0-9;()<>:,]+)\\[\\]', 'array<\\1>', 'g')`
    out = `regexp_replace(${out}, 'MAP\\(([^()]*), ([^()]*)\\)', 'map<\\1,\\2>', 'g')`
    out = `regexp_replace(${out}, 'STRUCT\\(([^()]*)\\)', 'struct<\\1>', 'g')`
  }
  // Struct fields (`a int, b string`): the name and type are separated by a colon, the fields by a comma only.
  out = `regexp_replace(${out}, '(struct<|, )"?([A-Za-z_0-9]+)"? ', '\\1\\2:', 'g')`
  return `replace(replace(${out}, ', ', ','), ';', ',')`
}

const typeName = (value: string) => {
  const scalar = typeofRewrites.reduce(
    (out, [pattern, replacement]) => `regexp_replace(${out}, '${pattern}', '${replacement}', 'g')`,
    `typeof(${value})`
  )
  return composite(scalar)
}

/** A Databricks schema (`a INT, b STRING` or `struct<…>`, `array<…>`, `map<…>`) as a DuckDB type, or undefined. */
const duckType = (schema: string): string | undefined => {
  let type = schema.trim()
  if (!/^(struct|array|map)\s*</i.test(type)) {
    const fields: Array<string> = [""]
    let depth = 0
    for (const c of type) {
      if (c === "<" || c === "(") depth++
      if (c === ">" || c === ")") depth--
      if (c === "," && depth === 0) fields.push("")
      else fields[fields.length - 1] += c
    }
    const typed = fields.map((field) => /^\s*(`[^`]+`|[A-Za-z_][A-Za-z_0-9]*)\s*:?\s+(.+)$/s.exec(field))
    if (typed.some((match) => match === null)) return undefined
    type = `STRUCT<${typed.map((match) => `${match![1]}: ${match![2].trim()}`).join(", ")}>`
  }
  const result = transpile(`SELECT CAST(NULL AS ${type})`, Dialect.Databricks, Dialect.DuckDB)
  const sql = result.success ? result.sql?.[0] : undefined
  const match = sql === undefined ? null : /^SELECT (?:TRY_)?CAST\(NULL AS (.+)\)$/s.exec(sql)
  return match === null ? undefined : match[1].replace(/\bTIMESTAMPNTZ\b/g, "TIMESTAMP")
}

export const templates: Record<string, Template> = {
  // functions/bracketsign.html: an array's element from 0, INVALID_ARRAY_INDEX (22003) out of bounds; a map's key.
  SUBSCRIPT: ([x, n], raw) => {
    if (raw.length !== 2) return undefined
    const size = `json_array_length(to_json(${x}))`
    const message =
      `'[INVALID_ARRAY_INDEX] The index ${n} is out of bounds. The array has ' || CAST(${size} AS VARCHAR) || ` +
      `' elements. Use the SQL function \`get()\` to tolerate accessing element at invalid index and return NULL ` +
      `instead. If necessary set "ansi_mode" to "false" to bypass this error. SQLSTATE: 22003'`
    return `CASE WHEN json_type(to_json(${x})) <> 'ARRAY' THEN (${x})[${n}] WHEN ${n} >= ${size} THEN error(${message}) ` +
      `ELSE (${x})[${n} + 1] END`
  },
  DATE_ADD: ([d, n]) => `CAST(CAST(${d} AS DATE) + CAST(${n} AS INTEGER) AS DATE)`,
  DATE_SUB: ([d, n]) => `CAST(CAST(${d} AS DATE) - CAST(${n} AS INTEGER) AS DATE)`,
  // functions/add_months.html: the end of a shorter month is its last day (DuckDB's month arithmetic does that).
  ADD_MONTHS: ([d, n]) => `CAST(CAST(${d} AS DATE) + to_months(CAST(${n} AS INTEGER)) AS DATE)`,
  TIMESTAMPADD: ([u, n, t], raw) => {
    const found = intervalUnits[stringLiteral(raw[0])?.toUpperCase() ?? ""]
    return found === undefined || u === undefined ? undefined : `(${t} + ${found[0]}(CAST(${n} AS ${found[1]})))`
  },
  TIMESTAMPDIFF: ([, a, b], raw) => {
    const part = diffParts[stringLiteral(raw[0])?.toUpperCase() ?? ""]
    return part === undefined ? undefined : `date_sub('${part}', ${a}, ${b})`
  },
  // functions/make_interval.html: years, months, weeks, days, hours, mins, secs (each 0 when left out).
  MAKE_INTERVAL: (args) => {
    if (args.length > 7) return undefined
    const [y, mo, w, d, h, mi, s] = [...args, "0", "0", "0", "0", "0", "0", "0"]
    return `(to_months(CAST(${y} AS INTEGER) * 12 + CAST(${mo} AS INTEGER)) + ` +
      `to_days(CAST(${w} AS INTEGER) * 7 + CAST(${d} AS INTEGER)) + ` +
      `to_microseconds(CAST(${h} AS BIGINT) * 3600000000 + CAST(${mi} AS BIGINT) * 60000000 + ` +
      `CAST(round(CAST(${s} AS DECIMAL(18,6)) * 1000000) AS BIGINT)))`
  },
  // functions/timestamp_seconds.html, timestamp_millis.html, timestamp_micros.html: instants (TIMESTAMP).
  TIMESTAMP_SECONDS: ([s], raw) =>
    raw.length === 1 ? fromMicros(`CAST(round(CAST(${s} AS DECIMAL(38,6)) * 1000000) AS BIGINT)`) : undefined,
  TIMESTAMP_MILLIS: ([s], raw) => raw.length === 1 ? fromMicros(`CAST(${s} AS BIGINT) * 1000`) : undefined,
  TIMESTAMP_MICROS: ([s], raw) => raw.length === 1 ? fromMicros(`CAST(${s} AS BIGINT)`) : undefined,
  // functions/unix_seconds.html …: whole units since the epoch, rounded down (Spark's floorDiv), as a BIGINT.
  UNIX_SECONDS: ([t], raw) => raw.length === 1 ? `CAST(floor(epoch_us(${t}) / 1000000) AS BIGINT)` : undefined,
  UNIX_MILLIS: ([t], raw) => raw.length === 1 ? `CAST(floor(epoch_us(${t}) / 1000) AS BIGINT)` : undefined,
  UNIX_MICROS: ([t], raw) => raw.length === 1 ? `epoch_us(${t})` : undefined,
  // DuckDB's error() raises with the message as given; errors.ts reads the class and SQLSTATE back out of it.
  RAISE_ERROR: ([m]) => `error('[USER_RAISED_EXCEPTION] ' || CAST(${m} AS VARCHAR) || ' SQLSTATE: P0001')`,
  // functions/size.html: an INTEGER; NULL for NULL (ANSI). A map constructor is known to be a map.
  SIZE: ([x], raw) =>
    raw.length !== 1
      ? undefined
      : /^\s*MAP\s*\(/i.test(x)
      ? `CAST(cardinality(${x}) AS INTEGER)`
      : `CAST(len(${x}) AS INTEGER)`,
  // functions/initcap.html: each word (after a space) starts upper case, the rest is lower case.
  INITCAP: ([s], raw) =>
    raw.length === 1
      ? `array_to_string(list_transform(string_split(lower(${s}), ' '), lambda w: upper(w[1]) || w[2:]), ' ')`
      : undefined,
  // functions/bround.html: HALF_EVEN rounding.
  BROUND: ([x, d], raw) =>
    raw.length === 1 ? `round_even(${x}, 0)` : raw.length === 2 ? `round_even(${x}, ${d})` : undefined,
  // functions/format_number.html: `#,###,###.##` with `d` decimals.
  FORMAT_NUMBER: ([x, d], raw) => {
    const places = raw.length === 2 && /^\s*\d{1,2}\s*$/.test(d) ? Number(d) : undefined
    return places === undefined ? undefined : `format('{:,.${places}f}', CAST(${x} AS DOUBLE))`
  },
  // functions/str_to_map.html: pairs split at `pairDelim` (default ','), key from value at `keyValueDelim`
  // (default ':'); a pair without the delimiter has a NULL value.
  STR_TO_MAP: ([s, pairs = "','", keyValue = "':'"], raw) =>
    raw.length < 1 || raw.length > 3 ? undefined : `map_from_entries(list_transform(string_split(${s}, ${pairs}), ` +
      `lambda p: {'k': CASE WHEN strpos(p, ${keyValue}) = 0 THEN p ELSE p[1 : strpos(p, ${keyValue}) - 1] END, ` +
      `'v': CASE WHEN strpos(p, ${keyValue}) = 0 THEN NULL ELSE p[strpos(p, ${keyValue}) + length(${keyValue}):] END}))`,
  // functions/array_distinct.html, array_union.html, array_except.html, array_intersect.html: no repeats, in the
  // order of first appearance, NULL kept once; NULL when an array is NULL.
  ARRAY_DISTINCT: ([a], raw) => raw.length === 1 ? distinct(a) : undefined,
  ARRAY_UNION: ([a, b], raw) =>
    raw.length === 2
      ? `CASE WHEN (${a}) IS NULL OR (${b}) IS NULL THEN NULL ELSE ${distinct(`list_concat(${a}, ${b})`)} END`
      : undefined,
  ARRAY_EXCEPT: ([a, b], raw) =>
    raw.length === 2
      ? `CASE WHEN (${b}) IS NULL THEN NULL ELSE ${distinct(`list_filter(${a}, lambda x: NOT ${member(b, "x")})`)} END`
      : undefined,
  ARRAY_INTERSECT: ([a, b], raw) =>
    raw.length === 2
      ? `CASE WHEN (${b}) IS NULL THEN NULL ELSE ${distinct(`list_filter(${a}, lambda x: ${member(b, "x")})`)} END`
      : undefined,
  // functions/array_contains.html: NULL when not found but the array has a NULL (SQL's three-valued IN).
  ARRAY_CONTAINS: ([a, v], raw) =>
    raw.length === 2
      ? `CASE WHEN list_contains(${a}, ${v}) THEN TRUE WHEN (${a}) IS NULL OR (${v}) IS NULL ` +
        `OR len(list_filter(${a}, lambda x: x IS NULL)) > 0 THEN NULL ELSE FALSE END`
      : undefined,
  // functions/crc32.html: CRC-32 (IEEE) of the bytes, as a BIGINT; bit by bit, DuckDB having no crc32.
  CRC32: ([b], raw) => {
    if (raw.length !== 1) return undefined
    // Eight shifts per byte: the running value and 0..7 in a list, reduced.
    const byte = "lambda c, byte: list_reduce(list_prepend(xor(c, byte), range(8)), " +
      "lambda r, k: xor(r >> 1, CASE WHEN r & 1 = 1 THEN 3988292384 ELSE 0 END))"
    // The bytes' values, two hex digits at a time.
    const bytes = `list_transform(range(0, octet_length(CAST(${b} AS BLOB))), lambda i: ` +
      `CAST(('0x' || substr(hex(CAST(${b} AS BLOB)), i * 2 + 1, 2)) AS BIGINT))`
    const crc = `xor(list_reduce(list_prepend(4294967295, ${bytes}), ${byte}), 4294967295)`
    return `CASE WHEN (${b}) IS NULL THEN NULL ELSE ${crc} END`
  },
  // functions/typeof.html: Spark's type names (`int`, `string`, `array<int>`, `struct<a:int>`).
  TYPEOF: ([x], raw) => raw.length === 1 ? typeName(x) : undefined,
  // functions/from_json.html: the schema in DDL form; a value that does not fit is NULL (PERMISSIVE).
  FROM_JSON: ([j], raw) => {
    const schema = raw.length >= 2 ? stringLiteral(raw[1]) : undefined
    const type = schema === undefined ? undefined : duckType(schema)
    return type === undefined ? undefined : `json_transform(${j}, '${JSON.stringify(type).replace(/'/g, "''")}')`
  }
}

/** The templates by their pass-through names; a call without a translation is written with its own name again. */
export const emulatorTemplates: Record<string, Template> = Object.fromEntries(
  Object.entries(templates).map(([name, template]) => [
    `${prefix.toUpperCase()}${name}`,
    (args, raw) => template(args, raw) ?? `${name.toLowerCase()}(${args.join(", ")})`
  ])
)

/**
 * `first_value(x)` and `last_value(x)` without `OVER` are aggregates in Databricks (functions/first_value.html);
 * DuckDB has them as window functions only, and `first`/`last` as aggregates (`any_value` skips NULLs).
 */
export const aggregateFirstLast = (tokens: Array<Token>): Array<Token> => {
  const out = tokens.slice()
  for (let i = 0; i < tokens.length; i++) {
    if (!isWord(tokens[i], "FIRST_VALUE", "LAST_VALUE")) continue
    const open = nextSignificant(tokens, i)
    if (!isSymbol(tokens[open], "(")) continue
    const close = matching(tokens, open)
    if (isWord(tokens[nextSignificant(tokens, close)], "OVER")) continue
    const ignoreNulls = tokens.slice(open, close).some((token) => isWord(token, "IGNORE"))
    const first = isWord(tokens[i], "FIRST_VALUE")
    out[i] = { kind: "word", text: ignoreNulls && first ? "any_value" : first ? "first" : "last" }
    if (ignoreNulls) {
      // `x IGNORE NULLS` inside the parentheses: the words go (last skips NULLs by a filter).
      for (let k = open; k < close; k++) {
        if (isWord(tokens[k], "IGNORE") || isWord(tokens[k], "NULLS")) out[k] = { kind: "space", text: "" }
      }
      if (!first) {
        out[close] = {
          kind: "symbol",
          text: `) FILTER (WHERE ${
            tokens.slice(open + 1, close).filter((t) => !isWord(t, "IGNORE", "NULLS")).map((t) => t.text).join("")
              .trim()
          } IS NOT NULL)`
        }
      }
    }
  }
  return out
}
