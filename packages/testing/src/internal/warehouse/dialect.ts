/**
 * Databricks SQL in, DuckDB SQL out: the text of every statement the warehouse runs goes through `translate`.
 *
 * @internal
 */
import type { SqlFailure } from "./errors.js"

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

/** Loads the translator (once); `translate` may be called after it settles. */
export const ready = (): Promise<void> => Promise.resolve()

/** A statement translated for DuckDB, or the error Databricks would give for it. */
export type Translation =
  | { readonly sql: string; readonly before?: ReadonlyArray<string> | undefined }
  | { readonly failure: SqlFailure }

/** Translates one Databricks SQL statement (parameters `:name` and `?` kept as DuckDB's `$name` and `?`). */
export const translate = (sql: string): Translation => ({ sql: rewrite(sql) })

/**
 * The translated statement with every parameter replaced by `NULL`: DuckDB names no tables for a statement with
 * parameters, and the permission check needs them.
 */
export const withoutParameters = (duckSql: string): string => {
  let out = ""
  let i = 0
  while (i < duckSql.length) {
    const c = duckSql[i]
    if (c === "'" || c === "\"") {
      const end = closing(duckSql, i, c)
      out += duckSql.slice(i, end)
      i = end
    } else if (c === "$" && /[A-Za-z_]/.test(duckSql[i + 1] ?? "")) {
      const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(duckSql.slice(i + 1))![0]
      out += "NULL"
      i += 1 + name.length
    } else if (c === "?") {
      out += "NULL"
      i++
    } else {
      out += c
      i++
    }
  }
  return out
}
