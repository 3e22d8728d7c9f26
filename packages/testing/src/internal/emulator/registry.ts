import * as Crypto from "node:crypto"
import type { ConnectIntegration, Principal } from "../../Emulator.js"
import * as Jwt from "./jwt.js"
import type { PendingAuthorization } from "./loginPage.js"
import * as Random from "./random.js"

/** An authorization code waiting to be exchanged (RFC 6749 §4.1, with PKCE). */
interface Code {
  readonly clientId: string
  readonly redirectUri: string
  readonly challenge: string
  readonly scope: string
  readonly principalId: string
  readonly expiresAt: number
}

interface RefreshGrant {
  readonly clientId: string
  readonly scope: string
  readonly principalId: string
}

/** What a bearer token on a protected endpoint turned out to be. */
export type Authentication =
  | { readonly _tag: "Valid"; readonly principal: Principal; readonly via: "oauth" | "pat" | "entra" }
  | { readonly _tag: "Expired" }
  | { readonly _tag: "Unknown" }
  /** A valid token of someone the workspace does not admit (an Entra ID identity not added to it): HTTP 403. */
  | { readonly _tag: "Forbidden"; readonly message: string }

/**
 * Another issuer whose tokens the workspace accepts (Entra ID, `entra.ts`): the answer for a bearer it issued,
 * or `undefined` for one it did not. It sees the request's headers, as Azure Databricks reads its Azure ones.
 */
export type BearerVerifier = (
  bearer: string,
  now: number,
  headers: Readonly<Record<string, string | undefined>>
) => Authentication | undefined

const codeLifetime = 60_000

/**
 * Everything the emulated workspace and Connect server know: principals,
 * credentials, codes, refresh tokens and session tokens. Handlers run one at a
 * time on the event loop, so plain maps are consistent without locks.
 */
export class Registry {
  private readonly key = Crypto.randomBytes(32)
  readonly principals = new Map<string, Principal>()
  private readonly clientSecrets = new Map<string, { readonly principalId: string; readonly secret: string }>()
  private readonly publicClients = new Map<string, { readonly secret: string | undefined }>()
  private readonly pats = new Map<string, { readonly principalId: string; readonly expiresAt: number }>()
  private readonly codes = new Map<string, Code>()
  private readonly usedCodes = new Set<string>()
  private readonly refreshTokens = new Map<string, RefreshGrant>()
  private readonly rotatedRefreshTokens = new Set<string>()
  readonly userSessions = new Map<string, { readonly principalId: string; expired: boolean }>()
  readonly contentSessions = new Map<string, { readonly contentGuid: string; expired: boolean }>()
  /**
   * How the authorize endpoint answers: at once, approving (or denying) as `principalId`, or (`loginPage`) with
   * the login and consent page, where a user types a user name and password (`loginPage.ts`).
   */
  approval: { principalId: string; decision: "approve" | "deny"; loginPage: boolean } = {
    principalId: "",
    decision: "approve",
    loginPage: false
  }
  /** Users' passwords for the login page, by principal id. A user without one cannot log in there. */
  private readonly passwords = new Map<string, string>()
  /** Authorization requests waiting on the login page's answer, by their unguessable id. */
  readonly pendingAuthorizations = new Map<string, PendingAuthorization>()
  /** Consulted, in order, for a bearer that is neither a PAT nor a token of this workspace. */
  readonly verifiers: Array<BearerVerifier> = []

  constructor(
    readonly issuer: string,
    public tokenLifetimeMs: number,
    readonly integrations: Array<ConnectIntegration>
  ) {}

  addUser(user: { readonly userName: string; readonly displayName: string }, password?: string): Principal {
    const principal: Principal = { id: Random.numericId(), kind: "user", ...user }
    this.principals.set(principal.id, principal)
    if (password !== undefined) this.passwords.set(principal.id, password)
    return principal
  }

  /** The user with this user name and password (compared in constant time), for the login page. */
  userByPassword(userName: string, password: string): Principal | undefined {
    for (const principal of this.principals.values()) {
      if (principal.kind !== "user" || principal.userName !== userName) continue
      const expected = this.passwords.get(principal.id)
      return expected !== undefined && Random.safeEqual(expected, password) ? principal : undefined
    }
    return undefined
  }

  addServicePrincipal(options?: {
    readonly displayName?: string | undefined
    readonly clientId?: string | undefined
    readonly clientSecret?: string | undefined
  }) {
    const clientId = options?.clientId ?? Random.uuid()
    const clientSecret = options?.clientSecret ?? Random.secret("dose")
    const principal: Principal = {
      id: Random.numericId(),
      kind: "service-principal",
      userName: clientId,
      displayName: options?.displayName ?? `service principal ${clientId.slice(0, 8)}`
    }
    this.principals.set(principal.id, principal)
    this.clientSecrets.set(clientId, { principalId: principal.id, secret: clientSecret })
    return { principal, clientId, clientSecret }
  }

