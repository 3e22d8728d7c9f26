import { AuthConfig, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Encoding, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tempDir, withEnv, writeConfig } from "./utils.js"

/** A path that does not exist, so no test ever reads the real ~/.databrickscfg. */
const noFile = Effect.map(tempDir, (dir) => Path.join(dir, "absent"))

const resolveWith = (env: Record<string, string>, options?: AuthConfig.Options) =>
  AuthConfig.resolve(options).pipe(Effect.provide(withEnv(env)))

describe("AuthConfig.resolve", () => {
  it.scoped("PAT only", () =>
    Effect.gen(function*() {
      const config = yield* resolveWith({
        DATABRICKS_HOST: "adb-1.azuredatabricks.net",
        DATABRICKS_TOKEN: "dapi-1",
        DATABRICKS_CONFIG_FILE: yield* noFile
      })
      assert.strictEqual(config.authType, "pat")
      assert.deepStrictEqual(config.host, Option.some("https://adb-1.azuredatabricks.net"))
      assert.deepStrictEqual(config.sources, { host: "env", token: "env" })
      assert.strictEqual(config.chosenBy, "default chain")
      assert.deepStrictEqual(config.tried, [])
      assert.isTrue(Option.isNone(config.profile))
    }))

  it.scoped("M2M only, and the principal is reported", () =>
    Effect.gen(function*() {
      const config = yield* resolveWith({
        DATABRICKS_HOST: "https://dbc-1.cloud.databricks.com",
        DATABRICKS_CLIENT_ID: "sp-1",
        DATABRICKS_CLIENT_SECRET: "dose-1",
        DATABRICKS_CONFIG_FILE: yield* noFile
      })
      assert.strictEqual(config.authType, "oauth-m2m")
      assert.deepStrictEqual(config.clientId, Option.some("sp-1"))
      assert.deepStrictEqual(config.sources, { host: "env", client_id: "env", client_secret: "env" })
      assert.include(AuthConfig.describe(config), "oauth-m2m as sp-1 for https://dbc-1.cloud.databricks.com")
    }))

  it.scoped("a PAT and M2M together is a conflict naming both sources", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolveWith({
        DATABRICKS_HOST: "h.example.com",
        DATABRICKS_TOKEN: "dapi-1",
        DATABRICKS_CLIENT_ID: "sp-1",
        DATABRICKS_CLIENT_SECRET: "dose-1",
        DATABRICKS_CONFIG_FILE: yield* noFile
      }))
      assert.strictEqual(error._tag, "ConfigurationError")
      assert.include(error.message, "More than one authorization method")
      assert.include(error.message, "pat (DATABRICKS_TOKEN)")
      // The families the SDKs' validate names: pat and oauth (a client id alone counts).
      assert.include(error.message, "oauth (DATABRICKS_CLIENT_ID) and pat (DATABRICKS_TOKEN)")
      assert.include(error.hint, "DATABRICKS_AUTH_TYPE")
      assert.notInclude(JSON.stringify(error), "dapi-1")
      assert.notInclude(JSON.stringify(error), "dose-1")
    }))

  it.scoped("APP_AUTH_TYPE or DATABRICKS_AUTH_TYPE settles a conflict", () =>
    Effect.gen(function*() {
      const both = {
        DATABRICKS_HOST: "h.example.com",
        DATABRICKS_TOKEN: "dapi-1",
        DATABRICKS_CLIENT_ID: "sp-1",
        DATABRICKS_CLIENT_SECRET: "dose-1",
        DATABRICKS_CONFIG_FILE: yield* noFile
      }
      const viaApp = yield* resolveWith({ ...both, APP_AUTH_TYPE: "m2m" })
      assert.strictEqual(viaApp.authType, "oauth-m2m")
      assert.strictEqual(viaApp.chosenBy, "APP_AUTH_TYPE")
      const viaDatabricks = yield* resolveWith({ ...both, DATABRICKS_AUTH_TYPE: "pat" })
      assert.strictEqual(viaDatabricks.authType, "pat")
      assert.strictEqual(viaDatabricks.chosenBy, "DATABRICKS_AUTH_TYPE")
      const tokenEnv = yield* resolveWith({ ...both, APP_AUTH_TYPE: "token_env", DATABRICKS_ACCESS_TOKEN: "t" })
      assert.strictEqual(tokenEnv.authType, "token-env")
    }))

  it.scoped("an explicit profile", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig(`
[DEFAULT]
host = https://default.example.com
token = dapi-default

[dev]
host = https://dev.example.com
client_id = sp-dev
client_secret = dose-dev
`)
      const config = yield* resolveWith({ DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: "dev" })
      assert.strictEqual(config.authType, "oauth-m2m")
      assert.deepStrictEqual(config.host, Option.some("https://dev.example.com"))
      assert.deepStrictEqual(config.sources, {
        host: "profile:dev",
        client_id: "profile:dev",
        client_secret: "profile:dev"
      })
      assert.deepStrictEqual(config.profile, Option.some({ name: "dev", file }))
      // [DEFAULT] keys are not merged into a named profile.
      const viaOption = yield* resolveWith({ DATABRICKS_CONFIG_FILE: file }, { profile: "dev" })
      assert.strictEqual(viaOption.authType, "oauth-m2m")
      // Without a name, [DEFAULT] applies.
      const fallback = yield* resolveWith({ DATABRICKS_CONFIG_FILE: file })
      assert.strictEqual(fallback.authType, "pat")
      assert.deepStrictEqual(fallback.sources, { host: "profile:DEFAULT", token: "profile:DEFAULT" })
    }))

  it.scoped("[__settings__] default_profile picks the profile", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig(`
[__settings__]
default_profile = staging

[DEFAULT]
host = https://default.example.com
token = dapi-default

[staging]
host = https://staging.example.com
token = dapi-staging
`)
      const config = yield* resolveWith({ DATABRICKS_CONFIG_FILE: file })
      assert.deepStrictEqual(config.host, Option.some("https://staging.example.com"))
      assert.deepStrictEqual(config.profile, Option.some({ name: "staging", file }))
    }))

  it.scoped("a missing profile is an error that lists the ones there are", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig("[dev]\nhost = https://dev.example.com\ntoken = dapi-x\n")
      const error = yield* Effect.flip(resolveWith({ DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: "prod" }))
      assert.strictEqual(error.setting, "DATABRICKS_CONFIG_PROFILE")
      assert.include(error.message, "has no prod profile configured")
      assert.include(error.hint, "dev")
      const noFileError = yield* Effect.flip(
        resolveWith({ DATABRICKS_CONFIG_FILE: yield* noFile, DATABRICKS_CONFIG_PROFILE: "prod" })
      )
      // A named profile in a file that does not exist is no profile, as both SDKs have it: the error is that
      // nothing is configured, and it says why the profile was not read.
      assert.include(noFileError.message, "No Databricks credentials are configured")
      assert.include(noFileError.message, "the profile prod was asked for by DATABRICKS_CONFIG_PROFILE, but")
      assert.include(noFileError.message, "does not exist")
    }))

  it.scoped("nothing set is an error listing what to set for each method", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolveWith({ DATABRICKS_CONFIG_FILE: yield* noFile }))
      assert.strictEqual(error._tag, "ConfigurationError")
      assert.include(error.message, "No Databricks credentials are configured")
      for (
        const name of [
          "DATABRICKS_TOKEN",
          "DATABRICKS_CLIENT_ID",
          "DATABRICKS_CLIENT_SECRET",
          "DATABRICKS_CONFIG_PROFILE"
        ]
      ) {
        assert.include(error.hint, name)
      }
    }))

  it.scoped("options win over env, env over the profile; the profile is skipped when env configures a credential", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig("[DEFAULT]\nhost = https://profile.example.com\ntoken = dapi-profile\n")
      const config = yield* resolveWith(
        {
          DATABRICKS_CONFIG_FILE: file,
          DATABRICKS_HOST: "https://env.example.com",
          DATABRICKS_CLIENT_ID: "sp-env",
          DATABRICKS_CLIENT_SECRET: "dose-env"
        },
        { host: "https://option.example.com" }
      )
      // No conflict with the profile's token: the profile was not read at all.
      assert.strictEqual(config.authType, "oauth-m2m")
      assert.deepStrictEqual(config.host, Option.some("https://option.example.com"))
      assert.deepStrictEqual(config.sources, { host: "option", client_id: "env", client_secret: "env" })
      assert.isTrue(Option.isNone(config.profile))
    }))

  it.scoped("empty environment variables count as unset, as in the Databricks SDKs", () =>
    Effect.gen(function*() {
      const config = yield* resolveWith({
        DATABRICKS_HOST: "h.example.com",
        DATABRICKS_TOKEN: "dapi-1",
        DATABRICKS_CLIENT_ID: "  ",
        DATABRICKS_CLIENT_SECRET: "",
        DATABRICKS_CONFIG_FILE: yield* noFile
      })
      assert.strictEqual(config.authType, "pat")
    }))
})

