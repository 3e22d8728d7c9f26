/**
 * Hostile token values and expiries (issue 14 §1, §3, §4, §5), through the public API against real loopback
 * servers: the Emulator, a tiny `node:http` server started here that answers what a hostile or broken
 * issuer could (`expires_in: 1e20`, a JWT with `exp: 1e20`, a token with a line break, a 100 KB token), and
 * a fake `databricks` executable.
 *
 * Every error is checked for its tag, the setting it names, a clear message, and the absence of the secret in
 * `String`, `JSON.stringify`, `util.inspect` and `Cause.pretty`. Every wait is bounded in real time (the
 * TestClock never fires a timeout by itself), so a regression to a hang fails instead of hanging.
 */
import {
  ConnectContent,
  ConnectViewer,
  DatabricksCli,
  LocalM2M,
  Pat,
  TokenEnv,
  TokenSource,
  U2MPkce,
  WorkspaceClient
} from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import type { HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import {
  Cause,
  Context,
  DateTime,
  Duration,
  Effect,
  Encoding,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  Ref,
  Scope,
  TestClock
} from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Path from "node:path"
import * as Util from "node:util"
import { tempDir, until, withEnv } from "./utils.js"

/** The latest expiry believed: the end of year 9999 (see internal/expiry.ts). */
const latest = "9999-12-31T23:59:59.999Z"

const jwt = (claims: object) =>
  [{ alg: "none", typ: "JWT" }, claims].map((part) => Encoding.encodeBase64Url(JSON.stringify(part))).join(".") +
  ".sig"

/** A real-time bound that does not use the Clock service, so TestClock-driven tests are bounded too. */
const bounded = <A, E, R>(effect: Effect.Effect<A, E, R>, what: string) =>
  Effect.raceFirst(
    effect,
    Effect.async<never>((resume) => {
      const timer = setTimeout(() => resume(Effect.dieMessage(`hang: ${what} did not finish within 15 s`)), 15_000)
      return Effect.sync(() => clearTimeout(timer))
    })
  )

/** Everything that can show an error to a person or a log pipeline. */
const renderings = (error: unknown, cause?: Cause.Cause<unknown>) => [
  String(error),
  JSON.stringify(error),
  Util.inspect(error, { depth: 10 }),
  ...(cause === undefined ? [] : [Cause.pretty(cause)])
]

const assertHidden = (error: unknown, secrets: ReadonlyArray<string>, cause?: Cause.Cause<unknown>) => {
  for (const text of renderings(error, cause)) {
    for (const secret of secrets) {
      // The distinctive part of each secret: a line of it, without the characters that made it hostile.
      for (const part of secret.split(/[\r\n\0]/).filter((p) => p.length >= 6)) {
        assert.notInclude(text, part.slice(0, 40), "a secret was shown")
      }
    }
  }
}

/** Runs an effect expected to fail, and returns its one typed failure (a defect fails the test). */
const failure = <A, E, R>(effect: Effect.Effect<A, E, R>, what: string) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(bounded(effect, what))
    if (Exit.isSuccess(exit)) return assert.fail(`${what}: expected a failure, got a success`)
    assert.isFalse(Cause.isDie(exit.cause), `${what}: a defect:\n${Cause.pretty(exit.cause)}`)
    const error = Option.getOrUndefined(Cause.failureOption(exit.cause))
    assert.isDefined(error, `${what}: no typed failure:\n${Cause.pretty(exit.cause)}`)
    return { error: error as E & { readonly _tag: string; readonly message: string }, cause: exit.cause }
  })

const configurationError = <A, E, R>(effect: Effect.Effect<A, E, R>, setting: string, secret?: string) =>
  Effect.gen(function*() {
    const { cause, error } = yield* failure(effect, setting)
    assert.strictEqual(error._tag, "ConfigurationError", String(error))
    assert.strictEqual((error as unknown as { setting: string }).setting, setting)
    assert.include(error.message, setting)
    if (secret !== undefined) assertHidden(error, [secret], cause)
    return error
  })

