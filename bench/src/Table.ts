/** The bench's one table, as aligned plain text (also valid Markdown). */
import type { Row } from "./Context.js"

const headers = ["row", "raw driver", "SqlClient", "ratio", "goal", "met"]

const met = (row: Row) => row.met === undefined ? "" : row.met ? "yes" : "NO"

export const format = (rows: ReadonlyArray<Row>): string => {
  const cells = rows.map((row) => [row.name, row.raw, row.client, row.ratio, row.goal, met(row)])
  const widths = headers.map((header, i) => Math.max(header.length, ...cells.map((cell) => cell[i].length)))
  const line = (values: ReadonlyArray<string>) =>
    `| ${values.map((value, i) => i === 0 ? value.padEnd(widths[i]) : value.padStart(widths[i])).join(" | ")} |`
  return [
    line(headers),
    `|${widths.map((width, i) => i === 0 ? `:${"-".repeat(width + 1)}` : `${"-".repeat(width + 1)}:`).join("|")}|`,
    ...cells.map(line)
  ].join("\n")
}
