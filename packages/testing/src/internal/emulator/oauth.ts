import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import type { Principal } from "../../Emulator.js"
import type { Federation } from "./federation.js"
import { credential, json, readForm, Reply, type RequestInfo } from "./http.js"
import * as LoginPage from "./loginPage.js"
import type { Registry } from "./registry.js"
import type { Stats } from "./stats.js"

const tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
const jwtTokenType = "urn:ietf:params:oauth:token-type:jwt"
const grantTypes = ["client_credentials", "authorization_code", "refresh_token", tokenExchange] as const
const machineScopes = new Set(["all-apis", "sql"])
const userScopes = new Set(["all-apis", "sql", "offline_access", "openid", "email", "profile"])
const verifierPattern = /^[A-Za-z0-9\-._~]{43,128}$/
const challengePattern = /^[A-Za-z0-9_-]{43}$/

/** RFC 6749 §5.2 error response; never cached. */
/**
 * An OAuth error as RFC 6749 §5.2 defines it: `{ error, error_description }`, 400 except `invalid_client`, which
 * may be 401 with `WWW-Authenticate` when the client authenticated with Basic. The `error_description` texts are
 * ours: Databricks' own wording is not in our sources.
 */
const oauthError = (status: number, error: string, description: string, headers?: Record<string, string>) =>
  new Reply({
    response: json(status, { error, error_description: description }, { "cache-control": "no-store", ...headers })
  })

const invalidRequest = (status: number, message: string) => oauthError(status, "invalid_request", message)

const splitScope = (scope: string) => scope.split(" ").filter((s) => s !== "")

const checkScope = (scope: string, allowed: ReadonlySet<string>): string | undefined => {
  const unknown = splitScope(scope).filter((s) => !allowed.has(s))
  return unknown.length === 0 ? undefined : `Unknown scope: ${unknown.join(" ")}`
}

const isLoopbackRedirect = (uri: string): boolean => {
  try {
    const url = new URL(uri)
    return url.protocol === "http:" && url.hash === "" &&
      (url.hostname === "localhost" || url.hostname === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(url.hostname))
  } catch {
    return false
  }
}

const s256 = (verifier: string) => Crypto.createHash("sha256").update(verifier).digest("base64url")

/** The OAuth authorization server metadata (RFC 8414) a Databricks workspace serves. */
export const discovery = (host: string) =>
  Effect.succeed(json(200, {
    issuer: `${host}/oidc`,
    authorization_endpoint: `${host}/oidc/v1/authorize`,
    token_endpoint: `${host}/oidc/v1/token`,
    grant_types_supported: grantTypes,
    response_types_supported: ["code"],
    response_modes_supported: ["query"],
    code_challenge_methods_supported: ["S256"],
    token_endpoint_auth_methods_supported: ["client_secret_basic", "client_secret_post", "none"],
    scopes_supported: [...userScopes]
  }))

interface ClientAuth {
  readonly clientId: string | undefined
  readonly secret: string | undefined
  readonly basic: boolean
}

/** Client authentication (RFC 6749 §2.3.1): HTTP Basic with form-encoded parts, or the form body. One, not both. */
const clientAuth = (request: HttpServerRequest.HttpServerRequest, form: Map<string, string>) =>
  Effect.gen(function*() {
    const basic = credential(request, "Basic")
    if (basic === undefined) {
      return { clientId: form.get("client_id"), secret: form.get("client_secret"), basic: false } satisfies ClientAuth
    }
    if (form.has("client_secret")) {
      return yield* Effect.fail(
        invalidRequest(400, "Use one client authentication method, not Basic and client_secret")
      )
    }
    const decoded = Buffer.from(basic, "base64").toString("utf8")
    const colon = decoded.indexOf(":")
    const parts = colon < 0 ? undefined : (() => {
      try {
        return [decodeURIComponent(decoded.slice(0, colon)), decodeURIComponent(decoded.slice(colon + 1))] as const
      } catch {
        return undefined
      }
    })()
    if (parts === undefined) {
      return yield* Effect.fail(
        oauthError(401, "invalid_client", "Malformed Basic credentials", { "www-authenticate": "Basic realm=\"oidc\"" })
      )
    }
    const bodyId = form.get("client_id")
    if (bodyId !== undefined && bodyId !== parts[0]) {
      return yield* Effect.fail(invalidRequest(400, "client_id in the body does not match the Basic credentials"))
    }
    return { clientId: parts[0], secret: parts[1], basic: true } satisfies ClientAuth
  })

