/**
 * Generated hostile parameters through the public API (`SqlClient.query`, against the Emulator): anything
 * (`fc.anything()`), strings with lone surrogates, huge and non-finite numbers, bigints beyond BIGINT, dates
 * off the calendar, forged SqlParam objects, prototype keys as names. Every run ends in rows or a typed error
 * (a refused value: a `ParameterError` naming the parameter, with nothing sent), never a defect and never a
 * hang (each run bounded in real time, which only turns a hang into a failure); and the client's next query
 * always works. Runs are drawn from a fixed seed, which every failure message reports.
 */
import { SqlClient, SqlParam } from "@effect-databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Option } from "effect"
import * as Util from "node:util"
import { stats, withClient, withEmulator } from "./utils.js"

const seed = 20261214

/** What a statement may fail with: a refused parameter, or the warehouse's own answer to it. */
const typed = new Set(["ParameterError", "QueryError"])

const loneSurrogates = fc.constantFrom("\uD800", "\uDFFF", "a\uD83D", "\uDE00b", "\uDE00\uD83D", "x\uDBFF\uDBFF")
const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.fullUnicodeString(),
  loneSurrogates,
  fc.constantFrom("", "\u0000", "😀", "'; DROP TABLE t; --", ":x", "?", "x".repeat(10_000))
)
const hostileNumber = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 53, 2 ** 31, -(2 ** 31))
)
const hostileBigint = fc.oneof(
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }),
  fc.constantFrom(2n ** 63n, 2n ** 63n - 1n, -(2n ** 63n), -(2n ** 63n) - 1n)
)
const hostileDate = fc.oneof(
  fc.date(),
  fc.integer({ min: -8.64e15, max: 8.64e15 }).map((t) => new Date(t)),
  fc.constantFrom(new Date(Number.NaN), new Date(8.64e15), new Date(-8.64e15), new Date("0000-01-01T00:00:00Z"))
)
/** Text shaped like a date or a time, often off the calendar or malformed. */
const dateLike = fc.oneof(
  fc.tuple(fc.integer({ min: -1, max: 10_001 }), fc.integer({ min: -1, max: 14 }), fc.integer({ min: -1, max: 33 }))
    .map(([y, m, d]) => `${String(y).padStart(4, "0")}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`),
  fc.constantFrom("1", "2024", "2024-02-30", "2024-02-29", "yesterday", "2024-01-01T25:00", "2024-01-01T00:00+18:01"),
  hostileString
)
const timeLike = fc.oneof(
  fc.tuple(dateLike, fc.integer({ min: 0, max: 25 }), fc.integer({ min: 0, max: 61 }), fc.string({ maxLength: 8 }))
    .map(([d, h, m, tail]) => `${d}T${String(h).padStart(2, "0")}:${String(m).padStart(2, "0")}${tail}`),
  dateLike
)
const helper = fc.oneof(
  fc.oneof(dateLike, hostileDate, fc.anything()).map((v) => SqlParam.date(v as string)),
  fc.oneof(timeLike, hostileDate, fc.anything()).map((v) => SqlParam.timestamp(v as string)),
  fc.oneof(hostileString, fc.stringMatching(/^[+-]?\d{1,45}(\.\d{1,45})?$/), hostileBigint, fc.anything())
    .map((v) => SqlParam.decimal(v as string)),
  fc.oneof(fc.uint8Array({ maxLength: 64 }), fc.anything()).map((v) => SqlParam.binary(v as Uint8Array))
)
const forged = fc.record(
  {
    _tag: fc.constantFrom("SqlParam", "Some", "sqlparam"),
    type: fc.oneof(fc.constantFrom("DATE", "TIMESTAMP", "DECIMAL", "BINARY", "INTERVAL", "__proto__"), fc.anything()),
    value: fc.oneof(dateLike, timeLike, fc.anything())
  },
  { requiredKeys: ["_tag"] }
)
const hostileValue = fc.oneof(
  {
    weight: 2,
    arbitrary: fc.anything({
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withSparseArray: true,
      withNullPrototype: true,
      withBoxedValues: true,
      withObjectString: true,
      maxDepth: 2
    })
  },
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: hostileNumber },
  { weight: 1, arbitrary: hostileBigint },
  { weight: 1, arbitrary: hostileDate },
  { weight: 3, arbitrary: helper },
  { weight: 2, arbitrary: forged },
  { weight: 1, arbitrary: fc.constantFrom(null, undefined, true, false, Option.some(1), () => 1, Symbol("s")) }
)
const hostileName = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,8}$/) },
  {
    weight: 2,
    arbitrary: fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", "valueOf", "prototype")
  },
  { weight: 2, arbitrary: fc.oneof(hostileString, loneSurrogates, fc.constantFrom("0", "1a", "a-b", "a b", "é")) }
)

/** The params and the statement that uses each of them (so a value that binds is really read back). */
interface Case {
  readonly params: unknown
  readonly sql: string
}

const markers = (count: number, marker: (i: number) => string) =>
  count === 0
    ? "SELECT 1 AS one"
    : `SELECT ${Array.from({ length: count }, (_, i) => `${marker(i)} AS c${i}`).join(", ")}`

const safeName = /^[A-Za-z_][A-Za-z0-9_]*$/

