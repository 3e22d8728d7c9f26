import { ConnectContent, ConnectEnvironment, ConnectViewer, Pat, TokenSource } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import type { HttpServer } from "@effect/platform"
import { HttpClient, HttpClientRequest, HttpRouter, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Path from "node:path"
import { drive, tempDir, withEnv } from "./utils.js"

const userSession = "urn:posit:connect:user-session-token"
const contentSession = "urn:posit:connect:content-session-token"

/** The variables Connect sets for deployed content, pointed at the emulator. */
const onConnect = (emulator: Emulator.Emulator, extra?: Record<string, string>) =>
  withEnv({
    RSTUDIO_PRODUCT: "CONNECT",
    CONNECT_SERVER: emulator.connect.url,
    CONNECT_API_KEY: Redacted.value(emulator.connect.apiKey),
    ...extra
  })

const localPat = (emulator: Emulator.Emulator) => Pat.layer({ token: emulator.pat })

/** Who a token belongs to, asked of the emulated workspace. */
const whoIs = (token: TokenSource.AccessToken) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.get(`${emulator.host}/api/2.0/preview/scim/v2/Me`).pipe(
        HttpClientRequest.bearerToken(token.value)
      )
    )
    return ((yield* response.json) as { userName: string }).userName
  })

const exchanges = Effect.map(Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats)), (stats) => stats.exchanges)

const TestEmulator = (options?: Emulator.Options) => Layer.provideMerge(Emulator.httpClient, Emulator.layer(options))

const viewerToken = (options: Partial<ConnectViewer.Options<never, never>> = {}, env?: Record<string, string>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    return yield* Effect.flatMap(TokenSource.TokenSource, (source) => source.token).pipe(
      Effect.provide(
        ConnectViewer.layer({
          userSessionToken: emulator.connect.userSessionToken,
          local: localPat(emulator),
          ...options
        })
      ),
      Effect.provide(onConnect(emulator, env))
    )
  })

