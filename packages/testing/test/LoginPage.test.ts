import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Redacted, TestClock } from "effect"
import { authorize, emulatorLayer, me, pkce, postForm, redirectUri, send } from "./utils.js"

/** An authorization request of the default U2M client, answered by the login page. */
const openPage = (scope = "all-apis offline_access") =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const { challenge, verifier } = pkce()
    const { reply } = yield* authorize({
      client_id: emulator.u2m.clientId,
      redirect_uri: redirectUri,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      scope,
      state: "state-1"
    })
    const id = /name="authorization_id" value="([^"]+)"/.exec(reply.text)?.[1]
    return { reply, id, verifier }
  })

/** Posts the login form as a browser on the workspace's page would. */
const submit = (fields: Record<string, string>, headers?: Record<string, string>) =>
  Effect.flatMap(
    Emulator.Emulator,
    (emulator) => postForm(`${emulator.host}/oidc/v1/authorize`, fields, { origin: emulator.host, ...headers })
  )

const redirect = (reply: { readonly status: number; readonly headers: Readonly<Record<string, string>> }) => {
  assert.strictEqual(reply.status, 303)
  const location = new URL(reply.headers["location"])
  assert.strictEqual(`${location.origin}${location.pathname}`, redirectUri)
  return location.searchParams
}

const exchange = (code: string, verifier: string) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    postForm(`${emulator.host}/oidc/v1/token`, {
      grant_type: "authorization_code",
      code,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: emulator.u2m.clientId
    }))

