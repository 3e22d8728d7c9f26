/**
 * Follow-ups to the hostile-input work of issue 14, through the public API against real loopback servers:
 *
 * - AuthConfig applies the one rule for credential values to what it resolves (environment, profile,
 *   options), for every method, naming the setting;
 * - U2MPkce clamps an absurd `expires_in` like every other credential;
 * - ConnectContent reads its session-token file bounded (a FIFO does not hang it);
 * - the U2M login callback's `error`/`error_description` is redacted;
 * - redirects are never followed with a credential (token endpoints, discovery, the Connect exchange,
 *   WorkspaceClient), whichever HttpClient is provided (node:http, undici, fetch);
 * - TokenSource.make survives option values of the wrong type.
 *
 * Servers are tiny node:http servers on 127.0.0.1 started by each test: a "workspace" (or IdP, or Connect)
 * that answers what a hostile or broken one could, and an "attacker" that records every request and must
 * receive none. Runs that do real I/O use the live clock, bounded by `runCase` (a hang fails the case); the
 * TokenSource cases use the TestClock. Every secret carries the marker "zq9" (see `expectFailure`).
 */
import {
  AuthConfig,
  ConnectContent,
  LocalM2M,
  Pat,
  TokenCache,
  TokenSource,
  U2MPkce,
  WorkspaceClient
} from "@effect-databricks/auth"
import { AuthenticationError } from "@effect-databricks/auth/DatabricksError"
import { Emulator } from "@effect-databricks/testing"
import { FetchHttpClient, HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, DateTime, Duration, Effect, Exit, Layer, Logger, LogLevel, Option, Redacted, TestClock } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import {
  attacker,
  expectFailure,
  type Handler,
  json,
  noRequests,
  runCase,
  serve,
  type Server,
  tokenOf,
  workspaceWith
} from "./hostile.js"
import { tempDir, withEnv } from "./utils.js"

/** The end of year 9999, where the one expiry rule clamps an absurd expiry (internal/expiry.ts). */
const latest = "9999-12-31T23:59:59.999Z"

// ---------------------------------------------------------------------------------------------------------------

