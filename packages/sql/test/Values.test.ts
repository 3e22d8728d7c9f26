import { SqlClient, SqlParam } from "@effect-databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Schema, Stream } from "effect"
import * as V8 from "node:v8"
import * as Vm from "node:vm"
import { stats, withClient, withEmulator } from "./utils.js"

const client = SqlClient.SqlClient

describe("values", () => {
  it.scopedLive("BIGINT is a bigint, DECIMAL an exact string, DATE YYYY-MM-DD, TIMESTAMP a Date", () =>
    Effect.gen(function*() {
      const [row] = yield* withClient(
        Effect.flatMap(client, (c) =>
          c.query(`SELECT 9223372036854775807 AS big, -9223372036854775808 AS small,
            12345678901234567890.123::DECIMAL(23,3) AS dec, DATE '2024-02-29' AS day,
            TIMESTAMP '2024-01-02 03:04:05.123' AS ts, NULL::DATE AS no_day`))
      )
      assert.strictEqual(row.big, 9223372036854775807n)
      assert.strictEqual(row.small, -9223372036854775808n)
      assert.strictEqual(row.dec, "12345678901234567890.123")
      assert.strictEqual(row.day, "2024-02-29")
      assert.strictEqual((row.ts as Date).toISOString(), "2024-01-02T03:04:05.123Z")
      assert.isNull(row.no_day)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("every type round-trips through parameters and back", () =>
    Effect.gen(function*() {
      const [row] = yield* withClient(
        Effect.flatMap(client, (c) =>
          c.query(
            "SELECT :s AS s, :i AS i, :big AS big, :f AS f, :b AS b, :d AS d, :ts AS ts, :dec AS dec, unhex(:bin) AS bin, :n AS n",
            {
              s: "text",
              i: 42,
              big: 9223372036854775807n,
              f: 1.25,
              b: true,
              d: SqlParam.date("2024-02-29"),
              ts: SqlParam.timestamp(new Date("2024-01-02T03:04:05.123Z")),
              dec: SqlParam.decimal("1234567890.123456789"),
              bin: SqlParam.binary(new Uint8Array([0xde, 0xad])),
              n: null
            }
          ))
      )
      assert.deepStrictEqual(
        { ...row, ts: (row.ts as Date).toISOString(), bin: [...(row.bin as Uint8Array)] },
        {
          s: "text",
          i: 42,
          big: 9223372036854775807n,
          f: 1.25,
          b: true,
          d: "2024-02-29",
          ts: "2024-01-02T03:04:05.123Z",
          dec: "1234567890.123456789",
          bin: [0xde, 0xad],
          n: null
        }
      )
      const ordinal = yield* withClient(Effect.flatMap(client, (c) => c.query("SELECT ? AS a, ? AS b", [1, "two"])))
      assert.deepStrictEqual(ordinal, [{ a: 1, b: "two" }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a bad parameter is a ParameterError before anything is sent", () =>
    Effect.gen(function*() {
      const bad: ReadonlyArray<readonly [string, SqlParam.Params]> = [
        ["an array", { ids: [1, 2] as never }],
        ["an object", { o: { a: 1 } as never }],
        ["NaN", { x: Number.NaN }],
        ["Infinity", [Number.POSITIVE_INFINITY]],
        ["an invalid Date", { d: new Date("nope") }],
        ["a bad DATE", { d: SqlParam.date("2024-13-45") }],
        ["a bad DECIMAL", { x: SqlParam.decimal("1.2.3") }],
        ["a bad TIMESTAMP", { t: SqlParam.timestamp("yesterday") }],
        ["a bigint beyond BIGINT", { b: 2n ** 64n }],
        ["an invalid name", { "not a name": 1 }],
        ["a function", { f: (() => 1) as never }],
        ["a symbol", [Symbol("x") as never]]
      ]
      yield* withClient(Effect.gen(function*() {
        const c = yield* client
        for (const [what, params] of bad) {
          const error = yield* Effect.flip(c.query("SELECT 1", params))
          assert.strictEqual(error._tag, "ParameterError", what)
        }
        const arrays = yield* Effect.flip(c.query("SELECT 1", { ids: [1, 2] as never }))
        assert.include((arrays as { hint?: string }).hint, "array_contains")
      }))
      assert.isUndefined((yield* stats).rpc.ExecuteStatement)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("querySchema decodes rows; a failure names the row and the column", () =>
    Effect.gen(function*() {
      const Trip = Schema.Struct({ id: Schema.BigIntFromSelf, name: Schema.String })
      const rows = yield* withClient(
        Effect.flatMap(client, (c) => c.querySchema(Trip)("SELECT id, 'n' || id AS name FROM range(3)"))
      )
      assert.deepStrictEqual(rows.map((r) => r.id), [0n, 1n, 2n])
      const error = yield* withClient(
        Effect.flip(Effect.flatMap(client, (c) =>
          c.querySchema(Trip)("SELECT id, CASE WHEN id = 1 THEN NULL ELSE 'x' END AS name FROM range(3)")))
      )
      assert.strictEqual(error._tag, "ResultDecodeError")
      if (error._tag !== "ResultDecodeError") {
        return
      }
      assert.strictEqual(error.row, 1)
      assert.strictEqual(error.column, "name")
    }).pipe(Effect.provide(withEmulator())))
})

describe("stream", () => {
  it.scopedLive("streams range(200000) in bounded chunks", () =>
    Effect.gen(function*() {
      const [count, sum] = yield* withClient(
        Effect.flatMap(client, (c) =>
          c.stream("SELECT id FROM range(200000)", undefined, { chunkSize: 20_000 }).pipe(
            Stream.runFold(
              [0, 0n] as [number, bigint],
              ([n, total], row): [number, bigint] => [n + 1, total + (row.id as bigint)]
            )
          ))
      )
      assert.strictEqual(count, 200_000)
      assert.strictEqual(sum, 19_999_900_000n)
      assert.strictEqual((yield* stats).rpc.FetchResults, 9)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("leaving early closes the operation", () =>
    Effect.gen(function*() {
      const first = yield* withClient(
        Effect.flatMap(client, (c) =>
          c.stream("SELECT id FROM range(100000)", undefined, { chunkSize: 1000 }).pipe(
            Stream.take(5),
            Stream.runCollect
          ))
      )
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(first).map((r) => r.id),
        [0n, 1n, 2n, 3n, 4n]
      )
      const after = yield* stats
      assert.strictEqual(after.rpc.CloseOperation, 1)
      assert.strictEqual(after.openOperations, 0)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("streaming range(2_000_000) keeps heap growth under 64 MB", () =>
    Effect.gen(function*() {
      // The live heap, not garbage waiting for collection: collect before each sample.
      V8.setFlagsFromString("--expose-gc")
      const gc = Vm.runInNewContext("gc") as () => void
      gc()
      const baseline = process.memoryUsage().heapUsed
      let peak = 0
      const samples: Array<number> = []
      const count = yield* withClient(
        Effect.flatMap(client, (c) =>
          c.stream("SELECT id FROM range(2000000)", undefined, { chunkSize: 10_000 }).pipe(
            Stream.runFold(0, (n) => {
              if ((n + 1) % 200_000 === 0) {
                gc()
                const growth = process.memoryUsage().heapUsed - baseline
                samples.push(Math.round(growth / 1024 / 1024))
                peak = Math.max(peak, growth)
              }
              return n + 1
            })
          ))
      )
      assert.strictEqual(count, 2_000_000)
      // The emulator runs in this process too, so this bounds both sides of the wire.
      assert.isBelow(peak / 1024 / 1024, 64, `live heap grew by ${samples.join(", ")} MB`)
      // Flat, not proportional to the rows read: the last sample is no larger than the first plus a margin.
      assert.isBelow(samples.at(-1)! - samples[0], 16, `live heap over time: ${samples.join(", ")} MB`)
    }).pipe(Effect.provide(withEmulator())), { timeout: 120_000 })
})