const authenticationError = <A, E, R>(effect: Effect.Effect<A, E, R>, secrets: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const { cause, error } = yield* failure(effect, "authentication")
    assert.strictEqual(error._tag, "AuthenticationError", String(error))
    assertHidden(error, secrets, cause)
    return error
  })

interface Answer {
  readonly status?: number
  /** A JSON body, written as is (so `1e20` and `1e400` reach the client as numbers). */
  readonly body: string
}

/**
 * A loopback server that answers every request with `answer(method, path)` and counts requests per path.
 * It plays an OAuth token endpoint or a Posit Connect server that returns hostile bodies.
 */
const hostileServer = (answer: (method: string, path: string) => Answer) =>
  Effect.gen(function*() {
    const counts = new Map<string, number>()
    const server = yield* Effect.acquireRelease(
      Effect.async<Http.Server>((resume) => {
        const server = Http.createServer((request, response) => {
          request.resume()
          request.on("end", () => {
            const path = (request.url ?? "/").split("?")[0]
            counts.set(path, (counts.get(path) ?? 0) + 1)
            const { body, status } = answer(request.method ?? "GET", path)
            response.writeHead(status ?? 200, { "content-type": "application/json" })
            response.end(body)
          })
        })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) =>
        Effect.async<void>((resume) => {
          server.closeAllConnections()
          server.close(() => resume(Effect.void))
        })
    )
    const port = (server.address() as { port: number }).port
    return { url: `http://127.0.0.1:${port}`, requests: (path: string) => counts.get(path) ?? 0 }
  })

/** A token endpoint answering `body` to every grant; LocalM2M is pointed at it directly (no discovery). */
const m2mAgainst = (body: string) =>
  Effect.gen(function*() {
    const server = yield* hostileServer(() => ({ body }))
    const layer = LocalM2M.layer({
      host: server.url,
      clientId: "sp-hostile",
      clientSecret: Redacted.make("m2m-client-secret-9f8e7d"),
      tokenEndpoint: `${server.url}/oidc/v1/token`,
      retry: { times: 0 }
    }).pipe(Layer.provide(NodeHttpClient.layerUndici))
    const source = yield* Layer.build(layer).pipe(Effect.map(Context.get(TokenSource.TokenSource)))
    return { server, source: source.token }
  })

const iso = (token: TokenSource.AccessToken) => Option.map(token.expiresAt, DateTime.formatIso)

describe("absurd expiries are clamped, never a defect or a hang", () => {
  it.scoped("LocalM2M: expires_in 1e20 and 1e400 (Infinity) give a token cached until the end of year 9999", () =>
    Effect.gen(function*() {
      for (const expiresIn of ["1e20", "1e400"]) {
        const { server, source } = yield* m2mAgainst(
          `{"access_token":"opaque-token-1","token_type":"Bearer","expires_in":${expiresIn}}`
        )
        const tokens = yield* bounded(
          Effect.all(Array.from({ length: 20 }, () => source), { concurrency: "unbounded" }),
          `20 callers with expires_in ${expiresIn}`
        )
        const first = tokens[0]
        assert.strictEqual(Redacted.value(first.value), "opaque-token-1")
        assert.deepStrictEqual(iso(first), Option.some(latest))
        // Cached: one request for all of them, and still one a year later.
        yield* TestClock.adjust(Duration.days(365))
        yield* source
        assert.strictEqual(server.requests("/oidc/v1/token"), 1)
      }
    }))

  it.scoped("LocalM2M: a JWT with exp 1e20 (and no expires_in) is clamped; exp -1e20 is already expired", () =>
    Effect.gen(function*() {
      const far = jwt({ sub: "sp", exp: 1e20 })
      const { source } = yield* m2mAgainst(`{"access_token":"${far}","token_type":"Bearer"}`)
      const token = yield* bounded(source, "a JWT with exp 1e20")
      assert.deepStrictEqual(iso(token), Option.some(latest))

      const past = jwt({ sub: "sp", exp: -1e20 })
      const expired = yield* m2mAgainst(`{"access_token":"${past}","token_type":"Bearer"}`)
      const old = yield* bounded(expired.source, "a JWT with exp -1e20")
      assert.deepStrictEqual(iso(old), Option.some("1970-01-01T00:00:00.000Z"))
    }))

  it.scoped("a valid far-but-sane expiry (30 days) is kept exactly and the token is cached until its refresh window", () =>
    Effect.gen(function*() {
      const { server, source } = yield* m2mAgainst(
        `{"access_token":"thirty-day-token","token_type":"Bearer","expires_in":2592000}`
      )
      const token = yield* bounded(source, "a 30-day token")
      assert.deepStrictEqual(iso(token), Option.some("1970-01-31T00:00:00.000Z"))
      // 29 days and 23 h later: still cached (the refresh window opens 5 minutes before expiry).
      yield* TestClock.adjust(Duration.sum(Duration.days(29), Duration.hours(23)))
      yield* source
      assert.strictEqual(server.requests("/oidc/v1/token"), 1)
      // Inside the refresh window: the current token is served and one background refresh is made.
      yield* TestClock.adjust(Duration.minutes(56))
      const served = yield* source
      assert.strictEqual(Redacted.value(served.value), "thirty-day-token")
      yield* until(Effect.sync(() => server.requests("/oidc/v1/token") === 2), "the background refresh")
    }))

  it.scoped("ConnectContent and ConnectViewer: an exchange answering expires_in 1e20, or a JWT with exp 1e20", () =>
    Effect.gen(function*() {
      for (
        const body of [
          `{"access_token":"exchanged-token","token_type":"Bearer","expires_in":1e20}`,
          `{"access_token":"${jwt({ sub: "viewer", exp: 1e20 })}","token_type":"Bearer"}`
        ]
      ) {
        const server = yield* hostileServer((method, path) =>
          path.endsWith("/server_settings") ? { body: `{"version":"2024.09.0"}` } : { body }
        )
        const env = withEnv({
          RSTUDIO_PRODUCT: "CONNECT",
          CONNECT_SERVER: server.url,
          CONNECT_API_KEY: "connect-api-key-5a4b3c",
          CONNECT_CONTENT_SESSION_TOKEN: "content-session-7d6e5f"
        })
        const local = TokenSource.layerStatic(Redacted.make("unused-local"))
        const content = yield* bounded(
          Effect.flatMap(TokenSource.TokenSource, (s) => s.token).pipe(
            Effect.provide(ConnectContent.layer({ local, retry: { times: 0 } })),
            Effect.provide(Layer.merge(env, NodeHttpClient.layerUndici))
          ),
          "ConnectContent"
        )
        assert.deepStrictEqual(iso(content), Option.some(latest))
        const viewer = yield* bounded(
          Effect.flatMap(TokenSource.TokenSource, (s) => s.token).pipe(
            Effect.provide(
              ConnectViewer.layer({
                userSessionToken: Redacted.make("user-session-1a2b3c"),
                local,
                retry: { times: 0 }
              })
            ),
            Effect.provide(Layer.merge(env, NodeHttpClient.layerUndici))
          ),
          "ConnectViewer"
        )
        assert.deepStrictEqual(iso(viewer), Option.some(latest))
      }
    }))

  it.scoped("TokenEnv: a JWT with exp 1e20 is served (clamped); one with exp -1e20 fails as expired, typed", () =>
    Effect.gen(function*() {
      const far = jwt({ sub: "ci", exp: 1e20 })
      const source = yield* TokenEnv.make({ token: Redacted.make(far) })
      const token = yield* bounded(source.token, "TokenEnv far")
      assert.deepStrictEqual(iso(token), Option.some(latest))

      const past = jwt({ sub: "ci", exp: -1e20 })
      const expiredSource = yield* TokenEnv.layerConfig().pipe(
        Layer.provide(withEnv({ DATABRICKS_ACCESS_TOKEN: past })),
        Layer.build,
        Effect.map((context) => Layer.succeedContext(context))
      )
      const error = yield* authenticationError(
        Effect.flatMap(TokenSource.TokenSource, (s) => s.token).pipe(Effect.provide(expiredSource)),
        [past]
      )
      assert.include(error.message, "DATABRICKS_ACCESS_TOKEN expired at 1970-01-01T00:00:00.000Z")
    }))

  it.scoped("DatabricksCli: a JWT with exp 1e20, and an expiry that is not RFC 3339, give a clamped expiry", () =>
    Effect.gen(function*() {
      const far = jwt({ sub: "ada@example.com", exp: 1e20 })
      const { env } = yield* fakeCli(
        `echo '{"access_token": "${far}", "token_type": "Bearer", "expiry": "+275761-01-01T00:00:00Z"}'`
      )
      const token = yield* bounded(cliToken(env), "DatabricksCli")
      assert.deepStrictEqual(iso(token), Option.some(latest))
      assert.strictEqual(DatabricksCli.parseExpiry("+275761-01-01T00:00:00Z"), undefined)
    }))
})

describe("a defect or an interruption inside the token fetch fails every waiting caller", () => {
  it.scoped("a fetch that dies: 50 concurrent callers all get an AuthenticationError; the next call fetches again", () =>
    Effect.gen(function*() {
      const secret = "dapi-died-0123456789abcdef"
      const calls = yield* Ref.make(0)
      const fetch = Effect.flatMap(Ref.getAndUpdate(calls, (n) => n + 1), (n) =>
        n === 0
          // A defect whose text quotes a credential, as a driver's message can.
          ? Effect.die(new TypeError(`Bearer ${secret} is not a legal HTTP header value`))
          : Effect.succeed<TokenSource.IssuedToken>({ value: Redacted.make("recovered-token"), expiresIn: "1 hour" }))
      const source = yield* TokenSource.make(fetch, { authType: "test-dies" })
      const exits = yield* bounded(
        Effect.all(Array.from({ length: 50 }, () => Effect.exit(source.token)), { concurrency: "unbounded" }),
        "50 callers of a fetch that dies"
      )
      assert.strictEqual(yield* Ref.get(calls), 1)
      for (const exit of exits) {
        assert.isTrue(Exit.isFailure(exit) && !Cause.isDie(exit.cause))
        if (Exit.isFailure(exit)) {
          const error = Option.getOrThrow(Cause.failureOption(exit.cause))
          assert.strictEqual(error._tag, "AuthenticationError")
          assert.include(error.message, "test-dies token source failed unexpectedly")
          assertHidden(error, [secret], exit.cause)
        }
      }
      // Not cached: after the backoff the next call fetches again and succeeds.
      yield* TestClock.adjust(Duration.seconds(1))
      const token = yield* bounded(source.token, "the call after the defect")
      assert.strictEqual(Redacted.value(token.value), "recovered-token")
    }))

  it.scoped("a fetch that throws synchronously is a failure too", () =>
    Effect.gen(function*() {
      const fetch = Effect.sync((): TokenSource.IssuedToken => {
        throw new RangeError("Invalid time value")
      })
      const source = yield* TokenSource.make(fetch, { authType: "test-throws" })
      const error = yield* authenticationError(source.token, [])
      assert.include(error.message, "failed unexpectedly")
    }))

  it.effect("closing the source's scope while callers wait fails them with an AuthenticationError", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const source = yield* TokenSource.make(Effect.never, { authType: "test-closed" }).pipe(Scope.extend(scope))
      const waiters = yield* Effect.fork(
        Effect.all(Array.from({ length: 10 }, () => Effect.exit(source.token)), { concurrency: "unbounded" })
      )
      yield* Effect.repeatN(Effect.yieldNow(), 50)
      yield* Scope.close(scope, Exit.void)
      const exits = yield* bounded(Fiber.join(waiters), "callers of a closed source")
      for (const exit of exits) {
        assert.isTrue(Exit.isFailure(exit) && !Cause.isDie(exit.cause) && !Cause.isInterrupted(exit.cause))
        if (Exit.isFailure(exit)) {
          const error = Option.getOrThrow(Cause.failureOption(exit.cause))
          assert.strictEqual(error._tag, "AuthenticationError")
          assert.include(error.message, "closed")
        }
      }
    }))

  it.scoped("an expiresIn that is not a duration (untyped fetch) is an AuthenticationError, not a defect", () =>
    Effect.gen(function*() {
      const source = yield* TokenSource.make(
        Effect.succeed({ value: Redacted.make("t-bad-expiry"), expiresIn: "soon" as Duration.DurationInput }),
        { authType: "test-expiry" }
      )
      const error = yield* authenticationError(source.token, ["t-bad-expiry"])
      assert.include(error.message, "expiry (expires_in) is not a usable time")
    }))
})

