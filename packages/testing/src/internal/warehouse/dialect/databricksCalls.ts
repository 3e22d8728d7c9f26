/**
 * Databricks functions the transpiler gets wrong or does not know, taken out of its way: before it runs, each call
 * becomes a call of `emulator_<name>` (which it passes through, its arguments translated) or Databricks SQL it
 * translates well; after it, `emulatorCalls.ts` writes the `emulator_` calls in DuckDB SQL. Units (`SECOND`) become
 * string literals here, so that the transpiler never takes them for columns.
 *
 * @internal
 */
import { callRewriter, type Template } from "./functions.js"
import { significant, type Token } from "./lexer.js"

/** The prefix of the calls the transpiler passes through for `emulatorCalls.ts`. */
export const prefix = "emulator_"

/** The calls this layer rewrites; the rule runs only when the statement names one of them. */
const own = (name: string): Template => (args) => `${prefix}${name}(${args.join(", ")})`

/** A unit keyword (`SECOND`, `'second'`) as a string literal, or undefined when the argument is not one. */
const unit = (arg: ReadonlyArray<Token>): string | undefined => {
  const tokens = arg.filter(significant)
  if (tokens.length !== 1) return undefined
  const text = tokens[0].kind === "string"
    ? tokens[0].text.slice(1, -1)
    : tokens[0].kind === "word"
    ? tokens[0].text
    : ""
  return /^[a-z_]+$/i.test(text) ? `'${text.toUpperCase()}'` : undefined
}

/** `date_add(date, days)` (a DATE) or `date_add(unit, value, timestamp)` (timestampadd). */
const dateAdd: Template = (args, raw) =>
  raw.length === 2
    ? `${prefix}date_add(${args[0]}, ${args[1]})`
    : raw.length === 3 && unit(raw[0]) !== undefined
    ? `${prefix}timestampadd(${unit(raw[0])}, ${args[1]}, ${args[2]})`
    : undefined

/** `timestampdiff(unit, start, end)` and its three-argument synonyms; two-argument `datediff` stays. */
const timestampDiff: Template = (args, raw) =>
  raw.length === 3 && unit(raw[0]) !== undefined
    ? `${prefix}timestampdiff(${unit(raw[0])}, ${args[1]}, ${args[2]})`
    : undefined

/** A plain column reference's name (`a`, `t.a`, `` `a b` ``), which `struct` takes for the field's name. */
const columnName = (arg: ReadonlyArray<Token>): string | undefined => {
  const tokens = arg.filter(significant)
  const last = tokens.at(-1)
  const dotted = tokens.every((token, i) =>
    i % 2 === 0 ? token.kind === "word" || token.kind === "quoted" : token.kind === "symbol" && token.text === "."
  )
  if (!dotted || last === undefined || tokens.length % 2 === 0) return undefined
  return last.kind === "quoted" ? last.text.slice(1, -1).replace(/``/g, "`") : last.text
}

const templates: Record<string, Template> = {
  // functions/date_add.html, dateadd.html, date_sub.html, add_months.html: DATE in, DATE out.
  DATE_ADD: dateAdd,
  DATEADD: dateAdd,
  DATE_SUB: (args, raw) => raw.length === 2 ? own("date_sub")(args, raw) : undefined,
  ADD_MONTHS: (args, raw) => raw.length === 2 ? own("add_months")(args, raw) : undefined,
  // functions/timestampadd.html, timestampdiff.html (datediff and date_diff take the same three arguments).
  TIMESTAMPADD: (args, raw) =>
    raw.length === 3 && unit(raw[0]) !== undefined
      ? `${prefix}timestampadd(${unit(raw[0])}, ${args[1]}, ${args[2]})`
      : undefined,
  TIMESTAMPDIFF: timestampDiff,
  DATEDIFF: timestampDiff,
  DATE_DIFF: timestampDiff,
  MAKE_INTERVAL: own("make_interval"),
  TIMESTAMP_SECONDS: own("timestamp_seconds"),
  TIMESTAMP_MILLIS: own("timestamp_millis"),
  TIMESTAMP_MICROS: own("timestamp_micros"),
  UNIX_SECONDS: own("unix_seconds"),
  UNIX_MILLIS: own("unix_millis"),
  UNIX_MICROS: own("unix_micros"),
  // functions/unix_timestamp.html: the seconds of now, of a timestamp, or of a string in `fmt` (default
  // `yyyy-MM-dd HH:mm:ss`), as a BIGINT; the transpiler translates `to_timestamp(s, fmt)`'s pattern.
  UNIX_TIMESTAMP: (args) =>
    args.length === 0
      ? `${prefix}unix_seconds(current_timestamp())`
      : args.length === 1
      ? `${prefix}unix_seconds(CAST(${args[0]} AS TIMESTAMP))`
      : args.length === 2
      ? `${prefix}unix_seconds(to_timestamp(${args[0]}, ${args[1]}))`
      : undefined,
  // functions/from_unixtime.html: a STRING, in `yyyy-MM-dd HH:mm:ss` unless a format is given.
  FROM_UNIXTIME: (args) => args.length === 1 ? `from_unixtime(${args[0]}, 'yyyy-MM-dd HH:mm:ss')` : undefined,
  // functions/raise_error.html: USER_RAISED_EXCEPTION, SQLSTATE P0001.
  RAISE_ERROR: (args, raw) => raw.length === 1 ? own("raise_error")(args, raw) : undefined,
  // functions/pmod.html: the remainder's sign follows the divisor's when it is negative (Spark's pmod); written
  // with `%`, so a zero divisor raises DIVIDE_BY_ZERO as `%` does.
  PMOD: ([a, b], raw) =>
    raw.length === 2
      ? `(CASE WHEN (${a}) % (${b}) < 0 THEN ((${a}) % (${b}) + (${b})) % (${b}) ELSE (${a}) % (${b}) END)`
      : undefined,
  // functions/struct.html: unnamed fields are `col1`, `col2`, … (a column keeps its name).
  STRUCT: (args, raw) => {
    if (raw.length === 0 || raw.some((arg) => arg.some((token) => token.kind === "word" && /^AS$/i.test(token.text)))) {
      return undefined
    }
    const fields = raw.map((arg, i) => {
      const name = columnName(arg) ?? `col${i + 1}`
      return `'${name.replace(/'/g, "\\'")}', ${args[i]}`
    })
    return `named_struct(${fields.join(", ")})`
  },
  SIZE: own("size"),
  CARDINALITY: own("size"),
  INITCAP: own("initcap"),
  BROUND: own("bround"),
  FORMAT_NUMBER: own("format_number"),
  STR_TO_MAP: own("str_to_map"),
  ARRAY_DISTINCT: own("array_distinct"),
  ARRAY_UNION: own("array_union"),
  ARRAY_EXCEPT: own("array_except"),
  ARRAY_INTERSECT: own("array_intersect"),
  ARRAY_CONTAINS: own("array_contains"),
  CRC32: own("crc32"),
  TYPEOF: own("typeof"),
  FROM_JSON: own("from_json")
}

/** Does the statement call any of them (a cheap test before the rule runs)? */
export const pattern = new RegExp(`\\b(?:${Object.keys(templates).join("|")})\\s*\\(`, "i")

/** The rule: Databricks text in, Databricks text out. */
export const databricksCalls = callRewriter(templates, "databricks")