const hostileCase: fc.Arbitrary<Case> = fc.oneof(
  // Named: own properties (JSON.parse-like, so "__proto__" is a key), each used as :name where it can be.
  fc.array(fc.tuple(hostileName, hostileValue), { maxLength: 4 }).map((entries): Case => {
    const params: Record<string, unknown> = {}
    for (const [name, value] of entries) {
      Object.defineProperty(params, name, { value, enumerable: true, configurable: true, writable: true })
    }
    const names = Object.keys(params).filter((name) => safeName.test(name))
    return { params, sql: markers(names.length, (i) => `:${names[i]}`) }
  }),
  fc.array(hostileValue, { maxLength: 4 }).map((values): Case => ({
    params: values,
    sql: markers(values.length, () => "?")
  })),
  // The params themselves hostile.
  fc.anything({ withMap: true, withDate: true, withBoxedValues: true }).map((params): Case => ({
    params,
    sql: "SELECT 1 AS one"
  }))
)

const show = (u: unknown) => Util.inspect(u, { depth: 4, maxStringLength: 80, maxArrayLength: 8 })

/** Runs one query, bounded in real time so a hang fails the run instead of the whole file. */
const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => new Error("hang: no answer within 20 seconds") }),
    Effect.exit
  )

/** One run: rows, or a typed error; a refusal names its parameter and sends nothing; the next query works. */
const runCase = (label: string, { params, sql }: Case) =>
  Effect.gen(function*() {
    const client = yield* SqlClient.SqlClient
    const before = (yield* stats).rpc.ExecuteStatement ?? 0
    const exit = yield* bounded(client.query(sql, params as SqlParam.Params))
    const where = `${label}, params ${show(params)}`
    if (Exit.isFailure(exit)) {
      assert.isFalse(Cause.isDie(exit.cause), `${where} died:\n${Cause.pretty(exit.cause)}`)
      const failure = Option.getOrUndefined(Cause.failureOption(exit.cause)) as
        | { readonly _tag?: string; readonly parameter?: string; readonly message?: string }
        | undefined
      assert.isTrue(typed.has(failure?._tag ?? ""), `${where} failed untyped:\n${Cause.pretty(exit.cause)}`)
      if (failure?._tag === "ParameterError") {
        assert.include(failure.message, failure.parameter, `${where}: the message names the parameter`)
        assert.strictEqual((yield* stats).rpc.ExecuteStatement ?? 0, before, `${where}: a refused value was sent`)
      }
    }
    // Whatever happened, the same client runs the next statement.
    const next = yield* bounded(client.query("SELECT 1 AS one"))
    assert.isTrue(
      Exit.isSuccess(next),
      `${where}: the next query failed: ${Exit.isFailure(next) ? Cause.pretty(next.cause) : ""}`
    )
    return exit
  })

describe("parameters under generated hostile input", () => {
  it.scopedLive(
    "200 hostile params: rows or a typed error, never a defect or a hang, and the next query works",
    () =>
      Effect.gen(function*() {
        const samples = fc.sample(hostileCase, { numRuns: 200, seed })
        const outcomes = yield* withClient(
          Effect.forEach(samples, (sample, i) => runCase(`seed ${seed}, run ${i}`, sample))
        )
        // The generators reach both sides of the rule: some runs bind, some are refused.
        const refusedCount = outcomes.filter((exit) => Exit.isFailure(exit)).length
        assert.isAbove(refusedCount, 20, `seed ${seed}: too few refusals to mean anything`)
        assert.isAbove(outcomes.length - refusedCount, 20, `seed ${seed}: too few runs bound a value`)
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 240_000 }
  )

  it.scopedLive(
    "30 generated valid values come back exactly as sent",
    () =>
      Effect.gen(function*() {
        const text = fc.fullUnicodeString({ maxLength: 40 }).filter((s) => !s.includes("\u0000"))
        const valid = fc.record({
          s: text,
          i: fc.integer(),
          d: fc.double({ noNaN: true, noDefaultInfinity: true }),
          b: fc.boolean(),
          big: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
          day: fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T00:00:00Z") }),
          ts: fc.date({ min: new Date("0001-01-01T00:00:00Z"), max: new Date("9999-12-31T23:59:59.999Z") }),
          dec: fc.tuple(fc.boolean(), fc.stringMatching(/^[1-9]\d{0,19}$/), fc.stringMatching(/^\d{1,18}$/))
            .map(([negative, whole, fraction]) => `${negative ? "-" : ""}${whole}.${fraction}`)
        })
        const samples = fc.sample(valid, { numRuns: 30, seed: seed + 1 })
        yield* withClient(Effect.forEach(samples, (v, i) =>
          Effect.gen(function*() {
            const where = `seed ${seed + 1}, run ${i}: ${show(v)}`
            const exit = yield* runCase(where, {
              // The DECIMAL read back as the warehouse's own text: what was bound, digit for digit.
              sql: "SELECT :s AS s, :i AS i, :d AS d, :b AS b, :big AS big, :day AS day, :ts AS ts, " +
                "CAST(:dec AS STRING) AS dec",
              params: {
                s: v.s,
                i: v.i,
                d: v.d,
                b: v.b,
                big: v.big,
                day: SqlParam.date(v.day),
                ts: v.ts,
                dec: SqlParam.decimal(v.dec)
              }
            })
            assert.isTrue(
              Exit.isSuccess(exit),
              `${where} failed: ${Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""}`
            )
            if (Exit.isFailure(exit)) return
            const [row] = exit.value
            assert.strictEqual(row.s, v.s, where)
            assert.strictEqual(row.i, v.i, where)
            assert.isTrue(Object.is(row.d, v.d), `${where}: DOUBLE ${String(row.d)}`)
            assert.strictEqual(row.b, v.b, where)
            assert.strictEqual(row.big, v.big, where)
            assert.strictEqual(row.day, v.day.toISOString().slice(0, 10), where)
            assert.strictEqual((row.ts as Date).toISOString(), v.ts.toISOString(), where)
            assert.strictEqual(row.dec, v.dec, where)
          })))
      }).pipe(Effect.provide(withEmulator())),
    { timeout: 120_000 }
  )
})
