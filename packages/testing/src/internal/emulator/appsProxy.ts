import * as Cookies from "@effect/platform/Cookies"
import type * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type { AppsProxy, AppsProxyOptions, AppsProxyStats, Principal } from "../../Emulator.js"
import { EmulatorError } from "../../EmulatorError.js"
import type { Faults } from "./faults.js"
import { endpoint, json, Reply } from "./http.js"
import * as Random from "./random.js"
import type { Registry } from "./registry.js"
import type { Stats } from "./stats.js"

/**
 * @internal
 *
 * The Databricks Apps proxy, on loopback: a reverse proxy in front of a user's app that logs a workspace user in
 * and forwards each request with the headers the platform adds.
 *
 * Platform facts it follows, each with its source:
 * - The forwarded headers, `X-Forwarded-Host`, `X-Forwarded-Preferred-Username`, `X-Forwarded-User`,
 *   `X-Forwarded-Email`, `X-Real-Ip`, `X-Request-Id` (a UUID): "Access HTTP headers passed to Databricks apps",
 *   https://docs.databricks.com/gcp/dev-tools/databricks-apps/http-headers
 * - With user authorization, the viewer's token in `X-Forwarded-Access-Token`, limited to the scopes the app was
 *   granted: "Configure authorization in a Databricks app", https://docs.databricks.com/aws/dev-tools/databricks-apps/auth
 * - The values: `X-Forwarded-User` the user name, `-Email` the user's e-mail, `-Preferred-Username` the display
 *   name, as Databricks' own local stand-in sends them (databricks/cli, libs/apps/runlocal/headers.go); the real
 *   proxy's `X-Forwarded-User` is an IdP identifier whose exact shape is not documented.
 * - The app's environment: `DATABRICKS_APP_NAME`, `DATABRICKS_WORKSPACE_ID`, `DATABRICKS_HOST`,
 *   `DATABRICKS_APP_PORT`, `DATABRICKS_CLIENT_ID`, `DATABRICKS_CLIENT_SECRET` ("Databricks Apps system
 *   environment", https://docs.databricks.com/aws/dev-tools/databricks-apps/system-env); `DATABRICKS_APP_URL` as
 *   the CLI's run-local sets it (libs/apps/runlocal/env.go).
 * - API clients call the app with `Authorization: Bearer <OAuth token>` ("Connect to an API Databricks app using
 *   token authentication", https://docs.databricks.com/aws/dev-tools/databricks-apps/connect-local); the proxy
 *   does not pass that header on (observed by users, community.databricks.com "User OBO Token Forwarding between
 *   apps").
 *
 * Ours, not the platform's: the test header `X-Emulator-Apps-User` (a user name) that logs a user in without a
 * browser; the cookie name; the `/.auth/` paths; 401 (API clients) or a login redirect (browsers) for an
 * unauthenticated request; 502 when the app does not answer. Each response is buffered, not streamed.
 */

export interface Deps {
  readonly listen: (
    create: () => Http.Server,
    port: number,
    what: string
  ) => Effect.Effect<{ readonly server: HttpServer.HttpServer; readonly port: number }, EmulatorError, Scope.Scope>
  readonly registry: Registry
  readonly faults: Faults
  readonly stats: Stats
  /** The workspace host: its authorize endpoint logs browsers in. */
  readonly host: string
  readonly workspaceId: string
}

/** The test header that chooses the user (a user name); the proxy never forwards it. */
export const testUserHeader = "x-emulator-apps-user"
const cookieName = "emulator-databricks-apps-session"
const loginClientId = "emulator-databricks-apps-proxy"
const callbackPath = "/.auth/callback"
const defaultScopes = ["sql", "iam.current-user.read"]

/** Headers the client may not set: the proxy's own, and the credentials it consumes. */
const isProxyHeader = (name: string) =>
  name.startsWith("x-forwarded-") || name === "x-real-ip" || name === "x-request-id" || name === testUserHeader ||
  name === "forwarded"

/** Hop-by-hop headers (RFC 9110 §7.6.1), which a proxy does not pass on. */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade"
])

interface PendingLogin {
  readonly verifier: string
  readonly returnTo: string
}

interface Upstream {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: Buffer
}

const send = (target: URL, method: string, path: string, headers: Record<string, string>, body: Uint8Array) =>
  Effect.async<Upstream, Error>((resume) => {
    const request = Http.request({
      hostname: target.hostname,
      port: target.port,
      method,
      path,
      headers: { ...headers, "content-length": String(body.byteLength) }
    }, (response) => {
      const chunks: Array<Buffer> = []
      response.on("data", (chunk: Buffer) => chunks.push(chunk))
      response.on(
        "end",
        () =>
          resume(
            Effect.succeed({
              status: response.statusCode ?? 502,
              headers: response.headers,
              body: Buffer.concat(chunks)
            })
          )
      )
      response.on("error", (error) => resume(Effect.fail(error)))
    })
    request.on("error", (error) => resume(Effect.fail(error)))
    request.end(body)
    return Effect.sync(() => request.destroy())
  })

