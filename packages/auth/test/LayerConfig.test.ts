import {
  AzureCli,
  AzureClientSecret,
  AzureMsi,
  DatabricksCli,
  EnvOidc,
  FileOidc,
  GitHubOidc,
  LocalM2M,
  MetadataService,
  Pat,
  TokenEnv,
  TokenSource,
  WorkspaceClient
} from "@effect-databricks/auth"
import type { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import { Emulator } from "@effect-databricks/testing"
import type { CommandExecutor, HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Config, ConfigError, ConfigProvider, Effect, HashSet, Layer, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tempDir, withEnv } from "./utils.js"

type AnyCredential = Layer.Layer<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | CommandExecutor.CommandExecutor
>

/**
 * A provider that holds `env`, except that `unreadable` cannot be read (as a secrets manager that is down, or a
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

const buildError = (layer: AnyCredential, provider: Layer.Layer<never>) =>
  Effect.flip(Effect.scoped(Layer.build(layer))).pipe(
    Effect.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici)),
    Effect.provide(provider)
  )

const host = "https://dbc-1.cloud.databricks.com"

/** Every default `layerConfig`, with settings it accepts, and one setting to make unreadable (optional ones too). */
const cases: ReadonlyArray<readonly [string, AnyCredential, Record<string, string>, string]> = [
  ["Pat", Pat.layerConfig(), { DATABRICKS_TOKEN: "dapi-1" }, "DATABRICKS_TOKEN"],
  ["TokenEnv", TokenEnv.layerConfig(), { DATABRICKS_ACCESS_TOKEN: "t-1" }, "DATABRICKS_ACCESS_TOKEN"],
  [
    "LocalM2M",
    LocalM2M.layerConfig(),
    { DATABRICKS_HOST: host, DATABRICKS_CLIENT_ID: "sp", DATABRICKS_CLIENT_SECRET: "s3cret-value" },
    "DATABRICKS_CLIENT_SECRET"
  ],
  [
    "AzureClientSecret (optional ARM_ENVIRONMENT)",
    AzureClientSecret.layerConfig(),
    { ARM_CLIENT_ID: "id", ARM_CLIENT_SECRET: "s3cret-value", ARM_TENANT_ID: "tenant" },
    "ARM_ENVIRONMENT"
  ],
  ["AzureMsi (optional ARM_CLIENT_ID)", AzureMsi.layerConfig(), {}, "ARM_CLIENT_ID"],
  ["AzureCli (optional ARM_TENANT_ID)", AzureCli.layerConfig(), {}, "ARM_TENANT_ID"],
  [
    "MetadataService",
    MetadataService.layerConfig(),
    { DATABRICKS_HOST: host, DATABRICKS_METADATA_SERVICE_URL: "http://127.0.0.1:1/x" },
    "DATABRICKS_METADATA_SERVICE_URL"
  ],
  [
    "EnvOidc (optional DATABRICKS_OIDC_TOKEN_ENV)",
    EnvOidc.layerConfig(),
    { DATABRICKS_HOST: host },
    "DATABRICKS_OIDC_TOKEN_ENV"
  ],
  [
    "FileOidc (optional DATABRICKS_CLIENT_ID)",
    FileOidc.layerConfig(),
    { DATABRICKS_HOST: host, DATABRICKS_OIDC_TOKEN_FILEPATH: "/nonexistent" },
    "DATABRICKS_CLIENT_ID"
  ],
  [
    "GitHubOidc (optional DATABRICKS_TOKEN_AUDIENCE)",
    GitHubOidc.layerConfig(),
    {
      DATABRICKS_HOST: host,
      ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example.com",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "gh-token"
    },
    "DATABRICKS_TOKEN_AUDIENCE"
  ],
  [
    "DatabricksCli (optional DATABRICKS_CONFIG_PROFILE)",
    DatabricksCli.layerConfig(),
    { DATABRICKS_HOST: host },
    "DATABRICKS_CONFIG_PROFILE"
  ]
]

const token = Effect.flatMap(TokenSource.TokenSource, (source) => source.token)

describe("layerConfig takes Config.Config.Wrap<Options>; the defaults read the Databricks names", () => {
  for (const [name, layer, env, unreadable] of cases) {
    it.scoped(`${name}: a setting the provider cannot read fails naming it, never taken for unset`, () =>
      Effect.gen(function*() {
        const error = yield* buildError(layer, withUnreadable(env, unreadable))
        assert.strictEqual(error._tag, "ConfigurationError")
        assert.strictEqual(error.setting, unreadable)
        assert.include(error.message, `${unreadable} is not valid`)
        assert.notInclude(error.message, "is not set")
      }))
  }

  it.scoped("a custom Config: the client id from another variable and a scope, against the Emulator", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const me = yield* WorkspaceClient.currentUser.pipe(
        Effect.provide(WorkspaceClient.layer({ host: emulator.host })),
        Effect.provide(LocalM2M.layerConfig({
          ...LocalM2M.config,
          clientId: Config.string("MY_SP_ID"),
          scopes: Config.succeed(["all-apis"])
        })),
        Effect.provide(withEnv({
          DATABRICKS_HOST: emulator.host,
          MY_SP_ID: emulator.servicePrincipal.clientId,
          DATABRICKS_CLIENT_SECRET: Redacted.value(emulator.servicePrincipal.clientSecret)
        }))
      )
      assert.strictEqual(me.userName, emulator.servicePrincipal.clientId)
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))

  it.scoped("a custom Config's value is named by its option, a default's by its variable, a missing one by its own", () =>
    Effect.gen(function*() {
      const custom = LocalM2M.layerConfig({ ...LocalM2M.config, clientId: Config.string("MY_SP_ID") })
      const env = { DATABRICKS_HOST: host, MY_SP_ID: "sp", DATABRICKS_CLIENT_SECRET: "s3cret-value" }
      const badId = yield* buildError(custom, withEnv({ ...env, MY_SP_ID: "sp\nsecond" }))
      assert.strictEqual(badId.setting, "clientId")
      const badHost = yield* buildError(custom, withEnv({ ...env, DATABRICKS_HOST: "ftp://h.example.com" }))
      assert.strictEqual(badHost.setting, "DATABRICKS_HOST")
      const missing = yield* buildError(custom, withEnv({ DATABRICKS_HOST: host, DATABRICKS_CLIENT_SECRET: "s3cret" }))
      assert.strictEqual(missing.setting, "MY_SP_ID")
      assert.include(missing.message, "MY_SP_ID is not set")
    }))

  it.scoped("a custom Config: a token from another variable works; a malformed duration fails naming its variable", () =>
    Effect.gen(function*() {
      const layer = Pat.layerConfig({ token: Config.redacted("MY_PAT") })
      const ok = yield* token.pipe(Effect.provide(layer), Effect.provide(withEnv({ MY_PAT: "dapi-custom" })))
      assert.strictEqual(Redacted.value(ok.value), "dapi-custom")

      const withRefresh = LocalM2M.layerConfig({ ...LocalM2M.config, refreshAhead: Config.duration("MY_REFRESH") })
      const error = yield* buildError(
        withRefresh,
        withEnv({
          DATABRICKS_HOST: host,
          DATABRICKS_CLIENT_ID: "sp",
          DATABRICKS_CLIENT_SECRET: "s3cret-value",
          MY_REFRESH: "soon-ish"
        })
      )
      assert.strictEqual(error.setting, "MY_REFRESH")
      assert.include(error.message, "MY_REFRESH is not valid")
    }))

  it.scoped("layerConfig() keeps the names the docs give: a missing setting names its variable", () =>
    Effect.gen(function*() {
      const missing = [
        [Pat.layerConfig(), {}, "DATABRICKS_TOKEN"],
        [TokenEnv.layerConfig(), {}, "DATABRICKS_ACCESS_TOKEN"],
        [LocalM2M.layerConfig(), { DATABRICKS_HOST: host, DATABRICKS_CLIENT_SECRET: "s" }, "DATABRICKS_CLIENT_ID"],
        [AzureClientSecret.layerConfig(), { ARM_CLIENT_ID: "id", ARM_CLIENT_SECRET: "s" }, "ARM_TENANT_ID"],
        [MetadataService.layerConfig(), { DATABRICKS_HOST: host }, "DATABRICKS_METADATA_SERVICE_URL"],
        [DatabricksCli.layerConfig(), {}, "DATABRICKS_HOST"]
      ] as const
      for (const [layer, env, setting] of missing) {
        const error = yield* buildError(layer, withEnv(env))
        assert.strictEqual(error.setting, setting)
      }
    }))

  it.scoped("DatabricksCli.layerConfig with a custom Config runs the CLI it names, for the profile it names", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const cli = Path.join(dir, "my-databricks")
      const calls = Path.join(dir, "calls")
      Fs.writeFileSync(
        cli,
        `#!/bin/sh\necho "$@" >> "${calls}"\necho '{"access_token": "cli-token", "token_type": "Bearer"}'\n`,
        { mode: 0o755 }
      )
      const issued = yield* token.pipe(
        Effect.provide(DatabricksCli.layerConfig({
          ...DatabricksCli.config,
          profile: Config.string("MY_PROFILE"),
          cliPath: Config.succeed(cli)
        })),
        Effect.provide(NodeContext.layer),
        Effect.provide(withEnv({ MY_PROFILE: "dev", DATABRICKS_HOST: host, PATH: process.env.PATH ?? "" }))
      )
      assert.strictEqual(Redacted.value(issued.value), "cli-token")
      assert.deepStrictEqual(Fs.readFileSync(calls, "utf8").trim().split("\n"), ["auth token --profile dev"])
    }))
})
