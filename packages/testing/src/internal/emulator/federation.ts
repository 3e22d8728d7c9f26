import * as Crypto from "node:crypto"
import type { Principal } from "../../Emulator.js"
import * as Random from "./random.js"

/**
 * Workload identity federation, both parties: test issuers that sign JWTs (as GitHub Actions or a Kubernetes
 * cluster would), and the workspace's federation policies that accept them in an RFC 8693 token exchange.
 *
 * Databricks' own rules, from its federation-policy documentation: a policy names an issuer, audiences and a
 * subject claim (default `sub`); a service principal's policy also names the one subject it accepts and is used
 * when the exchange carries that principal's `client_id`; an account-wide policy maps the subject claim to a
 * user (or service principal) of that name. Only RS256 and ES256 are accepted. Ours, not documented: the error
 * descriptions, no clock leeway, and the default audience of a policy (the workspace token endpoint, what the
 * SDKs request by default, instead of the account id an emulator does not have).
 */

export type Algorithm = "RS256" | "ES256"

/** A public key as a JWKS lists it. */
export type Jwk = Crypto.JsonWebKey & { readonly kid: string; readonly alg: string; readonly use: "sig" }

interface Keys {
  readonly kid: string
  readonly privateKey: Crypto.KeyObject
  readonly publicKey: Crypto.KeyObject
  readonly jwk: Jwk
}

