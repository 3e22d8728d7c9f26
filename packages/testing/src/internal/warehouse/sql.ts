import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  TIMESTAMP,
  VARCHAR
} from "@duckdb/node-api"

/**
 * The DuckDB database that plays Unity Catalog's default catalog `main`: DuckDB reserves the name "main" (it is
 * its default schema) and calls its in-memory database "memory".
 */
export const mainDatabase = "memory"

/** One identifier: a plain name or a `backtick` one. */
const identifier = /(?:[A-Za-z_][A-Za-z0-9_]*|`[^`]*`)/.source
/** What follows the catalog of a three-part (or longer) name: `.schema.table`, with optional spaces around dots. */
const twoMoreParts = new RegExp(`^\\s*\\.\\s*${identifier}\\s*\\.\\s*${identifier}`)

/**
 * Databricks SQL → DuckDB: `:name` parameters become `$name`, and `backtick`
 * identifiers become "double-quoted" ones. Strings, quoted identifiers and
 * comments are left alone, and `::` casts are not parameters. Values are
 * never spliced in: they are bound by DuckDB.
 *
 * Three-part names in the catalog `main` (`main.default.t`, also with
 * backticks or in any case) name `memory.default.t`, the database that plays
 * `main`. Only when the statement uses the name `main` for nothing else: an
 * alias, table or column called `main` (`FROM t AS main`, `default.main`)
 * leaves the statement as written, so `main.s.f` keeps meaning the field `f`
 * of that alias's column `s`.
 *
 * With `placeholders: "null"`, every parameter (`:name` or `?`) becomes
 * `NULL` instead: DuckDB names no tables for a statement with parameters,
 * and the permission check needs them.
 */
export const rewrite = (sql: string, placeholders: "bind" | "null" = "bind"): string => {
  let out = ""
  let i = 0
  /** Where `out` has a `main` that heads a three-part name, and its length there. */
  const catalogs: Array<readonly [number, number]> = []
  /** A `main` that is not a catalog: then the statement is left as written. */
  let otherMain = false
  /** Classifies the identifier `main` at `start`..`end` of `sql`, about to be written to `out` as `written`. */
  const main = (start: number, end: number, written: string) => {
    const qualified = sql[start - 1] === "."
    const headsThreeParts = twoMoreParts.test(sql.slice(end))
    if (!qualified && headsThreeParts) catalogs.push([out.length, written.length])
    else if (!headsThreeParts) otherMain = true
  }
  while (i < sql.length) {
    const c = sql[i]
    const next = sql[i + 1]
    if (c === "'" || c === "\"") {
      const end = closing(sql, i, c)
      out += sql.slice(i, end)
      i = end
    } else if (c === "`") {
      const end = sql.indexOf("`", i + 1)
      const name = end < 0 ? sql.slice(i + 1) : sql.slice(i + 1, end)
      const written = `"${name.replace(/"/g, "\"\"")}"`
      if (end >= 0 && name.toLowerCase() === "main") main(i, end + 1, written)
      out += written
      i = end < 0 ? sql.length : end + 1
    } else if (/[A-Za-z_]/.test(c) && !/[\p{L}\p{N}_$]/u.test(sql[i - 1] ?? "")) {
      const word = /^[A-Za-z_][\p{L}\p{N}_$]*/u.exec(sql.slice(i))![0]
      if (word.toLowerCase() === "main") main(i, i + word.length, word)
      out += word
      i += word.length
    } else if (c === "-" && next === "-") {
      const end = sql.indexOf("\n", i)
      out += end < 0 ? sql.slice(i) : sql.slice(i, end)
      i = end < 0 ? sql.length : end
    } else if (c === "/" && next === "*") {
      const end = sql.indexOf("*/", i + 2)
      out += end < 0 ? sql.slice(i) : sql.slice(i, end + 2)
      i = end < 0 ? sql.length : end + 2
    } else if (c === ":" && next === ":") {
      out += "::"
      i += 2
    } else if (c === ":" && /[A-Za-z_]/.test(next ?? "")) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(sql.slice(i + 1))![0]
      out += placeholders === "null" ? "NULL" : `$${name}`
      i += 1 + name.length
    } else if (c === "?" && placeholders === "null") {
      out += "NULL"
      i++
    } else {
      out += c
      i++
    }
  }
  if (otherMain) return out
  for (const [at, length] of catalogs.reverse()) out = out.slice(0, at) + mainDatabase + out.slice(at + length)
  return out
}

