import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted, TestClock } from "effect"
import * as Crypto from "node:crypto"
import { stats } from "./emulator.js"
import { decodeJwt, emulatorLayer, me, postForm, send } from "./utils.js"

// The exchange as databricks-sdk-go sends it (config/experimental/auth/oidc/tokensource.go, its test
// "success WIF workspace"): grant_type token-exchange, subject_token_type jwt, scope all-apis, client_id in the
// form for a service principal's policy and none for an account-wide one.
const tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
const jwtType = "urn:ietf:params:oauth:token-type:jwt"

const exchange = (subjectToken: string, extra?: Record<string, string>) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    postForm(`${emulator.host}/oidc/v1/token`, {
      grant_type: tokenExchange,
      subject_token_type: jwtType,
      subject_token: subjectToken,
      scope: "all-apis",
      ...extra
    }))

const subject = "repo:octo-org/octo-repo:environment:prod"

/** An ES256 issuer and a service-principal policy that trusts it for `subject`. */
const setup = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const issuer = yield* emulator.federation.addIssuer({ name: "k8s", algorithm: "ES256" })
  yield* emulator.federation.addPolicy({
    issuer: issuer.url,
    servicePrincipal: emulator.servicePrincipal.clientId,
    subject
  })
  const audience = `${emulator.host}/oidc/v1/token`
  return { emulator, issuer, audience, clientId: emulator.servicePrincipal.clientId }
})