const crlf = "dapi0123456789abcdef\r\nX-Injected: 1"
const twoLines = "dapi0123456789abcdef\ndapifedcba9876543210"
const huge = `dapi${"a".repeat(100_000)}`
const emoji = "dapi0123456789abcdef😀"
const nul = "dapi0123456789abcdef\u0000"

const userSecrets: ReadonlyArray<readonly [string, string, string]> = [
  [crlf, "a CR/LF", "line break"],
  [twoLines, "two lines", "line break"],
  [nul, "a NUL", "control character"],
  [emoji, "a character beyond Latin-1", "outside Latin-1"],
  [huge, "100 KB", "8192"]
]

describe("user-configured tokens are checked up front: ConfigurationError naming the setting, never the value", () => {
  it.effect("Pat.layer, Pat.layerConfig, TokenEnv.layer, TokenEnv.layerConfig and TokenSource.layerStatic", () =>
    Effect.gen(function*() {
      const token = Effect.flatMap(TokenSource.TokenSource, (s) => s.token)
      for (const [secret, what, phrase] of userSecrets) {
        const cases = [
          ["token", Pat.layer({ token: Redacted.make(secret) })],
          ["DATABRICKS_TOKEN", Pat.layerConfig().pipe(Layer.provide(withEnv({ DATABRICKS_TOKEN: secret })))],
          ["token", TokenEnv.layer({ token: Redacted.make(secret) })],
          [
            "DATABRICKS_ACCESS_TOKEN",
            TokenEnv.layerConfig().pipe(Layer.provide(withEnv({ DATABRICKS_ACCESS_TOKEN: secret })))
          ],
          ["token", TokenSource.layerStatic(Redacted.make(secret))]
        ] as const
        for (const [setting, layer] of cases) {
          const error = yield* configurationError(Effect.provide(token, layer), setting, secret)
          assert.include(error.message, phrase, `${what}: ${error.message}`)
          assert.include(error.message, "not shown")
        }
      }
    }))

  it.scoped("a token read from a file with one trailing newline works against the Emulator", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const user = yield* WorkspaceClient.currentUser.pipe(
        Effect.provide(WorkspaceClient.layer({ host: emulator.host })),
        Effect.provide(Pat.layerConfig()),
        Effect.provide(withEnv({ DATABRICKS_TOKEN: `${Redacted.value(emulator.pat)}\n` }))
      )
      assert.strictEqual(user.userName, emulator.user.userName)
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))

  it.scoped("Pat.make with a plain string (untyped JS) is accepted and works; wrong types are ConfigurationErrors", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const plain = Redacted.value(emulator.pat)
      for (const source of [yield* Pat.make(plain as any), yield* Pat.make({ token: plain } as any)]) {
        const user = yield* WorkspaceClient.currentUser.pipe(
          Effect.provide(WorkspaceClient.layer({ host: emulator.host })),
          Effect.provide(Layer.succeed(TokenSource.TokenSource, source))
        )
        assert.strictEqual(user.userName, emulator.user.userName)
      }
      const notString = yield* configurationError(Pat.make({ token: 42 } as any), "token")
      assert.include(notString.message, "must be a string")
      const missing = yield* configurationError(Pat.make(undefined as any), "token")
      assert.include(missing.message, "is not set")
      yield* configurationError(TokenEnv.make({ token: { value: "x" } } as any), "token")
      yield* configurationError(TokenEnv.make({ token: Redacted.make("t"), expiresAt: 5 } as any), "expiresAt")
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))

  it.effect("TokenSource.validateToken: trims, wraps a plain string, and refuses with the given setting", () =>
    Effect.gen(function*() {
      const ok = yield* TokenSource.validateToken("  dapi-ok-123\n")
      assert.strictEqual(Redacted.value(ok), "dapi-ok-123")
      yield* configurationError(
        TokenSource.validateToken(Redacted.make(crlf), { setting: "MY_TOKEN" }),
        "MY_TOKEN",
        crlf
      )
      // `static` returns the source itself, so a bad token shows when it is asked for, typed.
      const error = yield* authenticationError(TokenSource.static(Redacted.make(crlf)).token, [crlf])
      assert.include(error.message, "line break")
    }))

  it.effect("LocalM2M and U2MPkce: hostile client ids, wrong option types (durations too) and a missing secret", () =>
    Effect.gen(function*() {
      const build = (layer: Layer.Layer<TokenSource.TokenSource, unknown, HttpClient.HttpClient>) =>
        Effect.scoped(Layer.build(layer)).pipe(Effect.provide(NodeHttpClient.layerUndici))
      const secret = Redacted.make("m2m-secret-abcdef")
      for (const [clientId, phrase] of [["sp\r\nX: 1", "line break"], ["sp-😀", "Latin-1"]] as const) {
        const error = yield* configurationError(
          build(LocalM2M.layer({ host: "https://h.example.com", clientId, clientSecret: secret })),
          "clientId"
        )
        assert.include(error.message, phrase)
        yield* configurationError(build(U2MPkce.layer({ host: "https://h.example.com", clientId })), "clientId")
      }
      yield* configurationError(
        build(LocalM2M.layer({ host: 42, clientId: "sp", clientSecret: secret } as any)),
        "host"
      )
      yield* configurationError(
        build(LocalM2M.layer({ host: "https://h.example.com", clientId: 7, clientSecret: secret } as any)),
        "clientId"
      )
      yield* configurationError(
        build(LocalM2M.layer({ host: "https://h.example.com", clientId: "sp" } as any)),
        "clientSecret"
      )
      yield* configurationError(
        build(LocalM2M.layer({ host: "https://h.example.com", clientId: "sp", clientSecret: { x: 1 } } as any)),
        "clientSecret"
      )
      yield* configurationError(build(LocalM2M.layer(undefined as any)), "options")
      yield* configurationError(
        build(
          LocalM2M.layer(
            { host: "https://h.example.com", clientId: "sp", clientSecret: secret, refreshAhead: "soon" } as any
          )
        ),
        "refreshAhead"
      )
      yield* configurationError(
        build(U2MPkce.layer({ host: "https://h.example.com", clientId: "app", loginTimeout: {} } as any)),
        "loginTimeout"
      )
      yield* configurationError(
        build(
          LocalM2M.layerConfig().pipe(
            Layer.provide(withEnv({
              DATABRICKS_HOST: "https://h.example.com",
              DATABRICKS_CLIENT_ID: "sp\nsecond",
              DATABRICKS_CLIENT_SECRET: "m2m-secret-abcdef"
            }))
          )
        ),
        "DATABRICKS_CLIENT_ID"
      )
    }))

  it.scoped("LocalM2M with a plain-string clientSecret (untyped JS) works against the Emulator", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const user = yield* WorkspaceClient.currentUser.pipe(
        Effect.provide(WorkspaceClient.layer({ host: emulator.host })),
        Effect.provide(
          LocalM2M.layer({
            host: emulator.host,
            clientId: emulator.servicePrincipal.clientId,
            clientSecret: Redacted.value(emulator.servicePrincipal.clientSecret) as any
          })
        )
      )
      assert.strictEqual(user.userName, emulator.servicePrincipal.clientId)
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))

  it.scoped("a Connect API key with a line break is a ConfigurationError naming CONNECT_API_KEY", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const key = `${Redacted.value(emulator.connect.apiKey)}\nX-Injected: 1`
      const env = withEnv({
        RSTUDIO_PRODUCT: "CONNECT",
        CONNECT_SERVER: emulator.connect.url,
        CONNECT_API_KEY: key,
        CONNECT_CONTENT_SESSION_TOKEN: Redacted.value(emulator.connect.contentSessionToken)
      })
      const local = Pat.layer({ token: emulator.pat })
      const token = Effect.flatMap(TokenSource.TokenSource, (s) => s.token)
      yield* configurationError(
        token.pipe(Effect.provide(ConnectContent.layer({ local })), Effect.provide(env)),
        "CONNECT_API_KEY",
        key
      )
      yield* configurationError(
        token.pipe(
          Effect.provide(ConnectViewer.layer({ local, userSessionToken: emulator.connect.userSessionToken })),
          Effect.provide(env)
        ),
        "CONNECT_API_KEY",
        key
      )
      yield* configurationError(
        token.pipe(
          Effect.provide(ConnectContent.layer({ local, apiKey: Redacted.make(key) })),
          Effect.provide(env)
        ),
        "apiKey",
        key
      )
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))

  it.scoped("ConnectViewer: a plain-string session token (untyped JS) is exchanged; a number is refused, typed", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const env = withEnv({
        RSTUDIO_PRODUCT: "CONNECT",
        CONNECT_SERVER: emulator.connect.url,
        CONNECT_API_KEY: Redacted.value(emulator.connect.apiKey)
      })
      const viewer = (userSessionToken: unknown) =>
        Effect.flatMap(TokenSource.TokenSource, (s) => s.token).pipe(
          Effect.provide(
            ConnectViewer.layer({
              local: Pat.layer({ token: emulator.pat }),
              userSessionToken: userSessionToken as Redacted.Redacted<string>
            })
          ),
          Effect.provide(env)
        )
      const token = yield* bounded(viewer(Redacted.value(emulator.connect.userSessionToken)), "a plain session token")
      const user = yield* WorkspaceClient.currentUser.pipe(
        Effect.provide(WorkspaceClient.layer({ host: emulator.host })),
        Effect.provide(Layer.succeed(TokenSource.TokenSource, TokenSource.static(token)))
      )
      assert.strictEqual(user.userName, emulator.user.userName)
      const error = yield* authenticationError(viewer(42), [])
      assert.include(error.message, "user-session-token is required")
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))

  it.effect("DatabricksCli: a profile of the wrong type or with a control character, a timeout that is no duration", () =>
    Effect.gen(function*() {
      const build = (options: unknown) =>
        Effect.scoped(Layer.build(DatabricksCli.layer(options as DatabricksCli.Options))).pipe(
          Effect.provide(NodeContext.layer),
          Effect.provide(withEnv({}))
        )
      yield* configurationError(build({ profile: 42 }), "profile")
      yield* configurationError(build({ profile: "dev\u0000" }), "profile")
      yield* configurationError(build({ host: ["https://h"] }), "host")
      yield* configurationError(build({ host: "https://h.example.com", timeout: "a while" }), "timeout")
    }))
})

