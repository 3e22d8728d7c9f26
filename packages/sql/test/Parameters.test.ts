/**
 * Statement parameters through the public API, against the Emulator: every value is bound exactly or refused
 * with a `ParameterError` that names the parameter and says what is allowed; a refused value never reaches the
 * driver (no ExecuteStatement is sent) and the next query on the same client still works (a bad value in the
 * driver's serializer spoils its next request: reference/dbsql-driver.md §7.2).
 */
import { SqlClient, SqlParam } from "@effect-databricks/sql"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { stats, withClient, withEmulator } from "./utils.js"

const client = SqlClient.SqlClient

const executed = Effect.map(stats, (s) => s.rpc.ExecuteStatement ?? 0)

/**
 * Runs `sql` with `params` and asserts a ParameterError for `parameter` whose message names it (and says what
 * is allowed, when `allowed` is given), that nothing was sent, and that the next query on the client works.
 */
const refused = (
  what: string,
  params: unknown,
  parameter: string,
  options: { readonly sql?: string; readonly says?: ReadonlyArray<string> } = {}
) =>
  Effect.gen(function*() {
    const c = yield* client
    const before = yield* executed
    const error = yield* Effect.flip(c.query(options.sql ?? "SELECT 1 AS one", params as SqlParam.Params))
    assert.strictEqual(error._tag, "ParameterError", `${what}: ${String(error)}`)
    if (error._tag !== "ParameterError") return
    assert.strictEqual(error.parameter, parameter, what)
    assert.include(error.message, parameter, `${what}: the message names the parameter`)
    for (const text of options.says ?? []) assert.include(`${error.message} ${error.hint ?? ""}`, text, what)
    assert.strictEqual(yield* executed, before, `${what}: nothing was sent`)
    // The same client, the next statement: it runs as if nothing had happened.
    assert.deepStrictEqual(yield* c.query("SELECT :x AS x", { x: "next" }), [{ x: "next" }], what)
  })

const allowed = "a string, number, bigint, boolean, Date, null, undefined or a SqlParam value"