describe("AuthConfig: credential values follow the token-value rule, named by where they came from", () => {
  /** AuthConfig.layer built as an app builds it (layer, then a token), with `env` as the environment. */
  const buildWith = (env: Record<string, string>, options?: AuthConfig.Options) =>
    tokenOf.pipe(
      Effect.provide(AuthConfig.layer(options)),
      Effect.provide(Layer.merge(NodeHttpClient.layer, NodeContext.layer)),
      Effect.provide(withEnv(env))
    )

  const noFile = (dir: string) => Path.join(dir, "no-databrickscfg")

  it.scopedLive("env values beyond Latin-1, with a CR or a line break, for every method: ConfigurationError, no request", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const workspace = yield* attacker
      const base = { DATABRICKS_HOST: workspace.origin, DATABRICKS_CONFIG_FILE: noFile(dir) }
      const m2m = { DATABRICKS_CLIENT_ID: "sp-zq9-client", DATABRICKS_CLIENT_SECRET: "zq9-m2m-secret-value" }
      const cases: ReadonlyArray<readonly [Record<string, string>, string, string]> = [
        [{ ...m2m, DATABRICKS_CLIENT_ID: "sp-😀-zq9" }, "DATABRICKS_CLIENT_ID", "outside Latin-1"],
        [{ ...m2m, DATABRICKS_CLIENT_ID: "sp-zq9\u0001id" }, "DATABRICKS_CLIENT_ID", "control character"],
        [{ ...m2m, DATABRICKS_CLIENT_SECRET: "zq9-secret\rwith-a-cr" }, "DATABRICKS_CLIENT_SECRET", "line break"],
        [{ ...m2m, DATABRICKS_CLIENT_SECRET: "zq9-secret-€-ok-but-😀" }, "DATABRICKS_CLIENT_SECRET", "outside Latin-1"],
        [{ DATABRICKS_TOKEN: "dapizq9first\ndapizq9second" }, "DATABRICKS_TOKEN", "line break"],
        [{ DATABRICKS_TOKEN: `dapizq9${"x".repeat(9000)}` }, "DATABRICKS_TOKEN", "more than the 8192"],
        [{ DATABRICKS_ACCESS_TOKEN: "eyzq9-access-😀" }, "DATABRICKS_ACCESS_TOKEN", "outside Latin-1"],
        [
          { DATABRICKS_AUTH_TYPE: "oauth-u2m", DATABRICKS_U2M_CLIENT_ID: "app-😀-zq9" },
          "DATABRICKS_U2M_CLIENT_ID",
          "outside Latin-1"
        ],
        [
          {
            DATABRICKS_AUTH_TYPE: "oauth-u2m",
            DATABRICKS_U2M_CLIENT_ID: "app-zq9",
            DATABRICKS_U2M_CLIENT_SECRET: "zq9-u2m\r\nsecret"
          },
          "DATABRICKS_U2M_CLIENT_SECRET",
          "line break"
        ]
      ]
      for (const [env, setting, reason] of cases) {
        const secrets = Object.values(env).filter((value) => value.includes("zq9"))
        for (
          const run of [
            Effect.asVoid(buildWith({ ...base, ...env })),
            Effect.asVoid(AuthConfig.resolve().pipe(Effect.provide(withEnv({ ...base, ...env }))))
          ]
        ) {
          const error = expectFailure(yield* runCase(run), "ConfigurationError", secrets)
          assert.strictEqual(error.setting, setting, String(error))
          assert.include(error.message, `${setting} `)
          assert.include(error.message, reason)
          assert.include(error.message, "(the value is not shown)")
          assert.notInclude(error.message, "unexpected")
        }
      }
      noRequests(workspace)
    }))

  it.scopedLive("a profile value and an explicit option are named as such", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const workspace = yield* attacker
      const file = Path.join(dir, "databrickscfg")
      Fs.writeFileSync(
        file,
        `[DEFAULT]\nhost = ${workspace.origin}\nclient_id = sp-zq9\nclient_secret = zq9-prof-😀-secret\n`
      )
      const fromProfile = expectFailure(
        yield* runCase(buildWith({ DATABRICKS_CONFIG_FILE: file })),
        "ConfigurationError",
        ["zq9-prof-😀-secret"]
      )
      assert.strictEqual(fromProfile.setting, `client_secret in profile DEFAULT (${file})`)
      assert.include(fromProfile.message, "outside Latin-1")

      const fromOption = expectFailure(
        yield* runCase(
          buildWith({ DATABRICKS_CONFIG_FILE: noFile(dir) }, {
            host: workspace.origin,
            clientId: "sp-zq9-😀",
            clientSecret: Redacted.make("zq9-option-secret")
          })
        ),
        "ConfigurationError",
        ["zq9-option-secret"]
      )
      assert.strictEqual(fromOption.setting, "clientId")
      noRequests(workspace)
    }))

  it.scopedLive("only the chosen method's values are checked: a stray bad variable of another method is ignored", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const outcome = yield* runCase(
        AuthConfig.resolve().pipe(
          Effect.provide(withEnv({
            DATABRICKS_CONFIG_FILE: noFile(dir),
            DATABRICKS_AUTH_TYPE: "pat",
            DATABRICKS_HOST: "https://dbc-1.cloud.databricks.com",
            DATABRICKS_TOKEN: "dapi0123456789abcdef\n",
            DATABRICKS_CLIENT_SECRET: "stray\rvalue"
          }))
        )
      )
      assert.isTrue(Exit.isSuccess(outcome.exit), Exit.isFailure(outcome.exit) ? Cause.pretty(outcome.exit.cause) : "")
      if (Exit.isSuccess(outcome.exit)) assert.strictEqual(outcome.exit.value.authType, "pat")
    }))
})

// ---------------------------------------------------------------------------------------------------------------

