/**
 * Hostile local configuration: config files and token caches that are not regular files (a FIFO blocked
 * `AuthConfig` forever), oversized files, and auth types, profile names and keys that are names of
 * `Object.prototype` members (`constructor` used to build a layer without a `TokenSource`).
 *
 * The file cases use real FIFOs (mkfifo), directories and devices in a temporary directory, and the live
 * clock with a bound, so a hang fails the case.
 */
import { AuthConfig, TokenCache, TokenSource, U2MPkce } from "@effect-databricks/auth"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Option, Redacted } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { expectFailure, runCase } from "./hostile.js"
import { tempDir, withEnv, writeConfig } from "./utils.js"

const fifoIn = (dir: string, name = "databrickscfg") => {
  const path = Path.join(dir, name)
  ChildProcess.execFileSync("mkfifo", [path])
  return path
}

const resolveWith = (env: Record<string, string>, options?: AuthConfig.Options) =>
  AuthConfig.resolve(options).pipe(Effect.provide(withEnv(env)))

/** AuthConfig.layer built as an app would build it: the layer, then a token. */
const buildWith = (env: Record<string, string>) =>
  Effect.flatMap(TokenSource.TokenSource, (source) => source.token).pipe(
    Effect.provide(AuthConfig.layer()),
    Effect.provide(Layer.merge(NodeHttpClient.layer, NodeContext.layer)),
    Effect.provide(withEnv(env))
  )

const token = "zq9-profile-token-value"

describe("config files that are not regular files are refused, never read", () => {
  it.scopedLive("a FIFO as DATABRICKS_CONFIG_FILE is a ConfigurationError naming the file", () =>
    Effect.gen(function*() {
      const path = fifoIn(yield* tempDir)
      const error = expectFailure(
        yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: path })),
        "ConfigurationError",
        []
      )
      assert.strictEqual(error.setting, "DATABRICKS_CONFIG_FILE")
      assert.include(error.message, `${path} could not be read: it is a FIFO (named pipe), not a regular file`)
      assert.include(error.hint, "regular text file")
    }))

  it.scopedLive("a FIFO as ~/.databrickscfg in the user's home is refused the same way", () =>
    Effect.gen(function*() {
      const home = yield* tempDir
      const path = fifoIn(home, ".databrickscfg")
      const previous = process.env.HOME
      yield* Effect.acquireRelease(
        Effect.sync(() => (process.env.HOME = home)),
        () => Effect.sync(() => (previous === undefined ? delete process.env.HOME : (process.env.HOME = previous)))
      )
      assert.strictEqual(Os.homedir(), home, "the temporary HOME is in effect")
      const error = expectFailure(yield* runCase(resolveWith({})), "ConfigurationError", [])
      assert.include(error.message, `${path} could not be read: it is a FIFO`)
    }))

  it.scopedLive("a FIFO behind a symlink, a named profile and the configFile option", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const fifo = fifoIn(dir)
      const link = Path.join(dir, "link")
      Fs.symlinkSync(fifo, link)
      const viaLink = expectFailure(
        yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: link, DATABRICKS_CONFIG_PROFILE: "dev" })),
        "ConfigurationError",
        []
      )
      assert.include(viaLink.message, "FIFO")
      const viaOption = expectFailure(yield* runCase(resolveWith({}, { configFile: fifo })), "ConfigurationError", [])
      assert.strictEqual(viaOption.setting, "configFile")
      assert.include(viaOption.message, fifo)
    }))

  it.scopedLive("a FIFO config file fails AuthConfig.layer too, with no token requested", () =>
    Effect.gen(function*() {
      const path = fifoIn(yield* tempDir)
      const error = expectFailure(
        yield* runCase(buildWith({ DATABRICKS_CONFIG_FILE: path })),
        "ConfigurationError",
        []
      )
      assert.include(error.message, "FIFO")
    }))

  it.scopedLive("a directory, a character device and an oversized file are refused with what they are", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const directory = expectFailure(
        yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: dir })),
        "ConfigurationError",
        []
      )
      assert.include(directory.message, `${dir} could not be read: it is a directory`)

      // /dev/zero never ends: reading it whole would never finish.
      const device = expectFailure(
        yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: "/dev/zero" })),
        "ConfigurationError",
        []
      )
      assert.include(device.message, "/dev/zero could not be read: it is a character device")

      const large = Path.join(dir, "large")
      Fs.writeFileSync(large, `[DEFAULT]\nhost = https://h.example.com\n# ${"x".repeat(1024 * 1024)}\n`)
      const oversized = expectFailure(
        yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: large })),
        "ConfigurationError",
        []
      )
      assert.include(oversized.message, `${large} could not be read: it is larger than 1048576 bytes`)
    }))

  it.scopedLive("a regular config file just under the limit is still read", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig(
        `[DEFAULT]\nhost = https://h.example.com\ntoken = ${token}\n# ${"x".repeat(1000 * 1000)}\n`
      )
      const outcome = yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: file }))
      assert.isTrue(Exit.isSuccess(outcome.exit))
      if (Exit.isSuccess(outcome.exit)) assert.strictEqual(outcome.exit.value.authType, "pat")
    }))
})