describe("parameters", () => {
  it.scopedLive("SqlParam helpers never throw: what they cannot use is a ParameterError when the statement runs", () =>
    Effect.gen(function*() {
      // Each of these threw at the call site, or made a value that later died: now they all return.
      const made: ReadonlyArray<readonly [string, SqlParam.Typed, string]> = [
        ["date(invalid Date)", SqlParam.date(new Date(Number.NaN)), "an invalid Date"],
        ["timestamp(invalid Date)", SqlParam.timestamp(new Date("nope")), "an invalid Date"],
        ["date(a number)", SqlParam.date(42 as never), "a number, not a string or a Date"],
        ["date(a fake Date)", SqlParam.date(Object.create(Date.prototype)), "an object, not"],
        ["timestamp(undefined)", SqlParam.timestamp(undefined as never), "undefined"],
        ["decimal(a number)", SqlParam.decimal(1.5 as never), "a number, not decimal text or a bigint"],
        [
          "decimal(an object whose toString throws)",
          SqlParam.decimal({ toString: () => assert.fail("read") } as never),
          "an object"
        ],
        ["binary(a string)", SqlParam.binary("abc" as never), "a string, not a Uint8Array"],
        ["binary(null)", SqlParam.binary(null as never), "null, not a Uint8Array"],
        ["binary(an array)", SqlParam.binary([1, 2] as never), "an array, not a Uint8Array"]
      ]
      yield* withClient(Effect.forEach(made, ([what, value, says]) =>
        Effect.gen(function*() {
          assert.isTrue(SqlParam.isTyped(value), what)
          yield* refused(what, { v: value }, ":v", { says: [says] })
          // A copy (a spread, a structured clone) of such a value is refused all the same.
          yield* refused(`${what}, copied`, [{ ...value }], "#1")
        })))
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("objects forged to look like a SqlParam value are ParameterErrors, never defects", () =>
    Effect.gen(function*() {
      const revoked = Proxy.revocable({}, {})
      revoked.revoke()
      const hostile = new Proxy({}, {
        get: () => assert.fail("get"),
        has: () => assert.fail("has"),
        ownKeys: () => assert.fail("ownKeys"),
        getPrototypeOf: () => assert.fail("getPrototypeOf"),
        getOwnPropertyDescriptor: () => assert.fail("getOwnPropertyDescriptor")
      })
      const forged: ReadonlyArray<readonly [string, unknown]> = [
        ["a number as value", { _tag: "SqlParam", type: "DATE", value: 5 }],
        ["an unknown type", { _tag: "SqlParam", type: "INTERVAL", value: "1 day" }],
        ["no value", { _tag: "SqlParam", type: "DECIMAL" }],
        ["an object as value", { _tag: "SqlParam", type: "TIMESTAMP", value: { toString: () => "2024-01-01" } }],
        ["a getter that throws", {
          _tag: "SqlParam",
          type: "DATE",
          get value() {
            return assert.fail("value")
          }
        }],
        ["a _tag getter that throws", {
          get _tag() {
            return assert.fail("_tag")
          }
        }],
        ["BINARY that is not hex", { _tag: "SqlParam", type: "BINARY", value: "zz" }],
        ["BINARY of odd length", { _tag: "SqlParam", type: "BINARY", value: "abc" }],
        ["a proxy that throws on everything", hostile],
        ["a revoked proxy", revoked.proxy],
        ["an object posing as a Date", { [Symbol.toStringTag]: "Date" }],
        ["a Date's prototype", Object.create(Date.prototype)]
      ]
      yield* withClient(Effect.gen(function*() {
        for (const [what, value] of forged) {
          yield* refused(what, { p: value }, ":p")
          yield* refused(`${what} (ordinal)`, [value], "#1")
        }
        // The whole record a proxy: refused as a whole, still typed.
        yield* refused("params that throw when read", hostile, "(all)")
        // A well-formed one made by hand binds like the helper's.
        const [row] = yield* Effect.flatMap(
          client,
          (c) => c.query("SELECT :d AS d", { d: { _tag: "SqlParam", type: "DATE", value: "2024-02-29" } as never })
        )
        assert.strictEqual(row.d, "2024-02-29")
      }))
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("dates and times not on the calendar are refused, never moved to another day", () =>
    Effect.gen(function*() {
      const dates = [
        "2024-02-30",
        "2023-02-29",
        "1900-02-29",
        "2024-13-01",
        "2024-00-10",
        "2024-04-31",
        "0000-01-01",
        "10000-01-01",
        "2024-1-1",
        " 2024-01-01",
        "2024-01-01T00:00:00",
        ""
      ]
      const timestamps = [
        "1",
        "2024",
        "yesterday",
        "2024-02-30T00:00:00",
        "2024-01-01T24:00:00",
        "2024-01-01T00:60:00",
        "2024-01-01T00:00:60",
        "2024-01-01T00:00:00.1234567",
        "2024-01-01T00:00:00+19:00",
        "2024-01-01T00:00:00+05:60",
        "2024-01-01T00:00:00 UTC",
        "Tue, 02 Jan 2024 03:04:05 GMT",
        "0000-01-01T00:00:00Z"
      ]
      yield* withClient(Effect.gen(function*() {
        for (const text of dates) {
          yield* refused(`DATE ${JSON.stringify(text)}`, { d: SqlParam.date(text) }, ":d", {
            says: ["not a calendar day", "YYYY-MM-DD from 0001-01-01 to 9999-12-31"]
          })
        }
        for (const text of timestamps) {
          yield* refused(`TIMESTAMP ${JSON.stringify(text)}`, { t: SqlParam.timestamp(text) }, ":t", {
            says: ["not a valid time", "YYYY-MM-DD[THH:MM[:SS[.ffffff]][Z|±HH:MM]]"]
          })
        }
        // Dates outside years 0001..9999, as plain values and through the helpers.
        const year0 = new Date("0000-06-01T00:00:00Z")
        const far = new Date(8.64e15)
        yield* refused("a Date in year 0", { t: year0 }, ":t", { says: ["year 0"] })
        yield* refused("a Date in year 275760", [far], "#1", { says: ["year 275760"] })
        yield* refused("SqlParam.date(year 275760)", { d: SqlParam.date(far) }, ":d")
        yield* refused("SqlParam.timestamp(year 0)", { t: SqlParam.timestamp(year0) }, ":t")
      }))
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a parameter named __proto__ and a lone surrogate in a value or a name are refused", () =>
    Effect.gen(function*() {
      yield* withClient(Effect.gen(function*() {
        // JSON.parse makes "__proto__" an own key, as data from outside would.
        yield* refused("__proto__", JSON.parse("{\"__proto__\": 1, \"a\": 2}"), ":__proto__", {
          sql: "SELECT :a AS a"
        })
        yield* refused("a lone high surrogate", { s: "\uD800" }, ":s", { says: ["lone UTF-16 surrogate"] })
        yield* refused("a lone low surrogate inside text", { s: "a\uDC00b" }, ":s", { says: ["U+FFFD"] })
        yield* refused("a reversed pair", ["ok", "\uDE00\uD83D"], "#2", { says: ["lone UTF-16 surrogate"] })
        yield* refused("a lone surrogate in a name", { ["x\uD800"]: 1 }, JSON.stringify("x\uD800"), {
          says: ["not a valid parameter name"]
        })
      }))
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("every kind of value is bound or refused with a message naming it and what is allowed", () =>
    Effect.gen(function*() {
      class Point {
        constructor(readonly x: number) {}
      }
      const kinds: ReadonlyArray<readonly [string, unknown, string]> = [
        ["NaN", Number.NaN, "is NaN"],
        ["Infinity", Number.POSITIVE_INFINITY, "is Infinity"],
        ["-Infinity", Number.NEGATIVE_INFINITY, "is -Infinity"],
        ["2^63", 2n ** 63n, "outside BIGINT"],
        ["-2^63 - 1", -(2n ** 63n) - 1n, "outside BIGINT"],
        ["a function", () => 1, allowed],
        ["a symbol", Symbol("s"), allowed],
        ["a class instance", new Point(1), allowed],
        ["a Map", new Map([["a", 1]]), "an object (Map)"],
        ["a Set", new Set([1]), "an object (Set)"],
        ["a nested object", { a: { b: 1 } }, allowed],
        ["a nested array", [[1]], "array_contains"],
        ["bytes", new Uint8Array([1]), "SqlParam.binary"],
        ["an Option", Option.some(1), "Option.getOrNull"],
        ["a boxed string", new String("s"), allowed],
        ["a RegExp", /x/, allowed],
        ["a Promise", Promise.resolve(1), allowed]
      ]
      yield* withClient(Effect.gen(function*() {
        for (const [what, value, says] of kinds) {
          yield* refused(what, { v: value }, ":v", { says: [says] })
          yield* refused(`${what} (ordinal)`, [1, value], "#2", { says: [says] })
        }
      }))
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("names are what a :name marker accepts: ASCII letters, digits and _, not starting with a digit", () =>
    Effect.gen(function*() {
      yield* withClient(Effect.gen(function*() {
        for (const name of ["1a", "a-b", "", "a b", "é", "0", ":a", "a.b", "`a`"]) {
          yield* refused(`the name ${JSON.stringify(name)}`, { [name]: 1 }, JSON.stringify(name), {
            says: ["not a valid parameter name", "letter or _"]
          })
        }
        yield* refused("a digit name", { 0: 1 }, "\"0\"", { says: ["as an array"] })
        yield* refused("a symbol key", { [Symbol("k")]: 1 }, "(all)", { says: ["symbol key"] })
        const c = yield* client
        assert.deepStrictEqual(
          yield* c.query("SELECT :_ AS a, :a_1 AS b, :A AS c, :constructor AS d", {
            _: 1,
            a_1: 2,
            A: 3,
            constructor: 4
          }),
          [{ a: 1, b: 2, c: 3, d: 4 }]
        )
      }))
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("ordinal and named parameters are never mixed, and params are a plain object or an array", () =>
    Effect.gen(function*() {
      yield* withClient(Effect.gen(function*() {
        yield* refused("an array with a named property", Object.assign([1], { a: 2 }), "(all)", {
          says: ["mixes ordinal and named", "never both"]
        })
        // eslint-disable-next-line no-sparse-arrays
        yield* refused("a hole in an array", [, 1], "#1", { says: ["pass null"] })
        const huge: Array<number> = []
        huge.length = 2 ** 32 - 1
        yield* refused("an array of 2^32 - 1 holes (answered at once)", huge, "#1")
        for (
          const [what, params] of [["a Map", new Map([["a", 1]])], ["a Date", new Date()], ["text", "a"], [
            "a number",
            1
          ], [
            "a class instance",
            new (class {
              a = 1
            })()
          ]] as const
        ) {
          yield* refused(`params as ${what}`, params, "(all)", { says: ["plain object", "or an array"] })
        }
        const c = yield* client
        // A null-prototype record is a plain object too.
        const bare = Object.assign(Object.create(null), { a: 1 })
        assert.deepStrictEqual(yield* c.query("SELECT :a AS a", bare), [{ a: 1 }])
        assert.deepStrictEqual(yield* c.query("SELECT ? AS a, ? AS b", [null, undefined]), [{ a: null, b: null }])
      }))
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("edge values round-trip unchanged", () =>
    Effect.gen(function*() {
      const nines = "9".repeat(38)
      const tiny = `-0.${"0".repeat(37)}1`
      const text = "ünïcödé 中文 😀 𝔘 \u0000 'quote' \"dq\" \\ ` \n"
      const [row] = yield* withClient(Effect.flatMap(client, (c) =>
        c.query(
          `SELECT :leap AS leap, :first AS first, :last AS last, :offset AS offset, :space AS space,
            :micros AS micros, :minDate AS min_date, :nines AS nines, :negnines AS negnines, :tiny AS tiny,
            :padded AS padded, :huge AS huge, :text AS text, :negzero AS negzero, :maxbig AS maxbig, :minbig AS minbig,
            :big AS big, :small AS small, :maxint AS maxint, :day AS day`,
          {
            leap: SqlParam.date("2024-02-29"),
            first: SqlParam.date("0001-01-01"),
            last: SqlParam.date("9999-12-31"),
            offset: SqlParam.timestamp("2024-01-02T03:04:05.123+05:30"),
            space: SqlParam.timestamp("2024-01-02 03:04Z"),
            micros: SqlParam.timestamp("2024-01-02T03:04:05.123456-08:00"),
            minDate: new Date("0001-01-01T00:00:00.000Z"),
            nines: SqlParam.decimal(nines),
            negnines: SqlParam.decimal(`-${nines}`),
            tiny: SqlParam.decimal(tiny),
            padded: SqlParam.decimal("+0012.50"),
            huge: SqlParam.decimal(2n ** 120n),
            text,
            negzero: -0,
            maxbig: 2n ** 63n - 1n,
            minbig: -(2n ** 63n),
            big: 1e300,
            small: Number.MIN_VALUE,
            maxint: Number.MAX_SAFE_INTEGER,
            day: SqlParam.date(new Date("2024-02-29T23:59:59.999Z"))
          }
        )))
      assert.strictEqual(row.leap, "2024-02-29")
      assert.strictEqual(row.first, "0001-01-01")
      assert.strictEqual(row.last, "9999-12-31")
      assert.strictEqual((row.offset as Date).toISOString(), "2024-01-01T21:34:05.123Z")
      assert.strictEqual((row.space as Date).toISOString(), "2024-01-02T03:04:00.000Z")
      // Read back with millisecond precision (docs/sql.md: TIMESTAMP is a JS Date).
      assert.strictEqual((row.micros as Date).toISOString(), "2024-01-02T11:04:05.123Z")
      assert.strictEqual((row.min_date as Date).toISOString(), "0001-01-01T00:00:00.000Z")
      assert.strictEqual(row.nines, nines)
      assert.strictEqual(row.negnines, `-${nines}`)
      assert.strictEqual(row.tiny, tiny)
      assert.strictEqual(row.padded, "12.50")
      assert.strictEqual(row.huge, (2n ** 120n).toString())
      assert.strictEqual(row.text, text)
      assert.isTrue(Object.is(row.negzero, -0), `-0 came back as ${String(row.negzero)}`)
      assert.strictEqual(row.maxbig, 2n ** 63n - 1n)
      assert.strictEqual(row.minbig, -(2n ** 63n))
      assert.strictEqual(row.big, 1e300)
      assert.strictEqual(row.small, Number.MIN_VALUE)
      assert.strictEqual(row.maxint, BigInt(Number.MAX_SAFE_INTEGER))
      assert.strictEqual(row.day, "2024-02-29")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a DECIMAL beyond 38 digits or not decimal text is refused; its digits are never rounded", () =>
    Effect.gen(function*() {
      yield* withClient(Effect.gen(function*() {
        yield* refused("39 digits", { x: SqlParam.decimal("9".repeat(39)) }, ":x", { says: ["39 digits", "38"] })
        yield* refused("39 digits with a fraction", { x: SqlParam.decimal(`1.${"0".repeat(38)}`) }, ":x")
        yield* refused("a bigint of 40 digits", { x: SqlParam.decimal(10n ** 39n) }, ":x", { says: ["40 digits"] })
        for (const text of ["1e5", "1.", ".5", "1.2.3", "0x10", "NaN", "Infinity", " 1", "1,5", "", "--1", "١"]) {
          yield* refused(`DECIMAL ${JSON.stringify(text)}`, { x: SqlParam.decimal(text) }, ":x", {
            says: ["not decimal text"]
          })
        }
        // The scale is the text's own: nothing after the point is lost (a bare DECIMAL is DECIMAL(10,0)).
        const [row] = yield* Effect.flatMap(client, (c) =>
          c.query("SELECT :x AS x, :y AS y, :x * 2 AS doubled", {
            x: SqlParam.decimal("1234567890.123456789"),
            y: SqlParam.decimal("0.000")
          }))
        // Arithmetic on it works: it arrived as a DECIMAL, not as text.
        assert.deepStrictEqual(row, { x: "1234567890.123456789", y: "0.000", doubled: "2469135780.246913578" })
      }))
    }).pipe(Effect.provide(withEmulator())))
})