describe("login page", () => {
  it.scoped("is off by default: the authorize endpoint approves at once, as before", () =>
    Effect.gen(function*() {
      const { reply } = yield* openPage()
      assert.strictEqual(reply.status, 302)
      assert.isNotNull(new URL(reply.headers["location"]).searchParams.get("code"))
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("renders a form with the user name, the password, Allow and Deny, and the pending id", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { id, reply } = yield* openPage()
      assert.strictEqual(reply.status, 200)
      assert.match(reply.headers["content-type"], /^text\/html/)
      assert.strictEqual(reply.headers["cache-control"], "no-store")
      assert.strictEqual(reply.headers["x-frame-options"], "DENY")
      assert.include(reply.headers["content-security-policy"], "frame-ancestors 'none'")
      assert.strictEqual(reply.headers["referrer-policy"], "same-origin")
      assert.match(reply.text, /<form method="post" action="\/oidc\/v1\/authorize"/)
      assert.include(reply.text, "name=\"username\"")
      assert.include(reply.text, "name=\"password\" type=\"password\"")
      assert.include(reply.text, "value=\"allow\">Allow</button>")
      assert.include(reply.text, "value=\"deny\" formnovalidate>Deny</button>")
      assert.include(reply.text, emulator.u2m.clientId)
      assert.include(reply.text, "<li>offline_access</li>")
      assert.match(id!, /^[0-9a-f]{48}$/)
      // The request's state and challenge stay on the server: the page shows neither.
      assert.notInclude(reply.text, "state-1")
    }).pipe(Effect.provide(emulatorLayer({ loginPage: true }))))

  it.scoped("Allow with the right password redirects with a code for the user who typed it, once", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({
        userName: "grace@example.com",
        displayName: "Grace Hopper",
        password: Redacted.make("cobol-1959")
      })
      const { id, verifier } = yield* openPage()
      const fields = { authorization_id: id!, username: grace.userName, password: "cobol-1959", decision: "allow" }
      const query = redirect(yield* submit(fields))
      assert.strictEqual(query.get("state"), "state-1")
      const token = yield* exchange(query.get("code")!, verifier)
      assert.strictEqual(token.status, 200)
      assert.strictEqual((yield* me(token.body.access_token)).body.userName, "grace@example.com")
      const stats = yield* emulator.stats
      const post = stats.recentRequests.find((request) => request.method === "POST" && request.endpoint === "authorize")
      assert.strictEqual(post?.principal, "grace@example.com")
      assert.deepStrictEqual(post?.params, ["authorization_id", "decision", "password", "username"])
      // The id is single-use: the same form posted again is refused.
      const again = yield* submit(fields)
      assert.strictEqual(again.status, 400)
      assert.include(again.text, "expired or was already used")
    }).pipe(Effect.provide(emulatorLayer({ loginPage: true }))))

  it.scoped("a wrong password re-renders the form with an error and keeps the request open", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { id, verifier } = yield* openPage()
      const wrong = yield* submit({
        authorization_id: id!,
        username: emulator.user.userName,
        password: "not-the-password",
        decision: "allow"
      })
      assert.strictEqual(wrong.status, 401)
      assert.include(wrong.text, "Wrong user name or password.")
      assert.include(wrong.text, `value="${id}"`)
      assert.include(wrong.text, `value="${emulator.user.userName}"`)
      assert.notInclude(wrong.text, "not-the-password")
      const right = yield* submit({
        authorization_id: id!,
        username: emulator.user.userName,
        password: Redacted.value(emulator.userPassword),
        decision: "allow"
      })
      const token = yield* exchange(redirect(right).get("code")!, verifier)
      assert.strictEqual((yield* me(token.body.access_token)).body.userName, emulator.user.userName)
    }).pipe(Effect.provide(emulatorLayer({ loginPage: true }))))

  it.scoped("a user without a password, or a service principal, cannot log in", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.registerUser({ userName: "nopass@example.com", displayName: "No Password" })
      const { id } = yield* openPage()
      for (
        const [username, password] of [
          ["nopass@example.com", ""],
          [emulator.servicePrincipal.clientId, Redacted.value(emulator.servicePrincipal.clientSecret)]
        ]
      ) {
        const reply = yield* submit({ authorization_id: id!, username, password, decision: "allow" })
        assert.strictEqual(reply.status, 401)
      }
      assert.deepStrictEqual((yield* emulator.stats).tokenRequests, {})
    }).pipe(Effect.provide(emulatorLayer({ loginPage: true }))))

  it.scoped("Deny redirects with error=access_denied and the state, no password needed", () =>
    Effect.gen(function*() {
      const { id } = yield* openPage()
      const query = redirect(yield* submit({ authorization_id: id!, decision: "deny" }))
      assert.strictEqual(query.get("error"), "access_denied")
      assert.strictEqual(query.get("error_description"), "The user denied the request")
      assert.strictEqual(query.get("state"), "state-1")
      assert.isNull(query.get("code"))
    }).pipe(Effect.provide(emulatorLayer({ loginPage: true }))))

  it.scoped("a post without the pending id, with an unknown one, or from another site is refused", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { id } = yield* openPage()
      const credentials = {
        username: emulator.user.userName,
        password: Redacted.value(emulator.userPassword),
        decision: "allow"
      }
      const missing = yield* submit(credentials)
      assert.strictEqual(missing.status, 400)
      assert.include(missing.text, "carried no authorization_id")
      assert.notInclude(missing.text, "<form")
      const unknown = yield* submit({ ...credentials, authorization_id: "0".repeat(48) })
      assert.strictEqual(unknown.status, 400)
      const crossSite = yield* submit({ ...credentials, authorization_id: id! }, { origin: "https://evil.example" })
      assert.strictEqual(crossSite.status, 403)
      assert.include(crossSite.text, "posted from another site")
      const opaque = yield* submit({ ...credentials, authorization_id: id! }, { origin: "null" })
      assert.strictEqual(opaque.status, 403)
      const notAForm = yield* send(
        HttpClientRequest.post(`${emulator.host}/oidc/v1/authorize`).pipe(
          HttpClientRequest.bodyUnsafeJson({ authorization_id: id, ...credentials })
        )
      )
      assert.strictEqual(notAForm.status, 400)
      assert.match(notAForm.headers["content-type"], /^text\/html/)
      assert.deepStrictEqual((yield* emulator.stats).tokenRequests, {})
      // None of these used up the request: the real form still works.
      const query = redirect(yield* submit({ ...credentials, authorization_id: id! }))
      assert.isNotNull(query.get("code"))
    }).pipe(Effect.provide(emulatorLayer({ loginPage: true }))))

  it.scoped("a pending request expires after ten minutes", () =>
    Effect.gen(function*() {
      const { id } = yield* openPage()
      yield* TestClock.adjust(Duration.minutes(10))
      const reply = yield* submit({ authorization_id: id!, decision: "deny" })
      assert.strictEqual(reply.status, 400)
      assert.include(reply.text, "expired")
    }).pipe(Effect.provide(emulatorLayer({ loginPage: true }))))

  it.scoped("setAuthorize switches the page on and off on a running emulator; markup in names is escaped", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.registerOAuthClient({ clientId: "<script>alert(1)</script>" })
      yield* emulator.setAuthorize({ loginPage: true })
      const { challenge } = pkce()
      const { reply } = yield* authorize({
        client_id: "<script>alert(1)</script>",
        redirect_uri: redirectUri,
        response_type: "code",
        code_challenge: challenge,
        code_challenge_method: "S256"
      })
      assert.strictEqual(reply.status, 200)
      assert.notInclude(reply.text, "<script>")
      assert.include(reply.text, "&lt;script&gt;alert(1)&lt;/script&gt;")
      yield* emulator.setAuthorize({ loginPage: false })
      assert.strictEqual((yield* openPage()).reply.status, 302)
    }).pipe(Effect.provide(emulatorLayer())))
})