/** Writes a fake `databricks` into a fresh directory; the environment's PATH finds it first. */
const fakeCli = (body: string) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    Fs.writeFileSync(Path.join(dir, "databricks"), `#!/bin/sh\n${body}\n`, { mode: 0o755 })
    return { env: { PATH: `${dir}:${process.env.PATH}` } }
  })

const cliToken = (env: Record<string, string>) =>
  Effect.flatMap(TokenSource.TokenSource, (source) => source.token).pipe(
    Effect.provide(DatabricksCli.layer({ host: "https://dbc-1.cloud.databricks.com" })),
    Effect.provide(NodeContext.layer),
    Effect.provide(withEnv(env))
  )

describe("server-issued tokens that cannot be sent: AuthenticationError, never the value", () => {
  it.scoped("LocalM2M: a token endpoint answering a token with CR/LF, or 100 KB; every waiting caller fails", () =>
    Effect.gen(function*() {
      for (
        const [issued, phrase] of [
          ["issued-token-abcdef\r\nX-Injected: 1", "line break"],
          [`issued${"b".repeat(100_000)}`, "8192"]
        ] as const
      ) {
        const { source } = yield* m2mAgainst(JSON.stringify({ access_token: issued, token_type: "Bearer" }))
        const exits = yield* bounded(
          Effect.all(Array.from({ length: 10 }, () => Effect.exit(source)), { concurrency: "unbounded" }),
          "callers of a hostile token endpoint"
        )
        for (const exit of exits) {
          assert.isTrue(Exit.isFailure(exit) && !Cause.isDie(exit.cause))
        }
        const error = yield* authenticationError(
          Effect.zipRight(TestClock.adjust(Duration.seconds(1)), source),
          [issued]
        )
        assert.include(error.message, "The issuer of the oauth-m2m token source issued a token that")
        assert.include(error.message, phrase)
      }
    }))

  it.scoped("ConnectContent: an exchange answering a token with a line break", () =>
    Effect.gen(function*() {
      const issued = "exchanged-token-abcdef\nsecond-line"
      const server = yield* hostileServer((_, path) =>
        path.endsWith("/server_settings")
          ? { body: `{"version":"2024.09.0"}` }
          : { body: JSON.stringify({ access_token: issued, token_type: "Bearer", expires_in: 3600 }) }
      )
      const error = yield* authenticationError(
        Effect.flatMap(TokenSource.TokenSource, (s) => s.token).pipe(
          Effect.provide(ConnectContent.layer({ local: Pat.layer({ token: Redacted.make("unused") }) })),
          Effect.provide(Layer.merge(
            withEnv({
              RSTUDIO_PRODUCT: "CONNECT",
              CONNECT_SERVER: server.url,
              CONNECT_API_KEY: "connect-api-key-5a4b3c",
              CONNECT_CONTENT_SESSION_TOKEN: "content-session-7d6e5f"
            }),
            NodeHttpClient.layerUndici
          ))
        ),
        [issued]
      )
      assert.include(error.message, "Posit Connect's credential exchange issued a token that contains a line break")
    }))

  it.scoped("DatabricksCli: the CLI printing a token with a control character", () =>
    Effect.gen(function*() {
      const { env } = yield* fakeCli(
        `printf '{"access_token": "cli-token-abcdef\\\\u0001tail", "token_type": "Bearer"}'`
      )
      const error = yield* authenticationError(cliToken(env), ["cli-token-abcdef"])
      assert.include(error.message, "databricks auth token --host https://dbc-1.cloud.databricks.com issued a token")
      assert.include(error.message, "control character")
    }))

  it.effect("toDriverAuthentication: a custom source handing out a CR/LF token rejects typed, without the value", () =>
    Effect.gen(function*() {
      const secret = "custom-token-abcdef\r\nX-Injected: 1"
      const source: TokenSource.TokenSource = {
        authType: "custom",
        token: Effect.succeed({ value: Redacted.make(secret), expiresAt: Option.none() }),
        invalidate: Effect.void
      }
      const rejected = yield* Effect.promise(() =>
        TokenSource.toDriverAuthentication(source).authenticate().then(
          () => undefined,
          (error: unknown) => error
        )
      )
      assert.strictEqual((rejected as { _tag?: string })._tag, "AuthenticationError")
      assertHidden(rejected, [secret])
      const ok = yield* Effect.promise(() =>
        TokenSource.toDriverAuthentication(TokenSource.static(Redacted.make("fine-token"))).authenticate()
      )
      assert.deepStrictEqual(ok, { Authorization: "Bearer fine-token" })
    }))
})
