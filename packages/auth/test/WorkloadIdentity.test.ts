import { EnvOidc, FileOidc, GitHubOidc, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import type { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import { Emulator } from "@effect-databricks/testing"
import type { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, Redacted, TestClock } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { drive, tempDir } from "./utils.js"

const tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
const subject = "system:serviceaccount:jobs:etl"

/** Emulator + trusting HttpClient; the credential is built inside each test, once its policy and token exist. */
const emulatorLayer = (options?: Emulator.Options) => Layer.provideMerge(Emulator.httpClient, Emulator.layer(options))

/** Environment variables through a ConfigProvider over a map the test may change later. */
const envProvider = (env: Map<string, string>) => ConfigProvider.fromMap(env)

/** A ES256 issuer (a Kubernetes cluster, say) and the default service principal's policy for `subject`. */
const kubernetes = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const issuer = yield* emulator.federation.addIssuer({ name: "k8s", algorithm: "ES256" })
  yield* Effect.orDie(emulator.federation.addPolicy({
    issuer: issuer.url,
    servicePrincipal: emulator.servicePrincipal.clientId,
    subject
  }))
  return { emulator, issuer, audience: `${emulator.host}/oidc/v1/token` }
})

/** Builds a credential layer, then runs `body` with it and a WorkspaceClient on the emulator's host. */
const withCredential = <A, E, R>(
  credential: Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient>,
  body: Effect.Effect<A, E, R>
) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    body.pipe(
      Effect.provide(
        WorkspaceClient.layer({ host: emulator.host }).pipe(Layer.provideMerge(credential))
      )
    ))

const provideEnv = (env: Map<string, string>) => <A, E, R>(layer: Layer.Layer<A, E, R>) =>
  layer.pipe(Layer.provide(Layer.setConfigProvider(envProvider(env))))

const stats = Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))

/** Every rendering of an error: none may contain a secret. */
const rendered = (error: unknown) => `${String(error)} ${JSON.stringify(error)} ${(error as Error).message ?? ""}`

/** Captures what the effect logs, to prove no secret is logged. */
const capturing = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.suspend(() => {
    const lines: Array<string> = []
    const logger = Logger.make(({ cause, message }) => lines.push(`${JSON.stringify(message)} ${String(cause)}`))
    return effect.pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Effect.exit,
      Effect.map((exit) => ({ exit, logs: lines.join("\n") }))
    )
  })

