import { LocalM2M, Pat, TokenEnv, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Encoding, Option, Redacted, TestClock } from "effect"
import { type Credential, drive, stack, withEnv } from "./utils.js"

const m2m: Credential = (emulator) =>
  LocalM2M.layer({
    host: emulator.host,
    clientId: emulator.servicePrincipal.clientId,
    clientSecret: emulator.servicePrincipal.clientSecret
  })
const pat: Credential = (emulator) => Pat.layer({ token: emulator.pat })

const stats = Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))
const expiredBody = JSON.stringify({ error_code: "PERMISSION_DENIED", message: "Invalid access token." })

describe("WorkspaceClient", () => {
  it.scoped("currentUser returns { id, userName, displayName } for a PAT", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const me = yield* WorkspaceClient.currentUser
      assert.deepStrictEqual(me, { id: emulator.user.id, userName: "ada@example.com", displayName: "Ada Lovelace" })
    }).pipe(Effect.provide(stack(pat))))

  it.scoped("an expired token on SCIM is refreshed and the call retried once", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* WorkspaceClient.currentUser
      yield* emulator.faults.add({ target: "scim", status: 403, body: expiredBody })
      const me = yield* WorkspaceClient.currentUser
      assert.strictEqual(me.userName, emulator.servicePrincipal.clientId)
      const after = yield* stats
      assert.strictEqual(after.requests.scim, 3)
      assert.strictEqual(after.tokenRequests.client_credentials, 2)
    }).pipe(Effect.provide(stack(m2m))))

  it.scoped("a token the server really considers expired (clock moved past it) is refreshed", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* WorkspaceClient.currentUser
      // A new emulator token lifetime would be cleaner; moving the clock beyond expiry does it for real.
      yield* TestClock.adjust(Duration.minutes(61))
      const me = yield* WorkspaceClient.currentUser
      assert.strictEqual(me.userName, emulator.servicePrincipal.clientId)
      assert.strictEqual((yield* stats).tokenRequests.client_credentials, 2)
    }).pipe(Effect.provide(stack(m2m))))

  it.scoped("a 401 with a PAT is not retried (a PAT cannot be refreshed)", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(WorkspaceClient.currentUser)
      assert.strictEqual(error._tag, "AuthenticationError")
      if (error._tag !== "AuthenticationError") return
      assert.strictEqual(error.status, 401)
      assert.strictEqual((yield* stats).requests.scim, 1)
    }).pipe(Effect.provide(stack(() => Pat.layer({ token: Redacted.make("dapi-unknown-token") })))))

  it.scoped("a refused fresh token is an AuthenticationError after exactly one retry", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "scim", status: 401, count: 5 })
      const error = yield* Effect.flip(WorkspaceClient.currentUser)
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include((error as { hint?: string }).hint, "fresh token")
      assert.strictEqual((yield* stats).requests.scim, 2)
    }).pipe(Effect.provide(stack(m2m))))

  it.scoped("a real 403 is a PermissionError, not a refresh", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({
        target: "scim",
        status: 403,
        body: JSON.stringify({ error_code: "PERMISSION_DENIED", message: "User is not an admin" })
      })
      const error = yield* Effect.flip(WorkspaceClient.currentUser)
      assert.strictEqual(error._tag, "PermissionError")
      assert.include(error.message, "User is not an admin")
      assert.strictEqual((yield* stats).requests.scim, 1)
      assert.strictEqual((yield* stats).tokenRequests.client_credentials, 1)
    }).pipe(Effect.provide(stack(m2m))))

  it.scoped("429 becomes RateLimitError with retryAfter once retries are spent", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "scim", status: 429, headers: { "retry-after": "3" }, count: 10 })
      const error = yield* drive(Effect.flip(WorkspaceClient.currentUser))
      assert.strictEqual(error._tag, "RateLimitError")
      if (error._tag !== "RateLimitError") return
      assert.deepStrictEqual(error.retryAfter, Option.some(Duration.seconds(3)))
      assert.strictEqual((yield* stats).requests.scim, 5)
    }).pipe(Effect.provide(stack(pat))))

  it.scoped("5xx and dropped connections are retried for GET and then surface as ServerError / NetworkError", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "scim", status: 502, count: 2 })
      yield* emulator.faults.add({ target: "scim", reset: "before", count: 1 })
      const me = yield* drive(WorkspaceClient.currentUser)
      assert.strictEqual(me.userName, "ada@example.com")
      assert.strictEqual((yield* stats).requests.scim, 4)

      yield* emulator.faults.add({ target: "scim", status: 500, count: 10 })
      const server = yield* drive(Effect.flip(WorkspaceClient.currentUser))
      assert.strictEqual(server._tag, "ServerError")
      yield* emulator.faults.clear
      yield* emulator.faults.add({ target: "scim", reset: "before", count: 10 })
      const network = yield* drive(Effect.flip(WorkspaceClient.currentUser))
      assert.strictEqual(network._tag, "NetworkError")
    }).pipe(Effect.provide(stack(pat))))

  it.scoped("a POST is not retried on 5xx (it may have been applied), but is on 429", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* WorkspaceClient.WorkspaceClient
      yield* emulator.faults.add({ target: "*", status: 503, count: 1 })
      const error = yield* Effect.flip(client.http.post("/oidc/v1/token"))
      assert.strictEqual(error._tag, "ServerError")
      yield* emulator.faults.add({ target: "*", status: 429, count: 1 })
      const retried = yield* drive(Effect.flip(client.http.post("/oidc/v1/token")))
      // Retried past the 429; the token endpoint then refuses the empty form, which is not retried.
      assert.strictEqual(retried._tag, "ApiError")
      assert.strictEqual((yield* stats).requests.token, 3)
    }).pipe(Effect.provide(stack(pat))))

  it.scoped("other 4xx answers are ApiError with Databricks' error_code", () =>
    Effect.gen(function*() {
      const client = yield* WorkspaceClient.WorkspaceClient
      const error = yield* Effect.flip(client.http.get("/api/2.0/clusters/list"))
      assert.strictEqual(error._tag, "ApiError")
      if (error._tag !== "ApiError") return
      assert.strictEqual(error.status, 404)
      assert.strictEqual(error.errorCode, "ENDPOINT_NOT_FOUND")
      // Absolute URLs are left alone; relative ones resolve against the host.
      const response = yield* client.http.execute(
        HttpClientRequest.get(`${client.host.url}/oidc/.well-known/oauth-authorization-server`)
      )
      assert.strictEqual(response.status, 200)
    }).pipe(Effect.provide(stack(pat))))

  it.scoped("the host comes from DATABRICKS_HOST when not given", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const client = yield* WorkspaceClient.make().pipe(
        Effect.provide(Pat.layer({ token: emulator.pat })),
        Effect.provide(withEnv({ DATABRICKS_HOST: emulator.host }))
      )
      assert.strictEqual(client.host.url, emulator.host)
      assert.strictEqual((yield* client.currentUser).userName, "ada@example.com")
      const missing = yield* Effect.flip(
        WorkspaceClient.make().pipe(Effect.provide(Pat.layer({ token: emulator.pat })), Effect.provide(withEnv({})))
      )
      assert.strictEqual(missing.setting, "DATABRICKS_HOST")
    }).pipe(Effect.provide(stack(pat))))
})

