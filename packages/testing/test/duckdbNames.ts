import { assert } from "@effect/vitest"

/** DuckDB's own names, which a Databricks answer never has. */
export const duckdbNames = /\bmemory\b|VARCHAR|INTEGER|HUGEINT|STRUCT\(|\[\]|pg_catalog|\bv1\.\d|\btemp\b|\bsystem\b/

/** Fails the test when any value of these rows (or a column name) is one of DuckDB's own names. */
export const assertNoDuckDBNames = (what: string, rows: ReadonlyArray<Record<string, unknown>>) => {
  for (const row of rows) {
    for (const [key, value] of Object.entries(row)) {
      assert.notMatch(key, duckdbNames, `${what}: column ${key}`)
      if (typeof value === "string") assert.notMatch(value, duckdbNames, `${what}: ${key} = ${value}`)
    }
  }
}