describe("env-oidc", () => {
  it.scoped("exchanges the token in DATABRICKS_OIDC_TOKEN for the service principal's workspace token", () =>
    Effect.gen(function*() {
      const { audience, emulator, issuer } = yield* kubernetes
      const jwt = yield* issuer.mint({ subject, audience, lifetime: "1 hour" })
      const env = new Map([
        ["DATABRICKS_HOST", emulator.host],
        ["DATABRICKS_CLIENT_ID", emulator.servicePrincipal.clientId],
        ["DATABRICKS_OIDC_TOKEN", Redacted.value(jwt)]
      ])
      yield* withCredential(
        provideEnv(env)(EnvOidc.layerConfig()),
        Effect.gen(function*() {
          const source = yield* TokenSource.TokenSource
          assert.strictEqual(source.authType, "env-oidc")
          const me = yield* WorkspaceClient.currentUser
          assert.strictEqual(me.userName, emulator.servicePrincipal.clientId)
          yield* WorkspaceClient.currentUser
        })
      )
      const counted = yield* stats
      assert.deepStrictEqual(counted.tokenRequests, { [tokenExchange]: 1 })
      assert.strictEqual(counted.requests.discovery, 1)
      assert.strictEqual(counted.federation.accepted, 1)
      // The SDKs' form (databricks-sdk-go config/experimental/auth/oidc/tokensource.go): client_id, no secret.
      assert.deepStrictEqual(counted.recentRequests.find((r) => r.endpoint === "token")?.params, [
        "client_id",
        "grant_type",
        "scope",
        "subject_token",
        "subject_token_type"
      ])
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("with no client id it is account-wide federation: no client_id, the user the subject names", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const issuer = yield* emulator.federation.addIssuer({ name: "corp" })
      yield* Effect.orDie(emulator.federation.addPolicy({ issuer: issuer.url }))
      const jwt = yield* issuer.mint({ subject: emulator.user.userName, audience: `${emulator.host}/oidc/v1/token` })
      // DATABRICKS_OIDC_TOKEN_ENV names the variable that holds the token.
      const env = new Map([
        ["DATABRICKS_HOST", emulator.host],
        ["DATABRICKS_OIDC_TOKEN_ENV", "CI_ID_TOKEN"],
        ["CI_ID_TOKEN", Redacted.value(jwt)]
      ])
      const me = yield* withCredential(provideEnv(env)(EnvOidc.layerConfig()), WorkspaceClient.currentUser)
      assert.strictEqual(me.userName, emulator.user.userName)
      const counted = yield* stats
      assert.notInclude(counted.recentRequests.find((r) => r.endpoint === "token")?.params ?? [], "client_id")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("refreshes through TokenSource.make: an expired workspace token is exchanged again, from the variable as it is now", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
      const issuer = yield* emulator.federation.addIssuer({ name: "ci" })
      yield* Effect.orDie(emulator.federation.addPolicy({ issuer: issuer.url, audiences: ["databricks"] }))
      const mint = (userName: string) =>
        Effect.map(issuer.mint({ subject: userName, audience: "databricks", lifetime: "1 hour" }), Redacted.value)
      // The process environment itself (ConfigProvider.fromMap copies its map), under a name of this test only.
      const name = `EFFECT_DATABRICKS_TEST_OIDC_${process.pid}_${Date.now()}`
      yield* Effect.acquireRelease(
        Effect.sync(() => (process.env[name] = "")),
        () => Effect.sync(() => delete process.env[name])
      )
      process.env[name] = yield* mint(emulator.user.userName)
      yield* withCredential(
        EnvOidc.layer({ host: emulator.host, tokenEnv: name }).pipe(
          Layer.provide(Layer.setConfigProvider(ConfigProvider.fromEnv()))
        ),
        Effect.gen(function*() {
          const source = yield* TokenSource.TokenSource
          const first = yield* source.token
          assert.strictEqual((yield* WorkspaceClient.currentUser).userName, emulator.user.userName)
          assert.strictEqual((yield* stats).federation.accepted, 1)
          // The variable is read again at the next exchange: a token for another user shows which one it used.
          process.env[name] = yield* mint(grace.userName)
          yield* TestClock.adjust("11 minutes")
          const second = yield* source.token
          assert.notStrictEqual(Redacted.value(second.value), Redacted.value(first.value))
          assert.strictEqual((yield* WorkspaceClient.currentUser).userName, grace.userName)
        })
      )
      assert.strictEqual((yield* stats).federation.accepted, 2)
    }).pipe(Effect.provide(emulatorLayer({ tokenLifetime: "10 minutes" }))))

  it.scoped("a missing or malformed token, or a missing host, is a ConfigurationError naming the variable", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const build = (env: Map<string, string>) =>
        Effect.flip(Layer.build(provideEnv(env)(EnvOidc.layerConfig())).pipe(Effect.scoped))
      const missing = yield* build(new Map([["DATABRICKS_HOST", emulator.host]]))
      assert.strictEqual(missing.setting, "DATABRICKS_OIDC_TOKEN")
      assert.include(missing.message, "DATABRICKS_OIDC_TOKEN is not set")
      const named = yield* build(new Map([["DATABRICKS_HOST", emulator.host], ["DATABRICKS_OIDC_TOKEN_ENV", "MY_JWT"]]))
      assert.strictEqual(named.setting, "MY_JWT")
      const secret = "definitely-not-a-jwt-but-secret"
      const malformed = yield* build(new Map([["DATABRICKS_HOST", emulator.host], ["DATABRICKS_OIDC_TOKEN", secret]]))
      assert.strictEqual(malformed.setting, "DATABRICKS_OIDC_TOKEN")
      assert.include(malformed.message, "not a JWT")
      assert.notInclude(rendered(malformed), secret)
      const noHost = yield* build(new Map([["DATABRICKS_OIDC_TOKEN", "x.y.z"]]))
      assert.strictEqual(noHost.setting, "DATABRICKS_HOST")
      assert.include(noHost.message, "DATABRICKS_HOST is not set")
    }).pipe(Effect.provide(emulatorLayer())))
})

