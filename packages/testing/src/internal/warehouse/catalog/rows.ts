/**
 * Answers the catalog computes itself (SHOW, DESCRIBE, SET, the metadata RPCs), as the engine's `Rows` plan.
 *
 * @internal
 */
import { BOOLEAN, type DuckDBType, type DuckDBValue, INTEGER, SMALLINT, TINYINT, VARCHAR } from "@duckdb/node-api"
import type { Column } from "../columns.js"

/** The column types of the catalog's answers. */
export const string = VARCHAR
export const int = INTEGER
export const smallint = SMALLINT
export const tinyint = TINYINT
export const boolean = BOOLEAN

/** A result with these columns and rows (row-major here; the plan is column-major). */
export const rows = (
  columns: ReadonlyArray<readonly [name: string, type: DuckDBType]>,
  data: ReadonlyArray<ReadonlyArray<DuckDBValue>>
) => ({
  _tag: "Rows" as const,
  columns: columns.map(([name, type]): Column => ({ name, type })),
  data: columns.map((_, c) => data.map((row) => row[c]))
})

/** A statement that answers nothing (`USE`, `SET key = value`, `CREATE SCHEMA`). */
export const nothing = { _tag: "Rows" as const, columns: [], data: [] }
