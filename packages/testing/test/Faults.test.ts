import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted, TestClock } from "effect"
import { basic, emulatorLayer, machineToken, me, postForm, send } from "./utils.js"

const tokenRequest = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  return yield* postForm(
    `${emulator.host}/oidc/v1/token`,
    { grant_type: "client_credentials" },
    basic(emulator.servicePrincipal.clientId, Redacted.value(emulator.servicePrincipal.clientSecret))
  )
})

const admin = (method: "GET" | "POST" | "DELETE", path: string, body?: unknown, token?: string) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    let request = HttpClientRequest.make(method)(`${emulator.host}/__emulator/${path}`).pipe(
      HttpClientRequest.bearerToken(token ?? Redacted.value(emulator.adminToken))
    )
    if (body !== undefined) request = HttpClientRequest.bodyUnsafeJson(request, body)
    return yield* send(request)
  })

/**
 * Real sockets do not move the TestClock: wait until the emulator has the request. A condition, not a timed
 * guess; the bound (about a minute of polling) only turns a request that never comes into a failure.
 */
const untilRequests = (endpoint: string, n: number) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    for (let i = 0; i < 12_000; i++) {
      if (((yield* emulator.stats).requests[endpoint] ?? 0) >= n) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
    }
    assert.fail(`the emulator never saw ${n} ${endpoint} request(s)`)
  })

describe("faults", () => {
  it.scoped("a status fault with headers hits the next N requests, then the endpoint recovers", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "token", status: 429, headers: { "retry-after": "7" }, count: 2 })
      const first = yield* tokenRequest
      const second = yield* tokenRequest
      const third = yield* tokenRequest
      assert.deepStrictEqual([first.status, second.status, third.status], [429, 429, 200])
      assert.strictEqual(first.headers["retry-after"], "7")
      assert.isString(third.body.access_token)
      const stats = yield* emulator.stats
      assert.deepStrictEqual(stats.faultsInjected, { token: 2 })
      assert.strictEqual(stats.requests.token, 3)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("'*' targets every endpoint, and a custom body is sent as given", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "*", status: 503, body: "warehouse busy", count: 2 })
      const token = yield* tokenRequest
      const settings = yield* send(HttpClientRequest.get(`${emulator.connect.url}/__api__/server_settings`))
      assert.strictEqual(token.status, 503)
      assert.strictEqual(token.text, "warehouse busy")
      assert.strictEqual(settings.status, 503)
      assert.strictEqual((yield* tokenRequest).status, 200)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("a delay holds the answer until the clock moves", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "scim", delayMs: 30_000 })
      const token = yield* machineToken
      const pending = yield* Effect.fork(me(token))
      yield* untilRequests("scim", 1)
      yield* TestClock.adjust("29 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(pending)))
      yield* TestClock.adjust("1 second")
      const reply = yield* Fiber.join(pending)
      assert.strictEqual(reply.status, 200)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("reset 'before' drops the connection without running the handler", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "token", reset: "before" })
      const error = yield* Effect.flip(tokenRequest)
      assert.strictEqual(error._tag, "RequestError")
      const stats = yield* emulator.stats
      assert.deepStrictEqual(stats.tokenRequests, {})
      assert.strictEqual((yield* tokenRequest).status, 200)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("reset 'after' runs the handler, then drops the connection", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "exchange", reset: "after" })
      const error = yield* Effect.flip(
        postForm(`${emulator.connect.url}/__api__/v1/oauth/integrations/credentials`, {
          grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
          subject_token_type: "urn:posit:connect:user-session-token",
          subject_token: Redacted.value(emulator.connect.userSessionToken)
        }, { authorization: `Key ${Redacted.value(emulator.connect.apiKey)}` })
      )
      assert.strictEqual(error._tag, "RequestError")
      const stats = yield* emulator.stats
      // The exchange happened server-side even though the client never heard back.
      assert.strictEqual(stats.exchanges["urn:posit:connect:user-session-token"], 1)
      assert.strictEqual(stats.recentRequests.at(-1)?.principal, emulator.user.userName)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("emptyBody answers 200 with no body at all", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "token", emptyBody: true })
      const reply = yield* tokenRequest
      assert.strictEqual(reply.status, 200)
      assert.strictEqual(reply.text, "")
    }).pipe(Effect.provide(emulatorLayer())))

  const pattern = (seed: number) =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "discovery", status: 500, probability: 0.3, seed })
      const client = yield* HttpClient.HttpClient
      const statuses: Array<number> = []
      for (let i = 0; i < 60; i++) {
        statuses.push((yield* client.get(`${emulator.host}/oidc/.well-known/oauth-authorization-server`)).status)
      }
      return statuses
    }).pipe(Effect.provide(emulatorLayer()))

  it.scoped("a probability with a seed hits a reproducible share of requests", () =>
    Effect.gen(function*() {
      const a = yield* pattern(42)
      const b = yield* pattern(42)
      const c = yield* pattern(7)
      assert.deepStrictEqual(a, b)
      assert.notDeepEqual(a, c)
      const failed = a.filter((status) => status === 500).length
      assert.isAtLeast(failed, 8)
      assert.isAtMost(failed, 30)
    }))
})