const closing = (sql: string, start: number, quote: string) => {
  let i = start + 1
  while (i < sql.length) {
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) i += 2
      else return i + 1
    } else if (sql[i] === "\\" && quote === "'") i += 2
    else i++
  }
  return sql.length
}

/** `/* emulator:sleep=1500 *\/` in a statement makes it run at least that long. */
export const sleepHint = (sql: string): number | undefined => {
  const match = /\/\*\s*emulator:sleep=(\d+)\s*\*\//.exec(sql)
  return match === null ? undefined : Number(match[1])
}

export interface SparkParameter {
  readonly name?: string | null
  readonly type?: string | null
  readonly value?: { readonly stringValue?: string | null } | null
}

export interface Bound {
  readonly values: Array<DuckDBValue> | Record<string, DuckDBValue>
  readonly types: Array<DuckDBType | undefined> | Record<string, DuckDBType | undefined>
}

const microsOf = (text: string) => {
  const millis = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text.replace(" ", "T")}Z`)
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? ""
  const extraMicros = fraction.length > 3 ? Number(fraction.slice(3, 6).padEnd(3, "0")) : 0
  return BigInt(millis) * 1000n + BigInt(extraMicros)
}

/** One TSparkParameter as a DuckDB value and type, from the string the driver sends. */
const bindOne = (parameter: SparkParameter): readonly [DuckDBValue, DuckDBType | undefined] => {
  const text = parameter.value?.stringValue
  const type = (parameter.type ?? "STRING").toUpperCase()
  if (text === undefined || text === null || type === "VOID") return [null, undefined]
  // `DECIMAL(p,s)`: the type official clients send for a decimal (databricks-sql-python, parameters/native.py,
  // DecimalParameter._cast_expr); the warehouse casts the text to it.
  const sized = /^DECIMAL\((\d+), ?(\d+)\)$/.exec(type)
  if (sized !== null) {
    const [precision, scale] = [Number(sized[1]), Number(sized[2])]
    const [whole, fraction = ""] = text.replace(/^\+/, "").split(".")
    const digits = BigInt(`${whole}${fraction.slice(0, scale).padEnd(scale, "0")}`)
    return [new DuckDBDecimalValue(digits, precision, scale), DECIMAL(precision, scale)]
  }
  switch (type) {
    case "INTEGER":
    case "INT":
    case "SMALLINT":
    case "TINYINT":
      return [Number(text), INTEGER]
    case "BIGINT":
      return [BigInt(text), BIGINT]
    case "DOUBLE":
    case "FLOAT":
      return [Number(text), DOUBLE]
    case "BOOLEAN":
      return [text.toUpperCase() === "TRUE", BOOLEAN]
    case "DATE": {
      const days = Math.floor(Date.parse(`${text.slice(0, 10)}T00:00:00Z`) / 86_400_000)
      return [new DuckDBDateValue(days), DATE]
    }
    case "TIMESTAMP":
    case "TIMESTAMP_NTZ":
    case "TIMESTAMP_LTZ":
      return [new DuckDBTimestampValue(microsOf(text)), TIMESTAMP]
    case "DECIMAL": {
      const [whole, fraction = ""] = text.replace(/^\+/, "").split(".")
      const scale = Math.min(fraction.length, 37)
      return [new DuckDBDecimalValue(BigInt(`${whole}${fraction.slice(0, scale)}`), 38, scale), DECIMAL(38, scale)]
    }
    default:
      return [text, VARCHAR]
  }
}

/** Named parameters bind by name, ordinal ones by position. */
export const bind = (parameters: ReadonlyArray<SparkParameter> | null | undefined): Bound | undefined => {
  if (parameters === undefined || parameters === null || parameters.length === 0) return undefined
  if (parameters.every((p) => p.name !== undefined && p.name !== null && p.name !== "")) {
    const values: Record<string, DuckDBValue> = {}
    const types: Record<string, DuckDBType | undefined> = {}
    for (const parameter of parameters) {
      const [value, type] = bindOne(parameter)
      values[parameter.name!] = value
      types[parameter.name!] = type
    }
    return { values, types }
  }
  const bound = parameters.map(bindOne)
  return { values: bound.map(([value]) => value), types: bound.map(([, type]) => type) }
}

/** A SQL failure as Databricks reports it: the error class first, the SQLSTATE last. */
export interface SqlFailure {
  readonly errorClass: string
  readonly sqlState: string
  readonly message: string
}

const failure = (errorClass: string, sqlState: string, text: string): SqlFailure => ({
  errorClass,
  sqlState,
  message: `[${errorClass}] ${text} SQLSTATE: ${sqlState}`
})

/** Turns a DuckDB error into the Databricks error a real warehouse would give. */
export const fromDuckDB = (error: unknown): SqlFailure => {
  const raw = error instanceof Error ? error.message : String(error)
  const first = raw.split("\n")[0].trim()
  let match: RegExpExecArray | null
  if ((match = /Table with name (\S+?) does not exist/i.exec(first)) !== null) {
    return failure(
      "TABLE_OR_VIEW_NOT_FOUND",
      "42P01",
      `The table or view \`${
        match[1]
      }\` cannot be found. Verify the spelling and correctness of the schema and catalog.`
    )
  }
  if ((match = /Table with name "?(\S+?)"? already exists/i.exec(first)) !== null) {
    return failure(
      "TABLE_OR_VIEW_ALREADY_EXISTS",
      "42P07",
      `Cannot create table or view \`${match[1]}\` because it already exists.`
    )
  }
  if ((match = /syntax error at or near "?([^"]*)"?/i.exec(first)) !== null) {
    return failure("PARSE_SYNTAX_ERROR", "42601", `Syntax error at or near '${match[1]}'.`)
  }
  if (/^Parser Error/i.test(first)) {
    return failure("PARSE_SYNTAX_ERROR", "42601", first.replace(/^Parser Error:\s*/i, ""))
  }
  if ((match = /Referenced column "?([^"\s]+)"? not found/i.exec(first)) !== null) {
    return failure(
      "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
      "42703",
      `A column, variable, or function parameter with name \`${match[1]}\` cannot be resolved.`
    )
  }
  if ((match = /(?:Scalar|Table) Function with name (\S+?) does not exist/i.exec(first)) !== null) {
    return failure("UNRESOLVED_ROUTINE", "42883", `Cannot resolve function \`${match[1]}\`.`)
  }
  if (/^Conversion Error/i.test(first)) {
    return failure("CAST_INVALID_INPUT", "22018", first.replace(/^Conversion Error:\s*/i, ""))
  }
  if (/^Out of Range Error/i.test(first)) {
    return failure("NUMERIC_VALUE_OUT_OF_RANGE", "22003", first.replace(/^Out of Range Error:\s*/i, ""))
  }
  if (/^Constraint Error/i.test(first)) {
    return failure("CONSTRAINT_VIOLATION", "23000", first.replace(/^Constraint Error:\s*/i, ""))
  }
  if (/^Binder Error/i.test(first)) {
    return failure("UNRESOLVED_COLUMN.WITHOUT_SUGGESTION", "42703", first.replace(/^Binder Error:\s*/i, ""))
  }
  if (/^Catalog Error/i.test(first)) {
    return failure("TABLE_OR_VIEW_NOT_FOUND", "42P01", first.replace(/^Catalog Error:\s*/i, ""))
  }
  return failure("INTERNAL_ERROR", "XX000", first)
}

export const insufficientPermissions = (principal: string, table: string): SqlFailure =>
  failure(
    "INSUFFICIENT_PERMISSIONS",
    "42501",
    `Insufficient privileges: User ${principal} does not have SELECT on Table \`${table}\`.`
  )