describe("U2MPkce: an absurd expires_in is clamped like everywhere else", () => {
  it.scopedLive("a refresh answered with expires_in 1e20 or 1e400 gives a token, and a cache entry, until year 9999", () =>
    Effect.gen(function*() {
      for (const expiresIn of ["1e20", "1e400"]) {
        const workspace = yield* workspaceWith((_, response) =>
          json(
            response,
            200,
            `{"access_token":"zq9-new-access","token_type":"Bearer","refresh_token":"zq9-new-refresh","expires_in":${expiresIn}}`
          )
        )
        const cache = TokenCache.memory()
        const key = TokenCache.key(workspace.origin, "app", ["all-apis", "offline_access"])
        yield* cache.save(key, {
          accessToken: Redacted.make("zq9-old-access"),
          refreshToken: Redacted.make("zq9-old-refresh"),
          expiresAt: DateTime.unsafeMake(0)
        })
        const layer = U2MPkce.layer({
          host: workspace.origin,
          clientId: "app",
          redirectUri: "http://127.0.0.1:1/callback",
          interactive: false,
          tokenCache: cache,
          retry: { times: 0 }
        }).pipe(Layer.provide(NodeHttpClient.layer))
        const outcome = yield* runCase(tokenOf.pipe(Effect.provide(layer)))
        assert.isTrue(
          Exit.isSuccess(outcome.exit),
          Exit.isFailure(outcome.exit) ? Cause.pretty(outcome.exit.cause) : ""
        )
        if (Exit.isSuccess(outcome.exit)) {
          assert.strictEqual(Redacted.value(outcome.exit.value.value), "zq9-new-access")
          assert.deepStrictEqual(Option.map(outcome.exit.value.expiresAt, DateTime.formatIso), Option.some(latest))
        }
        const saved = Option.getOrThrow(yield* cache.load(key))
        assert.strictEqual(saved.expiresAt && DateTime.formatIso(saved.expiresAt), latest)
        assert.strictEqual(saved.refreshToken && Redacted.value(saved.refreshToken), "zq9-new-refresh")
        assert.include(workspace.requests.at(-1)!.body, "grant_type=refresh_token")
      }
    }))
})

// ---------------------------------------------------------------------------------------------------------------

describe("ConnectContent reads CONNECT_CONTENT_SESSION_TOKEN_FILE bounded", () => {
  const contentWith = (connect: Server, env: Record<string, string>) =>
    tokenOf.pipe(
      Effect.provide(
        ConnectContent.layer({
          local: Pat.layer({ token: Redacted.make("zq9-local-unused") }),
          server: connect.origin,
          apiKey: Redacted.make("zq9connectApiKey"),
          retry: { times: 0 }
        }).pipe(
          Layer.provide(NodeHttpClient.layer),
          Layer.provide(withEnv({ RSTUDIO_PRODUCT: "CONNECT", CONNECT_CONTENT_SESSION_TOKEN: "zq9-variable", ...env }))
        )
      )
    )

  it.scopedLive("a FIFO, a directory and an oversized file are refused unread: AuthenticationError, nothing sent", () =>
    Effect.gen(function*() {
      const connect = yield* attacker
      const dir = yield* tempDir
      const fifo = Path.join(dir, "token-fifo")
      ChildProcess.execFileSync("mkfifo", [fifo])
      const large = Path.join(dir, "large")
      Fs.writeFileSync(large, "zq9".repeat(30_000))
      const cases: ReadonlyArray<readonly [string, string]> = [
        [fifo, "it is a FIFO (named pipe), not a regular file"],
        [dir, "it is a directory"],
        [large, "it is larger than 65536 bytes"]
      ]
      for (const [path, what] of cases) {
        const error = expectFailure(
          yield* runCase(contentWith(connect, { CONNECT_CONTENT_SESSION_TOKEN_FILE: path })),
          "AuthenticationError",
          ["zq9connectApiKey", "zq9-variable"]
        )
        assert.include(error.message, `CONNECT_CONTENT_SESSION_TOKEN_FILE: ${path} could not be read: ${what}`)
        assert.include(error.hint, "regular file")
      }
      noRequests(connect)
    }))
})

// ---------------------------------------------------------------------------------------------------------------

/** Whether `port` can be bound on 127.0.0.1 right now (closed again at once). */
const bindable = (port: number) =>
  Effect.async<boolean>((resume) => {
    const server = Net.createServer()
    server.once("error", () => resume(Effect.succeed(false)))
    server.listen(port, "127.0.0.1", () => server.close(() => resume(Effect.succeed(true))))
  })