const generate = (algorithm: Algorithm): Keys => {
  const { privateKey, publicKey } = algorithm === "RS256"
    ? Crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
    : Crypto.generateKeyPairSync("ec", { namedCurve: "P-256" })
  const kid = Random.secret("key-", 8)
  return {
    kid,
    privateKey,
    publicKey,
    jwk: { ...publicKey.export({ format: "jwk" }), kid, alg: algorithm, use: "sig" }
  }
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

const signature = (algorithm: Algorithm, key: Crypto.KeyObject, data: string): string =>
  Crypto.sign("sha256", Buffer.from(data), algorithm === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key)
    .toString("base64url")

const verifies = (algorithm: Algorithm, key: Crypto.KeyObject, data: string, sig: string): boolean => {
  try {
    return Crypto.verify(
      "sha256",
      Buffer.from(data),
      algorithm === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key,
      Buffer.from(sig, "base64url")
    )
  } catch {
    return false
  }
}

export interface MintOptions {
  readonly subject?: string | undefined
  readonly audience?: string | ReadonlyArray<string> | undefined
  readonly issuer?: string | undefined
  readonly lifetimeMs?: number | undefined
  readonly issuedAgoMs?: number | undefined
  readonly notBeforeMs?: number | undefined
  readonly claims?: Readonly<Record<string, unknown>> | undefined
  readonly algorithm?: Algorithm | "HS256" | "none" | undefined
  readonly keyId?: string | undefined
  readonly forged?: boolean | undefined
}

/** A test issuer. Its keys are made on first use: an RSA key costs tens of milliseconds, and most runs need none. */
export class Issuer {
  private keys: Keys | undefined
  constructor(readonly name: string, readonly url: string, readonly algorithm: Algorithm) {}

  private get current(): Keys {
    if (this.keys === undefined) this.keys = generate(this.algorithm)
    return this.keys
  }

  get jwks(): { readonly keys: ReadonlyArray<Jwk> } {
    return { keys: [this.current.jwk] }
  }

  /** Replaces the signing key: tokens signed before no longer verify. */
  rotate(): void {
    this.keys = generate(this.algorithm)
  }

  mint(options: MintOptions, now: number): string {
    const algorithm = options.algorithm ?? this.algorithm
    const keys = this.current
    const iat = Math.floor((now - (options.issuedAgoMs ?? 0)) / 1000)
    const claims = {
      iss: options.issuer ?? this.url,
      ...(options.subject === undefined ? {} : { sub: options.subject }),
      ...(options.audience === undefined ? {} : { aud: options.audience }),
      iat,
      nbf: iat + Math.floor((options.notBeforeMs ?? 0) / 1000),
      exp: iat + Math.max(1, Math.round((options.lifetimeMs ?? 300_000) / 1000)),
      jti: Random.uuid(),
      ...options.claims
    }
    const header = { alg: algorithm, typ: "JWT", ...(algorithm === "none" ? {} : { kid: options.keyId ?? keys.kid }) }
    const body = `${encode(header)}.${encode(claims)}`
    switch (algorithm) {
      case "none":
        return `${body}.`
      case "HS256": {
        // The classic key-confusion forgery: HMAC keyed with the issuer's public key, which anyone can fetch.
        const secret = keys.publicKey.export({ format: "pem", type: "spki" })
        return `${body}.${Crypto.createHmac("sha256", secret).update(body).digest("base64url")}`
      }
      default: {
        // A forged token, or one of another algorithm than the issuer's key: signed with a throwaway key of that
        // kind, so it cannot verify against the issuer's JWKS.
        const key = options.forged === true || algorithm !== this.algorithm
          ? generate(algorithm).privateKey
          : keys.privateKey
        return `${body}.${signature(algorithm, key, body)}`
      }
    }
  }
}

export interface Policy {
  readonly issuer: string
  readonly audiences: ReadonlyArray<string>
  readonly subjectClaim: string
  /** The subject a service principal's policy accepts; undefined for an account-wide policy. */
  readonly subject: string | undefined
  /** The service principal's client id; undefined for an account-wide policy. */
  readonly servicePrincipal: string | undefined
  readonly jwks: { readonly keys: ReadonlyArray<Crypto.JsonWebKey> } | undefined
}

/** Why an exchange was refused: `reason` keys the stats, `description` is what the client reads. */
export interface Rejection {
  readonly _tag: "Rejection"
  readonly error: "invalid_request" | "invalid_client"
  readonly reason: string
  readonly description: string
}

const reject = (reason: string, description: string, error: Rejection["error"] = "invalid_request"): Rejection => ({
  _tag: "Rejection",
  error,
  reason,
  description
})

export interface FederationStats {
  /** Exchanges that returned a token. */
  readonly accepted: number
  /** Refused exchanges by reason: `malformed`, `algorithm`, `issuer`, `signature`, `expired`, `not_yet_valid`, `audience`, `subject`, `unknown_client`. */
  readonly rejected: Readonly<Record<string, number>>
  /** ID tokens the GitHub Actions stand-in issued. */
  readonly idTokens: number
}

const decodeSegment = (segment: string): unknown => {
  try {
    const value: unknown = JSON.parse(Buffer.from(segment, "base64url").toString("utf8"))
    return typeof value === "object" && value !== null && !Array.isArray(value) ? value : undefined
  } catch {
    return undefined
  }
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString()

export class Federation {
  readonly issuers = new Map<string, Issuer>()
  readonly policies: Array<Policy> = []
  readonly githubRequestToken = Random.secret("ghs_", 20)
  github: { subject: string; claims: Record<string, unknown>; lifetimeMs: number } = {
    subject: "repo:octo-org/octo-repo:environment:prod",
    claims: { repository: "octo-org/octo-repo", repository_owner: "octo-org", environment: "prod" },
    lifetimeMs: 300_000
  }
  private accepted = 0
  private rejected: Record<string, number> = {}
  private idTokens = 0

  constructor(readonly url: string, readonly defaultAudience: string) {
    this.addIssuer("github-actions", "RS256")
  }

  addIssuer(name: string, algorithm: Algorithm): Issuer {
    const issuer = new Issuer(name, `${this.url}/issuers/${encodeURIComponent(name)}`, algorithm)
    this.issuers.set(name, issuer)
    return issuer
  }

  get githubIssuer(): Issuer {
    return this.issuers.get("github-actions")!
  }

  idTokenIssued(): void {
    this.idTokens += 1
  }

  stats(): FederationStats {
    return { accepted: this.accepted, rejected: { ...this.rejected }, idTokens: this.idTokens }
  }

  resetStats(): void {
    this.accepted = 0
    this.rejected = {}
    this.idTokens = 0
  }

  private keysFor(policy: Policy): ReadonlyArray<Crypto.JsonWebKey> {
    if (policy.jwks !== undefined) return policy.jwks.keys
    for (const issuer of this.issuers.values()) if (issuer.url === policy.issuer) return issuer.jwks.keys
    return []
  }

  private refused(rejection: Rejection): Rejection {
    this.rejected[rejection.reason] = (this.rejected[rejection.reason] ?? 0) + 1
    return rejection
  }

  /**
   * Checks a subject token against the policies of `servicePrincipal` (or the account-wide ones when there is
   * none), in the order a careful server does: shape, algorithm, a trusting policy, signature, time, audience,
   * subject. The principal it maps to, or why not.
   */
  exchange(
    token: string,
    servicePrincipal: { readonly clientId: string; readonly principal: Principal | undefined } | undefined,
    principalByName: (userName: string) => Principal | undefined,
    now: number
  ): Principal | Rejection {
    const result = this.check(token, servicePrincipal, principalByName, now)
    if ("_tag" in result) return this.refused(result)
    this.accepted += 1
    return result
  }

  private check(
    token: string,
    servicePrincipal: { readonly clientId: string; readonly principal: Principal | undefined } | undefined,
    principalByName: (userName: string) => Principal | undefined,
    now: number
  ): Principal | Rejection {
    if (servicePrincipal !== undefined && servicePrincipal.principal === undefined) {
      return reject(
        "unknown_client",
        `No service principal has the client_id ${servicePrincipal.clientId}`,
        "invalid_client"
      )
    }
    const parts = token.split(".")
    const header = parts.length === 3 ? decodeSegment(parts[0]) as Record<string, unknown> | undefined : undefined
    const claims = parts.length === 3 ? decodeSegment(parts[1]) as Record<string, unknown> | undefined : undefined
    if (header === undefined || claims === undefined) {
      return reject("malformed", "The subject_token is not a JWT (three base64url parts: header, claims, signature)")
    }
    const alg = header.alg
    if (alg !== "RS256" && alg !== "ES256") {
      return reject(
        "algorithm",
        alg === "none" || parts[2] === ""
          ? "The subject_token is not signed; federation accepts RS256 and ES256 tokens only"
          : `The subject_token is signed with ${String(alg)}; federation accepts RS256 and ES256 tokens only`
      )
    }
    const iss = claims.iss
    const owner = servicePrincipal === undefined ? "the account" : `service principal ${servicePrincipal.clientId}`
    const candidates = this.policies.filter((policy) =>
      policy.issuer === iss && policy.servicePrincipal === servicePrincipal?.clientId
    )
    if (candidates.length === 0) {
      return reject(
        "issuer",
        typeof iss === "string"
          ? `No federation policy of ${owner} trusts the issuer ${iss}`
          : "The subject_token has no iss claim"
      )
    }
    const signed = `${parts[0]}.${parts[1]}`
    const verified = candidates.filter((policy) =>
      this.keysFor(policy).some((jwk) => {
        if (typeof header.kid === "string" && "kid" in jwk && jwk.kid !== header.kid) return false
        if ((alg === "RS256") !== (jwk.kty === "RSA")) return false
        try {
          return verifies(alg, Crypto.createPublicKey({ key: jwk, format: "jwk" }), signed, parts[2])
        } catch {
          return false
        }
      })
    )
    if (verified.length === 0) {
      return reject("signature", `The subject_token's signature does not verify with the keys (JWKS) of ${String(iss)}`)
    }
    const exp = claims.exp
    if (typeof exp !== "number") return reject("expired", "The subject_token has no exp claim")
    if (now >= exp * 1000) return reject("expired", `The subject_token expired at ${iso(exp)}`)
    if (typeof claims.nbf === "number" && now < claims.nbf * 1000) {
      return reject("not_yet_valid", `The subject_token is not valid before ${iso(claims.nbf)}`)
    }
    const aud = typeof claims.aud === "string"
      ? [claims.aud]
      : Array.isArray(claims.aud)
      ? claims.aud.filter((a): a is string => typeof a === "string")
      : []
    const heard = verified.filter((policy) => policy.audiences.some((audience) => aud.includes(audience)))
    if (heard.length === 0) {
      const expected = [...new Set(verified.flatMap((policy) => policy.audiences))]
      return reject(
        "audience",
        `The subject_token's audience ${
          aud.length === 0 ? "(none)" : aud.join(", ")
        } is not accepted by the federation policy of ${owner}; it expects ${
          expected.length === 1 ? expected[0] : `one of ${expected.join(", ")}`
        }`
      )
    }
    for (const policy of heard) {
      const value = claims[policy.subjectClaim]
      if (typeof value !== "string") continue
      if (policy.subject !== undefined) {
        if (value === policy.subject) return servicePrincipal!.principal!
        continue
      }
      const principal = principalByName(value)
      if (principal !== undefined) return principal
    }
    const claim = heard[0].subjectClaim
    const value = claims[claim]
    return reject(
      "subject",
      typeof value !== "string"
        ? `The subject_token has no ${claim} claim`
        : servicePrincipal === undefined
        ? `No user or service principal of the account is named ${value} (the token's ${claim} claim)`
        : `The subject_token's ${claim} ${value} is not the subject the federation policy of ${owner} accepts`
    )
  }
}