describe("AuthConfig.layer", () => {
  const emulated = (env: (emulator: Emulator.Emulator) => Record<string, string>) =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* noFile
      return WorkspaceClient.layer().pipe(
        Layer.provideMerge(AuthConfig.layer()),
        Layer.provide(NodeContext.layer),
        Layer.provide(withEnv({ DATABRICKS_CONFIG_FILE: file, ...env(emulator) })),
        Layer.provide(Emulator.httpClient),
        Layer.provide(Layer.succeed(Emulator.Emulator, emulator))
      )
    })

  it.scoped("resolves M2M from the environment, logs one line without secrets, and works end to end", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => lines.push(String(message)))
      const emulator = yield* Emulator.Emulator
      const layer = yield* emulated((e) => ({
        DATABRICKS_HOST: e.host,
        DATABRICKS_CLIENT_ID: e.servicePrincipal.clientId,
        DATABRICKS_CLIENT_SECRET: Redacted.value(e.servicePrincipal.clientSecret)
      }))
      const [config, me, authType] = yield* Effect.all([
        AuthConfig.AuthConfig,
        WorkspaceClient.currentUser,
        Effect.map(TokenSource.TokenSource, (s) => s.authType)
      ]).pipe(
        Effect.provide(layer),
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.Info)
      )
      assert.strictEqual(config.authType, "oauth-m2m")
      assert.strictEqual(authType, "oauth-m2m")
      assert.strictEqual(me.userName, emulator.servicePrincipal.clientId)
      const resolvedLines = lines.filter((line) => line.startsWith("Databricks auth:"))
      assert.strictEqual(resolvedLines.length, 1)
      assert.include(resolvedLines[0], `oauth-m2m as ${emulator.servicePrincipal.clientId} for ${emulator.host}`)
      assert.include(resolvedLines[0], "client_secret from env")
      for (const line of lines) assert.notInclude(line, Redacted.value(emulator.servicePrincipal.clientSecret))
    }).pipe(Effect.provide(Emulator.layer())))

  it.scoped("resolves a PAT from a profile, and WorkspaceClient takes the host from it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = yield* writeConfig(`[work]\nhost = ${emulator.host}\ntoken = ${Redacted.value(emulator.pat)}\n`)
      const layer = WorkspaceClient.layer().pipe(
        Layer.provideMerge(AuthConfig.layer()),
        Layer.provide(NodeContext.layer),
        Layer.provide(withEnv({ DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: "work" })),
        Layer.provide(Emulator.httpClient),
        Layer.provide(Layer.succeed(Emulator.Emulator, emulator))
      )
      const me = yield* WorkspaceClient.currentUser.pipe(Effect.provide(layer))
      assert.strictEqual(me.displayName, "Ada Lovelace")
    }).pipe(Effect.provide(Emulator.layer())))

  it.scoped("U2M without a client id resolves to the Databricks CLI's public app, not an error", () =>
    Effect.gen(function*() {
      const config = yield* resolveWith({
        DATABRICKS_AUTH_TYPE: "external-browser",
        DATABRICKS_HOST: "https://h.example.com",
        DATABRICKS_CONFIG_FILE: yield* noFile
      })
      assert.strictEqual(config.authType, "oauth-u2m")
      assert.strictEqual(config.chosenBy, "DATABRICKS_AUTH_TYPE")
      // No client id configured: U2MPkce uses databricks-cli (U2MDefaults.test.ts logs in with it).
      assert.isTrue(Option.isNone(config.clientId))
    }))
})