/**
 * A free port for the redirect URI, which must name its port before U2MPkce binds it. As in U2MPkce.test.ts:
 * taken below Linux's ephemeral range (32768-60999), where nothing that binds port 0 is ever given a port.
 */
const freePort = Effect.gen(function*() {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (yield* bindable(port)) return port
  }
})

describe("the U2M login callback's error text is redacted", () => {
  it.scopedLive("error and error_description echoing the client secret, the state, the code and a Bearer token", () =>
    Effect.gen(function*() {
      const clientSecret = "zq9-u2m-client-secret"
      const workspace = yield* workspaceWith((_, response) => json(response, 400, { error: "invalid_grant" }))
      const port = yield* freePort
      const redirectUri = `http://127.0.0.1:${port}/callback`
      const shown: Array<string> = []
      // The "browser": instead of logging in, it sends the callback an error that echoes every secret it can.
      const openBrowser = (url: string) =>
        Effect.promise(async () => {
          const state = new URL(url).searchParams.get("state")!
          shown.push(state)
          const callback = new URL(redirectUri)
          callback.search = new URLSearchParams({
            state,
            code: "zq9-authorization-code",
            error: `invalid_request ${clientSecret}`,
            error_description:
              `echo: client_secret=${clientSecret} state ${state} code zq9-authorization-code Authorization: Bearer zq9bearerTOKEN123`
          }).toString()
          await fetch(callback)
        })
      const layer = U2MPkce.layer({
        host: workspace.origin,
        clientId: "app",
        clientSecret: Redacted.make(clientSecret),
        redirectUri,
        openBrowser,
        interactive: true,
        tokenCache: TokenCache.memory(),
        retry: { times: 0 }
      }).pipe(Layer.provide(NodeHttpClient.layer))
      const outcome = yield* runCase(tokenOf.pipe(Effect.provide(layer)))
      assert.strictEqual(shown.length, 1, "the browser was opened once")
      // The state is in the login URL, which is logged on purpose (the user may open it by hand), so it is
      // checked in the error's own renderings only.
      const error = expectFailure(outcome, "AuthenticationError", [clientSecret, "zq9-authorization-code"])
      for (const text of [String(error), JSON.stringify(error)]) {
        assert.notInclude(text, shown[0]!, "the state was shown")
      }
      assert.include(error.message, "The identity provider did not grant the login: invalid_request <redacted>")
      assert.strictEqual(error.oauthError, "invalid_request <redacted>")
      const description = String(error.oauthErrorDescription)
      assert.include(description, "echo: client_secret=<redacted> state <redacted> code <redacted>")
      assert.notInclude(description, "bearerTOKEN")
      // The login never reached the token endpoint: the error ended it.
      assert.isFalse(workspace.requests.some((r) => r.url === "/oidc/v1/token"))
    }))
})

// ---------------------------------------------------------------------------------------------------------------

