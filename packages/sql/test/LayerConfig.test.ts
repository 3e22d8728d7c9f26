/**
 * `SqlClient.layerConfig` takes the host and the warehouse from the same resolution as the credential
 * (options, environment, `~/.databrickscfg` profile), against the emulator's warehouse.
 */
import { AuthConfig, Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { withEmulator } from "./utils.js"

const withEnv = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

/** A config file in a fresh directory, removed with the scope. */
const configFile = (text: string) =>
  Effect.map(
    Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-databricks-sql-"))),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    ),
    (dir) => {
      const path = Path.join(dir, "databrickscfg")
      Fs.writeFileSync(path, text)
      return path
    }
  )

const warehouseId = (emulator: Emulator.Emulator) => emulator.httpPath.split("/").at(-1)!

/** SqlClient.layerConfig on AuthConfig.layer (or another credential), in an environment of `env` only. */
const queryWith = (
  env: Record<string, string>,
  credential: "auth-config" | "pat" = "auth-config",
  authOptions?: AuthConfig.Options
) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const auth = credential === "auth-config"
      ? AuthConfig.layer(authOptions).pipe(Layer.provide(NodeContext.layer))
      : Pat.layer({ token: emulator.pat })
    const live = SqlClient.layerConfig({ caCert: emulator.caCertPem }).pipe(
      Layer.provideMerge(auth),
      Layer.provide(withEnv(env))
    )
    return yield* Effect.scoped(
      Effect.provide(Effect.flatMap(SqlClient.SqlClient, (client) => client.query("SELECT 1 AS one")), live)
    )
  })

describe("SqlClient.layerConfig", () => {
  it.scopedLive("takes host and warehouse_id from the profile that AuthConfig read (no DATABRICKS_HOST set)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* configFile(
        `[work]\nhost = ${emulator.host}\ntoken = ${Redacted.value(emulator.pat)}\nwarehouse_id = ${
          warehouseId(emulator)
        }\n`
      )
      const rows = yield* queryWith({ DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: "work" })
      assert.deepStrictEqual(rows, [{ one: 1 }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("uses the AuthConfig service: a profile passed as AuthConfig's option applies to the warehouse too", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* configFile(
        `[DEFAULT]\nhost = https://elsewhere.example.com\ntoken = dapi-default\n\n[work]\nhost = ${emulator.host}\n` +
          `token: ${Redacted.value(emulator.pat)}\nhttp_path: ${emulator.httpPath}\n`
      )
      const rows = yield* queryWith({ DATABRICKS_CONFIG_FILE: file }, "auth-config", { profile: "work" })
      assert.deepStrictEqual(rows, [{ one: 1 }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("without AuthConfig, reads the environment (DATABRICKS_WAREHOUSE_ID becomes the HTTP path)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const rows = yield* queryWith(
        { DATABRICKS_HOST: emulator.host, DATABRICKS_WAREHOUSE_ID: warehouseId(emulator) },
        "pat"
      )
      assert.deepStrictEqual(rows, [{ one: 1 }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("without AuthConfig, the default profile feeds host and warehouse (as the SDKs read it)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* configFile(`[DEFAULT]\nhost = ${emulator.host}\nwarehouse_id = ${warehouseId(emulator)}\n`)
      const rows = yield* queryWith({ DATABRICKS_CONFIG_FILE: file }, "pat")
      assert.deepStrictEqual(rows, [{ one: 1 }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("the environment's warehouse wins over the profile's, as every setting does", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* configFile(
        `[work]\nhost = ${emulator.host}\ntoken = ${
          Redacted.value(emulator.pat)
        }\nhttp_path = /sql/1.0/warehouses/nope\n`
      )
      const rows = yield* queryWith({
        DATABRICKS_CONFIG_FILE: file,
        DATABRICKS_CONFIG_PROFILE: "work",
        DATABRICKS_WAREHOUSE_ID: warehouseId(emulator)
      })
      assert.deepStrictEqual(rows, [{ one: 1 }])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a profile with a host but no warehouse names the warehouse settings, not DATABRICKS_HOST", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* configFile(`[work]\nhost = ${emulator.host}\ntoken = ${Redacted.value(emulator.pat)}\n`)
      const error = yield* Effect.flip(queryWith({ DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: "work" }))
      assert.strictEqual(error._tag, "ConfigurationError")
      if (error._tag !== "ConfigurationError") return
      assert.strictEqual(error.setting, "DATABRICKS_HTTP_PATH")
      assert.include(error.message, "DATABRICKS_WAREHOUSE_ID")
      assert.include(error.message, `the profile read was work of ${file}`)
      assert.notInclude(error.message, "DATABRICKS_HOST is not set")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("no host anywhere is a ConfigurationError naming DATABRICKS_HOST", () =>
    Effect.gen(function*() {
      const dir = Path.join(Os.tmpdir(), "effect-databricks-no-such-dir")
      const error = yield* Effect.flip(
        queryWith({ DATABRICKS_CONFIG_FILE: Path.join(dir, "cfg") }, "pat")
      )
      assert.strictEqual(error._tag, "ConfigurationError")
      if (error._tag === "ConfigurationError") assert.strictEqual(error.setting, "DATABRICKS_HOST")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a profile's http_path that is not a warehouse's is named with its profile, before any request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* configFile(
        `[work]\nhost = ${emulator.host}\ntoken = ${Redacted.value(emulator.pat)}\nhttp_path = /api/2.0/clusters\n`
      )
      const before = (yield* emulator.stats).rpc.OpenSession ?? 0
      const error = yield* Effect.flip(queryWith({ DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: "work" }))
      assert.strictEqual(error._tag, "ConfigurationError")
      if (error._tag !== "ConfigurationError") return
      assert.strictEqual(error.setting, `http_path in profile work (${file})`)
      assert.include(error.message, "is not a warehouse HTTP path")
      assert.strictEqual((yield* emulator.stats).rpc.OpenSession ?? 0, before)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("a warehouse_id that is not an id names the variable", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(
        queryWith({ DATABRICKS_HOST: emulator.host, DATABRICKS_WAREHOUSE_ID: "../x" }, "pat")
      )
      assert.strictEqual(error._tag, "ConfigurationError")
      if (error._tag === "ConfigurationError") assert.strictEqual(error.setting, "DATABRICKS_WAREHOUSE_ID")
    }).pipe(Effect.provide(withEmulator())))
})