  addOAuthClient(clientId: string, secret?: string) {
    this.publicClients.set(clientId, { secret })
  }

  addPat(principalId: string, lifetimeMs: number | undefined, now: number): string {
    const token = Random.secret("dapi")
    this.pats.set(token, { principalId, expiresAt: lifetimeMs === undefined ? Infinity : now + lifetimeMs })
    return token
  }

  /** Client authentication for `client_credentials`: the service principal, or why not. */
  servicePrincipalFor(clientId: string, secret: string | undefined): Principal | undefined {
    const entry = this.clientSecrets.get(clientId)
    if (entry === undefined || secret === undefined || !Random.safeEqual(entry.secret, secret)) return undefined
    return this.principals.get(entry.principalId)
  }

  principalByClientId(clientId: string): Principal | undefined {
    const entry = this.clientSecrets.get(clientId)
    return entry === undefined ? undefined : this.principals.get(entry.principalId)
  }

  /** Client authentication for the user flows: known client, and the secret if it has one. */
  userClient(clientId: string | undefined, secret: string | undefined): "ok" | "unknown" | "bad-secret" {
    if (clientId === undefined) return "unknown"
    const client = this.publicClients.get(clientId)
    if (client === undefined) return "unknown"
    if (client.secret === undefined) return "ok"
    return secret !== undefined && Random.safeEqual(client.secret, secret) ? "ok" : "bad-secret"
  }

  isUserClient(clientId: string): boolean {
    return this.publicClients.has(clientId)
  }

  issueAccessToken(principal: Principal, scope: string, clientId: string, now: number) {
    const iat = Math.floor(now / 1000)
    const expiresIn = Math.max(1, Math.round(this.tokenLifetimeMs / 1000))
    const token = Jwt.sign(this.key, {
      iss: this.issuer,
      sub: principal.id,
      aud: clientId,
      iat,
      exp: iat + expiresIn,
      scope,
      client_id: clientId,
      jti: Random.uuid()
    })
    return { token, expiresIn }
  }

  authenticate(
    bearer: string,
    now: number,
    headers: Readonly<Record<string, string | undefined>> = {}
  ): Authentication {
    const pat = this.pats.get(bearer)
    if (pat !== undefined) {
      const principal = this.principals.get(pat.principalId)
      if (principal === undefined) return { _tag: "Unknown" }
      return now >= pat.expiresAt ? { _tag: "Expired" } : { _tag: "Valid", principal, via: "pat" }
    }
    const claims = Jwt.verify(this.key, bearer)
    if (claims === undefined) {
      for (const verify of this.verifiers) {
        const result = verify(bearer, now, headers)
        if (result !== undefined) return result
      }
      return { _tag: "Unknown" }
    }
    const principal = this.principals.get(claims.sub)
    if (principal === undefined) return { _tag: "Unknown" }
    return now >= claims.exp * 1000 ? { _tag: "Expired" } : { _tag: "Valid", principal, via: "oauth" }
  }

  addCode(grant: Omit<Code, "expiresAt">, now: number): string {
    const code = Random.secret("code-", 24)
    this.codes.set(code, { ...grant, expiresAt: now + codeLifetime })
    return code
  }

  /** Takes a code out (codes are single-use): the grant, or why it cannot be used. */
  takeCode(code: string, now: number): Code | "used" | "unknown" | "expired" {
    if (this.usedCodes.has(code)) return "used"
    const grant = this.codes.get(code)
    if (grant === undefined) return "unknown"
    this.codes.delete(code)
    this.usedCodes.add(code)
    return now >= grant.expiresAt ? "expired" : grant
  }

  addRefreshToken(grant: RefreshGrant): string {
    const token = Random.secret("refresh-", 24)
    this.refreshTokens.set(token, grant)
    return token
  }

  /** Takes a refresh token out (they rotate on use). */
  takeRefreshToken(token: string, clientId: string): RefreshGrant | "rotated" | "unknown" {
    if (this.rotatedRefreshTokens.has(token)) return "rotated"
    const grant = this.refreshTokens.get(token)
    // Another client's token is "unknown" to this one, and is not burned by the attempt.
    if (grant === undefined || grant.clientId !== clientId) return "unknown"
    this.refreshTokens.delete(token)
    this.rotatedRefreshTokens.add(token)
    return grant
  }
}