describe("redirects are never followed with a credential, whichever HttpClient is provided", () => {
  /** The HttpClients users provide: node:http, undici, and fetch (which follows redirects by default). */
  const clients: ReadonlyArray<readonly [string, Layer.Layer<HttpClient.HttpClient>]> = [
    ["NodeHttpClient.layer", NodeHttpClient.layer],
    ["NodeHttpClient.layerUndici", NodeHttpClient.layerUndici],
    ["FetchHttpClient.layer", FetchHttpClient.layer]
  ]

  /** The attacker's URL carries a marker in its path and query: only its origin may be shown. */
  const stealAt = (evil: Server) => `${evil.origin}/steal/zq9path?sig=zq9signature`

  /** Answers `path` with a redirect (307 keeps the method and the body) to the attacker; the rest with `other`. */
  const redirecting = (evil: Server, paths: ReadonlyArray<string>, other: Handler, status = 307) =>
    serve((request, response) => {
      if (paths.includes(request.url.split("?")[0]!)) {
        response.writeHead(status, { location: stealAt(evil) })
        return response.end()
      }
      other(request, response)
    })

  it.scopedLive("LocalM2M: a token endpoint or a discovery document that redirects gets nothing sent on", () =>
    Effect.gen(function*() {
      const secret = "zq9-m2m-secret"
      for (const [name, client] of clients) {
        for (const path of ["/oidc/v1/token", "/oidc/.well-known/oauth-authorization-server"]) {
          const evil = yield* attacker
          let origin = ""
          const workspace = yield* redirecting(
            evil,
            [path],
            (request, response) =>
              request.url === "/oidc/.well-known/oauth-authorization-server"
                ? json(response, 200, { token_endpoint: `${origin}/oidc/v1/token` })
                : json(response, 404, {})
          )
          origin = workspace.origin
          const layer = LocalM2M.layer({
            host: workspace.origin,
            clientId: "sp",
            clientSecret: Redacted.make(secret),
            retry: { times: 0 }
          }).pipe(Layer.provide(client))
          const error = expectFailure(yield* runCase(tokenOf.pipe(Effect.provide(layer))), "AuthenticationError", [
            secret
          ])
          assert.include(error.message, `answered HTTP 307 with a redirect to ${evil.origin};`, `${name} ${path}`)
          assert.include(error.message, "redirects are not followed")
          assert.strictEqual(error.status, 307)
          noRequests(evil)
          assert.isTrue(workspace.requests.some((r) => r.url === path), `${name}: ${path} was asked`)
        }
      }
    }))

  it.scopedLive("U2MPkce refresh: a 307 from the token endpoint does not carry the refresh token or secret on", () =>
    Effect.gen(function*() {
      const secret = "zq9-u2m-secret"
      const refreshToken = "zq9-refresh-token"
      for (const [name, client] of clients) {
        const evil = yield* attacker
        let origin = ""
        const workspace = yield* redirecting(evil, ["/oidc/v1/token"], (_, response) =>
          json(response, 200, {
            token_endpoint: `${origin}/oidc/v1/token`,
            authorization_endpoint: `${origin}/oidc/v1/authorize`
          }))
        origin = workspace.origin
        const cache = TokenCache.memory()
        yield* cache.save(TokenCache.key(workspace.origin, "app", ["all-apis", "offline_access"]), {
          accessToken: Redacted.make("zq9-old-access"),
          refreshToken: Redacted.make(refreshToken),
          expiresAt: DateTime.unsafeMake(0)
        })
        const layer = U2MPkce.layer({
          host: workspace.origin,
          clientId: "app",
          clientSecret: Redacted.make(secret),
          redirectUri: "http://127.0.0.1:1/callback",
          interactive: false,
          tokenCache: cache,
          retry: { times: 0 }
        }).pipe(Layer.provide(client))
        const error = expectFailure(
          yield* runCase(tokenOf.pipe(Effect.provide(layer))),
          "AuthenticationError",
          [secret, refreshToken]
        )
        assert.include(error.message, `redirect to ${evil.origin};`, name)
        noRequests(evil)
        assert.include(workspace.requests.at(-1)!.body, "refresh_token=", `${name}: the refresh was sent home`)
      }
    }))

  it.scopedLive("ConnectContent: a redirect from server_settings or the exchange does not carry the key or token on", () =>
    Effect.gen(function*() {
      const apiKey = "zq9connectKey"
      const sessionToken = "zq9contentSession"
      for (const [name, client] of clients) {
        for (const path of ["/__api__/server_settings", "/__api__/v1/oauth/integrations/credentials"]) {
          const evil = yield* attacker
          const connect = yield* redirecting(
            evil,
            [path],
            (_, response) => json(response, 200, { version: "2024.09.0" })
          )
          const layer = ConnectContent.layer({
            local: Pat.layer({ token: Redacted.make("zq9-local-unused") }),
            server: connect.origin,
            apiKey: Redacted.make(apiKey),
            retry: { times: 0 }
          }).pipe(
            Layer.provide(client),
            Layer.provide(withEnv({ RSTUDIO_PRODUCT: "CONNECT", CONNECT_CONTENT_SESSION_TOKEN: sessionToken }))
          )
          const error = expectFailure(
            yield* runCase(tokenOf.pipe(Effect.provide(layer))),
            "AuthenticationError",
            [apiKey, sessionToken]
          )
          assert.include(error.message, `redirect to ${evil.origin};`, `${name} ${path}`)
          assert.include(error.hint, "CONNECT_SERVER")
          noRequests(evil)
          assert.isTrue(connect.requests.some((r) => r.url === path), `${name}: ${path} was asked`)
        }
      }
    }))

  it.scopedLive("WorkspaceClient: GET and POST answered 301, 302, 307 or 308 are an ApiError naming the origin only", () =>
    Effect.gen(function*() {
      const token = "zq9patTOKEN0123456789"
      for (const [name, client] of clients) {
        for (const status of [301, 302, 307, 308]) {
          const evil = yield* attacker
          const workspace = yield* redirecting(
            evil,
            ["/api/2.0/preview/scim/v2/Me", "/api/2.0/jobs/create"],
            (_, r) => json(r, 404, {}),
            status
          )
          const http = yield* WorkspaceClient.make({ host: workspace.origin, retry: { times: 0 } }).pipe(
            Effect.map((c) => c.http),
            Effect.provide(Pat.layer({ token: Redacted.make(token) })),
            // Built in the test's scope: the client (an undici dispatcher) must outlive `make`.
            Effect.provide(yield* Layer.build(client))
          )
          const requests = [
            http.get("/api/2.0/preview/scim/v2/Me"),
            http.execute(
              HttpClientRequest.post("/api/2.0/jobs/create").pipe(HttpClientRequest.bodyUnsafeJson({ name: "zq9-job" }))
            )
          ]
          for (const request of requests) {
            const error = expectFailure(yield* runCase(request), "ApiError", [token])
            assert.strictEqual(error.status, status, name)
            assert.include(error.message, `answered HTTP ${status} with a redirect to ${evil.origin};`, name)
          }
          noRequests(evil)
          assert.deepStrictEqual(workspace.requests.map((r) => r.method), ["GET", "POST"], name)
          assert.isTrue(workspace.requests.every((r) => r.authorization === `Bearer ${token}`))
        }
      }
    }))

  it.scopedLive("WorkspaceClient over the Emulator's HttpClient refuses a redirect the same way", () =>
    Effect.gen(function*() {
      const token = "zq9patTOKENforEmulatorClient"
      const evil = yield* attacker
      const workspace = yield* redirecting(evil, ["/api/2.0/preview/scim/v2/Me"], (_, r) => json(r, 404, {}), 302)
      const error = expectFailure(
        yield* runCase(
          WorkspaceClient.currentUser.pipe(
            Effect.provide(WorkspaceClient.layer({ host: workspace.origin, retry: { times: 0 } })),
            Effect.provide(Pat.layer({ token: Redacted.make(token) })),
            Effect.provide(Emulator.httpClient)
          )
        ),
        "ApiError",
        [token]
      )
      assert.include(error.message, `redirect to ${evil.origin};`)
      noRequests(evil)
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("an HttpClient that follows redirects by itself: the answer from another origin is not used", () =>
    Effect.gen(function*() {
      const secret = "zq9-m2m-secret-followed"
      const evil = yield* attacker
      const workspace = yield* redirecting(evil, ["/oidc/v1/token"], (_, r) => json(r, 404, {}))
      // The user's choice: a client wrapped in HttpClient.followRedirects. The stolen token it brings back
      // from the attacker is refused; the docs say to use a client that does not follow redirects.
      const following = Layer.effect(
        HttpClient.HttpClient,
        Effect.map(HttpClient.HttpClient, HttpClient.followRedirects(3))
      ).pipe(Layer.provide(NodeHttpClient.layer))
      const layer = LocalM2M.layer({
        host: workspace.origin,
        clientId: "sp",
        clientSecret: Redacted.make(secret),
        tokenEndpoint: `${workspace.origin}/oidc/v1/token`,
        retry: { times: 0 }
      }).pipe(Layer.provide(following))
      const error = expectFailure(yield* runCase(tokenOf.pipe(Effect.provide(layer))), "AuthenticationError", [secret])
      assert.include(error.message, `was answered from ${evil.origin}, not the origin the request was sent to`)
      assert.notInclude(error.message, "stolen")
    }))
})

// ---------------------------------------------------------------------------------------------------------------

describe("TokenSource.make: option values of the wrong type fall back to the defaults, with a warning", () => {
  /** Log lines of `effect`, captured (the TestClock stays in charge of time). */
  const withLines = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make(({ message }) => void lines.push(String(message)))
      const value = yield* effect.pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      return { value, lines }
    })

  it.scoped("refreshAhead that is not a duration: make succeeds, warns, and refreshes 5 minutes ahead", () =>
    Effect.gen(function*() {
      let fetches = 0
      const fetch = Effect.sync((): TokenSource.IssuedToken => {
        fetches++
        return { value: Redacted.make(`zq9-token-${fetches}`), expiresIn: "10 minutes" }
      })
      for (const refreshAhead of ["soon", {}, Symbol.for("x"), [1]]) {
        fetches = 0
        const { lines, value: source } = yield* withLines(
          TokenSource.make(fetch, { authType: "custom", refreshAhead: refreshAhead as never })
        )
        assert.isTrue(
          lines.some((line) =>
            line.includes("TokenSource.make refreshAhead is not a duration; using the default of 5m")
          ),
          lines.join("\n")
        )
        assert.strictEqual(Redacted.value((yield* source.token).value), "zq9-token-1")
        // Inside the default 5-minute window (not before): one background refresh.
        yield* TestClock.adjust(Duration.seconds(299))
        yield* source.token
        yield* Effect.yieldNow()
        assert.strictEqual(fetches, 1, "no refresh before the default window")
        yield* TestClock.adjust("2 seconds")
        yield* source.token
        for (let i = 0; i < 10 && fetches < 2; i++) yield* Effect.yieldNow()
        assert.strictEqual(fetches, 2, "refreshed in the default window")
      }
    }))

  it.scoped("failureBackoff that is not an object, or not a finite duration: the default 500 ms backoff", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        ["fast", "failureBackoff is not an object"],
        [{ initial: "later" }, "failureBackoff.initial is not a duration"],
        [{ initial: Infinity, max: Infinity }, "failureBackoff.initial is not finite"],
        [{ max: { weird: true } }, "failureBackoff.max is not a duration"]
      ]
      for (const [failureBackoff, warning] of cases) {
        let fetches = 0
        const fetch = Effect.suspend(() => {
          fetches++
          return fetches === 1
            ? Effect.fail(new AuthenticationError({ message: "the IdP is down" }))
            : Effect.succeed<TokenSource.IssuedToken>({ value: Redacted.make("zq9-token") })
        })
        const { lines, value: source } = yield* withLines(
          TokenSource.make(fetch, { authType: "custom", failureBackoff: failureBackoff as never })
        )
        assert.isTrue(lines.some((line) => line.includes(warning)), `${warning}:\n${lines.join("\n")}`)
        const first = yield* Effect.exit(source.token)
        assert.isTrue(Exit.isFailure(first) && !Cause.isDie(first.cause), "the first fetch failed, typed")
        // The next fetch waits the default first backoff (500 ms): not before, and then it succeeds.
        const second = yield* Effect.fork(source.token)
        for (let i = 0; i < 10; i++) yield* Effect.yieldNow()
        assert.strictEqual(fetches, 1, `${warning}: fetched again without a backoff`)
        yield* TestClock.adjust("499 millis")
        assert.strictEqual(fetches, 1, `${warning}: fetched again before the default backoff`)
        yield* TestClock.adjust("1 millis")
        const token = yield* second
        assert.strictEqual(Redacted.value(token.value), "zq9-token")
        assert.strictEqual(fetches, 2)
      }
    }))

  it.scoped("options that are not an object at all still make a working source", () =>
    Effect.gen(function*() {
      for (const options of [undefined, null, "custom", 5]) {
        const source = yield* TokenSource.make(
          Effect.succeed<TokenSource.IssuedToken>({ value: Redacted.make("zq9-token") }),
          options as never
        )
        assert.strictEqual(Redacted.value((yield* source.token).value), "zq9-token")
        assert.strictEqual(source.authType, "custom")
      }
    }))
})