describe("workload identity federation", () => {
  it.scoped("issuers publish OIDC discovery and a JWKS their tokens verify against (RS256 and ES256)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      for (const algorithm of ["RS256", "ES256"] as const) {
        const issuer = yield* emulator.federation.addIssuer({ name: `issuer-${algorithm}`, algorithm })
        const config = yield* send(HttpClientRequest.get(`${issuer.url}/.well-known/openid-configuration`))
        assert.strictEqual(config.status, 200)
        assert.strictEqual(config.body.issuer, issuer.url)
        assert.deepStrictEqual(config.body.id_token_signing_alg_values_supported, [algorithm])
        const jwks = yield* send(HttpClientRequest.get(config.body.jwks_uri))
        assert.lengthOf(jwks.body.keys, 1)
        const token = Redacted.value(yield* issuer.mint({ subject: "s", audience: "a" }))
        const [header, claims, signature] = token.split(".")
        const decodedHeader = JSON.parse(Buffer.from(header, "base64url").toString("utf8"))
        assert.strictEqual(decodedHeader.alg, algorithm)
        assert.strictEqual(decodedHeader.kid, jwks.body.keys[0].kid)
        const key = Crypto.createPublicKey({ key: jwks.body.keys[0], format: "jwk" })
        const valid = Crypto.verify(
          "sha256",
          Buffer.from(`${header}.${claims}`),
          algorithm === "ES256" ? { key, dsaEncoding: "ieee-p1363" } : key,
          Buffer.from(signature, "base64url")
        )
        assert.isTrue(valid, `${algorithm} signature`)
        assert.include(decodeJwt(token), { iss: issuer.url, sub: "s", aud: "a" })
      }
      const missing = yield* send(HttpClientRequest.get(`${emulator.federation.url}/issuers/nobody/jwks`))
      assert.strictEqual(missing.status, 404)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("a service principal's policy: the exchange returns a workspace token of that principal", () =>
    Effect.gen(function*() {
      const { audience, clientId, emulator, issuer } = yield* setup
      const jwt = yield* issuer.mint({ subject, audience })
      const reply = yield* exchange(Redacted.value(jwt), { client_id: clientId })
      assert.strictEqual(reply.status, 200, reply.text)
      assert.strictEqual(reply.body.token_type, "Bearer")
      assert.strictEqual(reply.body.expires_in, 3600)
      assert.isUndefined(reply.body.refresh_token)
      const user = yield* me(reply.body.access_token)
      assert.strictEqual(user.body.userName, emulator.servicePrincipal.clientId)
      const counted = yield* stats
      assert.strictEqual(counted.federation.accepted, 1)
      assert.strictEqual(counted.tokenRequests[tokenExchange], 1)
      // The stats keep parameter names, never the federated token.
      assert.deepStrictEqual(counted.recentRequests.find((r) => r.endpoint === "token")?.params, [
        "client_id",
        "grant_type",
        "scope",
        "subject_token",
        "subject_token_type"
      ])
      assert.notInclude(JSON.stringify(counted), Redacted.value(jwt))
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("an account-wide policy maps the subject claim to the user of that name; no client_id is sent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const issuer = yield* emulator.federation.addIssuer({ name: "corp" })
      yield* emulator.federation.addPolicy({ issuer: issuer.url, audiences: ["databricks"], subjectClaim: "email" })
      const jwt = yield* issuer.mint({
        subject: "00u1",
        audience: "databricks",
        claims: { email: emulator.user.userName }
      })
      const reply = yield* exchange(Redacted.value(jwt))
      assert.strictEqual(reply.status, 200, reply.text)
      assert.strictEqual((yield* me(reply.body.access_token)).body.userName, emulator.user.userName)
      const stranger = yield* issuer.mint({ audience: "databricks", claims: { email: "eve@example.com" } })
      const refused = yield* exchange(Redacted.value(stranger))
      assert.strictEqual(refused.status, 400)
      assert.include(refused.body.error_description, "eve@example.com")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("refuses every token it must not accept, with an RFC 8693 error saying which check failed", () =>
    Effect.gen(function*() {
      const { audience, clientId, emulator, issuer } = yield* setup
      const other = yield* emulator.federation.addIssuer({ name: "elsewhere", algorithm: "ES256" })
      const base = { subject, audience }
      const cases: ReadonlyArray<readonly [string, Redacted.Redacted<string> | string, string, RegExp]> = [
        ["audience", yield* issuer.mint({ ...base, audience: "https://github.com/octo-org" }), "audience", /expects/],
        ["issuer claimed", yield* issuer.mint({ ...base, issuer: "https://evil.example" }), "issuer", /evil/],
        ["untrusted issuer", yield* other.mint(base), "issuer", /elsewhere/],
        ["expired", yield* issuer.mint({ ...base, issuedAgo: "10 minutes" }), "expired", /expired at/],
        ["not yet valid", yield* issuer.mint({ ...base, notBefore: "2 minutes" }), "not_yet_valid", /before/],
        ["unsigned", yield* issuer.mint({ ...base, algorithm: "none" }), "algorithm", /not signed/],
        ["HS256", yield* issuer.mint({ ...base, algorithm: "HS256" }), "algorithm", /HS256/],
        ["other algorithm", yield* issuer.mint({ ...base, algorithm: "RS256" }), "signature", /signature/],
        ["forged", yield* issuer.mint({ ...base, forged: true }), "signature", /signature/],
        ["subject", yield* issuer.mint({ ...base, subject: "repo:octo-org/other:ref:main" }), "subject", /subject/],
        ["malformed", "not-a-jwt", "malformed", /not a JWT/]
      ]
      for (const [name, token, reason, description] of cases) {
        const before = (yield* stats).federation.rejected[reason] ?? 0
        const reply = yield* exchange(typeof token === "string" ? token : Redacted.value(token), {
          client_id: clientId
        })
        assert.strictEqual(reply.status, 400, name)
        assert.strictEqual(reply.body.error, "invalid_request", name)
        assert.match(reply.body.error_description, description, name)
        assert.strictEqual(reply.headers["cache-control"], "no-store")
        assert.strictEqual((yield* stats).federation.rejected[reason], before + 1, `${name} counted as ${reason}`)
      }
      const wrongAudience = yield* exchange(
        Redacted.value(yield* issuer.mint({ ...base, audience: "nope" })),
        { client_id: clientId }
      )
      assert.include(wrongAudience.body.error_description, audience, "names the audience the policy expects")
      const unknown = yield* exchange(Redacted.value(yield* issuer.mint(base)), { client_id: "no-such-client" })
      assert.strictEqual(unknown.status, 401)
      assert.strictEqual(unknown.body.error, "invalid_client")
      const counted = yield* stats
      assert.strictEqual(counted.federation.accepted, 0)
      assert.deepStrictEqual(counted.federation.rejected, {
        audience: 2,
        issuer: 2,
        expired: 1,
        not_yet_valid: 1,
        algorithm: 2,
        signature: 2,
        subject: 1,
        malformed: 1,
        unknown_client: 1
      })
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("checks the request: subject_token required, JWT type only, known scopes", () =>
    Effect.gen(function*() {
      const { audience, clientId, issuer } = yield* setup
      const jwt = Redacted.value(yield* issuer.mint({ subject, audience }))
      const emulator = yield* Emulator.Emulator
      const url = `${emulator.host}/oidc/v1/token`
      const missing = yield* postForm(url, { grant_type: tokenExchange, subject_token_type: jwtType })
      assert.strictEqual(missing.body.error, "invalid_request")
      assert.include(missing.body.error_description, "subject_token")
      const wrongType = yield* exchange(jwt, {
        client_id: clientId,
        subject_token_type: "urn:ietf:params:oauth:token-type:access_token"
      })
      assert.strictEqual(wrongType.body.error, "invalid_request")
      assert.include(wrongType.body.error_description, "subject_token_type")
      const scope = yield* exchange(jwt, { client_id: clientId, scope: "everything" })
      assert.strictEqual(scope.body.error, "invalid_scope")
      const discovery = yield* send(
        HttpClientRequest.get(`${emulator.host}/oidc/.well-known/oauth-authorization-server`)
      )
      assert.include(discovery.body.grant_types_supported, tokenExchange)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("expiry follows the Clock, and a rotated key stops verifying old tokens", () =>
    Effect.gen(function*() {
      const { audience, clientId, issuer } = yield* setup
      const jwt = Redacted.value(yield* issuer.mint({ subject, audience, lifetime: "5 minutes" }))
      assert.strictEqual((yield* exchange(jwt, { client_id: clientId })).status, 200)
      yield* TestClock.adjust("5 minutes")
      const late = yield* exchange(jwt, { client_id: clientId })
      assert.include(late.body.error_description, "expired")
      const before = Redacted.value(yield* issuer.mint({ subject, audience }))
      yield* issuer.rotateKey
      const fresh = Redacted.value(yield* issuer.mint({ subject, audience }))
      assert.strictEqual((yield* exchange(fresh, { client_id: clientId })).status, 200)
      const stale = yield* exchange(before, { client_id: clientId })
      assert.include(stale.body.error_description, "signature")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("a policy can trust an issuer the emulator does not run, by its JWKS", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { privateKey, publicKey } = Crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
      const jwk = { ...publicKey.export({ format: "jwk" }), kid: "k1", alg: "RS256", use: "sig" }
      yield* emulator.federation.addPolicy({
        issuer: "https://token.actions.githubusercontent.com",
        audiences: ["https://github.com/octo-org"],
        servicePrincipal: emulator.servicePrincipal.clientId,
        subject,
        jwks: { keys: [jwk] }
      })
      const now = Math.floor(Date.now() / 1000)
      yield* TestClock.setTime(now * 1000)
      const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
      const body = `${encode({ alg: "RS256", kid: "k1", typ: "JWT" })}.${
        encode({
          iss: "https://token.actions.githubusercontent.com",
          aud: "https://github.com/octo-org",
          sub: subject,
          iat: now,
          exp: now + 300
        })
      }`
      const jwt = `${body}.${Crypto.sign("sha256", Buffer.from(body), privateKey).toString("base64url")}`
      const reply = yield* exchange(jwt, { client_id: emulator.servicePrincipal.clientId })
      assert.strictEqual(reply.status, 200, reply.text)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("policies are checked: a service principal's needs a known principal and a subject", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const unknown = yield* Effect.flip(
        emulator.federation.addPolicy({ issuer: "https://i", servicePrincipal: "nobody", subject: "s" })
      )
      assert.include(unknown.message, "nobody")
      const noSubject = yield* Effect.flip(
        emulator.federation.addPolicy({ issuer: "https://i", servicePrincipal: emulator.servicePrincipal.clientId })
      )
      assert.include(noSubject.message, "subject")
    }).pipe(Effect.provide(emulatorLayer())))

  describe("GitHub Actions ID-token endpoint", () => {
    // The contract of databricks-sdk-go config/experimental/auth/oidc/github.go: GET <request URL>&audience=<aud>
    // with the request token as a bearer, answering {"value": "<jwt>"}.
    const idToken = (audience: string | undefined, bearer: string | undefined) =>
      Effect.flatMap(Emulator.Emulator, (emulator) =>
        send(
          HttpClientRequest.get(
            `${emulator.federation.githubActions.requestUrl}${
              audience === undefined ? "" : `&audience=${encodeURIComponent(audience)}`
            }`
          ).pipe(bearer === undefined ? (r) => r : HttpClientRequest.bearerToken(bearer))
        ))

    it.scoped("issues a JWT for the audience asked, from its issuer; the request token is required", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const github = emulator.federation.githubActions
        assert.match(github.requestUrl, /\?api-version=2\.0$/)
        const audience = `${emulator.host}/oidc/v1/token`
        const reply = yield* idToken(audience, Redacted.value(github.requestToken))
        assert.strictEqual(reply.status, 200, reply.text)
        const claims = decodeJwt(reply.body.value)
        assert.include(claims, { iss: github.issuer.url, aud: audience, sub: subject })
        assert.strictEqual(claims.exp - claims.iat, 300)
        yield* github.configure({ subject: "repo:octo-org/octo-repo:ref:refs/heads/main", lifetime: "1 minute" })
        const next = decodeJwt((yield* idToken(undefined, Redacted.value(github.requestToken))).body.value)
        assert.strictEqual(next.sub, "repo:octo-org/octo-repo:ref:refs/heads/main")
        assert.strictEqual(next.aud, "https://github.com/octo-org")
        assert.strictEqual(next.exp - next.iat, 60)
        assert.strictEqual((yield* idToken(audience, undefined)).status, 401)
        assert.strictEqual((yield* idToken(audience, "ghs_wrong")).status, 401)
        yield* emulator.faults.add({ target: "github_id_token", status: 503 })
        assert.strictEqual((yield* idToken(audience, Redacted.value(github.requestToken))).status, 503)
        const counted = yield* stats
        assert.strictEqual(counted.federation.idTokens, 2)
        assert.strictEqual(counted.requests.github_id_token, 5)
        assert.deepStrictEqual(counted.faultsInjected, { github_id_token: 1 })
      }).pipe(Effect.provide(emulatorLayer())))

    it.scoped("its tokens exchange under a policy for its issuer", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const github = emulator.federation.githubActions
        yield* emulator.federation.addPolicy({
          issuer: github.issuer.url,
          servicePrincipal: emulator.servicePrincipal.clientId,
          subject
        })
        const reply = yield* idToken(`${emulator.host}/oidc/v1/token`, Redacted.value(github.requestToken))
        const exchanged = yield* exchange(reply.body.value, { client_id: emulator.servicePrincipal.clientId })
        assert.strictEqual(exchanged.status, 200, exchanged.text)
      }).pipe(Effect.provide(emulatorLayer())))
  })
})
