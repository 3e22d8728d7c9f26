import { SqlClient, SqlParam } from "@effect-databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, FastCheck, Stream } from "effect"
import { withClient, withEmulator } from "./utils.js"

const client = SqlClient.SqlClient

/**
 * DECIMAL values read back as DECIMAL (Arrow Decimal128 on the wire, as a warehouse sends it when the client asks
 * for `decimalAsArrow`), never through CAST AS STRING. Each is `[precision, scale, text]`, the text as the value's
 * own scale prints it. The driver's own conversion lost every digit past the 17th of a negative value with a
 * fraction (`-213264.232598209232` came back `-213264.232598209200`).
 */
const cases: ReadonlyArray<readonly [number, number, string]> = [
  [18, 12, "-213264.232598209232"],
  [18, 12, "213264.232598209232"],
  [38, 0, "-99999999999999999999999999999999999999"],
  [38, 0, "99999999999999999999999999999999999999"],
  [38, 38, "-0.99999999999999999999999999999999999999"],
  [38, 38, "0.99999999999999999999999999999999999999"],
  [38, 38, "-0.00000000000000000000000000000000000001"],
  [38, 38, "0.50000000000000000000000000000000000000"],
  [2, 1, "-0.5"],
  [1, 0, "-1"],
  [5, 2, "0.00"],
  // Unscaled values whose low 64 bits are all 0, or all 1: the carry across the words of the two's complement.
  [38, 0, "-18446744073709551616"],
  [38, 0, "18446744073709551616"],
  [38, 10, "-7922816251426433759.3543950336"],
  [38, 10, "7922816251426433759.3543950336"],
  [38, 0, "-9223372036854775808"],
  [38, 0, "-18446744073709551615"],
  [38, 2, "-184467440737095516.16"],
  [20, 19, "-0.9223372036854775808"]
]

const literals = (values: ReadonlyArray<readonly [number, number, string]>) =>
  `SELECT ${values.map(([p, s, text], i) => `CAST('${text}' AS DECIMAL(${p},${s})) AS d${i}`).join(", ")}`

const expected = (values: ReadonlyArray<readonly [number, number, string]>) =>
  Object.fromEntries(values.map(([, , text], i) => [`d${i}`, text]))

describe("DECIMAL values", () => {
  it.scopedLive("negative and positive values at every precision and scale come back as their exact text", () =>
    Effect.gen(function*() {
      const rows = yield* withClient(Effect.flatMap(client, (c) => c.query(literals(cases))))
      assert.deepStrictEqual(rows, [expected(cases)])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("DECIMAL parameters read back as DECIMAL are exact", () =>
    Effect.gen(function*() {
      const params = Object.fromEntries(cases.map(([, , text], i) => [`p${i}`, SqlParam.decimal(text)]))
      const sql = `SELECT ${cases.map((_, i) => `:p${i} AS d${i}`).join(", ")}`
      const [rows, fromBigint] = yield* withClient(Effect.flatMap(client, (c) =>
        Effect.all([
          c.query(sql, params),
          c.query("SELECT :a AS a, :b AS b", {
            a: SqlParam.decimal(-(10n ** 38n) + 1n),
            b: SqlParam.decimal(-(2n ** 100n))
          })
        ])))
      assert.deepStrictEqual(rows, [expected(cases)])
      assert.deepStrictEqual(fromBigint, [{ a: "-99999999999999999999999999999999999999", b: String(-(2n ** 100n)) }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a DECIMAL column streamed, in many rows and with NULLs, is exact in every row", () =>
    Effect.gen(function*() {
      const rows = yield* withClient(Effect.flatMap(client, (c) =>
        c.stream(
          `SELECT i, CASE WHEN i % 7 = 0 THEN NULL ELSE CAST(-i * 1000000007 - 0.123456789012 AS DECIMAL(30,12)) END AS d
           FROM range(0, 3000) AS t(i) ORDER BY i`,
          undefined,
          { chunkSize: 1000 }
        ).pipe(Stream.runCollect, Effect.map(Chunk.toReadonlyArray))))
      assert.strictEqual(rows.length, 3000)
      rows.forEach((row, i) => {
        const unscaled = -(BigInt(i) * 1000000007n * 10n ** 12n) - 123456789012n
        const text = `-${(-unscaled / 10n ** 12n).toString()}.${(-unscaled % 10n ** 12n).toString().padStart(12, "0")}`
        assert.strictEqual(row.d, i % 7 === 0 ? null : text, `row ${i}`)
      })
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("generated DECIMAL(p, s) values round-trip exactly, as literals and as parameters", () =>
    Effect.gen(function*() {
      const arbitrary = FastCheck.integer({ min: 1, max: 38 }).chain((precision) =>
        FastCheck.tuple(
          FastCheck.constant(precision),
          FastCheck.integer({ min: 0, max: precision }),
          FastCheck.bigInt({ min: -(10n ** BigInt(precision)) + 1n, max: 10n ** BigInt(precision) - 1n })
        )
      )
      const values = FastCheck.sample(arbitrary, { numRuns: 60, seed: 14 }).map(([p, s, unscaled]) => {
        const digits = (unscaled < 0n ? -unscaled : unscaled).toString().padStart(s + 1, "0")
        const point = digits.length - s
        const text = `${unscaled < 0n ? "-" : ""}${digits.slice(0, point)}${s > 0 ? `.${digits.slice(point)}` : ""}`
        return [p, s, text] as const
      })
      assert.isTrue(values.some(([, s, text]) => s > 0 && text.startsWith("-") && text.length > 19))
      const params = Object.fromEntries(values.map(([, , text], i) => [`p${i}`, SqlParam.decimal(text)]))
      const [fromLiterals, fromParams] = yield* withClient(Effect.flatMap(client, (c) =>
        Effect.all([
          c.query(literals(values)),
          c.query(`SELECT ${values.map((_, i) => `:p${i} AS d${i}`).join(", ")}`, params)
        ])))
      assert.deepStrictEqual(fromLiterals, [expected(values)])
      assert.deepStrictEqual(fromParams, [expected(values)])
    }).pipe(Effect.provide(withEmulator())))
})
