import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted, TestClock } from "effect"
import {
  authorize,
  basic,
  decodeJwt,
  emulatorLayer,
  machineToken,
  me,
  pkce,
  postForm,
  redirectUri,
  send,
  userTokens
} from "./utils.js"

const tokenUrl = Effect.map(Emulator.Emulator, (emulator) => `${emulator.host}/oidc/v1/token`)

describe("identity provider", () => {
  it.scoped("publishes RFC 8414 metadata at the Databricks discovery path", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const reply = yield* send(HttpClientRequest.get(`${emulator.host}/oidc/.well-known/oauth-authorization-server`))
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.body.issuer, `${emulator.host}/oidc`)
      assert.strictEqual(reply.body.token_endpoint, `${emulator.host}/oidc/v1/token`)
      assert.strictEqual(reply.body.authorization_endpoint, `${emulator.host}/oidc/v1/authorize`)
      assert.deepStrictEqual(reply.body.code_challenge_methods_supported, ["S256"])
      assert.includeMembers(reply.body.grant_types_supported, [
        "client_credentials",
        "authorization_code",
        "refresh_token"
      ])
      assert.match(emulator.host, /^https:\/\/127\.0\.0\.1:\d+$/)
    }).pipe(Effect.provide(emulatorLayer())))

  describe("client_credentials", () => {
    it.scoped("issues a signed JWT with iss, sub, iat, exp and scope, by Basic or form client auth", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const url = yield* tokenUrl
        const { clientId } = emulator.servicePrincipal
        const secret = Redacted.value(emulator.servicePrincipal.clientSecret)
        const viaBasic = yield* postForm(
          url,
          { grant_type: "client_credentials", scope: "all-apis" },
          basic(clientId, secret)
        )
        const viaForm = yield* postForm(url, {
          grant_type: "client_credentials",
          client_id: clientId,
          client_secret: secret
        })
        for (const reply of [viaBasic, viaForm]) {
          assert.strictEqual(reply.status, 200)
          assert.strictEqual(reply.body.token_type, "Bearer")
          assert.strictEqual(reply.body.expires_in, 3600)
          assert.strictEqual(reply.body.scope, "all-apis")
          assert.isUndefined(reply.body.refresh_token)
          assert.strictEqual(reply.headers["cache-control"], "no-store")
          const claims = decodeJwt(reply.body.access_token)
          assert.strictEqual(claims.iss, `${emulator.host}/oidc`)
          assert.strictEqual(claims.sub, emulator.servicePrincipal.principal.id)
          assert.strictEqual(claims.exp - claims.iat, 3600)
          assert.strictEqual(claims.scope, "all-apis")
        }
        const identity = yield* me(viaBasic.body.access_token)
        assert.strictEqual(identity.status, 200)
        assert.strictEqual(identity.body.userName, clientId)
        assert.strictEqual(identity.body.displayName, "effect-databricks-emulator")
        const stats = yield* emulator.stats
        assert.strictEqual(stats.tokenRequests.client_credentials, 2)
      }).pipe(Effect.provide(emulatorLayer())))

    it.scoped("refuses bad client credentials with 401 invalid_client", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const url = yield* tokenUrl
        const { clientId } = emulator.servicePrincipal
        const wrongSecret = yield* postForm(url, { grant_type: "client_credentials" }, basic(clientId, "dose-wrong"))
        assert.strictEqual(wrongSecret.status, 401)
        assert.strictEqual(wrongSecret.body.error, "invalid_client")
        assert.match(wrongSecret.headers["www-authenticate"], /^Basic/)
        const unknown = yield* postForm(url, {
          grant_type: "client_credentials",
          client_id: "nobody",
          client_secret: "x"
        })
        assert.strictEqual(unknown.status, 401)
        assert.strictEqual(unknown.body.error, "invalid_client")
        const both = yield* postForm(
          url,
          { grant_type: "client_credentials", client_secret: "x" },
          basic(clientId, Redacted.value(emulator.servicePrincipal.clientSecret))
        )
        assert.strictEqual(both.status, 400)
        assert.strictEqual(both.body.error, "invalid_request")
      }).pipe(Effect.provide(emulatorLayer())))

    it.scoped("answers invalid_scope, unsupported_grant_type and invalid_request with 400", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const url = yield* tokenUrl
        const auth = basic(emulator.servicePrincipal.clientId, Redacted.value(emulator.servicePrincipal.clientSecret))
        const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
          [{ grant_type: "client_credentials", scope: "all-apis admin" }, "invalid_scope"],
          [{ grant_type: "password", username: "u", password: "p" }, "unsupported_grant_type"],
          [{ scope: "all-apis" }, "invalid_request"]
        ]
        for (const [params, error] of cases) {
          const reply = yield* postForm(url, params, auth)
          assert.strictEqual(reply.status, 400, error)
          assert.strictEqual(reply.body.error, error)
          assert.isString(reply.body.error_description)
        }
      }).pipe(Effect.provide(emulatorLayer())))
  })

  describe("authorization_code with PKCE", () => {
    it.scoped("approves as the configured user, echoes state, and issues a rotating refresh token", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { challenge, verifier } = pkce()
        const { location, query, reply } = yield* authorize({
          client_id: emulator.u2m.clientId,
          redirect_uri: redirectUri,
          response_type: "code",
          code_challenge: challenge,
          code_challenge_method: "S256",
          scope: "all-apis offline_access",
          state: "state-123"
        })
        assert.strictEqual(reply.status, 302)
        assert.isTrue(location!.startsWith(`${redirectUri}?`))
        assert.strictEqual(query!.get("state"), "state-123")
        const code = query!.get("code")!
        const url = yield* tokenUrl
        const exchange = {
          grant_type: "authorization_code",
          code,
          code_verifier: verifier,
          redirect_uri: redirectUri,
          client_id: emulator.u2m.clientId
        }
        const first = yield* postForm(url, exchange)
        assert.strictEqual(first.status, 200)
        assert.isString(first.body.refresh_token)
        const identity = yield* me(first.body.access_token)
        assert.strictEqual(identity.body.displayName, "Grace Hopper")

        // A code is single-use.
        const reused = yield* postForm(url, exchange)
        assert.strictEqual(reused.status, 400)
        assert.strictEqual(reused.body.error, "invalid_grant")

        // Refresh rotates: the new token works, the old one is then refused.
        const refresh = {
          grant_type: "refresh_token",
          refresh_token: first.body.refresh_token,
          client_id: emulator.u2m.clientId
        }
        const second = yield* postForm(url, refresh)
        assert.strictEqual(second.status, 200)
        assert.notStrictEqual(second.body.refresh_token, first.body.refresh_token)
        const replayed = yield* postForm(url, refresh)
        assert.strictEqual(replayed.status, 400)
        assert.strictEqual(replayed.body.error, "invalid_grant")
        const third = yield* postForm(url, { ...refresh, refresh_token: second.body.refresh_token })
        assert.strictEqual(third.status, 200)
        const stats = yield* emulator.stats
        assert.deepStrictEqual(stats.tokenRequests, { authorization_code: 2, refresh_token: 3 })
      }).pipe(Effect.provide(emulatorLayer({ user: { userName: "grace@example.com", displayName: "Grace Hopper" } }))))

    it.scoped("issues no refresh token without offline_access", () =>
      Effect.gen(function*() {
        const reply = yield* userTokens("all-apis")
        assert.strictEqual(reply.status, 200)
        assert.isUndefined(reply.body.refresh_token)
      }).pipe(Effect.provide(emulatorLayer())))

    it.scoped("verifies the code_verifier, the redirect_uri and the client the code was issued to", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.registerOAuthClient({ clientId: "other-app" })
        const url = yield* tokenUrl
        const attempts: ReadonlyArray<readonly [string, (base: Record<string, string>) => Record<string, string>]> = [
          ["wrong verifier", (base) => ({ ...base, code_verifier: pkce().verifier })],
          ["other redirect_uri", (base) => ({ ...base, redirect_uri: "http://127.0.0.1:9999/callback" })],
          ["other client", (base) => ({ ...base, client_id: "other-app" })]
        ]
        for (const [what, change] of attempts) {
          const { challenge, verifier } = pkce()
          const { query } = yield* authorize({
            client_id: emulator.u2m.clientId,
            redirect_uri: redirectUri,
            response_type: "code",
            code_challenge: challenge,
            code_challenge_method: "S256"
          })
          const base = {
            grant_type: "authorization_code",
            code: query!.get("code")!,
            code_verifier: verifier,
            redirect_uri: redirectUri,
            client_id: emulator.u2m.clientId
          }
          const reply = yield* postForm(url, change(base))
          assert.strictEqual(reply.status, 400, what)
          assert.strictEqual(reply.body.error, "invalid_grant", what)
        }
      }).pipe(Effect.provide(emulatorLayer())))

    it.scoped("a code expires after 60 seconds", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { challenge, verifier } = pkce()
        const { query } = yield* authorize({
          client_id: emulator.u2m.clientId,
          redirect_uri: redirectUri,
          response_type: "code",
          code_challenge: challenge,
          code_challenge_method: "S256"
        })
        yield* TestClock.adjust("61 seconds")
        const reply = yield* postForm(yield* tokenUrl, {
          grant_type: "authorization_code",
          code: query!.get("code")!,
          code_verifier: verifier,
          redirect_uri: redirectUri,
          client_id: emulator.u2m.clientId
        })
        assert.strictEqual(reply.status, 400)
        assert.strictEqual(reply.body.error, "invalid_grant")
        assert.include(reply.body.error_description, "expired")
      }).pipe(Effect.provide(emulatorLayer())))
  })

  describe("authorize", () => {
    it.scoped("never redirects to an unknown client or a non-loopback redirect_uri", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { challenge } = pkce()
        const base = {
          client_id: emulator.u2m.clientId,
          redirect_uri: redirectUri,
          response_type: "code",
          code_challenge: challenge,
          code_challenge_method: "S256"
        }
        for (
          const params of [
            { ...base, client_id: "unknown-client" },
            { ...base, redirect_uri: "https://evil.example.com/callback" },
            { ...base, redirect_uri: "http://10.0.0.1:8020/callback" },
            { ...base, redirect_uri: "not a url" }
          ]
        ) {
          const { location, reply } = yield* authorize(params)
          assert.strictEqual(reply.status, 400, JSON.stringify(params))
          assert.isUndefined(location)
          assert.strictEqual(reply.body.error, "invalid_request")
        }
        // Any loopback port is fine (RFC 8252).
        for (const uri of ["http://localhost:54321/cb", "http://[::1]:8021/"]) {
          const { query, reply } = yield* authorize({ ...base, redirect_uri: uri })
          assert.strictEqual(reply.status, 302, uri)
          assert.isString(query!.get("code"))
        }
      }).pipe(Effect.provide(emulatorLayer())))

    it.scoped("redirects with an error for a missing or non-S256 challenge, a wrong response_type, a bad scope", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const { challenge } = pkce()
        const base = {
          client_id: emulator.u2m.clientId,
          redirect_uri: redirectUri,
          response_type: "code",
          code_challenge: challenge,
          code_challenge_method: "S256",
          state: "keep-me"
        }
        const { code_challenge: _omitted, ...withoutChallenge } = base
        const cases: ReadonlyArray<readonly [Record<string, string>, string]> = [
          [withoutChallenge, "invalid_request"],
          [{ ...base, code_challenge_method: "plain" }, "invalid_request"],
          [{ ...base, response_type: "token" }, "unsupported_response_type"],
          [{ ...base, scope: "all-apis everything" }, "invalid_scope"]
        ]
        for (const [params, error] of cases) {
          const { query, reply } = yield* authorize(params)
          assert.strictEqual(reply.status, 302)
          assert.strictEqual(query!.get("error"), error)
          assert.strictEqual(query!.get("state"), "keep-me")
          assert.isNull(query!.get("code"))
        }
      }).pipe(Effect.provide(emulatorLayer())))

    it.scoped("can be told to deny, redirecting with error=access_denied", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.setAuthorize({ decision: "deny" })
        const { query } = yield* authorize({
          client_id: emulator.u2m.clientId,
          redirect_uri: redirectUri,
          response_type: "code",
          code_challenge: pkce().challenge,
          code_challenge_method: "S256",
          state: "s"
        })
        assert.strictEqual(query!.get("error"), "access_denied")
        assert.strictEqual(query!.get("state"), "s")
      }).pipe(Effect.provide(emulatorLayer())))
  })

  describe("protected endpoints", () => {
    // 401 unknown / 403 expired: databricks-sql-python#407 (malformed token: 401), n8n-io/n8n#37854 and
    // databricks-vscode#583 (expired or expiring token: 403), in reference/user-asks.md. The body's error_code and
    // message are not documented; chosen by us (see authenticate in src/internal/emulator/workspace.ts).
    it.scoped("401 without a token or with an unknown one, 403 'Invalid access token' once expired", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const token = yield* machineToken
        assert.strictEqual((yield* me(token)).status, 200)
        const missing = yield* send(HttpClientRequest.get(`${emulator.host}/api/2.0/preview/scim/v2/Me`))
        assert.strictEqual(missing.status, 401)
        const unknown = yield* me("dapi0000not-a-token")
        assert.strictEqual(unknown.status, 401)
        const forged = yield* me(token.slice(0, -4) + "AAAA")
        assert.strictEqual(forged.status, 401)

        yield* TestClock.adjust(Duration.seconds(120))
        const expired = yield* me(token)
        assert.strictEqual(expired.status, 403)
        assert.strictEqual(expired.body.message, "Invalid access token.")
      }).pipe(Effect.provide(emulatorLayer({ tokenLifetime: "2 minutes" }))))

    it.scoped("PATs identify their principal and can expire", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        assert.match(Redacted.value(emulator.pat), /^dapi[0-9a-f]{32}$/)
        const identity = yield* me(Redacted.value(emulator.pat))
        assert.strictEqual(identity.body.userName, "ada@example.com")
        assert.strictEqual(identity.body.displayName, "Ada Lovelace")

        const bob = yield* emulator.registerUser({ userName: "bob@example.com", displayName: "Bob" })
        const shortLived = yield* emulator.registerPat({ principal: bob, lifetime: "10 minutes" })
        assert.strictEqual((yield* me(Redacted.value(shortLived))).body.displayName, "Bob")
        yield* TestClock.adjust("11 minutes")
        assert.strictEqual((yield* me(Redacted.value(shortLived))).status, 403)
        assert.strictEqual((yield* me(Redacted.value(emulator.pat))).status, 200)
      }).pipe(Effect.provide(emulatorLayer())))

    it.scoped("registered service principals get their own identity", () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const sp = yield* emulator.registerServicePrincipal({ displayName: "etl-job" })
        const reply = yield* postForm(
          yield* tokenUrl,
          { grant_type: "client_credentials" },
          basic(sp.clientId, Redacted.value(sp.clientSecret))
        )
        const identity = yield* me(reply.body.access_token)
        assert.strictEqual(identity.body.displayName, "etl-job")
        assert.strictEqual(identity.body.userName, sp.clientId)
      }).pipe(Effect.provide(emulatorLayer())))
  })
})
