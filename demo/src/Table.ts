/** Rows as an aligned plain-text table, the way a SQL shell prints them. */

const cell = (value: unknown): string =>
  value === null || value === undefined
    ? "NULL"
    : value instanceof Date
    ? value.toISOString()
    : typeof value === "object"
    ? JSON.stringify(value, (_, v) => typeof v === "bigint" ? v.toString() : v)
    : String(value)

const isNumeric = (value: unknown) => typeof value === "number" || typeof value === "bigint"

/** Formats rows under a header; numbers are right-aligned. Answers `(no rows)` for none. */
export const format = (rows: ReadonlyArray<Record<string, unknown>>): string => {
  if (rows.length === 0) return "(no rows)"
  const columns = Object.keys(rows[0])
  const texts = rows.map((row) => columns.map((column) => cell(row[column])))
  const widths = columns.map((column, i) => Math.max(column.length, ...texts.map((text) => text[i].length)))
  const right = columns.map((column) => rows.every((row) => row[column] === null || isNumeric(row[column])))
  const render = (cells: ReadonlyArray<string>) =>
    cells.map((text, i) => right[i] ? text.padStart(widths[i]) : text.padEnd(widths[i])).join(" | ").trimEnd()
  return [
    render(columns),
    widths.map((width) => "-".repeat(width)).join("-+-"),
    ...texts.map(render),
    `(${rows.length} ${rows.length === 1 ? "row" : "rows"})`
  ].join("\n")
}
