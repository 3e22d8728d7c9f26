import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { emulatorLayer, me, postForm, send } from "./utils.js"

const userSession = "urn:posit:connect:user-session-token"
const contentSession = "urn:posit:connect:content-session-token"
const grant = "urn:ietf:params:oauth:grant-type:token-exchange"

const exchange = (params: Record<string, string>, apiKey?: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const key = apiKey ?? Redacted.value(emulator.connect.apiKey)
    return yield* postForm(`${emulator.connect.url}/__api__/v1/oauth/integrations/credentials`, params, {
      authorization: `Key ${key}`
    })
  })

const viewer = (extra?: Record<string, string>) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    exchange({
      grant_type: grant,
      subject_token_type: userSession,
      subject_token: Redacted.value(emulator.connect.userSessionToken),
      ...extra
    }))

describe("Posit Connect", () => {
  it.scoped("server_settings reports the configured version", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const reply = yield* send(HttpClientRequest.get(`${emulator.connect.url}/__api__/server_settings`))
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.body.version, "2024.06.0")
      assert.match(emulator.connect.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    }).pipe(Effect.provide(emulatorLayer({ connect: { version: "2024.06.0" } }))))

  it.scoped("a viewer exchange returns a workspace token for the viewer", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const reply = yield* viewer()
      assert.strictEqual(reply.status, 200)
      assert.deepStrictEqual(Object.keys(reply.body).sort(), ["access_token", "issued_token_type", "token_type"])
      assert.strictEqual(reply.body.issued_token_type, "urn:ietf:params:oauth:token-type:access_token")
      assert.strictEqual(reply.body.token_type, "Bearer")
      const identity = yield* me(reply.body.access_token)
      assert.strictEqual(identity.status, 200)
      assert.strictEqual(identity.body.userName, emulator.user.userName)
      const stats = yield* emulator.stats
      assert.deepStrictEqual(stats.exchanges, { [userSession]: 1 })
      assert.strictEqual(stats.recentRequests.at(-1)?.principal, emulator.user.userName)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("a content exchange returns a token for the integration's service principal", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const reply = yield* exchange({
        grant_type: grant,
        subject_token_type: contentSession,
        subject_token: Redacted.value(emulator.connect.contentSessionToken),
        requested_token_type: "urn:ietf:params:oauth:token-type:access_token"
      })
      assert.strictEqual(reply.status, 200)
      const identity = yield* me(reply.body.access_token)
      assert.strictEqual(identity.body.userName, emulator.servicePrincipal.clientId)
      assert.deepStrictEqual((yield* emulator.stats).exchanges, { [contentSession]: 1 })
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("viewer tokens map to their own user", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const carol = yield* emulator.registerUser({ userName: "carol@example.com", displayName: "Carol" })
      const session = yield* emulator.registerUserSessionToken({ user: carol })
      const reply = yield* exchange({
        grant_type: grant,
        subject_token_type: userSession,
        subject_token: Redacted.value(session)
      })
      assert.strictEqual((yield* me(reply.body.access_token)).body.displayName, "Carol")
    }).pipe(Effect.provide(emulatorLayer())))

  // Sources of the codes (see ErrorCode in src/internal/emulator/connect.ts): 24, 25 and 2 are in the "API Error
  // Codes" table of the Posit Connect API Reference; 215 "Invalid subject_token" in Posit's troubleshooting docs
  // (reference/posit-connect-and-databricks-auth.md §1); 212, 213, 214, 216 and 217 are not documented: chosen by
  // us, and asserted here only so that the emulator keeps them stable.
  it.scoped("errors use Connect's { code, error, payload } shape", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const badKey = yield* viewer().pipe(
        Effect.zipRight(
          exchange({ grant_type: grant, subject_token_type: userSession, subject_token: "x" }, "wrong-key")
        )
      )
      assert.strictEqual(badKey.status, 401)
      assert.deepStrictEqual(badKey.body, {
        code: 24,
        error: "The requested operation requires authentication.",
        payload: null
      })

      const unknown = yield* exchange({ grant_type: grant, subject_token_type: userSession, subject_token: "nope" })
      assert.strictEqual(unknown.body.code, 215)
      assert.strictEqual(unknown.body.error, "Invalid subject_token")

      yield* emulator.expireSessionToken(emulator.connect.userSessionToken)
      const expired = yield* viewer()
      assert.strictEqual(expired.body.code, 215)

      const wrongGrant = yield* exchange({
        grant_type: "client_credentials",
        subject_token_type: userSession,
        subject_token: "x"
      })
      assert.strictEqual(wrongGrant.status, 400)
      assert.strictEqual(wrongGrant.body.code, 25) // "The parameter is invalid."
      const apiKeyType = yield* exchange({
        grant_type: grant,
        subject_token_type: contentSession,
        subject_token: Redacted.value(emulator.connect.contentSessionToken),
        requested_token_type: "urn:posit:connect:api-key"
      })
      assert.strictEqual(apiKeyType.body.code, 217)
      const missingKey = yield* postForm(`${emulator.connect.url}/__api__/v1/oauth/integrations/credentials`, {
        grant_type: grant
      })
      assert.strictEqual(missingKey.status, 401)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("audience selects among several integrations; unknown, wrong-kind and missing ones are errors", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const a = { guid: "11111111-1111-4111-8111-111111111111", name: "A", authType: "viewer" as const }
      const b = { guid: "22222222-2222-4222-8222-222222222222", name: "B", authType: "viewer" as const }
      const sa = { guid: "33333333-3333-4333-8333-333333333333", name: "SA", authType: "service-account" as const }
      yield* emulator.setConnectIntegrations([a, b, sa])

      const ambiguous = yield* viewer()
      assert.strictEqual(ambiguous.status, 400)
      assert.strictEqual(ambiguous.body.code, 216)
      const chosen = yield* viewer({ audience: b.guid })
      assert.strictEqual(chosen.status, 200)
      assert.strictEqual(
        JSON.parse(Buffer.from(chosen.body.access_token.split(".")[1], "base64url").toString()).aud,
        b.guid
      )
      const unknown = yield* viewer({ audience: "44444444-4444-4444-8444-444444444444" })
      assert.strictEqual(unknown.body.code, 214)
      const wrongKind = yield* viewer({ audience: sa.guid })
      assert.strictEqual(wrongKind.body.code, 213)
      assert.include(wrongKind.body.error, "does not support Viewer auth flows")

      yield* emulator.setConnectIntegrations([])
      const none = yield* viewer()
      assert.strictEqual(none.body.code, 212)
      assert.include(none.body.error, "No OAuth integrations have been associated")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("unknown paths get a JSON 404", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const reply = yield* send(HttpClientRequest.get(`${emulator.connect.url}/__api__/v1/content`))
      assert.strictEqual(reply.status, 404)
      // Connect's code 2, "The requested method or endpoint is not supported." (404), in its API Reference.
      assert.strictEqual(reply.body.code, 2)
    }).pipe(Effect.provide(emulatorLayer())))
})