describe("file-oidc", () => {
  it.scoped("re-reads the file for every exchange: a renewed token for another user is picked up", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
      const issuer = yield* emulator.federation.addIssuer({ name: "k8s", algorithm: "ES256" })
      yield* Effect.orDie(emulator.federation.addPolicy({ issuer: issuer.url, audiences: ["databricks"] }))
      const path = Path.join(yield* tempDir, "token")
      const write = (userName: string) =>
        Effect.flatMap(
          issuer.mint({ subject: userName, audience: "databricks" }),
          (jwt) => Effect.sync(() => Fs.writeFileSync(path, `${Redacted.value(jwt)}\n`))
        )
      yield* write(emulator.user.userName)
      const env = new Map([["DATABRICKS_HOST", emulator.host], ["DATABRICKS_OIDC_TOKEN_FILEPATH", path]])
      yield* withCredential(
        provideEnv(env)(FileOidc.layerConfig()),
        Effect.gen(function*() {
          assert.strictEqual((yield* WorkspaceClient.currentUser).userName, emulator.user.userName)
          yield* write(grace.userName)
          const source = yield* TokenSource.TokenSource
          yield* source.invalidate
          assert.strictEqual((yield* WorkspaceClient.currentUser).userName, grace.userName)
        })
      )
      assert.strictEqual((yield* stats).federation.accepted, 2)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("a missing path, file or token is a ConfigurationError naming DATABRICKS_OIDC_TOKEN_FILEPATH", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const dir = yield* tempDir
      const build = (env: Map<string, string>) =>
        Effect.flip(Layer.build(provideEnv(env)(FileOidc.layerConfig())).pipe(Effect.scoped))
      const unset = yield* build(new Map([["DATABRICKS_HOST", emulator.host]]))
      assert.strictEqual(unset.setting, "DATABRICKS_OIDC_TOKEN_FILEPATH")
      const absent = yield* build(
        new Map([["DATABRICKS_HOST", emulator.host], ["DATABRICKS_OIDC_TOKEN_FILEPATH", Path.join(dir, "nope")]])
      )
      assert.strictEqual(absent.setting, "DATABRICKS_OIDC_TOKEN_FILEPATH")
      assert.include(absent.message, "does not exist")
      Fs.writeFileSync(Path.join(dir, "empty"), "\n")
      const empty = yield* build(
        new Map([["DATABRICKS_HOST", emulator.host], ["DATABRICKS_OIDC_TOKEN_FILEPATH", Path.join(dir, "empty")]])
      )
      assert.include(empty.message, "is empty")
      // The older name databricks-sdk-py still reads.
      const alias = yield* build(
        new Map([["DATABRICKS_HOST", emulator.host], ["DATABRICKS_OIDC_TOKEN_FILE", Path.join(dir, "empty")]])
      )
      assert.include(alias.message, "is empty")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("a file gone after the layer was built fails the exchange with an AuthenticationError", () =>
    Effect.gen(function*() {
      const { audience, emulator, issuer } = yield* kubernetes
      const path = Path.join(yield* tempDir, "token")
      Fs.writeFileSync(path, Redacted.value(yield* issuer.mint({ subject, audience })))
      const error = yield* withCredential(
        FileOidc.layer({ host: emulator.host, clientId: emulator.servicePrincipal.clientId, tokenFilepath: path }),
        Effect.gen(function*() {
          Fs.rmSync(path)
          return yield* Effect.flip(WorkspaceClient.currentUser)
        })
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "does not exist")
    }).pipe(Effect.provide(emulatorLayer())))
})

describe("github-oidc", () => {
  const githubEnv = (emulator: Emulator.Emulator, extra?: Record<string, string>) =>
    new Map([
      ["DATABRICKS_HOST", emulator.host],
      ["DATABRICKS_CLIENT_ID", emulator.servicePrincipal.clientId],
      ["ACTIONS_ID_TOKEN_REQUEST_URL", emulator.federation.githubActions.requestUrl],
      ["ACTIONS_ID_TOKEN_REQUEST_TOKEN", Redacted.value(emulator.federation.githubActions.requestToken)],
      ...Object.entries(extra ?? {})
    ])

  const githubPolicy = (audiences?: ReadonlyArray<string>) =>
    Effect.flatMap(Emulator.Emulator, (emulator) =>
      Effect.orDie(emulator.federation.addPolicy({
        issuer: emulator.federation.githubActions.issuer.url,
        servicePrincipal: emulator.servicePrincipal.clientId,
        subject: "repo:octo-org/octo-repo:environment:prod",
        audiences
      })))

  it.scoped("asks the Actions endpoint for a token for the token endpoint, and exchanges it", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      // The policy's default audience is the token endpoint: the audience both SDKs request by default.
      yield* githubPolicy()
      const me = yield* withCredential(
        provideEnv(githubEnv(emulator))(GitHubOidc.layerConfig()),
        WorkspaceClient.currentUser
      )
      assert.strictEqual(me.userName, emulator.servicePrincipal.clientId)
      const counted = yield* stats
      assert.strictEqual(counted.federation.idTokens, 1)
      assert.strictEqual(counted.federation.accepted, 1)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("DATABRICKS_TOKEN_AUDIENCE sets the audience; a policy that expects another is explained", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* githubPolicy(["https://github.com/octo-org"])
      const ok = yield* withCredential(
        provideEnv(githubEnv(emulator, { DATABRICKS_TOKEN_AUDIENCE: "https://github.com/octo-org" }))(
          GitHubOidc.layerConfig()
        ),
        WorkspaceClient.currentUser
      )
      assert.strictEqual(ok.userName, emulator.servicePrincipal.clientId)
      const error = yield* withCredential(
        provideEnv(githubEnv(emulator))(GitHubOidc.layerConfig()),
        Effect.flip(WorkspaceClient.currentUser)
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag !== "AuthenticationError") return
      assert.strictEqual(error.oauthError, "invalid_request")
      assert.include(error.hint, "it expects https://github.com/octo-org")
      assert.include(error.hint, "Set DATABRICKS_TOKEN_AUDIENCE")
      assert.include(error.hint, `aud: ${emulator.host}/oidc/v1/token`)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("the ID-token endpoint's failures: 503s are retried, a 403 fails with the permission hint", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* githubPolicy()
      const requestToken = Redacted.value(emulator.federation.githubActions.requestToken)
      yield* emulator.faults.add({ target: "github_id_token", status: 503, count: 2 })
      const me = yield* withCredential(
        provideEnv(githubEnv(emulator))(GitHubOidc.layerConfig()),
        drive(WorkspaceClient.currentUser)
      )
      assert.strictEqual(me.userName, emulator.servicePrincipal.clientId)
      assert.strictEqual((yield* stats).requests.github_id_token, 3)
      yield* emulator.faults.add({ target: "github_id_token", status: 403, body: `{"message":"bad ${requestToken}"}` })
      const { exit, logs } = yield* capturing(
        withCredential(
          provideEnv(githubEnv(emulator))(GitHubOidc.layerConfig()),
          Effect.flip(WorkspaceClient.currentUser)
        )
      )
      assert.isTrue(exit._tag === "Success")
      if (exit._tag !== "Success") return
      const error = exit.value
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "HTTP 403")
      assert.include(error.hint, "id-token: write")
      assert.notInclude(rendered(error), requestToken)
      assert.notInclude(logs, requestToken)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("missing Actions variables are a ConfigurationError naming them", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const env = githubEnv(emulator)
      env.delete("ACTIONS_ID_TOKEN_REQUEST_URL")
      const error = yield* Effect.flip(Layer.build(provideEnv(env)(GitHubOidc.layerConfig())).pipe(Effect.scoped))
      assert.strictEqual(error.setting, "ACTIONS_ID_TOKEN_REQUEST_URL")
      assert.include(error.hint, "id-token: write")
      const noToken = githubEnv(emulator)
      noToken.delete("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
      const second = yield* Effect.flip(Layer.build(provideEnv(noToken)(GitHubOidc.layerConfig())).pipe(Effect.scoped))
      assert.strictEqual(second.setting, "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
    }).pipe(Effect.provide(emulatorLayer())))
})

describe("refused federated tokens", () => {
  const refusal = (mint: Emulator.MintOptions, options?: { readonly clientId?: string }) =>
    Effect.gen(function*() {
      const { audience, emulator, issuer } = yield* kubernetes
      const jwt = Redacted.value(yield* issuer.mint({ subject, audience, ...mint }))
      const env = new Map([["DATABRICKS_OIDC_TOKEN", jwt]])
      const { exit, logs } = yield* capturing(
        withCredential(
          provideEnv(env)(EnvOidc.layer({
            host: emulator.host,
            clientId: options?.clientId ?? emulator.servicePrincipal.clientId
          })),
          Effect.flip(WorkspaceClient.currentUser)
        )
      )
      assert.strictEqual(exit._tag, "Success")
      const error = exit._tag === "Success" ? exit.value : assert.fail("no error")
      assert.strictEqual(error._tag, "AuthenticationError")
      // Neither the token nor its signature appears anywhere.
      for (const text of [rendered(error), logs]) {
        assert.notInclude(text, jwt)
        assert.notInclude(text, jwt.split(".")[2] || "<no signature>")
      }
      assert.strictEqual((yield* stats).tokenRequests[tokenExchange], 1, "refusals are not retried")
      return error as Extract<typeof error, { _tag: "AuthenticationError" }>
    })

  it.scoped("wrong audience", () =>
    Effect.gen(function*() {
      const error = yield* refusal({ audience: "https://elsewhere.example" })
      assert.strictEqual(error.oauthError, "invalid_request")
      assert.include(error.hint, "aud: https://elsewhere.example")
      assert.include(error.hint, "/oidc/v1/token")
      assert.include(error.hint, "Have the issuer mint the token for that audience")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("wrong issuer", () =>
    Effect.gen(function*() {
      const error = yield* refusal({ issuer: "https://evil.example" })
      assert.include(error.hint, "iss: https://evil.example")
      assert.include(error.hint, "clientId")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("expired", () =>
    Effect.gen(function*() {
      const error = yield* refusal({ issuedAgo: "10 minutes" })
      assert.include(error.message, "expired")
      assert.include(error.hint, "has expired (exp ")
      assert.include(error.hint, "file-oidc")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("unsigned", () =>
    Effect.gen(function*() {
      const error = yield* refusal({ algorithm: "none" })
      assert.include(error.oauthErrorDescription, "not signed")
      assert.include(error.hint, "RS256 and ES256")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("HS256", () =>
    Effect.gen(function*() {
      const error = yield* refusal({ algorithm: "HS256" })
      assert.include(error.oauthErrorDescription, "HS256")
      assert.include(error.hint, "RS256 and ES256")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("forged signature", () =>
    Effect.gen(function*() {
      const error = yield* refusal({ forged: true })
      assert.include(error.hint, "signature")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("wrong subject", () =>
    Effect.gen(function*() {
      const error = yield* refusal({ subject: "system:serviceaccount:jobs:other" })
      assert.include(error.hint, "sub: system:serviceaccount:jobs:other")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("unknown client id", () =>
    Effect.gen(function*() {
      const error = yield* refusal({}, { clientId: "no-such-principal" })
      assert.strictEqual(error.oauthError, "invalid_client")
      assert.include(error.hint, "No service principal has the client id no-such-principal")
    }).pipe(Effect.provide(emulatorLayer())))
})