describe("ConnectViewer", () => {
  it.scoped("exchanges the user-session token with Connect's exact form; audience is left out when absent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const token = yield* viewerToken()
      assert.strictEqual(yield* whoIs(token), emulator.user.userName)
      const withAudience = yield* viewerToken({ audience: emulator.connect.integrations[0].guid })
      assert.strictEqual(yield* whoIs(withAudience), emulator.user.userName)
      const forms = (yield* emulator.stats).recentRequests.filter((r) => r.endpoint === "exchange").map((r) => r.params)
      assert.deepStrictEqual(forms, [
        ["grant_type", "subject_token", "subject_token_type"],
        ["audience", "grant_type", "subject_token", "subject_token_type"]
      ])
      assert.deepStrictEqual(yield* exchanges, { [userSession]: 2 })
      assert.strictEqual((yield* emulator.stats).requests.server_settings, 2, "one version check per client")
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("100 calls by one viewer make 1 exchange", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* Effect.gen(function*() {
        const source = yield* TokenSource.TokenSource
        assert.strictEqual(source.authType, "posit-oauth-integration")
        yield* Effect.all(Array.from({ length: 100 }, () => source.token), { concurrency: 10 })
      }).pipe(
        Effect.provide(
          ConnectViewer.layer({ userSessionToken: emulator.connect.userSessionToken, local: localPat(emulator) })
        ),
        Effect.provide(onConnect(emulator))
      )
      assert.deepStrictEqual(yield* exchanges, { [userSession]: 1 })
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("two concurrent viewers get their own tokens, never mixed, from one shared cache", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
      const graceSession = yield* emulator.registerUserSessionToken({ user: grace })
      const names = yield* Effect.gen(function*() {
        const viewers = yield* ConnectViewer.Viewers
        const ask = (session: Redacted.Redacted<string>) =>
          Effect.flatMap(viewers.sourceFor(session), (source) => Effect.flatMap(source.token, whoIs))
        return yield* Effect.all(
          Array.from({ length: 40 }, (_, i) => ask(i % 2 === 0 ? emulator.connect.userSessionToken : graceSession)),
          { concurrency: 8 }
        )
      }).pipe(
        Effect.provide(ConnectViewer.layerViewers({ local: localPat(emulator) })),
        Effect.provide(onConnect(emulator))
      )
      names.forEach((name, i) => assert.strictEqual(name, i % 2 === 0 ? emulator.user.userName : "grace@example.com"))
      assert.deepStrictEqual(yield* exchanges, { [userSession]: 2 })
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("an expired session token is an AuthenticationError that says to reload the page", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.expireSessionToken(emulator.connect.userSessionToken)
      const error = yield* Effect.flip(viewerToken())
      if (error._tag !== "AuthenticationError") return assert.fail(error._tag)
      // Posit's troubleshooting docs: "Connect API Error 215: Invalid subject_token", usually an expired viewer
      // session token, fixed by reloading the page (reference/posit-connect-and-databricks-auth.md §1).
      assert.strictEqual(error.connectCode, 215)
      assert.include(error.message, "Invalid subject_token")
      assert.include(error.hint, "reload the page")
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("on Connect without a token it fails, and never falls back to the service account", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(viewerToken({ userSessionToken: undefined }))
      assert.include(error.message, "user-session-token is required for viewer authentication")
      assert.deepStrictEqual(yield* exchanges, {})
      const blank = yield* Effect.flip(viewerToken({ userSessionToken: Redacted.make("  ") }))
      assert.include(blank.message, "required")
      assert.isUndefined((yield* emulator.stats).requests.exchange)
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("off Connect (and in Workbench) the local layer is used", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (const env of [{}, { RS_SERVER_URL: "http://workbench:8787" }]) {
        const [authType, token] = yield* Effect.gen(function*() {
          const source = yield* TokenSource.TokenSource
          return [source.authType, yield* source.token] as const
        }).pipe(
          Effect.provide(ConnectViewer.layer({ userSessionToken: undefined, local: localPat(emulator) })),
          Effect.provide(withEnv(env))
        )
        assert.strictEqual(authType, "pat")
        assert.strictEqual(Redacted.value(token.value), Redacted.value(emulator.pat))
      }
      assert.deepStrictEqual(yield* exchanges, {})
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("a 503 on the exchange is retried; a 4xx (no integration) is not", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "exchange", status: 503, count: 2 })
      const token = yield* drive(viewerToken())
      assert.strictEqual(yield* whoIs(token), emulator.user.userName)
      assert.strictEqual((yield* emulator.stats).requests.exchange, 3)

      yield* emulator.setConnectIntegrations([])
      const error = yield* Effect.flip(viewerToken())
      if (error._tag !== "AuthenticationError") return assert.fail(error._tag)
      // The message is Posit's ("No OAuth integrations have been associated with this content item", reference
      // §1); the code 212 is not documented: the emulator's own choice, so this checks only that it is passed on.
      assert.strictEqual(error.connectCode, 212)
      assert.include(error.hint, "Associate a Databricks OAuth integration")
      assert.strictEqual((yield* emulator.stats).requests.exchange, 4)
    }).pipe(Effect.provide(TestEmulator())))

  it("reads the session token header in any letter case", () => {
    const token = ConnectViewer.userSessionToken({ "posit-connect-user-session-token": "abc" })
    assert.strictEqual(Option.map(token, Redacted.value).pipe(Option.getOrUndefined), "abc")
    assert.isTrue(Option.isSome(ConnectViewer.userSessionToken({ "POSIT-CONNECT-USER-SESSION-TOKEN": ["x"] })))
    assert.isTrue(Option.isNone(ConnectViewer.userSessionToken({ authorization: "Bearer y" })))
  })

  it.scoped("works with the plain driver through toDriverAuthentication", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const headers = yield* Effect.gen(function*() {
        const source = yield* TokenSource.TokenSource
        const runtime = yield* Effect.runtime<never>()
        return yield* Effect.promise(() => TokenSource.toDriverAuthentication(source, { runtime }).authenticate())
      }).pipe(
        Effect.provide(
          ConnectViewer.layer({ userSessionToken: emulator.connect.userSessionToken, local: localPat(emulator) })
        ),
        Effect.provide(onConnect(emulator))
      )
      const token = headers.Authorization.replace(/^Bearer /, "")
      assert.strictEqual(
        yield* whoIs({ value: Redacted.make(token), expiresAt: Option.none() }),
        emulator.user.userName
      )
    }).pipe(Effect.provide(TestEmulator())))
})

