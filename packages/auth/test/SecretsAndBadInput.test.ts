import {
  AuthConfig,
  DatabricksCli,
  LocalM2M,
  Pat,
  TokenCache,
  TokenEnv,
  TokenSource,
  U2MPkce,
  WorkspaceClient
} from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, LogLevel, Redacted } from "effect"
import { drive, tempDir, withEnv, writeConfig } from "./utils.js"

/** Everything that can show an error to a person or a log pipeline. */
const renderings = (exit: Exit.Exit<unknown, unknown>): ReadonlyArray<string> => {
  if (Exit.isSuccess(exit)) return []
  const failures = [...Cause.failures(exit.cause)] as Array<any>
  return [
    Cause.pretty(exit.cause),
    ...failures.flatMap((error) => [String(error), JSON.stringify(error), error.message ?? "", error.hint ?? ""]),
    ...failures.flatMap((error) => error.cause === undefined ? [] : [String(error.cause), JSON.stringify(error.cause)])
  ]
}

describe("secrets", () => {
  it.scoped("no client secret, PAT or access token appears in any error or log line", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ annotations, cause, message }) => {
        lines.push(JSON.stringify({ message, annotations: [...annotations] }), Cause.pretty(cause))
      })
      const emulator = yield* Emulator.Emulator
      const secret = Redacted.value(emulator.servicePrincipal.clientSecret)
      const pat = Redacted.value(emulator.pat)
      const http = Emulator.httpClient.pipe(Layer.provide(Layer.succeed(Emulator.Emulator, emulator)))
      const run = <A, E>(
        layer: Layer.Layer<WorkspaceClient.WorkspaceClient | TokenSource.TokenSource, E>,
        go: Effect.Effect<A, unknown, WorkspaceClient.WorkspaceClient | TokenSource.TokenSource>
      ) =>
        drive(Effect.exit(go.pipe(Effect.provide(layer)))).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
      const client = (credential: Layer.Layer<TokenSource.TokenSource, unknown, any>) =>
        WorkspaceClient.layer({ host: emulator.host }).pipe(
          Layer.provideMerge(credential),
          Layer.provide(http)
        ) as Layer.Layer<
          WorkspaceClient.WorkspaceClient | TokenSource.TokenSource,
          unknown
        >

      // A working M2M client, to learn a real access token for the scan.
      const good = yield* run(
        client(
          LocalM2M.layer({
            host: emulator.host,
            clientId: emulator.servicePrincipal.clientId,
            clientSecret: emulator.servicePrincipal.clientSecret
          })
        ),
        Effect.flatMap(TokenSource.TokenSource, (source) => source.token)
      )
      assert.isTrue(Exit.isSuccess(good))
      const accessToken = Exit.isSuccess(good) ? Redacted.value(good.value.value) : ""

      yield* emulator.faults.add({
        target: "scim",
        status: 403,
        body: "{\"message\":\"Invalid access token.\"}",
        count: 2
      })
      const exits: Array<Exit.Exit<unknown, unknown>> = [
        // Wrong secret (the real one plus a character, so a partial echo would show).
        yield* run(
          client(
            LocalM2M.layer({
              host: emulator.host,
              clientId: emulator.servicePrincipal.clientId,
              clientSecret: Redacted.make(`${secret}x`)
            })
          ),
          WorkspaceClient.currentUser
        ),
        // Expired-token answers, refreshed once, then refused again.
        yield* run(
          client(
            LocalM2M.layer({
              host: emulator.host,
              clientId: emulator.servicePrincipal.clientId,
              clientSecret: emulator.servicePrincipal.clientSecret
            })
          ),
          WorkspaceClient.currentUser
        ),
        // An unknown PAT.
        yield* run(client(Pat.layer({ token: Redacted.make(`${pat}x`) })), WorkspaceClient.currentUser),
        // An unreachable token endpoint.
        yield* run(
          client(LocalM2M.layer({
            host: emulator.host,
            clientId: emulator.servicePrincipal.clientId,
            clientSecret: emulator.servicePrincipal.clientSecret,
            tokenEndpoint: "http://127.0.0.1:9/token",
            retry: { times: 1 }
          })),
          WorkspaceClient.currentUser
        ),
        // A conflict with secrets in the environment.
        yield* Effect.exit(
          AuthConfig.resolve().pipe(Effect.provide(withEnv({
            DATABRICKS_HOST: emulator.host,
            DATABRICKS_TOKEN: pat,
            DATABRICKS_CLIENT_ID: "x",
            DATABRICKS_CLIENT_SECRET: secret,
            DATABRICKS_CONFIG_FILE: "/nonexistent/cfg"
          })))
        )
      ]
      assert.isTrue(exits.every((exit) => Exit.isFailure(exit)))
      const texts = [...exits.flatMap(renderings), ...lines]
      assert.isAbove(lines.length, 0, "no log lines were captured")
      for (const text of texts) {
        for (const value of [secret, pat, accessToken]) assert.notInclude(text, value)
      }
    }).pipe(Effect.provide(Emulator.layer())), { timeout: 30_000 })
})

