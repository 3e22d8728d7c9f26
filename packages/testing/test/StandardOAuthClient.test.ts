/**
 * The identity provider driven by a third-party, standards-following OAuth
 * client (oauth4webapi), to prove it speaks standard OAuth 2.0 and PKCE, not
 * only the dialect of our own code.
 */
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as oauth from "oauth4webapi"
import { Agent, fetch as undiciFetch } from "undici"
import { emulatorLayer, me } from "./utils.js"

type Fetch = (url: string, init?: RequestInit) => Promise<Response>

/** Everything oauth4webapi needs: the discovered server, and a fetch that trusts the emulator's CA. */
const setup = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const dispatcher = new Agent({ connect: { ca: emulator.caCertPem } })
  yield* Effect.addFinalizer(() => Effect.promise(() => dispatcher.close()))
  // undici's Response is the WHATWG one oauth4webapi expects; only the nominal types differ.
  const fetch = ((url: string, init?: RequestInit) => undiciFetch(url, { ...init, dispatcher } as never)) as Fetch
  const options = { [oauth.customFetch]: fetch }
  const issuer = new URL(`${emulator.host}/oidc`)
  // Databricks serves its metadata at {host}/oidc/.well-known/oauth-authorization-server.
  const discovery = yield* Effect.promise(() =>
    fetch(`${emulator.host}/oidc/.well-known/oauth-authorization-server`, { headers: { accept: "application/json" } })
  )
  const as = yield* Effect.promise(() => oauth.processDiscoveryResponse(issuer, discovery))
  return { as, emulator, fetch, options }
})

describe("a standard OAuth client (oauth4webapi)", () => {
  it.scoped("discovers the server and runs client_credentials", () =>
    Effect.gen(function*() {
      const { as, emulator, options } = yield* setup
      assert.strictEqual(as.token_endpoint, `${emulator.host}/oidc/v1/token`)
      const client: oauth.Client = { client_id: emulator.servicePrincipal.clientId }
      const auth = oauth.ClientSecretBasic(Redacted.value(emulator.servicePrincipal.clientSecret))
      const response = yield* Effect.promise(() =>
        oauth.clientCredentialsGrantRequest(as, client, auth, new URLSearchParams({ scope: "all-apis" }), options)
      )
      const result = yield* Effect.promise(() => oauth.processClientCredentialsResponse(as, client, response))
      assert.strictEqual(result.token_type, "bearer")
      assert.strictEqual(result.expires_in, 3600)
      assert.strictEqual((yield* me(result.access_token)).body.userName, emulator.servicePrincipal.clientId)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("runs the PKCE code flow, refreshes, and is refused when it reuses a code", () =>
    Effect.gen(function*() {
      const { as, emulator, fetch, options } = yield* setup
      const client: oauth.Client = { client_id: emulator.u2m.clientId }
      const auth = oauth.None()
      const redirectUri = "http://127.0.0.1:8020/callback"
      const verifier = oauth.generateRandomCodeVerifier()
      const state = oauth.generateRandomState()
      const authorizationUrl = new URL(as.authorization_endpoint!)
      authorizationUrl.search = new URLSearchParams({
        client_id: client.client_id,
        redirect_uri: redirectUri,
        response_type: "code",
        scope: "all-apis offline_access",
        code_challenge: yield* Effect.promise(() => oauth.calculatePKCECodeChallenge(verifier)),
        code_challenge_method: "S256",
        state
      }).toString()

      // The browser's part: follow the authorize URL to the loopback redirect.
      const redirect = yield* Effect.promise(() => fetch(authorizationUrl.toString(), { redirect: "manual" }))
      assert.strictEqual(redirect.status, 302)
      const callback = new URL(redirect.headers.get("location")!)
      const params = oauth.validateAuthResponse(as, client, callback, state)

      const exchange = () =>
        oauth.authorizationCodeGrantRequest(as, client, auth, params, redirectUri, verifier, options).then((response) =>
          oauth.processAuthorizationCodeResponse(as, client, response)
        )
      const tokens = yield* Effect.promise(exchange)
      assert.isString(tokens.refresh_token)
      assert.strictEqual((yield* me(tokens.access_token)).body.userName, emulator.user.userName)

      const refreshed = yield* Effect.promise(() =>
        oauth.refreshTokenGrantRequest(as, client, auth, tokens.refresh_token!, options).then((response) =>
          oauth.processRefreshTokenResponse(as, client, response)
        )
      )
      assert.notStrictEqual(refreshed.access_token, tokens.access_token)
      assert.notStrictEqual(refreshed.refresh_token, tokens.refresh_token)

      // The same code a second time: the client sees a standard invalid_grant error.
      const reused = yield* Effect.promise(() => exchange().then(() => undefined, (error: unknown) => error))
      assert.instanceOf(reused, oauth.ResponseBodyError)
      assert.strictEqual((reused as oauth.ResponseBodyError).error, "invalid_grant")
    }).pipe(Effect.provide(emulatorLayer())))
})
