/**
 * Hostile servers: where credentials may go, and what may come back in error text.
 *
 * Each case runs against the Emulator or tiny node:http servers on 127.0.0.1 started by the test: a
 * "workspace" that answers with hostile documents or echoes the request, and an "attacker" that records
 * every request it gets. Each case asserts the exact error tag and a clear message, that the attacker got
 * nothing, and that no secret appears in String(error), JSON.stringify(error), util.inspect(error) or a log
 * line. Runs use the live clock (real loopback I/O) and are bounded, so a hang fails the case.
 */
import {
  ConnectContent,
  DatabricksCli,
  LocalM2M,
  Pat,
  TokenCache,
  U2MPkce,
  WorkspaceClient,
  WorkspaceHost
} from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Cause, DateTime, Effect, Exit, Layer, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import {
  attacker,
  discovering,
  expectFailure,
  json,
  noRequests,
  type Recorded,
  runCase,
  serve,
  tokenOf
} from "./hostile.js"
import { tempDir, withEnv } from "./utils.js"

const clientId = "app-client-id"
const clientSecret = "zq9-client+secret/=&x y"

const m2m = (host: string) =>
  LocalM2M.layer({
    host,
    clientId,
    clientSecret: Redacted.make(clientSecret),
    retry: { times: 0 }
  }).pipe(Layer.provide(NodeHttpClient.layer))

// ---------------------------------------------------------------------------------------------------------------