const text = (status: number, body: string) => HttpServerResponse.text(body, { status })

export const make = (
  deps: Deps,
  options: AppsProxyOptions
): Effect.Effect<AppsProxy, EmulatorError, Scope.Scope> =>
  Effect.gen(function*() {
    let target: URL
    try {
      target = new URL(options.target)
    } catch {
      return yield* Effect.fail(new EmulatorError({ message: "appsProxy: target must be an http:// URL of the app" }))
    }
    if (target.protocol !== "http:" || target.port === "") {
      return yield* Effect.fail(
        new EmulatorError({
          message: "appsProxy: target must be an http:// URL with a port, such as http://127.0.0.1:8000"
        })
      )
    }
    const appName = options.name ?? "emulated-app"
    const userAuthorization = options.userAuthorization === false
      ? undefined
      : { scopes: options.userAuthorization?.scopes ?? defaultScopes }
    const app = deps.registry.addServicePrincipal({ displayName: `app-${appName}` })
    deps.registry.addOAuthClient(loginClientId)

    const sessions = new Map<string, string>()
    const pending = new Map<string, PendingLogin>()
    const counters = { forwarded: 0, unauthenticated: 0, logins: 0, spoofedHeadersRemoved: 0, appUnreachable: 0 }
    const endpointDeps = { faults: deps.faults, stats: deps.stats }

    const listening = yield* deps.listen(() => Http.createServer(), options.port ?? 0, "Databricks Apps proxy")
    const url = `http://127.0.0.1:${listening.port}`

    const userByName = (userName: string): Principal | undefined => {
      for (const principal of deps.registry.principals.values()) {
        if (principal.kind === "user" && principal.userName === userName) return principal
      }
      return undefined
    }

    /** Who sent the request: the test header, a bearer OAuth token, or the session cookie, in that order. */
    const whoIs = (request: HttpServerRequest.HttpServerRequest, now: number): Principal | "bad-token" | undefined => {
      const chosen = request.headers[testUserHeader]
      if (typeof chosen === "string" && chosen.trim() !== "") return userByName(chosen.trim()) ?? "bad-token"
      const authorization = request.headers.authorization
      if (typeof authorization === "string" && /^bearer /i.test(authorization)) {
        const result = deps.registry.authenticate(authorization.slice(7).trim(), now)
        return result._tag === "Valid" && result.via === "oauth" ? result.principal : "bad-token"
      }
      const session = request.cookies[cookieName]
      const principalId = session === undefined ? undefined : sessions.get(session)
      return principalId === undefined ? undefined : deps.registry.principals.get(principalId)
    }

    const login = (request: HttpServerRequest.HttpServerRequest) => {
      const verifier = Crypto.randomBytes(32).toString("base64url")
      const state = Random.secret("", 16)
      pending.set(state, { verifier, returnTo: request.url.startsWith("/") ? request.url : "/" })
      const authorize = new URL(`${deps.host}/oidc/v1/authorize`)
      authorize.searchParams.set("client_id", loginClientId)
      authorize.searchParams.set("response_type", "code")
      authorize.searchParams.set("redirect_uri", `${url}${callbackPath}`)
      authorize.searchParams.set("scope", "openid email profile")
      authorize.searchParams.set("state", state)
      authorize.searchParams.set("code_challenge", Crypto.createHash("sha256").update(verifier).digest("base64url"))
      authorize.searchParams.set("code_challenge_method", "S256")
      return HttpServerResponse.redirect(authorize.toString(), { status: 302 })
    }

    const callback = endpoint("apps_login", endpointDeps, (info) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const query = new URL(request.url, url).searchParams
        const state = query.get("state") ?? ""
        const waiting = pending.get(state)
        if (waiting === undefined) return text(400, "This login is unknown or was already used; open the app again.")
        pending.delete(state)
        const code = query.get("code")
        if (code === null) {
          return text(403, `The login was refused: ${query.get("error") ?? "no code"}`)
        }
        const grant = deps.registry.takeCode(code, yield* Clock.currentTimeMillis)
        const challenge = Crypto.createHash("sha256").update(waiting.verifier).digest("base64url")
        if (
          typeof grant === "string" || grant.clientId !== loginClientId || grant.challenge !== challenge ||
          grant.redirectUri !== `${url}${callbackPath}`
        ) {
          return text(403, "The login could not be completed; open the app again.")
        }
        const principal = deps.registry.principals.get(grant.principalId)
        if (principal === undefined) return text(403, "The user is not known to the workspace.")
        info.principal = principal.userName
        const session = Random.secret("", 24)
        sessions.set(session, principal.id)
        counters.logins += 1
        return yield* HttpServerResponse.redirect(waiting.returnTo, { status: 302 }).pipe(
          HttpServerResponse.setCookie(cookieName, session, { httpOnly: true, path: "/", sameSite: "lax" }),
          Effect.orDie
        )
      }))

    const forward = endpoint("apps_proxy", endpointDeps, (info) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const now = yield* Clock.currentTimeMillis
        const principal = whoIs(request, now)
        if (principal === "bad-token" || principal === undefined) {
          const accept = request.headers.accept ?? ""
          if (principal === undefined && request.method === "GET" && accept.includes("text/html")) {
            return login(request)
          }
          counters.unauthenticated += 1
          return yield* new Reply({
            response: json(401, {
              error: "unauthenticated",
              message: principal === undefined
                ? "Log in through the browser, or send Authorization: Bearer <OAuth token>"
                : "The credential is not a valid OAuth token of a workspace user"
            })
          })
        }
        info.principal = principal.userName

        const headers: Record<string, string> = {}
        for (const [name, value] of Object.entries(request.headers)) {
          if (isProxyHeader(name)) {
            if (name !== testUserHeader) counters.spoofedHeadersRemoved += 1
            continue
          }
          if (hopByHop.has(name) || name === "host" || name === "authorization" || name === "content-length") continue
          if (name === "cookie") {
            const others = Object.entries(request.cookies).filter(([key]) => key !== cookieName)
            if (others.length > 0) headers.cookie = others.map(([key, v]) => `${key}=${v}`).join("; ")
            continue
          }
          headers[name] = value
        }
        headers.host = target.host
        headers["x-forwarded-host"] = request.headers.host ?? url.slice("http://".length)
        headers["x-forwarded-user"] = principal.userName
        headers["x-forwarded-email"] = principal.userName
        headers["x-forwarded-preferred-username"] = principal.displayName
        headers["x-real-ip"] = Option.getOrElse(request.remoteAddress, () => "127.0.0.1")
        headers["x-request-id"] = Random.uuid()
        if (userAuthorization !== undefined) {
          headers["x-forwarded-access-token"] =
            deps.registry.issueAccessToken(principal, userAuthorization.scopes.join(" "), app.clientId, now).token
        }

        const body = new Uint8Array(yield* Effect.orElseSucceed(request.arrayBuffer, () => new ArrayBuffer(0)))
        const upstream = yield* send(target, request.method, request.url, headers, body).pipe(
          Effect.catchAll(() =>
            Effect.suspend(() => {
              counters.appUnreachable += 1
              return Effect.fail(new Reply({ response: text(502, `The app at ${target.origin} is not answering.`) }))
            })
          )
        )
        counters.forwarded += 1
        const responseHeaders: Record<string, string> = {}
        for (const [name, value] of Object.entries(upstream.headers)) {
          if (value === undefined || hopByHop.has(name) || name === "content-length" || name === "content-type") {
            continue
          }
          if (name === "set-cookie") continue
          responseHeaders[name] = Array.isArray(value) ? value.join(", ") : value
        }
        const contentType = upstream.headers["content-type"]
        const setCookie = upstream.headers["set-cookie"]
        return HttpServerResponse.uint8Array(upstream.body, {
          status: upstream.status,
          headers: responseHeaders,
          ...(contentType === undefined ? {} : { contentType }),
          ...(setCookie === undefined ? {} : { cookies: Cookies.fromSetCookie(setCookie) })
        })
      }))

    yield* listening.server.serve(
      Effect.flatMap(
        HttpServerRequest.HttpServerRequest,
        (request) => request.url.split("?")[0] === callbackPath ? callback : forward
      )
    )

    const env: Record<string, string> = {
      DATABRICKS_APP_NAME: appName,
      DATABRICKS_APP_PORT: target.port,
      DATABRICKS_APP_URL: url,
      DATABRICKS_HOST: deps.host,
      DATABRICKS_WORKSPACE_ID: deps.workspaceId,
      DATABRICKS_CLIENT_ID: app.clientId,
      DATABRICKS_CLIENT_SECRET: app.clientSecret
    }
    const proxy: AppsProxy = {
      url,
      appName,
      servicePrincipal: {
        clientId: app.clientId,
        clientSecret: Redacted.make(app.clientSecret),
        principal: app.principal
      },
      env,
      testUserHeader,
      headersFor: (user) => ({ [testUserHeader]: user.userName }),
      stats: Effect.sync((): AppsProxyStats => ({ ...counters }))
    }
    return proxy
  })