describe("ConnectViewer.withViewer in an HTTP server", () => {
  it.scoped("each request's handler gets its own viewer's token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace" })
      const graceSession = yield* emulator.registerUserSessionToken({ user: grace })
      const app = HttpRouter.empty.pipe(
        HttpRouter.get(
          "/whoami",
          ConnectViewer.withViewer(
            Effect.gen(function*() {
              const source = yield* TokenSource.TokenSource
              const name = yield* Effect.flatMap(source.token, whoIs)
              return HttpServerResponse.text(name)
            }).pipe(Effect.orDie)
          ).pipe(
            Effect.catchTag("AuthenticationError", (error) => HttpServerResponse.text(error.message, { status: 401 }))
          )
        )
      )
      const server = yield* NodeHttpServer.make(() => Http.createServer(), { port: 0, host: "127.0.0.1" })
      yield* server.serve(app).pipe(
        Effect.provide(ConnectViewer.layerViewers({ local: localPat(emulator) })),
        Effect.provide(onConnect(emulator))
      )
      const address = server.address as HttpServer.TcpAddress
      const client = yield* HttpClient.HttpClient
      const ask = (session: Redacted.Redacted<string> | undefined) =>
        client.execute(
          HttpClientRequest.get(`http://127.0.0.1:${address.port}/whoami`).pipe(
            HttpClientRequest.setHeaders(
              session === undefined ? {} : { "Posit-Connect-User-Session-Token": Redacted.value(session) }
            )
          )
        ).pipe(Effect.flatMap((response) => Effect.map(response.text, (text) => [response.status, text] as const)))
      assert.deepStrictEqual(yield* ask(emulator.connect.userSessionToken), [200, emulator.user.userName])
      assert.deepStrictEqual(yield* ask(graceSession), [200, "grace@example.com"])
      const [status, text] = yield* ask(undefined)
      assert.strictEqual(status, 401)
      assert.include(text, "user-session-token is required")
    }).pipe(Effect.provide(TestEmulator())))
})

describe("ConnectContent", () => {
  it.scoped("re-reads the content token file on every exchange, picking up a rotated token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const dir = yield* tempDir
      const file = Path.join(dir, "content-session-token")
      Fs.writeFileSync(file, `${Redacted.value(emulator.connect.contentSessionToken)}\n`)
      yield* Effect.gen(function*() {
        const source = yield* TokenSource.TokenSource
        assert.strictEqual(yield* Effect.flatMap(source.token, whoIs), emulator.servicePrincipal.clientId)
        // Connect rotates the token and the old one stops working.
        const rotated = yield* emulator.registerContentSessionToken
        Fs.writeFileSync(file, Redacted.value(rotated))
        yield* emulator.expireSessionToken(emulator.connect.contentSessionToken)
        yield* source.invalidate
        assert.strictEqual(yield* Effect.flatMap(source.token, whoIs), emulator.servicePrincipal.clientId)
      }).pipe(
        Effect.provide(ConnectContent.layer({ local: localPat(emulator) })),
        Effect.provide(
          onConnect(emulator, { CONNECT_CONTENT_SESSION_TOKEN_FILE: file, CONNECT_CONTENT_SESSION_TOKEN: "stale" })
        )
      )
      assert.deepStrictEqual(yield* exchanges, { [contentSession]: 2 })
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("a missing file falls back to the variable; an empty one warns first; neither is a clear error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const dir = yield* tempDir
      const empty = Path.join(dir, "empty")
      Fs.writeFileSync(empty, "  \n")
      const warnings: Array<string> = []
      const capture = Logger.make(({ logLevel, message }) =>
        logLevel._tag === "Warning" && warnings.push(String(message))
      )
      const run = (env: Record<string, string>) =>
        Effect.flatMap(TokenSource.TokenSource, (source) => Effect.flatMap(source.token, whoIs)).pipe(
          Effect.provide(ConnectContent.layer({ local: localPat(emulator) })),
          Effect.provide(onConnect(emulator, env)),
          Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
          Logger.withMinimumLogLevel(LogLevel.Warning)
        )
      const variable = Redacted.value(emulator.connect.contentSessionToken)
      assert.strictEqual(
        yield* run({
          CONNECT_CONTENT_SESSION_TOKEN_FILE: Path.join(dir, "missing"),
          CONNECT_CONTENT_SESSION_TOKEN: variable
        }),
        emulator.servicePrincipal.clientId
      )
      assert.lengthOf(warnings, 0)
      yield* run({ CONNECT_CONTENT_SESSION_TOKEN_FILE: empty, CONNECT_CONTENT_SESSION_TOKEN: variable })
      assert.isTrue(warnings.some((w) => w.includes("is empty")))
      const error = yield* Effect.flip(run({}))
      assert.include(error.message, "No content session token")
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("off Connect the local layer is used", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const authType = yield* Effect.map(TokenSource.TokenSource, (source) => source.authType).pipe(
        Effect.provide(ConnectContent.layer({ local: localPat(emulator) })),
        Effect.provide(withEnv({}))
      )
      assert.strictEqual(authType, "pat")
    }).pipe(Effect.provide(TestEmulator())))
})