const invalidClient = (auth: ClientAuth) =>
  oauthError(
    401,
    "invalid_client",
    "Client authentication failed",
    auth.basic ? { "www-authenticate": "Basic realm=\"oidc\"" } : undefined
  )

const required = (form: Map<string, string>, name: string) => {
  const value = form.get(name)
  return value === undefined || value === ""
    ? Effect.fail(invalidRequest(400, `The parameter ${name} is required`))
    : Effect.succeed(value)
}

const tokenResponse = (
  registry: Registry,
  principal: Principal,
  scope: string,
  clientId: string,
  now: number,
  refresh: boolean
) => {
  const { expiresIn, token } = registry.issueAccessToken(principal, scope, clientId, now)
  const refreshToken = refresh ? registry.addRefreshToken({ clientId, scope, principalId: principal.id }) : undefined
  return json(200, {
    access_token: token,
    token_type: "Bearer",
    expires_in: expiresIn,
    scope,
    ...(refreshToken === undefined ? {} : { refresh_token: refreshToken })
  }, { "cache-control": "no-store" })
}

/**
 * `POST /oidc/v1/token`: client_credentials, authorization_code with PKCE, rotating refresh_token, and RFC 8693
 * token exchange of a federated JWT (workload identity federation, `federation.ts`).
 */
export const token = (registry: Registry, stats: Stats, federation: Federation) => (info: RequestInfo) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const form = yield* readForm(invalidRequest)
    info.params = [...form.keys()].sort()
    const grantType = form.get("grant_type")
    stats.tokenRequest(grantType ?? "missing")
    if (grantType === undefined) return yield* Effect.fail(invalidRequest(400, "The parameter grant_type is required"))
    const auth = yield* clientAuth(request, form)
    const now = yield* Clock.currentTimeMillis

    switch (grantType) {
      case "client_credentials": {
        const principal = auth.clientId === undefined
          ? undefined
          : registry.servicePrincipalFor(auth.clientId, auth.secret)
        if (principal === undefined) return yield* Effect.fail(invalidClient(auth))
        info.principal = principal.userName
        const scope = form.get("scope") ?? "all-apis"
        const bad = checkScope(scope, machineScopes)
        if (bad !== undefined) return yield* Effect.fail(oauthError(400, "invalid_scope", bad))
        return tokenResponse(registry, principal, scope, auth.clientId!, now, false)
      }
      case "authorization_code": {
        if (registry.userClient(auth.clientId, auth.secret) !== "ok") return yield* Effect.fail(invalidClient(auth))
        const code = yield* required(form, "code")
        const verifier = yield* required(form, "code_verifier")
        const redirectUri = yield* required(form, "redirect_uri")
        if (!verifierPattern.test(verifier)) {
          return yield* Effect.fail(invalidRequest(400, "code_verifier must be 43 to 128 unreserved characters"))
        }
        const grant = registry.takeCode(code, now)
        if (grant === "used") {
          return yield* Effect.fail(oauthError(400, "invalid_grant", "The authorization code was already used"))
        }
        if (grant === "unknown" || grant === "expired") {
          return yield* Effect.fail(oauthError(400, "invalid_grant", `The authorization code is ${grant}`))
        }
        if (grant.clientId !== auth.clientId) {
          return yield* Effect.fail(oauthError(400, "invalid_grant", "The code was issued to another client"))
        }
        if (grant.redirectUri !== redirectUri) {
          return yield* Effect.fail(
            oauthError(400, "invalid_grant", "redirect_uri does not match the authorization request")
          )
        }
        if (s256(verifier) !== grant.challenge) {
          return yield* Effect.fail(oauthError(400, "invalid_grant", "PKCE verification failed"))
        }
        const principal = registry.principals.get(grant.principalId)!
        info.principal = principal.userName
        const refresh = splitScope(grant.scope).includes("offline_access")
        return tokenResponse(registry, principal, grant.scope, grant.clientId, now, refresh)
      }
      case "refresh_token": {
        if (registry.userClient(auth.clientId, auth.secret) !== "ok") return yield* Effect.fail(invalidClient(auth))
        const refreshToken = yield* required(form, "refresh_token")
        const grant = registry.takeRefreshToken(refreshToken, auth.clientId!)
        if (grant === "rotated") {
          return yield* Effect.fail(
            oauthError(400, "invalid_grant", "The refresh token was already used; refresh tokens rotate")
          )
        }
        if (grant === "unknown") return yield* Effect.fail(oauthError(400, "invalid_grant", "Unknown refresh token"))
        const scope = form.get("scope") ?? grant.scope
        const bad = checkScope(scope, new Set(splitScope(grant.scope)))
        if (bad !== undefined) return yield* Effect.fail(oauthError(400, "invalid_scope", `${bad} (not granted)`))
        const principal = registry.principals.get(grant.principalId)!
        info.principal = principal.userName
        return tokenResponse(registry, principal, scope, grant.clientId, now, true)
      }
      case tokenExchange: {
        // RFC 8693 §2.2.2: a subject token that is invalid or unacceptable by policy is `invalid_request`.
        const subjectToken = yield* required(form, "subject_token")
        const subjectTokenType = yield* required(form, "subject_token_type")
        if (subjectTokenType !== jwtTokenType) {
          return yield* Effect.fail(
            invalidRequest(400, `Unsupported subject_token_type ${subjectTokenType}; use ${jwtTokenType}`)
          )
        }
        const scope = form.get("scope") ?? "all-apis"
        const bad = checkScope(scope, machineScopes)
        if (bad !== undefined) return yield* Effect.fail(oauthError(400, "invalid_scope", bad))
        const clientId = auth.clientId === undefined || auth.clientId === "" ? undefined : auth.clientId
        const result = federation.exchange(
          subjectToken,
          clientId === undefined ? undefined : { clientId, principal: registry.principalByClientId(clientId) },
          (userName) => [...registry.principals.values()].find((principal) => principal.userName === userName),
          now
        )
        if ("_tag" in result) {
          return yield* Effect.fail(
            oauthError(result.error === "invalid_client" ? 401 : 400, result.error, result.description)
          )
        }
        info.principal = result.userName
        return tokenResponse(registry, result, scope, clientId ?? "account-federation", now, false)
      }
      default:
        return yield* Effect.fail(oauthError(400, "unsupported_grant_type", `Unsupported grant_type: ${grantType}`))
    }
  })