/** A Databricks CLI of more than 1 MiB (the SDKs take a smaller one for the legacy Python CLI) that prints `json`. */
const bigCli = (json: string) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    Fs.writeFileSync(
      Path.join(dir, "databricks"),
      `#!/bin/sh\necho '${json}'\nexit 0\n# ${"x".repeat(1024 * 1024)}\n`,
      { mode: 0o755 }
    )
    return dir
  })

const jwt = (claims: object) =>
  [{ alg: "none" }, claims].map((part) => Encoding.encodeBase64Url(JSON.stringify(part))).join(".") + ".sig"

describe("AuthConfig: the resolution report", () => {
  it.scoped("nothing found lists every method of the default chain, in order, with why it did not apply", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(resolveWith({
        DATABRICKS_HOST: "https://h.example.com",
        DATABRICKS_CONFIG_FILE: yield* noFile
      }))
      assert.strictEqual(error.setting, "credentials")
      const positions = AuthConfig.defaultChain.map((method) => error.message.indexOf(`${method} (`))
      for (const [index, position] of positions.entries()) {
        assert.isAbove(position, -1, `${AuthConfig.defaultChain[index]} is listed`)
        if (index > 0) assert.isAbove(position, positions[index - 1], "in the chain's order")
      }
      assert.include(error.message, "pat (DATABRICKS_TOKEN not set)")
      assert.include(error.message, "oauth-m2m (DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET not set)")
      assert.include(error.message, "azure-cli (the host is not an Azure Databricks workspace)")
      assert.include(error.message, "databricks-cli (the Databricks CLI: databricks is not on PATH)")
      // With a host set and no profile named, the config file is not read (as the SDKs' loader decides).
      assert.include(error.message, "was not read (settings were given)")
    }))

  it.scoped("the default chain's order is the Python SDK's (credentials_provider.py DefaultCredentials)", () =>
    Effect.sync(() =>
      assert.deepStrictEqual(AuthConfig.defaultChain, [
        "pat",
        "token-env",
        "metadata-service",
        "oauth-m2m",
        "env-oidc",
        "file-oidc",
        "github-oidc",
        "azure-msi",
        "azure-client-secret",
        "azure-cli",
        "databricks-cli"
      ])
    ))

  it.scoped("the principal of a token-env JWT is its sub, read without a request", () =>
    Effect.gen(function*() {
      const config = yield* resolveWith({
        DATABRICKS_HOST: "https://h.example.com",
        DATABRICKS_ACCESS_TOKEN: jwt({ sub: "ada@example.com", exp: 4_102_444_800 }),
        DATABRICKS_CONFIG_FILE: yield* noFile
      })
      assert.strictEqual(config.authType, "token-env")
      assert.deepStrictEqual(config.principal, Option.some("ada@example.com"))
      assert.include(AuthConfig.describe(config), "token-env as ada@example.com for https://h.example.com")
    }))

  it.scoped("sources name option, env and the profile; the warehouse is reported with them", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig("[dev]\nhost: https://dev.example.com\nclient_id: sp-dev\nwarehouse_id: abc123\n")
      const config = yield* resolveWith(
        { DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: "dev", DATABRICKS_CLIENT_SECRET: "dose" },
        { authType: "oauth-m2m" }
      )
      assert.deepStrictEqual(config.sources, {
        host: "profile:dev",
        client_id: "profile:dev",
        client_secret: "env",
        warehouse_id: "profile:dev"
      })
      assert.strictEqual(config.chosenBy, "authType")
      assert.deepStrictEqual(
        Option.map(config.workspace.httpPath, (path) => path.value),
        Option.some("/sql/1.0/warehouses/abc123")
      )
      assert.deepStrictEqual(config.principal, Option.some("sp-dev"))
    }))

  it.scoped("a host alone falls back to the Databricks CLI: logged, exposed, and it works end to end", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const bin = yield* bigCli(`{"access_token": "${Redacted.value(emulator.pat)}", "token_type": "Bearer"}`)
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => lines.push(String(message)))
      const layer = WorkspaceClient.layer().pipe(
        Layer.provideMerge(AuthConfig.layer()),
        Layer.provide(NodeContext.layer),
        Layer.provide(withEnv({ DATABRICKS_HOST: emulator.host, PATH: bin, DATABRICKS_CONFIG_FILE: yield* noFile })),
        Layer.provide(Emulator.httpClient),
        Layer.provide(Layer.succeed(Emulator.Emulator, emulator))
      )
      const [config, me] = yield* Effect.all([AuthConfig.AuthConfig, WorkspaceClient.currentUser]).pipe(
        Effect.provide(layer),
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.Info)
      )
      assert.strictEqual(config.authType, "databricks-cli")
      assert.strictEqual(config.chosenBy, "default chain")
      assert.strictEqual(config.tried.length, AuthConfig.defaultChain.length - 1)
      assert.strictEqual(me.displayName, "Ada Lovelace")
      const resolved = lines.filter((line) => line.startsWith("Databricks auth:"))
      assert.deepStrictEqual(resolved, [
        `Databricks auth: databricks-cli for ${emulator.host} (chosen by default chain; host from env)`
      ])
      for (const line of lines) assert.notInclude(line, Redacted.value(emulator.pat))
    }).pipe(Effect.provide(Emulator.layer())))
})
