import { SqlClient } from "@effect-databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { statements, withClient, withEmulator } from "./utils.js"

const client = SqlClient.SqlClient

/**
 * A DATE the warehouse sends that JavaScript cannot hold. Databricks' DATE reaches years -5877641 to +5881580
 * (https://docs.databricks.com/sql/language-manual/data-types/date-type.html); a JS Date holds years -271821 to
 * 275760 only. The Emulator (DuckDB) sends such dates as Arrow DateDay, as a warehouse does; the driver makes
 * them an invalid Date, whose `toISOString()` threw a RangeError (a defect) in the client.
 */
describe("DATE values", () => {
  it.scopedLive("a DATE beyond JavaScript's range is a ResultDecodeError naming the row and the column", () =>
    Effect.gen(function*() {
      const errors = yield* withClient(Effect.flatMap(client, (c) =>
        Effect.all([
          c.query(`SELECT 1 AS i, DATE '2024-01-01' AS d /* far-date */ UNION ALL
                   SELECT 2 AS i, DATE '5881580-07-10' AS d ORDER BY i`).pipe(Effect.flip),
          c.query("SELECT '-infinity'::DATE AS early /* far-date */").pipe(Effect.flip),
          c.execute("SELECT 'infinity'::DATE AS late /* far-date */").pipe(Effect.flip)
        ])))
      assert.deepStrictEqual(
        errors.map((e) => [e._tag, e._tag === "ResultDecodeError" ? [e.row, e.column] : e.message]),
        [["ResultDecodeError", [1, "d"]], ["ResultDecodeError", [0, "early"]], ["ResultDecodeError", [0, "late"]]]
      )
      assert.match(
        errors[0].message,
        /^Row 1, column d: the warehouse sent a DATE beyond that range .*year -271821 to 275760/
      )
      // Not retried: the value would be the same again.
      assert.deepStrictEqual(yield* statements("far-date"), ["FINISHED", "FINISHED", "FINISHED"])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a stream fails with a ResultDecodeError counting the row across chunks, after the rows before it", () =>
    Effect.gen(function*() {
      const seen: Array<unknown> = []
      const error = yield* withClient(Effect.flatMap(client, (c) =>
        c.stream(
          `SELECT i, CASE WHEN i = 5 THEN 'infinity'::DATE ELSE DATE '2024-01-01' + CAST(i AS INT) END AS d
           FROM range(0, 8) AS t(i) ORDER BY i`,
          undefined,
          { chunkSize: 2 }
        ).pipe(Stream.runForEach((row) => Effect.sync(() => seen.push(row.d))), Effect.flip)))
      assert.strictEqual(error._tag, "ResultDecodeError")
      if (error._tag === "ResultDecodeError") assert.deepStrictEqual([error.row, error.column], [5, "d"])
      assert.deepStrictEqual(seen, ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04"])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("DATEs at the ends of JavaScript's range and past year 9999 come back whole, not cut short", () =>
    Effect.gen(function*() {
      const sql = `SELECT DATE '0001-01-01' AS a, DATE '9999-12-31' AS b, DATE '10000-01-01' AS c,
                   DATE '275760-09-13' AS d, DATE '-271821-04-20' AS e`
      const [rows, streamed] = yield* withClient(Effect.flatMap(client, (c) =>
        Effect.all([
          c.query(sql),
          Stream.runCollect(c.stream(sql)).pipe(Effect.map(Chunk.toReadonlyArray))
        ])))
      assert.deepStrictEqual(streamed, rows)
      assert.deepStrictEqual(rows, [{
        a: "0001-01-01",
        b: "9999-12-31",
        c: "+010000-01-01",
        d: "+275760-09-13",
        e: "-271821-04-20"
      }])
    }).pipe(Effect.provide(withEmulator())))
})