describe("admin API", () => {
  it.scoped("requires the admin bearer token", () =>
    Effect.gen(function*() {
      const missing = yield* admin("GET", "stats", undefined, "wrong")
      assert.strictEqual(missing.status, 401)
      assert.isString(missing.body.error)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("adds faults, reports stats and resets them, over HTTP", () =>
    Effect.gen(function*() {
      const added = yield* admin("POST", "faults", [{ target: "token", status: 500 }, {
        target: "scim",
        status: 429,
        count: 3
      }])
      assert.strictEqual(added.status, 200)
      assert.lengthOf(added.body.faults, 2)
      assert.strictEqual((yield* tokenRequest).status, 500)
      const stats = yield* admin("GET", "stats")
      assert.deepStrictEqual(stats.body.tokenRequests, {})
      assert.deepStrictEqual(stats.body.requests, { token: 1 })
      assert.deepStrictEqual(stats.body.exchanges, {})
      assert.deepStrictEqual(stats.body.faultsInjected, { token: 1 })
      assert.deepStrictEqual(stats.body.recentRequests, [{
        method: "POST",
        path: "/oidc/v1/token",
        endpoint: "token",
        status: 500
      }])
      assert.lengthOf((yield* admin("GET", "faults")).body.faults, 1)
      assert.strictEqual((yield* admin("POST", "reset")).status, 200)
      assert.deepStrictEqual((yield* admin("GET", "stats")).body.requests, {})
      assert.lengthOf((yield* admin("GET", "faults")).body.faults, 0)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("refuses malformed faults with a 400 that says why", () =>
    Effect.gen(function*() {
      for (
        const fault of [
          { target: "nowhere", status: 500 },
          { target: "token" },
          { target: "token", status: 99 },
          { target: "token", status: 500, probability: 2 },
          { target: "token", reset: "sideways" }
        ]
      ) {
        const reply = yield* admin("POST", "faults", fault)
        assert.strictEqual(reply.status, 400, JSON.stringify(fault))
        assert.strictEqual(reply.body.error, "Invalid fault")
        assert.isString(reply.body.details)
      }
      const emulator = yield* Emulator.Emulator
      const notJson = yield* send(
        HttpClientRequest.post(`${emulator.host}/__emulator/faults`).pipe(
          HttpClientRequest.bearerToken(Redacted.value(emulator.adminToken)),
          HttpClientRequest.bodyText("{not json", "application/json")
        )
      )
      assert.strictEqual(notJson.status, 400)
      const wrongType = yield* send(
        HttpClientRequest.post(`${emulator.host}/__emulator/faults`).pipe(
          HttpClientRequest.bearerToken(Redacted.value(emulator.adminToken)),
          HttpClientRequest.bodyText("target=token", "text/plain")
        )
      )
      assert.strictEqual(wrongType.status, 415)
    }).pipe(Effect.provide(emulatorLayer())))
})

describe("bad input", () => {
  it.scoped("wrong content type, repeated parameters and oversized bodies get a JSON 4xx", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const url = `${emulator.host}/oidc/v1/token`
      const asJson = yield* send(
        HttpClientRequest.post(url).pipe(HttpClientRequest.bodyUnsafeJson({ grant_type: "x" }))
      )
      assert.strictEqual(asJson.status, 400)
      assert.strictEqual(asJson.body.error, "invalid_request")
      const repeated = yield* send(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.bodyText(
            "grant_type=client_credentials&grant_type=password",
            "application/x-www-form-urlencoded"
          )
        )
      )
      assert.strictEqual(repeated.status, 400)
      assert.include(repeated.body.error_description, "repeated")
      const huge = yield* send(
        HttpClientRequest.post(url).pipe(
          HttpClientRequest.bodyText(`grant_type=${"x".repeat(1024 * 1024 + 10)}`, "application/x-www-form-urlencoded")
        )
      )
      assert.strictEqual(huge.status, 413)
      assert.strictEqual(huge.body.error, "invalid_request")
      const garbage = yield* send(
        HttpClientRequest.post(url).pipe(HttpClientRequest.bodyText("%%%&&&==", "application/x-www-form-urlencoded"))
      )
      assert.strictEqual(garbage.status, 400)
      // Still serving after all that.
      assert.strictEqual((yield* tokenRequest).status, 200)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("unknown paths get 404 and a known path with the wrong method 405, both JSON", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const unknown = yield* send(HttpClientRequest.get(`${emulator.host}/api/2.0/clusters/list`))
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(unknown.body.error_code, "ENDPOINT_NOT_FOUND")
      const wrongMethod = yield* send(HttpClientRequest.get(`${emulator.host}/oidc/v1/token`))
      assert.strictEqual(wrongMethod.status, 405)
    }).pipe(Effect.provide(emulatorLayer())))
})