describe("a token cache that is not a regular file is a miss with a warning, never a hang", () => {
  it.scopedLive("TokenCache.file on a FIFO and on a directory", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      for (const path of [fifoIn(dir, "cache.json"), dir]) {
        const outcome = yield* runCase(TokenCache.file(path).load("key"))
        assert.isTrue(Exit.isSuccess(outcome.exit))
        if (Exit.isSuccess(outcome.exit)) assert.isTrue(Option.isNone(outcome.exit.value))
        assert.isTrue(
          outcome.lines.some((line) => line.includes(`ignoring the token cache: ${path} could not be read: it is a`)),
          "the refusal was logged with the file's name"
        )
      }
    }))

  it.scopedLive("U2MPkce with a FIFO in its default cache file asks for a login instead of hanging", () =>
    Effect.gen(function*() {
      const config = yield* tempDir
      const host = "https://dbc-1.cloud.databricks.com"
      const cacheDir = TokenCache.defaultDirectory({ XDG_CONFIG_HOME: config })
      Fs.mkdirSync(cacheDir, { recursive: true })
      fifoIn(cacheDir, `${TokenCache.key(host, "app", ["all-apis", "offline_access"])}.json`)
      const layer = U2MPkce.layer({ host, clientId: "app", interactive: false }).pipe(
        Layer.provide(NodeHttpClient.layer),
        Layer.provide(withEnv({ XDG_CONFIG_HOME: config }))
      )
      const outcome = yield* runCase(
        Effect.flatMap(TokenSource.TokenSource, (s) => s.token).pipe(Effect.provide(layer))
      )
      const error = expectFailure(outcome, "AuthenticationError", [])
      assert.include(error.message, "no cached login")
      assert.isTrue(outcome.lines.some((line) => line.includes("FIFO")), "the refused cache was logged")
    }))
})

