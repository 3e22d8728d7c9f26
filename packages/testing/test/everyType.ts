import { Emulator } from "@effect-databricks/testing"
import { Effect } from "effect"

/** Rows of `every_type`: ids 0..count-1, every 7th row (id % 7 = 3) NULL in every column but `id`. */
export const everyTypeRows = 3000

const orNull = (expression: string) => `CASE WHEN id % 7 = 3 THEN NULL ELSE ${expression} END`

/** A table with every type the warehouse sends (Databricks SQL), with NULLs, and values derived from `id`. */
export const everyTypeTable = `CREATE TABLE every_type AS SELECT
  id,
  ${orNull("id % 2 = 0")} AS b,
  ${orNull("CAST(id % 100 AS TINYINT)")} AS ti,
  ${orNull("CAST(id * 3 AS SMALLINT)")} AS si,
  ${orNull("CAST(id * 1000 AS INT)")} AS i,
  ${orNull("CAST(id AS BIGINT) * 1000000007")} AS bi,
  ${orNull("CAST(id AS FLOAT) / 4")} AS f,
  ${orNull("CAST(id AS DOUBLE) / 3")} AS d,
  ${orNull("CAST(id AS DECIMAL(22,2)) / 8")} AS dec,
  ${orNull("concat('row-', id)")} AS s,
  ${orNull("unhex(lpad(hex(id), 4, '0'))")} AS bin,
  ${orNull("DATE'2024-01-01' + CAST(id AS INT)")} AS dt,
  ${orNull("TIMESTAMP'2024-01-01 00:00:00' + INTERVAL 1 SECOND * id")} AS ts,
  ${orNull("array(CAST(id AS INT), CAST(id + 1 AS INT))")} AS arr,
  ${orNull("map('k', CAST(id AS INT))")} AS m,
  ${orNull("named_struct('x', CAST(id AS INT), 'y', concat('y', id))")} AS st
FROM range(${everyTypeRows})`

export const seedEveryType = Effect.flatMap(Emulator.Emulator, (emulator) => emulator.sql(everyTypeTable))

export const everyTypeQuery = "SELECT * FROM every_type ORDER BY id"

const twoDigits = (n: number) => String(n).padStart(2, "0")

/**
 * The row the driver should give for `id`. Over Arrow, DATE and TIMESTAMP are `Date`s; over COLUMN_BASED_SET the
 * driver keeps the warehouse's text for them.
 */
export const expectedRow = (id: number, format: "arrow" | "columns"): Record<string, unknown> => {
  const base = { id }
  const columns = ["b", "ti", "si", "i", "bi", "f", "d", "dec", "s", "bin", "dt", "ts", "arr", "m", "st"]
  if (id % 7 === 3) return { ...base, ...Object.fromEntries(columns.map((column) => [column, null])) }
  const day = new Date(Date.UTC(2024, 0, 1 + id))
  const instant = new Date(Date.UTC(2024, 0, 1) + id * 1000)
  const bin = Buffer.alloc(2)
  bin.writeUInt16BE(id)
  return {
    ...base,
    b: id % 2 === 0,
    ti: id % 100,
    si: id * 3,
    i: id * 1000,
    bi: id * 1000000007,
    f: id / 4,
    d: id / 3,
    dec: id / 8,
    s: `row-${id}`,
    bin,
    dt: format === "arrow" ? day : day.toISOString().slice(0, 10),
    ts: format === "arrow"
      ? instant
      : `${instant.toISOString().slice(0, 10)} ${twoDigits(instant.getUTCHours())}:${
        twoDigits(instant.getUTCMinutes())
      }:${twoDigits(instant.getUTCSeconds())}`,
    arr: [id, id + 1],
    m: { k: id },
    st: { x: id, y: `y${id}` }
  }
}

export const expectedRows = (format: "arrow" | "columns") =>
  Array.from({ length: everyTypeRows }, (_, id) => expectedRow(id, format))