/**
 * `GET /oidc/v1/authorize`: checks the request, then approves (or denies) as the
 * configured user at once and redirects back, or (`loginPage`) answers with the
 * login and consent page (`loginPage.ts`, whose form posts back here). It never
 * redirects to a redirect_uri it cannot trust: that is a 400 instead.
 */
export const authorize = (registry: Registry) => (info: RequestInfo) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const query = new URL(request.url, "http://emulator").searchParams
    const repeated = [...new Set(query.keys())].find((key) => query.getAll(key).length > 1)
    if (repeated !== undefined) return yield* Effect.fail(invalidRequest(400, `The parameter ${repeated} is repeated`))
    const clientId = query.get("client_id")
    if (clientId === null || !registry.isUserClient(clientId)) {
      return yield* Effect.fail(invalidRequest(400, "Unknown or missing client_id"))
    }
    const redirectUri = query.get("redirect_uri")
    if (redirectUri === null || !isLoopbackRedirect(redirectUri)) {
      return yield* Effect.fail(invalidRequest(400, "redirect_uri must be an http:// loopback URL (RFC 8252)"))
    }
    const state = query.get("state")
    const back = (params: Record<string, string>) => LoginPage.redirectBack(redirectUri, state, params)
    const refuse = (error: string, description: string) => back({ error, error_description: description })

    if (query.get("response_type") !== "code") {
      return refuse("unsupported_response_type", "response_type must be code")
    }
    const challenge = query.get("code_challenge")
    if (challenge === null) return refuse("invalid_request", "PKCE is required: send code_challenge")
    if (query.get("code_challenge_method") !== "S256") {
      return refuse("invalid_request", "code_challenge_method must be S256")
    }
    if (!challengePattern.test(challenge)) return refuse("invalid_request", "code_challenge is not a base64url SHA-256")
    const scope = query.get("scope") ?? "all-apis"
    const bad = checkScope(scope, userScopes)
    if (bad !== undefined) return refuse("invalid_scope", bad)

    if (registry.approval.loginPage) {
      return yield* LoginPage.start(registry, { clientId, redirectUri, challenge, scope, state })
    }
    const principal = registry.principals.get(registry.approval.principalId)!
    info.principal = principal.userName
    if (registry.approval.decision === "deny") {
      return refuse("access_denied", "The user denied the request")
    }
    const now = yield* Clock.currentTimeMillis
    const code = registry.addCode({ clientId, redirectUri, challenge, scope, principalId: principal.id }, now)
    return back({ code })
  })
