import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import * as Modes from "../src/Modes.js"
import * as Output from "../src/Output.js"
import * as Tour from "../src/Tour.js"

/** Runs a tour with its output captured: answers whether it succeeded, and every line it wrote. */
const capture = <E extends { readonly _tag: string; readonly message: string; readonly hint?: string | undefined }>(
  tour: Effect.Effect<void, E, Output.Output>
) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const ok = yield* Tour.reported(tour).pipe(Effect.provide(Layer.provideMerge(Output.logger, Output.memory(lines))))
    return { ok, lines, text: lines.join("\n") }
  })

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

describe("the demo tour", () => {
  it.live("on the embedded emulator: every step, with retry progress and a summary", () =>
    Effect.gen(function*() {
      const { lines, ok, text } = yield* capture(Modes.onEmulator)
      assert.isTrue(ok, text)
      assert.include(text, "on the embedded emulator at https://127.0.0.1:")
      assert.include(text, "Hello, Tour Service Principal!")
      // The table, aligned: header, rule, rows ordered by population, numbers right-aligned.
      const header = lines.findIndex((line) => line.trim().startsWith("city "))
      assert.match(lines[header + 1], /^ {3}-+\+-+\+-+$/)
      assert.strictEqual(lines[header + 2], "   Tokyo       | Japan   |   37115035")
      assert.include(text, "(5 rows)")
      assert.isAtLeast(lines.filter((line) => line.startsWith("~ ")).length, 9, "a progress update per 100,000 rows")
      assert.match(text, /streamed 1,000,000 rows in [\d.]+ s \([\d,]+ rows\/s\)/)
      assert.isAtLeast(lines.filter((line) => line.includes("warehouse is starting; retrying in")).length, 2)
      assert.match(text, /the warehouse is running: the query succeeded after [\d.]+ s/)
      assert.include(text, "QueryError: errorClass TABLE_OR_VIEW_NOT_FOUND, SQLSTATE 42P01")
      assert.include(text, "token requests: 1 (client_credentials 1)")
      assert.match(text, /warehouse RPCs: \d+ \(.*OpenSession 1\)/)
      assert.include(text, "statements run: 10")
      assert.strictEqual(lines.at(-1), "\nDone.")
    }), { timeout: 60_000 })

  it.live(
    "on a workspace (here the emulator, reached as one): read-only, and the emulator's steps skipped",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const tour = Modes.onWorkspace(emulator.host, {
          http: Layer.provide(Emulator.httpClient, Layer.succeed(Emulator.Emulator, emulator)),
          caCert: emulator.caCertPem
        })
        const { ok, text } = yield* capture(tour).pipe(withEnv({
          DATABRICKS_HOST: emulator.host,
          DATABRICKS_HTTP_PATH: emulator.httpPath,
          DATABRICKS_TOKEN: Redacted.value(emulator.pat)
        }))
        assert.isTrue(ok, text)
        assert.include(text, `on the workspace ${emulator.host}`)
        assert.include(text, "AuthConfig: ")
        assert.include(text, `Hello, ${emulator.user.displayName}!`)
        assert.include(text, "pickup_zip | trips | avg_fare")
        assert.include(text, "skipped: faults are injected only on the emulator")
        assert.include(text, "QueryError: errorClass TABLE_OR_VIEW_NOT_FOUND")
        assert.notInclude(text, Redacted.value(emulator.pat))
        const stats = yield* emulator.stats
        assert.deepStrictEqual(stats.faultsInjected, {})
        assert.deepStrictEqual(
          stats.statements.filter((statement) => /^\s*(CREATE|INSERT|DROP|DELETE|UPDATE)/i.test(statement.text)),
          [],
          "nothing is created on a real workspace"
        )
      }).pipe(Effect.provide(Emulator.layer({ samples: true }))),
    { timeout: 60_000 }
  )

  it.live("a missing setting stops the tour with the library's message and hint, no stack trace", () =>
    Effect.gen(function*() {
      const { ok, text } = yield* capture(Modes.onWorkspace("https://example.cloud.databricks.com")).pipe(
        withEnv({ DATABRICKS_HOST: "https://example.cloud.databricks.com", DATABRICKS_TOKEN: "dapi-not-a-real-token" })
      )
      assert.isFalse(ok)
      assert.match(text, /The tour stopped: ConfigurationError: DATABRICKS_HTTP_PATH is not set/)
      assert.match(text, /\nhint: .+/)
      assert.notInclude(text, "    at ")
      assert.notInclude(text, "dapi-not-a-real-token")
    }))
})