const jwt = (exp: number) =>
  [{ alg: "none" }, { exp, sub: "x" }].map((part) => Encoding.encodeBase64Url(JSON.stringify(part))).join(".") + ".s"

describe("Pat and TokenEnv", () => {
  it.effect("Pat: authType pat, the token as given, and config from DATABRICKS_TOKEN", () =>
    Effect.gen(function*() {
      const source = yield* Pat.make({ token: Redacted.make("dapi123") })
      assert.strictEqual(source.authType, "pat")
      assert.strictEqual(Redacted.value((yield* source.token).value), "dapi123")
      const fromEnv = yield* TokenSource.TokenSource.pipe(
        Effect.provide(Pat.layerConfig()),
        Effect.provide(withEnv({ DATABRICKS_TOKEN: " dapi456 " }))
      )
      assert.strictEqual(Redacted.value((yield* fromEnv.token).value), "dapi456")
    }))

  it.effect("TokenEnv: authType token-env; a JWT's exp is read and a (nearly) expired token fails clearly", () =>
    Effect.gen(function*() {
      const now = Math.floor((yield* TestClock.currentTimeMillis) / 1000)
      const source = yield* TokenEnv.make({ token: Redacted.make(jwt(now + 600)) })
      assert.strictEqual(source.authType, "token-env")
      yield* source.token
      // Databricks refuses a token within 30 s of expiry, so the source does too.
      yield* TestClock.adjust(Duration.seconds(571))
      const error = yield* Effect.flip(source.token)
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "expired")
      assert.include(error.hint, "Obtain a new token")
      const opaque = yield* TokenEnv.make({ token: Redacted.make("opaque-token") })
      yield* TestClock.adjust("3650 days")
      assert.strictEqual(Redacted.value((yield* opaque.token).value), "opaque-token")
    }))
})