describe("auth types, profile names and keys never reach Object.prototype", () => {
  const prototypeNames = ["constructor", "__proto__", "hasOwnProperty", "toString", "valueOf", "__defineGetter__"]

  it.scopedLive("DATABRICKS_AUTH_TYPE and APP_AUTH_TYPE named after prototype members are ConfigurationErrors", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig("")
      for (const name of prototypeNames) {
        for (const variable of ["DATABRICKS_AUTH_TYPE", "APP_AUTH_TYPE"]) {
          const env = {
            DATABRICKS_HOST: "https://h.example.com",
            DATABRICKS_TOKEN: token,
            DATABRICKS_CONFIG_FILE: file,
            [variable]: name
          }
          for (const run of [resolveWith(env), buildWith(env)] as ReadonlyArray<Effect.Effect<unknown, unknown>>) {
            const error = expectFailure(yield* runCase(run), "ConfigurationError", [token])
            assert.strictEqual(error.setting, variable)
            assert.include(error.message, `${variable} is ${JSON.stringify(name)}, which is not a supported method`)
            assert.include(error.message, "Valid values: pat, oauth-m2m, oauth_m2m, m2m, oauth-u2m")
          }
        }
        const option = expectFailure(
          yield* runCase(
            resolveWith({ DATABRICKS_CONFIG_FILE: file }, { authType: name, token: Redacted.make(token) })
          ),
          "ConfigurationError",
          [token]
        )
        assert.strictEqual(option.setting, "authType")
      }
    }))

  it.scopedLive("profiles named __proto__, constructor and hasOwnProperty are ordinary profiles", () =>
    Effect.gen(function*() {
      const names = ["__proto__", "constructor", "hasOwnProperty"]
      const file = yield* writeConfig(
        names.map((name, i) => `[${name}]\nhost = https://h${i}.example.com\ntoken = ${token}-${i}\n`).join("\n")
      )
      for (const [i, name] of names.entries()) {
        const outcome = yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: name }))
        assert.isTrue(Exit.isSuccess(outcome.exit), name)
        if (Exit.isFailure(outcome.exit)) continue
        assert.strictEqual(outcome.exit.value.authType, "pat")
        assert.deepStrictEqual(outcome.exit.value.host, Option.some(`https://h${i}.example.com`))
        assert.deepStrictEqual(Option.map(outcome.exit.value.profile, (p) => p.name), Option.some(name))
      }
      // A prototype name that is not a section of the file is a missing profile, listing the real ones.
      const missing = expectFailure(
        yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: "toString" })),
        "ConfigurationError",
        [token]
      )
      assert.include(missing.message, "has no toString profile")
      assert.include(missing.hint, "__proto__, constructor, hasOwnProperty")
    }))

  it.scopedLive("keys and a default_profile named after prototype members change nothing", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig(
        [
          "[__settings__]",
          "default_profile = __proto__",
          "[__proto__]",
          "host = https://h.example.com",
          `token = ${token}`,
          "__proto__ = polluted",
          "constructor = polluted",
          "hasownproperty = polluted",
          "auth_type = pat"
        ].join("\n")
      )
      const outcome = yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: file }))
      assert.isTrue(Exit.isSuccess(outcome.exit))
      if (Exit.isFailure(outcome.exit)) return
      assert.strictEqual(outcome.exit.value.authType, "pat")
      assert.deepStrictEqual(outcome.exit.value.sources, { host: "profile:__proto__", token: "profile:__proto__" })
      assert.isUndefined(({} as Record<string, unknown>).polluted, "Object.prototype was not touched")

      const constructorType = yield* writeConfig(`[DEFAULT]\nhost = https://h.example.com\nauth_type = constructor\n`)
      const error = expectFailure(
        yield* runCase(buildWith({ DATABRICKS_CONFIG_FILE: constructorType })),
        "ConfigurationError",
        []
      )
      assert.include(error.message, "auth_type in profile DEFAULT")
    }))
})

describe("AuthConfig options from untyped callers", () => {
  it.scopedLive("a wrong type is a ConfigurationError naming the option, and a plain-string secret is not shown", () =>
    Effect.gen(function*() {
      const file = yield* writeConfig("")
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        ["pat", "options"],
        [{ profile: 1 }, "profile"],
        [{ configFile: {} }, "configFile"],
        [{ authType: ["pat"] }, "authType"],
        [{ host: 443 }, "host"],
        [{ token }, "token"],
        [{ clientSecret: { value: token } }, "clientSecret"],
        [{ u2m: "app" }, "u2m"],
        [{ u2m: { clientSecret: token } }, "u2m.clientSecret"]
      ]
      for (const [options, setting] of cases) {
        const error = expectFailure(
          yield* runCase(resolveWith({ DATABRICKS_CONFIG_FILE: file }, options as AuthConfig.Options)),
          "ConfigurationError",
          [token]
        )
        assert.strictEqual(error.setting, setting)
        assert.include(error.message, `${setting} must be`)
      }
    }))
})