describe("WorkspaceClient sends the token only to the workspace's origin", () => {
  const pat = (emulator: Emulator.Emulator) => Redacted.value(emulator.pat)

  /** A WorkspaceClient on the Emulator with its PAT, and an attacker on another loopback port. */
  const setup = Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const evil = yield* attacker
    const client = yield* WorkspaceClient.make({ host: emulator.host, retry: { times: 0 } }).pipe(
      Effect.provide(Pat.layer({ token: emulator.pat })),
      Effect.provide(Emulator.httpClient),
      Effect.provideService(Emulator.Emulator, emulator)
    )
    return { emulator, evil, client }
  })

  it.scopedLive("URLs that resolve to another origin are a ConfigurationError before any request", () =>
    Effect.gen(function*() {
      const { client, emulator, evil } = yield* setup
      const workspace = new URL(emulator.host)
      const other = `127.0.0.1:${evil.port}`
      const refused = [
        `//${other}/x`,
        `http://${other}/x`,
        `HTTP://${other}/x`,
        `https://evil.invalid/x`,
        `\\\\${other}/x`,
        `/\\${other}/x`,
        `\\/${other}/x`,
        `http:\\\\${other}/x`,
        `http:${other}/x`,
        `https://${workspace.hostname}:${evil.port}/x`,
        `http://${workspace.host}/x`,
        `https://user:zq9pw@${workspace.host}/api/2.0/preview/scim/v2/Me`,
        `javascript:alert(1)`,
        `file:///etc/passwd`,
        `http://[::1`
      ]
      for (const url of refused) {
        const outcome = yield* runCase(client.http.get(url))
        const error = expectFailure(outcome, "ConfigurationError", [pat(emulator)])
        assert.include(error.message, `sends the workspace token only to ${emulator.host}`, url)
        assert.isString(error.hint)
      }
      noRequests(evil)
      // Nothing reached the workspace either: each was refused before any request.
      assert.strictEqual((yield* emulator.stats).requests.scim ?? 0, 0)
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("the message names the origin the URL resolved to", () =>
    Effect.gen(function*() {
      const { client, emulator, evil } = yield* setup
      const error = expectFailure(
        yield* runCase(client.http.get(`//127.0.0.1:${evil.port}/x`)),
        "ConfigurationError",
        [pat(emulator)]
      )
      assert.include(error.message, `resolves to https://127.0.0.1:${evil.port}`)
      noRequests(evil)
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("a URL changed after the client by HttpClient.mapRequest is checked as it will be sent", () =>
    Effect.gen(function*() {
      const { client, emulator, evil } = yield* setup
      const redirected = client.http.pipe(HttpClient.mapRequest(HttpClientRequest.setUrl(`${evil.origin}/x`)))
      expectFailure(yield* runCase(redirected.get("/api/2.0/preview/scim/v2/Me")), "ConfigurationError", [
        pat(emulator)
      ])
      noRequests(evil)
    }).pipe(Effect.provide(Emulator.layer())))

  it.scopedLive("relative URLs, with or without a leading slash or '@', stay on the workspace", () =>
    Effect.gen(function*() {
      const { client, emulator, evil } = yield* setup
      // Resolved as a browser resolves a link: "@host:port/x" is a path on the workspace, not user info.
      const onWorkspace = [
        `@127.0.0.1:${evil.port}/x`,
        `@${evil.origin}/x`,
        `127.0.0.1:${evil.port}/x`
      ]
      for (const url of onWorkspace) {
        const error = expectFailure(yield* runCase(client.http.get(url)), "ApiError", [pat(emulator)])
        assert.strictEqual(error.status, 404, url)
      }
      for (
        const url of [
          "/api/2.0/../2.0/preview/scim/v2/Me",
          "api/2.0/preview/scim/v2/Me",
          `${emulator.host}/api/2.0/preview/scim/v2/Me`
        ]
      ) {
        const outcome = yield* runCase(client.http.get(url))
        assert.isTrue(
          Exit.isSuccess(outcome.exit),
          `${url}: ${Exit.isFailure(outcome.exit) ? Cause.pretty(outcome.exit.cause) : ""}`
        )
        if (Exit.isSuccess(outcome.exit)) assert.strictEqual(outcome.exit.value.status, 200, url)
      }
      noRequests(evil)
    }).pipe(Effect.provide(Emulator.layer())))
})

describe("WorkspaceClient options from untyped callers", () => {
  it.scopedLive("a requestTimeout or retry wait that is not a duration is a ConfigurationError, not a defect", () =>
    Effect.gen(function*() {
      const evil = yield* attacker
      const cases: ReadonlyArray<readonly [unknown, string]> = [
        [{ requestTimeout: "soon" }, "requestTimeout"],
        [{ requestTimeout: {} }, "requestTimeout"],
        [{ retry: { base: "often" } }, "base"],
        [{ retry: { maxDelay: Symbol.for("x") } }, "maxDelay"]
      ]
      for (const [options, setting] of cases) {
        const make = WorkspaceClient.make({ host: evil.origin, ...(options as object) }).pipe(
          Effect.provide(Pat.layer({ token: Redacted.make("zq9patForOptions") })),
          Effect.provide(NodeHttpClient.layer)
        )
        const error = expectFailure(yield* runCase(make), "ConfigurationError", ["zq9patForOptions"])
        assert.strictEqual(error.setting, setting)
        assert.include(error.message, "is not a duration")
      }
      noRequests(evil)
    }))
})

// ---------------------------------------------------------------------------------------------------------------

describe("OIDC discovery cannot send credentials to another origin", () => {
  it.scopedLive("LocalM2M: a token_endpoint on another origin is an AuthenticationError; the secret stays home", () =>
    Effect.gen(function*() {
      const evil = yield* attacker
      const workspace = yield* discovering((origin) => ({
        token_endpoint: `${evil.origin}/oidc/v1/token`,
        authorization_endpoint: `${origin}/oidc/v1/authorize`
      }))
      const error = expectFailure(
        yield* runCase(tokenOf.pipe(Effect.provide(m2m(workspace.origin)))),
        "AuthenticationError",
        [clientSecret]
      )
      assert.include(error.message, `token_endpoint on ${evil.origin}`)
      assert.include(error.message, `not the workspace's origin ${workspace.origin}`)
      assert.include(error.hint, "tokenEndpoint")
      noRequests(evil)
      // Only the discovery document was fetched: no token request went anywhere.
      assert.deepStrictEqual(workspace.requests.map((r) => r.url), ["/oidc/.well-known/oauth-authorization-server"])
    }))

  it.scopedLive("LocalM2M: an authorization_endpoint on another origin is refused too", () =>
    Effect.gen(function*() {
      const evil = yield* attacker
      const workspace = yield* discovering((origin) => ({
        token_endpoint: `${origin}/oidc/v1/token`,
        authorization_endpoint: `${evil.origin}/authorize`
      }))
      const error = expectFailure(
        yield* runCase(tokenOf.pipe(Effect.provide(m2m(workspace.origin)))),
        "AuthenticationError",
        [clientSecret]
      )
      assert.include(error.message, `authorization_endpoint on ${evil.origin}`)
      noRequests(evil)
    }))

  it.scopedLive("LocalM2M: the same host on another port or scheme is another origin", () =>
    Effect.gen(function*() {
      const evil = yield* attacker
      for (const token of [`${evil.origin}/oidc/v1/token`, `https://127.0.0.1:${evil.port}/oidc/v1/token`]) {
        const workspace = yield* discovering(() => ({ token_endpoint: token }))
        expectFailure(
          yield* runCase(tokenOf.pipe(Effect.provide(m2m(workspace.origin)))),
          "AuthenticationError",
          [clientSecret]
        )
      }
      noRequests(evil)
    }))

  it.scopedLive("LocalM2M: an explicitly configured tokenEndpoint on another origin is the user's choice", () =>
    Effect.gen(function*() {
      const issuer = yield* serve((_, response) =>
        json(response, 200, { access_token: "issued", token_type: "Bearer", expires_in: 3600 })
      )
      const workspace = yield* discovering(() => ({ token_endpoint: "https://evil.invalid/token" }))
      const layer = LocalM2M.layer({
        host: workspace.origin,
        clientId,
        clientSecret: Redacted.make(clientSecret),
        tokenEndpoint: `${issuer.origin}/token`,
        retry: { times: 0 }
      }).pipe(Layer.provide(NodeHttpClient.layer))
      const outcome = yield* runCase(tokenOf.pipe(Effect.provide(layer)))
      assert.isTrue(Exit.isSuccess(outcome.exit))
      assert.strictEqual(issuer.requests.length, 1)
      assert.strictEqual(workspace.requests.length, 0, "no discovery when the endpoint is configured")
    }))

  const u2m = (host: string, opened: Array<string>, extra?: Partial<U2MPkce.Options>) =>
    U2MPkce.layer({
      host,
      clientId,
      clientSecret: Redacted.make(clientSecret),
      redirectUri: "http://127.0.0.1:1/callback",
      interactive: true,
      openBrowser: (url) => Effect.sync(() => void opened.push(url)),
      tokenCache: TokenCache.memory(),
      loginTimeout: "5 seconds",
      retry: { times: 0 },
      ...extra
    }).pipe(Layer.provide(NodeHttpClient.layer))

  it.scopedLive("U2MPkce login: a hostile authorization_endpoint or token_endpoint never opens a browser", () =>
    Effect.gen(function*() {
      const evil = yield* attacker
      const documents = [
        (origin: string) => ({
          token_endpoint: `${origin}/oidc/v1/token`,
          authorization_endpoint: `${evil.origin}/authorize`
        }),
        (origin: string) => ({
          token_endpoint: `${evil.origin}/oidc/v1/token`,
          authorization_endpoint: `${origin}/oidc/v1/authorize`
        })
      ]
      for (const document of documents) {
        const workspace = yield* discovering(document)
        const opened: Array<string> = []
        const error = expectFailure(
          yield* runCase(tokenOf.pipe(Effect.provide(u2m(workspace.origin, opened)))),
          "AuthenticationError",
          [clientSecret]
        )
        assert.include(error.message, `on ${evil.origin}, which is not the workspace's origin ${workspace.origin}`)
        assert.deepStrictEqual(opened, [], "a browser was sent to a hostile authorization endpoint")
      }
      noRequests(evil)
    }))

  it.scopedLive("U2MPkce refresh: a cached refresh token is not sent to a hostile token_endpoint", () =>
    Effect.gen(function*() {
      const evil = yield* attacker
      const workspace = yield* discovering((origin) => ({
        token_endpoint: `${evil.origin}/oidc/v1/token`,
        authorization_endpoint: `${origin}/oidc/v1/authorize`
      }))
      const refreshToken = "zq9-refresh-token-value"
      const cache = TokenCache.memory()
      yield* cache.save(TokenCache.key(workspace.origin, clientId, ["all-apis", "offline_access"]), {
        accessToken: Redacted.make("zq9-old-access-token"),
        refreshToken: Redacted.make(refreshToken),
        expiresAt: DateTime.unsafeMake(0)
      })
      const opened: Array<string> = []
      const error = expectFailure(
        yield* runCase(
          tokenOf.pipe(Effect.provide(u2m(workspace.origin, opened, { tokenCache: cache, interactive: false })))
        ),
        "AuthenticationError",
        [clientSecret, refreshToken]
      )
      assert.include(error.message, `token_endpoint on ${evil.origin}`)
      noRequests(evil)
      assert.deepStrictEqual(opened, [])
    }))
})

// ---------------------------------------------------------------------------------------------------------------

describe("secrets echoed by a server never reach our error text", () => {
  /** Echoes everything it was sent: the body (form-encoded secrets), the Authorization header, and decoded values. */
  const echo = (request: Recorded) => {
    const form = Object.fromEntries(new URLSearchParams(request.body))
    const basic = request.authorization?.startsWith("Basic ")
      ? Buffer.from(request.authorization.slice(6), "base64").toString("utf8")
      : ""
    return `you sent ${request.body} with ${request.authorization}; decoded ${JSON.stringify(form)} ${basic} ${
      Object.values(form).join(" ")
    }`
  }

  it.scopedLive("LocalM2M: an IdP echoing client_secret=…, the Basic header and the raw secret", () =>
    Effect.gen(function*() {
      const workspace = yield* discovering(
        (origin) => ({ token_endpoint: `${origin}/oidc/v1/token` }),
        (request, response) =>
          json(response, 400, { error: "invalid_client", error_description: `${echo(request)} client_secret=x` })
      )
      const outcome = yield* runCase(tokenOf.pipe(Effect.provide(m2m(workspace.origin))))
      const error = expectFailure(outcome, "AuthenticationError", [clientSecret])
      assert.strictEqual(error.oauthError, "invalid_client")
      assert.include(error.message, "The token endpoint refused the client credentials (HTTP 400): invalid_client")
      assert.include(error.oauthErrorDescription as string, "<redacted>")
      // The request did carry the secret: the echo had something to leak.
      assert.include(workspace.requests[1]!.authorization, "Basic ")
    }))

  it.scopedLive("LocalM2M: a 5xx echoing the secret, logged on retry, shows it nowhere", () =>
    Effect.gen(function*() {
      const workspace = yield* discovering(
        (origin) => ({ token_endpoint: `${origin}/oidc/v1/token` }),
        (request, response) => json(response, 500, { error_code: "INTERNAL", message: echo(request) })
      )
      const layer = LocalM2M.layer({
        host: workspace.origin,
        clientId,
        clientSecret: Redacted.make(clientSecret),
        retry: { times: 1, base: "1 millis", maxDelay: "1 millis" }
      }).pipe(Layer.provide(NodeHttpClient.layer))
      const outcome = yield* runCase(tokenOf.pipe(Effect.provide(layer)))
      expectFailure(outcome, "AuthenticationError", [clientSecret])
      assert.isTrue(outcome.lines.some((line) => line.includes("retrying")), "the retry was logged")
      assert.strictEqual(workspace.requests.filter((r) => r.url === "/oidc/v1/token").length, 2)
    }))

  it.scopedLive("an OAuth error code like constructor or __proto__ is an AuthenticationError, not a defect", () =>
    Effect.gen(function*() {
      for (const code of ["constructor", "__proto__", "hasOwnProperty", "toString"]) {
        const workspace = yield* discovering(
          (origin) => ({ token_endpoint: `${origin}/oidc/v1/token` }),
          (_, response) => json(response, 400, { error: code })
        )
        const error = expectFailure(
          yield* runCase(tokenOf.pipe(Effect.provide(m2m(workspace.origin)))),
          "AuthenticationError",
          [clientSecret]
        )
        assert.strictEqual(error.oauthError, code)
        assert.isString(error.hint)
        // The default hint: an own-property lookup found no hint for the code.
        assert.include(error.hint, "Check clientId / clientSecret")
      }
    }))

  it.scopedLive("U2MPkce refresh: an IdP echoing refresh_token=… and the client secret", () =>
    Effect.gen(function*() {
      const workspace = yield* discovering(
        (origin) => ({
          token_endpoint: `${origin}/oidc/v1/token`,
          authorization_endpoint: `${origin}/oidc/v1/authorize`
        }),
        (request, response) => json(response, 400, { error: "invalid_request", error_description: echo(request) })
      )
      const refreshToken = "zq9-refresh+token/value=="
      const cache = TokenCache.memory()
      yield* cache.save(TokenCache.key(workspace.origin, clientId, ["all-apis", "offline_access"]), {
        accessToken: Redacted.make("zq9-old-access"),
        refreshToken: Redacted.make(refreshToken),
        expiresAt: DateTime.unsafeMake(0)
      })
      const layer = U2MPkce.layer({
        host: workspace.origin,
        clientId,
        clientSecret: Redacted.make(clientSecret),
        redirectUri: "http://127.0.0.1:1/callback",
        interactive: false,
        tokenCache: cache,
        retry: { times: 0 }
      }).pipe(Layer.provide(NodeHttpClient.layer))
      const error = expectFailure(
        yield* runCase(tokenOf.pipe(Effect.provide(layer))),
        "AuthenticationError",
        [clientSecret, refreshToken]
      )
      assert.strictEqual(error.oauthError, "invalid_request")
      assert.include(workspace.requests.at(-1)!.body, "refresh_token=")
    }))

  const workspaceEcho = (status: number, message: (echoed: string) => string) =>
    serve((request, response) =>
      json(response, status, {
        error_code: "ECHO",
        message: message(`Authorization: ${request.authorization}; raw ${request.authorization?.slice(7)}`)
      })
    )

  const callMe = (host: string, token: string) =>
    WorkspaceClient.currentUser.pipe(
      Effect.provide(
        WorkspaceClient.layer({ host, retry: { times: 0 } }).pipe(
          Layer.provide(Pat.layer({ token: Redacted.make(token) })),
          Layer.provide(NodeHttpClient.layer)
        )
      )
    )

  it.scopedLive("WorkspaceClient: error bodies echoing `Bearer …` and the raw token, for every status", () =>
    Effect.gen(function*() {
      const token = "zq9patTOKENvalue1234567890"
      const cases: ReadonlyArray<readonly [number, string, (echoed: string) => string]> = [
        [500, "ServerError", (e) => `upstream failed: ${e}`],
        [400, "ApiError", (e) => `bad request: ${e}`],
        [401, "AuthenticationError", (e) => `unauthorized: ${e}`],
        [403, "AuthenticationError", (e) => `Invalid access token. ${e}`],
        [403, "PermissionError", (e) => `not an admin: ${e}`],
        [429, "RateLimitError", (e) => `slow down: ${e}`]
      ]
      for (const [status, tag, message] of cases) {
        const server = yield* workspaceEcho(status, message)
        const error = expectFailure(yield* runCase(callMe(server.origin, token)), tag, [token])
        assert.include(error.message, `HTTP ${status}`)
        assert.strictEqual(server.requests[0]!.authorization, `Bearer ${token}`, "the token was sent to echo")
      }
    }))

  it.scopedLive("ConnectContent: Connect echoing the API key and the content session token", () =>
    Effect.gen(function*() {
      const apiKey = "zq9connectApiKey123"
      const sessionToken = "zq9contentSessionToken456"
      const connect = yield* serve((request, response) => {
        if (request.url === "/__api__/server_settings") return json(response, 200, { version: "2024.09.0" })
        json(response, 400, {
          code: 212,
          error: `bad request ${request.body} with ${request.authorization} subject ${sessionToken} key ${apiKey}`
        })
      })
      const layer = ConnectContent.layer({
        local: Pat.layer({ token: Redacted.make("zq9-local-unused") }),
        server: connect.origin,
        apiKey: Redacted.make(apiKey),
        retry: { times: 0 }
      }).pipe(
        Layer.provide(NodeHttpClient.layer),
        Layer.provide(withEnv({ RSTUDIO_PRODUCT: "CONNECT", CONNECT_CONTENT_SESSION_TOKEN: sessionToken }))
      )
      const error = expectFailure(
        yield* runCase(tokenOf.pipe(Effect.provide(layer))),
        "AuthenticationError",
        [apiKey, sessionToken]
      )
      assert.include(error.message, "Posit Connect refused the credential exchange")
      assert.strictEqual(error.connectCode, 212)
      assert.isTrue(connect.requests.some((r) => r.body.includes("subject_token=")), "the exchange was made")
    }))

  it.scopedLive("DatabricksCli: stderr with `Authorization: Basic …` and a bare Basic credential is redacted", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const basic = Buffer.from("user:zq9cliSecret").toString("base64")
      const cli = Path.join(dir, "databricks")
      Fs.writeFileSync(
        cli,
        [
          "#!/bin/sh",
          `echo "Error: request failed: Authorization: Basic ${basic}" >&2`,
          `echo "retrying with header Basic ${basic} and Bearer zq9cliBearer.abc" >&2`,
          "exit 1"
        ].join("\n") + "\n",
        { mode: 0o755 }
      )
      const layer = DatabricksCli.layer({ host: "https://dbc-1.cloud.databricks.com", cliPath: cli }).pipe(
        Layer.provide(NodeContext.layer),
        Layer.provide(withEnv({ PATH: process.env.PATH ?? "" }))
      )
      const error = expectFailure(yield* runCase(tokenOf.pipe(Effect.provide(layer))), "AuthenticationError", [
        basic,
        "zq9cliSecret",
        "zq9cliBearer.abc"
      ])
      assert.include(error.message, "failed with exit code 1")
      assert.include(error.message, "Authorization: <redacted>")
    }))
})

// ---------------------------------------------------------------------------------------------------------------

describe("a host with user information", () => {
  it.effect("is a ConfigurationError that echoes no part of it", () =>
    Effect.gen(function*() {
      const inputs = [
        "https://user:zq9secret@dbc-1.cloud.databricks.com",
        "https://user:zq9sec@ret@dbc-1.cloud.databricks.com",
        "https://user:zq9sec/ret@dbc-1.cloud.databricks.com",
        "user:zq9secret@dbc-1.cloud.databricks.com",
        "zq9token@dbc-1.cloud.databricks.com",
        "https://user:zq9 secret@dbc-1.cloud.databricks.com",
        "ftp://user:zq9secret@dbc-1.cloud.databricks.com"
      ]
      for (const input of inputs) {
        const outcome = yield* runCase(WorkspaceHost.make(input))
        const error = expectFailure(outcome, "ConfigurationError", ["zq9secret"])
        assert.include(error.message, "must not contain credentials", input)
        assert.include(error.hint, "Remove")
      }
    }))
})
