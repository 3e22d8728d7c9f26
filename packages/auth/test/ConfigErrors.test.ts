import { AuthConfig, FileOidc, U2MPkce } from "@effect-databricks/auth"
import type { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { ConfigError, ConfigProvider, Effect, HashSet, Layer, Redacted } from "effect"

/**
 * A provider that holds `env`, except that `unreadable` cannot be read (as a secrets store that is down, or a
 * value the provider cannot decode, would answer): `InvalidData`, never "missing".
 */
const withUnreadable = (env: Record<string, string>, unreadable: string) => {
  const base = ConfigProvider.fromMap(new Map(Object.entries(env))).flattened
  return Layer.setConfigProvider(ConfigProvider.fromFlat(ConfigProvider.makeFlat({
    load: (path, primitive, split) =>
      path.join("_") === unreadable
        ? Effect.fail(ConfigError.InvalidData([...path], "the secrets store did not answer"))
        : base.load(path, primitive, split),
    enumerateChildren: (path) => path.length === 0 ? Effect.succeed(HashSet.empty()) : base.enumerateChildren(path),
    patch: base.patch
  })))
}

const buildError = <ROut>(
  layer: Layer.Layer<ROut, ConfigurationError>,
  provider: Layer.Layer<never>
) => Effect.flip(Effect.scoped(Layer.build(layer))).pipe(Effect.provide(provider))

const authConfig = (options?: AuthConfig.Options) =>
  AuthConfig.layer(options).pipe(Layer.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici)))

const u2m = U2MPkce.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))

const host = "https://dbc-1.cloud.databricks.com"

const assertNames = (error: ConfigurationError, setting: string) => {
  assert.strictEqual(error._tag, "ConfigurationError")
  assert.strictEqual(error.setting, setting)
  assert.include(error.message, `${setting} is not valid`)
  assert.notInclude(error.message, "not set")
}

describe("a variable the ConfigProvider cannot read is a ConfigurationError naming it, never taken for unset", () => {
  it.scoped("AuthConfig: DATABRICKS_HOST unreadable (a token set) fails naming DATABRICKS_HOST", () =>
    Effect.gen(function*() {
      const error = yield* buildError(authConfig(), withUnreadable({ DATABRICKS_TOKEN: "dapi-1" }, "DATABRICKS_HOST"))
      assertNames(error, "DATABRICKS_HOST")
    }))

  it.scoped("AuthConfig.resolve: a secret (DATABRICKS_TOKEN) unreadable fails naming it, not 'no credentials'", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(AuthConfig.resolve()).pipe(
        Effect.provide(withUnreadable({ DATABRICKS_HOST: host }, "DATABRICKS_TOKEN"))
      )
      assertNames(error, "DATABRICKS_TOKEN")
    }))

  it.scoped("AuthConfig: DATABRICKS_CONFIG_PROFILE unreadable fails naming it instead of reading the default profile", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(AuthConfig.resolve()).pipe(
        Effect.provide(withUnreadable({}, "DATABRICKS_CONFIG_PROFILE"))
      )
      assertNames(error, "DATABRICKS_CONFIG_PROFILE")
    }))

  it.scoped("AuthConfig: a variable behind an option is not read, so an unreadable one there does not fail", () =>
    Effect.gen(function*() {
      const resolved = yield* AuthConfig.resolve({ host, token: Redacted.make("dapi-1") }).pipe(
        Effect.provide(withUnreadable({}, "DATABRICKS_HOST"))
      )
      assert.strictEqual(resolved.authType, "pat")
    }))

  it.scoped("U2MPkce.layerConfig(): DATABRICKS_HOST unreadable fails naming it", () =>
    Effect.gen(function*() {
      const error = yield* buildError(u2m, withUnreadable({}, "DATABRICKS_HOST"))
      assertNames(error, "DATABRICKS_HOST")
    }))

  it.scoped("U2MPkce.layerConfig(): an unreadable DATABRICKS_U2M_CLIENT_ID fails instead of defaulting to databricks-cli", () =>
    Effect.gen(function*() {
      const error = yield* buildError(u2m, withUnreadable({ DATABRICKS_HOST: host }, "DATABRICKS_U2M_CLIENT_ID"))
      assertNames(error, "DATABRICKS_U2M_CLIENT_ID")
    }))

  it.scoped("FileOidc: DATABRICKS_OIDC_TOKEN_FILEPATH unreadable fails naming it; the older alias does not stand in", () =>
    Effect.gen(function*() {
      const layer = FileOidc.layerConfig().pipe(Layer.provide(NodeHttpClient.layerUndici))
      const error = yield* buildError(
        layer,
        withUnreadable(
          { DATABRICKS_HOST: host, DATABRICKS_OIDC_TOKEN_FILE: "/nonexistent/token" },
          "DATABRICKS_OIDC_TOKEN_FILEPATH"
        )
      )
      assertNames(error, "DATABRICKS_OIDC_TOKEN_FILEPATH")
    }))
})
