import { AuthConfig, DatabricksCli, TokenSource } from "@effect-databricks/auth"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Encoding, Layer, Logger, LogLevel, Option, Redacted, TestClock } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { drive, tempDir, until, withEnv } from "./utils.js"

const jwt = (claims: object) =>
  [{ alg: "none" }, claims].map((part) => Encoding.encodeBase64Url(JSON.stringify(part))).join(".") + ".sig"

/**
 * Writes a fake `databricks` into a fresh directory and returns an environment whose PATH finds
 * it first. Each run appends its arguments to `calls`.
 */
const fakeCli = (body: string) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const calls = Path.join(dir, "calls")
    Fs.writeFileSync(Path.join(dir, "databricks"), `#!/bin/sh\necho "$@" >> "${calls}"\n${body}\n`, { mode: 0o755 })
    return {
      env: { PATH: `${dir}:${process.env.PATH}` },
      calls: () => Fs.existsSync(calls) ? Fs.readFileSync(calls, "utf8").trim().split("\n") : []
    }
  })

const run = (env: Record<string, string>, options?: DatabricksCli.Options) =>
  Effect.flatMap(TokenSource.TokenSource, (source) => source.token).pipe(
    Effect.provide(DatabricksCli.layer({ host: "https://dbc-1.cloud.databricks.com", ...options })),
    Effect.provide(NodeContext.layer),
    Effect.provide(withEnv(env))
  )

describe("DatabricksCli", () => {
  it.scoped("runs `databricks auth token --host H`, reads the token and its expiry with the offset", () =>
    Effect.gen(function*() {
      const token = jwt({ sub: "ada@example.com" })
      const { calls, env } = yield* fakeCli(
        `echo '{"access_token": "${token}", "token_type": "Bearer", "expiry": "2030-01-01T10:00:00.123456789+02:00"}'`
      )
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => lines.push(String(message)))
      const access = yield* run(env).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.Info)
      )
      assert.strictEqual(Redacted.value(access.value), token)
      assert.deepStrictEqual(
        Option.map(access.expiresAt, DateTime.formatIso),
        Option.some("2030-01-01T08:00:00.123Z")
      )
      assert.deepStrictEqual(calls(), ["auth token --host https://dbc-1.cloud.databricks.com"])
      assert.isTrue(lines.some((line) => line.includes("belongs to ada@example.com")))
      assert.isFalse(lines.some((line) => line.includes(token)))
    }))

  it.scoped("uses --profile when a profile is given, and authType databricks-cli", () =>
    Effect.gen(function*() {
      const { calls, env } = yield* fakeCli(`echo '{"access_token": "opaque", "token_type": "Bearer"}'`)
      yield* Effect.gen(function*() {
        const source = yield* TokenSource.TokenSource
        assert.strictEqual(source.authType, "databricks-cli")
        yield* source.token
      }).pipe(
        Effect.provide(DatabricksCli.layer({ profile: "dev" })),
        Effect.provide(NodeContext.layer),
        Effect.provide(withEnv(env))
      )
      assert.deepStrictEqual(calls(), ["auth token --profile dev"])
    }))

  it.scoped("refreshes ahead of expiry by running the CLI again", () =>
    Effect.gen(function*() {
      const now = yield* TestClock.currentTimeMillis
      const expiry = new Date(now + 600_000).toISOString()
      const { calls, env } = yield* fakeCli(
        `echo '{"access_token": "t", "token_type": "Bearer", "expiry": "${expiry}"}'`
      )
      yield* Effect.gen(function*() {
        const source = yield* TokenSource.TokenSource
        yield* source.token
        yield* source.token
        assert.lengthOf(calls(), 1)
        yield* TestClock.adjust(Duration.minutes(6))
        yield* source.token
        yield* until(Effect.sync(() => calls().length === 2), "the second CLI run")
      }).pipe(
        Effect.provide(DatabricksCli.layer({ host: "h.example.com" })),
        Effect.provide(NodeContext.layer),
        Effect.provide(withEnv(env))
      )
    }))

  it.scoped("a non-zero exit is an AuthenticationError with the stderr, secrets redacted", () =>
    Effect.gen(function*() {
      const { env } = yield* fakeCli(
        `echo 'Error: token refresh failed: refresh_token=abc123secret, cached dapi0123456789abcdef0123456789abcdef' >&2\nexit 1`
      )
      const error = yield* Effect.flip(run(env))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "exit code 1")
      assert.include(error.message, "token refresh failed")
      assert.notInclude(error.message, "abc123secret")
      assert.notInclude(error.message, "dapi0123456789abcdef")
      assert.include(error.hint, "databricks auth login --host https://dbc-1.cloud.databricks.com")
    }))

  it.scoped("'databricks OAuth is not …' says to log in with the CLI", () =>
    Effect.gen(function*() {
      const { env } = yield* fakeCli(`echo 'Error: databricks OAuth is not supported for this host' >&2\nexit 1`)
      const error = yield* Effect.flip(run(env))
      assert.include(error.hint, "no OAuth login")
    }))

  it.scoped("a CLI that hangs is stopped at the deadline", () =>
    Effect.gen(function*() {
      const { env } = yield* fakeCli("exec sleep 30")
      const error = yield* drive(Effect.flip(run(env, { timeout: "5 seconds" })))
      assert.include(error.message, "did not finish within 5s")
    }))

  it.scoped("a missing CLI says to install it or choose another auth type", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const error = yield* Effect.flip(run({ PATH: dir }))
      assert.include(error.message, "was not found")
      assert.include(error.hint, "Install the Databricks CLI")
      assert.include(error.hint, "choose another auth type")
    }))

  it.scoped("output that is not a JSON token is an error that does not echo it", () =>
    Effect.gen(function*() {
      const { env } = yield* fakeCli(`echo 'access token: eyJabc.def.ghi'`)
      const error = yield* Effect.flip(run(env))
      assert.include(error.message, "did not print a bearer token as JSON")
      assert.notInclude(error.message, "eyJabc")
    }))

  it.scoped("AuthConfig resolves databricks_cli, passing the profile it read", () =>
    Effect.gen(function*() {
      const { calls, env } = yield* fakeCli(`echo '{"access_token": "t", "token_type": "Bearer"}'`)
      const dir = yield* tempDir
      const file = Path.join(dir, "cfg")
      Fs.writeFileSync(file, "[work]\nhost = https://work.example.com\nauth_type = databricks-cli\n")
      yield* Effect.gen(function*() {
        const config = yield* AuthConfig.AuthConfig
        const source = yield* TokenSource.TokenSource
        assert.strictEqual(config.authType, "databricks-cli")
        assert.strictEqual(source.authType, "databricks-cli")
        yield* source.token
      }).pipe(
        Effect.provide(AuthConfig.layer()),
        Effect.provide(Layer.merge(NodeContext.layer, NodeHttpClient.layerUndici)),
        Effect.provide(withEnv({ ...env, DATABRICKS_CONFIG_FILE: file, DATABRICKS_CONFIG_PROFILE: "work" }))
      )
      assert.deepStrictEqual(calls(), ["auth token --profile work"])
    }))
})
