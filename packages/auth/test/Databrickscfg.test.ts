/**
 * `~/.databrickscfg` is read as the Databricks SDKs read it: databricks-sdk-py with Python's `configparser`
 * (`ConfigParser()` defaults: `=` and `:` delimiters, `#` and `;` whole-line comments, no inline comments,
 * indented continuation lines, keys lower-cased, `[DEFAULT]` apart), and where Python refuses a file that the
 * Go SDK and the Databricks CLI (gopkg.in/ini.v1) accept, accepted as they accept it. A line an SDK accepts
 * never fails the whole file.
 */
import { AuthConfig } from "@effect-databricks/auth"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { withEnv, writeConfig } from "./utils.js"

/** Resolves with the file as the only configuration (and a profile, when named). */
const read = (text: string, profile?: string, options?: AuthConfig.Options) =>
  Effect.flatMap(writeConfig(text), (file) =>
    AuthConfig.resolve(options).pipe(
      Effect.provide(
        withEnv({
          DATABRICKS_CONFIG_FILE: file,
          ...(profile === undefined ? {} : { DATABRICKS_CONFIG_PROFILE: profile })
        })
      )
    ))

const hostOf = (config: AuthConfig.AuthConfig) => Option.getOrUndefined(config.host)

describe("~/.databrickscfg, parsed as the SDKs parse it", () => {
  it.scoped("key: value and key = value, with or without spaces; the first = or : splits", () =>
    Effect.gen(function*() {
      const colon = yield* read("[p]\nhost: https://colon.example.com:8443\ntoken:dapi-1\n", "p")
      assert.strictEqual(hostOf(colon), "https://colon.example.com:8443")
      assert.strictEqual(colon.authType, "pat")
      const equals = yield* read("[p]\nhost=https://equals.example.com\ntoken =dapi=with=equals\n", "p")
      assert.strictEqual(hostOf(equals), "https://equals.example.com")
      assert.strictEqual(equals.authType, "pat")
    }))

  it.scoped("# and ; comments, indented or not; text after a value is part of it (Python has no inline comments)", () =>
    Effect.gen(function*() {
      const config = yield* read(
        [
          "# a comment",
          "; another",
          "[p]",
          "  # an indented comment",
          "host = https://c.example.com",
          "client_id = sp-1 # not a comment",
          "  ; indented again",
          "client_secret = dose"
        ].join("\n"),
        "p"
      )
      assert.strictEqual(config.authType, "oauth-m2m")
      assert.deepStrictEqual(config.principal, Option.some("sp-1 # not a comment"))
    }))

  it.scoped("keys are not case-sensitive; profile names are", () =>
    Effect.gen(function*() {
      const config = yield* read("[Dev]\nHOST = https://k.example.com\nToken = dapi-1\n", "Dev")
      assert.strictEqual(config.authType, "pat")
      assert.strictEqual(hostOf(config), "https://k.example.com")
      const error = yield* Effect.flip(read("[Dev]\nhost = https://k.example.com\ntoken = dapi-1\n", "dev"))
      assert.include(error.message, "has no dev profile configured")
      assert.include(error.hint, "Dev")
    }))

  it.scoped("an indented line continues the value above it; a continued key does not stop the file", () =>
    Effect.gen(function*() {
      const config = yield* read(
        [
          "[p]",
          "description = a profile",
          "    that says more",
          "",
          "    after a blank line",
          "host =",
          "    https://cont.example.com",
          "token = dapi-1"
        ].join("\n"),
        "p"
      )
      assert.strictEqual(hostOf(config), "https://cont.example.com")
      assert.strictEqual(config.authType, "pat")
    }))

  it.scoped("[DEFAULT] is not merged into a named profile; keys before any header belong to DEFAULT", () =>
    Effect.gen(function*() {
      const text = "host = https://top.example.com\ntoken = dapi-top\n\n[p]\nhost = https://p.example.com\n"
      const fallback = yield* read(text)
      assert.strictEqual(hostOf(fallback), "https://top.example.com")
      assert.deepStrictEqual(fallback.sources, { host: "profile:DEFAULT", token: "profile:DEFAULT" })
      // [p] has no token of its own: DEFAULT's is not inherited (databricks-sdk-py reads _sections, not items()).
      const named = yield* Effect.flip(read(text, "p"))
      assert.include(named.message, "No Databricks credentials are configured")
      assert.include(named.message, "pat (DATABRICKS_TOKEN not set)")
    }))

  it.scoped("a repeated section adds to the first, a repeated key takes the last value (the Go SDK and the CLI)", () =>
    Effect.gen(function*() {
      const config = yield* read(
        "[p]\nhost = https://first.example.com\n[q]\nhost = https://q.example.com\n[p]\nhost = https://last.example.com\ntoken = dapi-1\n",
        "p"
      )
      assert.strictEqual(hostOf(config), "https://last.example.com")
      assert.strictEqual(config.authType, "pat")
    }))

  it.scoped("keys the SDKs ignore do not fail the file (spaces, brackets, settings of other tools)", () =>
    Effect.gen(function*() {
      const config = yield* read(
        [
          "[__settings__]",
          "default_profile = p",
          "[p]",
          "host = https://i.example.com",
          "token = dapi-1",
          "rate_limit=34",
          "my key = with spaces",
          "x[1] = brackets",
          "jobs-api-version = 2.1",
          "scopes = clusters, jobs"
        ].join("\n")
      )
      assert.strictEqual(config.authType, "pat")
      assert.deepStrictEqual(Option.map(config.profile, (p) => p.name), Option.some("p"))
    }))

  it.scoped("CRLF line ends and a byte-order mark; a value in quotes loses them", () =>
    Effect.gen(function*() {
      const config = yield* read("\uFEFF[p]\r\nhost = \"https://q.example.com\"\r\ntoken = 'dapi-1'\r\n", "p")
      assert.strictEqual(hostOf(config), "https://q.example.com")
      assert.strictEqual(config.authType, "pat")
    }))

  it.scoped("an empty value is unset, as an empty environment variable is", () =>
    Effect.gen(function*() {
      const config = yield* read("[p]\nhost = https://e.example.com\ntoken =\nclient_id = sp\nclient_secret = s\n", "p")
      assert.strictEqual(config.authType, "oauth-m2m")
    }))

  it.scoped("lines both SDKs refuse still fail, naming the line", () =>
    Effect.gen(function*() {
      for (
        const [text, line] of [
          ["[p]\nhost = https://x.example.com\njust words\n", "line 3"],
          ["[p]\n= value\n", "line 2"],
          ["[]\nhost = h\n", "line 1"]
        ] as const
      ) {
        const error = yield* Effect.flip(read(text, "p"))
        assert.strictEqual(error._tag, "ConfigurationError")
        assert.include(error.message, line)
      }
    }))
})