describe("bad input gives a typed error, never a hang", () => {
  const m2m = (options: Partial<LocalM2M.Options>) =>
    Effect.scoped(
      LocalM2M.make({ host: "https://h.example.com", clientId: "id", clientSecret: Redacted.make("s"), ...options })
    ).pipe(Effect.provide(Emulator.httpClient), Effect.provide(Emulator.layer()))

  const cases: ReadonlyArray<readonly [string, Effect.Effect<unknown, { readonly _tag: string }>, string, string]> = [
    ["empty PAT", Pat.make({ token: Redacted.make("") }), "ConfigurationError", "token"],
    ["blank PAT", Pat.make({ token: Redacted.make("   ") }), "ConfigurationError", "token"],
    [
      "DATABRICKS_TOKEN unset",
      Effect.provide(TokenSource.TokenSource, Pat.layerConfig()).pipe(Effect.provide(withEnv({}))),
      "ConfigurationError",
      "DATABRICKS_TOKEN"
    ],
    [
      "DATABRICKS_ACCESS_TOKEN blank",
      Effect.provide(TokenSource.TokenSource, TokenEnv.layerConfig()).pipe(
        Effect.provide(withEnv({ DATABRICKS_ACCESS_TOKEN: " " }))
      ),
      "ConfigurationError",
      "DATABRICKS_ACCESS_TOKEN"
    ],
    ["ftp host", m2m({ host: "ftp://h.example.com" }), "ConfigurationError", "host"],
    ["plain http host", m2m({ host: "http://h.example.com" }), "ConfigurationError", "host"],
    ["empty host", m2m({ host: "" }), "ConfigurationError", "host"],
    ["host with spaces", m2m({ host: "my workspace" }), "ConfigurationError", "host"],
    ["empty client id", m2m({ clientId: "" }), "ConfigurationError", "clientId"],
    ["blank client secret", m2m({ clientSecret: Redacted.make("  ") }), "ConfigurationError", "clientSecret"],
    ["no scopes", m2m({ scopes: [] }), "ConfigurationError", "scopes"],
    ["a scope with a space", m2m({ scopes: ["all apis"] }), "ConfigurationError", "scopes"],
    ["token endpoint not a URL", m2m({ tokenEndpoint: "not a url" }), "ConfigurationError", "tokenEndpoint"],
    [
      "plain http token endpoint",
      m2m({ tokenEndpoint: "http://idp.example.com/token" }),
      "ConfigurationError",
      "tokenEndpoint"
    ],
    [
      "DATABRICKS_CLIENT_SECRET unset",
      Effect.provide(TokenSource.TokenSource, LocalM2M.layerConfig()).pipe(
        Effect.provide(withEnv({ DATABRICKS_HOST: "h.example.com", DATABRICKS_CLIENT_ID: "id" })),
        Effect.provide(Emulator.httpClient),
        Effect.provide(Emulator.layer())
      ),
      "ConfigurationError",
      "DATABRICKS_CLIENT_SECRET"
    ],
    [
      "unknown APP_AUTH_TYPE",
      AuthConfig.resolve().pipe(
        Effect.provide(withEnv({ APP_AUTH_TYPE: "kerberos", DATABRICKS_CONFIG_FILE: "/nonexistent" }))
      ),
      "ConfigurationError",
      "APP_AUTH_TYPE"
    ],
    [
      "unknown DATABRICKS_AUTH_TYPE",
      AuthConfig.resolve().pipe(
        Effect.provide(withEnv({ DATABRICKS_AUTH_TYPE: "kerberos", DATABRICKS_CONFIG_FILE: "/nonexistent" }))
      ),
      "ConfigurationError",
      "DATABRICKS_AUTH_TYPE"
    ],
    [
      "AuthConfig with a bad host",
      AuthConfig.resolve().pipe(
        Effect.provide(
          withEnv({ DATABRICKS_HOST: "https://", DATABRICKS_TOKEN: "t", DATABRICKS_CONFIG_FILE: "/nonexistent" })
        )
      ),
      "ConfigurationError",
      "DATABRICKS_HOST"
    ]
  ]

  const u2m = (options: Partial<U2MPkce.Options>) =>
    Effect.scoped(
      U2MPkce.make({ host: "https://h.example.com", clientId: "app", tokenCache: TokenCache.memory(), ...options })
    ).pipe(Effect.provide(Emulator.httpClient), Effect.provide(Emulator.layer()))
  const u2mCases: ReadonlyArray<readonly [string, Partial<U2MPkce.Options>, string]> = [
    ["an https redirect URI", { redirectUri: "https://localhost:8080/callback" }, "redirectUri"],
    ["a redirect URI off this machine", { redirectUri: "http://example.com:8080/callback" }, "redirectUri"],
    ["a redirect URI without a port", { redirectUri: "http://localhost/callback" }, "redirectUri"],
    ["a redirect URI with a fragment", { redirectUri: "http://localhost:8080/callback#x" }, "redirectUri"],
    ["a redirect URI that is not a URL", { redirectUri: "localhost:8080" }, "redirectUri"],
    ["an empty U2M client id", { clientId: " " }, "clientId"],
    ["an empty U2M client secret", { clientSecret: Redacted.make("") }, "clientSecret"],
    ["U2M scopes with a space", { scopes: ["all apis"] }, "scopes"]
  ]
  for (const [what, options, setting] of u2mCases) {
    it.scoped(what, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(u2m(options))
        assert.strictEqual(error._tag, "ConfigurationError")
        assert.strictEqual((error as { setting?: string }).setting, setting)
      }))
  }

  it.scoped("DatabricksCli without a host or a profile", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Effect.scoped(DatabricksCli.make()).pipe(Effect.provide(NodeContext.layer), Effect.provide(withEnv({})))
      )
      assert.strictEqual(error.setting, "DATABRICKS_HOST")
      assert.include(error.hint, "DATABRICKS_CONFIG_PROFILE")
    }))

  for (const [what, effect, tag, setting] of cases) {
    it.scoped(what, () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(effect)
        assert.strictEqual(error._tag, tag)
        assert.strictEqual((error as { setting?: string }).setting, setting)
        assert.isString((error as { message?: string }).message)
      }))
  }

  const profiles: ReadonlyArray<readonly [string, string, string]> = [
    ["an unclosed section header", "[dev\nhost = h\n", "line 1"],
    ["a line that is not key = value", "[dev]\nhost h.example.com\n", "line 2"],
    // A key with spaces is not here: the SDKs' INI readers accept it (AuthConfig.test.ts reads one).
    ["a section without a name", "[]\nhost = h\n", "line 1"]
  ]
  for (const [what, text, line] of profiles) {
    it.scoped(`a profile file with ${what}`, () =>
      Effect.gen(function*() {
        const file = yield* writeConfig(text)
        const error = yield* Effect.flip(
          AuthConfig.resolve().pipe(Effect.provide(withEnv({ DATABRICKS_CONFIG_FILE: file })))
        )
        assert.strictEqual(error._tag, "ConfigurationError")
        assert.include(error.message, `${file} ${line}`)
      }))
  }

  it.scoped("a profile path that is a directory", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const error = yield* Effect.flip(
        AuthConfig.resolve().pipe(Effect.provide(withEnv({ DATABRICKS_CONFIG_FILE: dir })))
      )
      assert.strictEqual(error.setting, "DATABRICKS_CONFIG_FILE")
      assert.include(error.message, "could not be read")
    }))

  it.scoped("a token endpoint that answers 200 with an empty body", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "token", emptyBody: true })
      const source = yield* LocalM2M.make({
        host: emulator.host,
        clientId: emulator.servicePrincipal.clientId,
        clientSecret: emulator.servicePrincipal.clientSecret
      })
      const error = yield* Effect.flip(source.token)
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "without a usable bearer access_token")
    }).pipe(Effect.provide(Emulator.httpClient), Effect.provide(Emulator.layer())))
})