describe("Connect environment and configuration", () => {
  it.effect("detects Connect, Connect Cloud, Workbench and local", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, string>, ConnectEnvironment.Kind]> = [
        [{ RSTUDIO_PRODUCT: "CONNECT" }, "connect"],
        [{ POSIT_PRODUCT: "CONNECT" }, "connect"],
        [{ POSIT_PRODUCT: "CONNECT_CLOUD" }, "connect-cloud"],
        [{ RSW_LAUNCHER: "true" }, "workbench"],
        [{ RSTUDIO_MULTI_SESSION: "1" }, "workbench"],
        [{ RS_SERVER_ADDRESS: "x" }, "workbench"],
        [{ RS_SERVER_URL: "http://wb" }, "workbench"],
        [{}, "local"]
      ]
      for (const [env, kind] of cases) {
        assert.strictEqual(
          yield* ConnectEnvironment.detect.pipe(Effect.provide(withEnv(env))),
          kind,
          JSON.stringify(env)
        )
      }
      // The service, when provided, wins over detection.
      const forced = yield* ConnectEnvironment.current.pipe(
        Effect.provide(ConnectEnvironment.layerStatic("connect")),
        Effect.provide(withEnv({}))
      )
      assert.strictEqual(forced, "connect")
    }))

  it.scoped("Connect Cloud exchanges too", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const token = yield* Effect.flatMap(TokenSource.TokenSource, (source) => source.token).pipe(
        Effect.provide(
          ConnectViewer.layer({ userSessionToken: emulator.connect.userSessionToken, local: localPat(emulator) })
        ),
        Effect.provide(onConnect(emulator, { RSTUDIO_PRODUCT: "", POSIT_PRODUCT: "CONNECT_CLOUD" }))
      )
      assert.strictEqual(yield* whoIs(token), emulator.user.userName)
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("a missing CONNECT_SERVER or CONNECT_API_KEY names the variable", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const build = (env: Record<string, string>) =>
        Effect.flip(
          Layer.build(
            ConnectViewer.layer({ userSessionToken: emulator.connect.userSessionToken, local: localPat(emulator) })
          ).pipe(
            Effect.provide(withEnv({ RSTUDIO_PRODUCT: "CONNECT", ...env }))
          )
        )
      const noServer = yield* build({ CONNECT_API_KEY: "k" })
      assert.strictEqual((noServer as { setting?: string }).setting, "CONNECT_SERVER")
      const noKey = yield* build({ CONNECT_SERVER: emulator.connect.url, CONNECT_API_KEY: " " })
      assert.strictEqual((noKey as { setting?: string }).setting, "CONNECT_API_KEY")
      const noScheme = yield* build({ CONNECT_SERVER: "connect.example.com", CONNECT_API_KEY: "k" })
      assert.strictEqual((noScheme as { setting?: string }).setting, "CONNECT_SERVER")
      // A bad API key is Connect's own error, with a hint: code 24, "The requested operation requires
      // authentication." (401), in the API Error Codes table of the Posit Connect API Reference.
      const badKey = yield* Effect.flip(viewerToken({}, { CONNECT_API_KEY: "wrong" }))
      assert.strictEqual((badKey as { connectCode?: number }).connectCode, 24)
      assert.include((badKey as { hint?: string }).hint, "CONNECT_API_KEY")
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("a Connect older than 2024.08.0 gives the version error", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(viewerToken())
      assert.include(error.message, "not available in Connect version 2024.06.1")
      assert.include(error.hint, "2024.08.0")
      assert.deepStrictEqual(yield* exchanges, {})
    }).pipe(Effect.provide(TestEmulator({ connect: { version: "2024.06.1" } }))))

  it.scoped("the API key and session tokens never appear in errors or logs", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const lines: Array<string> = []
      const capture = Logger.make(({ cause, message }) => lines.push(String(message), Cause.pretty(cause)))
      const secrets = [
        Redacted.value(emulator.connect.apiKey),
        Redacted.value(emulator.connect.userSessionToken),
        Redacted.value(emulator.connect.contentSessionToken)
      ]
      const exits: Array<Exit.Exit<unknown, unknown>> = []
      const runs = [
        viewerToken(),
        viewerToken({}, { CONNECT_API_KEY: `${secrets[0]}x` }),
        Effect.zipRight(emulator.expireSessionToken(emulator.connect.userSessionToken), viewerToken())
      ]
      for (const run of runs) {
        exits.push(
          yield* Effect.exit(run).pipe(
            Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
            Logger.withMinimumLogLevel(LogLevel.All)
          )
        )
      }
      const token = exits[0]
      assert.isTrue(Exit.isSuccess(token))
      const texts = [
        ...lines,
        ...exits.flatMap((exit) =>
          Exit.isFailure(exit) ? [Cause.pretty(exit.cause), JSON.stringify(Cause.squash(exit.cause))] : []
        )
      ]
      if (Exit.isSuccess(token)) secrets.push(Redacted.value((token.value as TokenSource.AccessToken).value))
      for (const text of texts) for (const secret of secrets) assert.notInclude(text, secret)
      assert.isTrue(exits.slice(1).every(Exit.isFailure))
    }).pipe(Effect.provide(TestEmulator())))
})
