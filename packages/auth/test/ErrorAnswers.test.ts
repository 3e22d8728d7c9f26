import { DatabricksError, LocalM2M, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Option } from "effect"
import { type Credential, stack } from "./utils.js"

/**
 * The one `Retry-After` parser and the one expired-token detector, which the REST calls (`internal/httpErrors.ts`)
 * and the SQL classifier (`@effect-databricks/sql`, `internal/classify.ts`) share.
 */

/**
 * What Databricks says when it refuses a token that has expired, with HTTP 403: "Invalid access token." as JSON
 * (the REST APIs) or as an HTML error page (older front ends, quoted in databricks/databricks-cli#197 and
 * Azure/MachineLearningNotebooks#840), and "Token is expiring within 30 seconds" inside its refusal margin
 * (databricks/databricks-vscode#583). The Databricks SDKs match none of these texts: they refresh ahead of
 * expiry (databricks-sdk-py oauth.py, 40 s) and so do we; the text decides only whether a 403 is worth one refresh.
 */
const expiredTokenAnswers: ReadonlyArray<string> = [
  JSON.stringify({ error_code: "PERMISSION_DENIED", message: "Invalid access token." }),
  JSON.stringify({ error_code: "403", message: "Invalid access token. [ReqId: 145ae51b-da74-40a7-ac56-0ad190834faf]" }),
  "<html><head><title>Error 403 Invalid access token.</title></head><body><h2>HTTP ERROR 403</h2></body></html>",
  JSON.stringify({ error_code: "PERMISSION_DENIED", message: "Token is expiring within 30 seconds." }),
  JSON.stringify({ error_code: "PERMISSION_DENIED", message: "Token expired" }),
  JSON.stringify({ error: "invalid_token", error_description: "The access token has expired" }),
  JSON.stringify({ message: "Expired token" })
]

/** Ordinary 403s: the principal lacks a permission; a refresh would not help. */
const permissionAnswers: ReadonlyArray<string> = [
  JSON.stringify({ error_code: "PERMISSION_DENIED", message: "User does not have CAN USE on warehouse abc." }),
  JSON.stringify({ error_code: "PERMISSION_DENIED", message: "Your trial expired. Contact your account admin." }),
  "Forbidden"
]

describe("DatabricksError.parseRetryAfter", () => {
  const now = Date.UTC(2030, 0, 1, 12, 0, 0)
  const cases: ReadonlyArray<readonly [string | null | undefined, Option.Option<Duration.Duration>]> = [
    ["3", Option.some(Duration.seconds(3))],
    [" 120 ", Option.some(Duration.seconds(120))],
    ["0", Option.some(Duration.zero)],
    // RFC 9110 §10.2.3: an HTTP-date, in its three formats; a date in the past waits for nothing.
    ["Tue, 01 Jan 2030 12:00:10 GMT", Option.some(Duration.seconds(10))],
    ["Tuesday, 01-Jan-30 12:00:10 GMT", Option.some(Duration.seconds(10))],
    ["Mon, 31 Dec 2029 12:00:00 GMT", Option.some(Duration.zero)],
    ["-1", Option.none()],
    ["1.5", Option.none()],
    ["soon", Option.none()],
    ["", Option.none()],
    [null, Option.none()],
    [undefined, Option.none()]
  ]
  for (const [header, expected] of cases) {
    it(`${JSON.stringify(header)}`, () => {
      const parsed = DatabricksError.parseRetryAfter(header, now)
      assert.deepStrictEqual(Option.map(parsed, Duration.toMillis), Option.map(expected, Duration.toMillis))
    })
  }
})

it("an asctime HTTP-date (no zone: read as local time) is a wait, not ignored", () => {
  assert.isTrue(Option.isSome(DatabricksError.parseRetryAfter("Tue Jan  1 12:00:10 2030", Date.UTC(2029, 0, 1))))
})

describe("DatabricksError.isExpiredTokenAnswer", () => {
  it("Databricks' words for an expired token, with 403 only", () => {
    for (const body of expiredTokenAnswers) {
      assert.isTrue(DatabricksError.isExpiredTokenAnswer(403, body), body)
      assert.isFalse(DatabricksError.isExpiredTokenAnswer(401, body), body)
      assert.isFalse(DatabricksError.isExpiredTokenAnswer(500, body), body)
    }
  })

  it("an ordinary 403 is not one, even when it says 'expired' about something else", () => {
    for (const body of permissionAnswers) assert.isFalse(DatabricksError.isExpiredTokenAnswer(403, body), body)
  })
})

const m2m: Credential = (emulator) =>
  LocalM2M.layer({
    host: emulator.host,
    clientId: emulator.servicePrincipal.clientId,
    clientSecret: emulator.servicePrincipal.clientSecret
  })
const stats = Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))

describe("WorkspaceClient reads the same answers (internal/httpErrors.ts)", () => {
  for (const body of expiredTokenAnswers) {
    it.scoped(`refreshes once and retries on 403 ${body.slice(0, 60)}`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* WorkspaceClient.currentUser
        yield* emulator.faults.add({ target: "scim", status: 403, body })
        const me = yield* WorkspaceClient.currentUser
        assert.strictEqual(me.userName, emulator.servicePrincipal.clientId)
        const after = yield* stats
        assert.strictEqual(after.requests.scim, 3)
        assert.strictEqual(after.tokenRequests.client_credentials, 2)
      }).pipe(Effect.provide(stack(m2m))))
  }

  for (const body of permissionAnswers) {
    it.scoped(`an ordinary 403 is a PermissionError, no refresh: ${body.slice(0, 60)}`, () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* WorkspaceClient.currentUser
        yield* emulator.faults.add({ target: "scim", status: 403, body })
        const error = yield* Effect.flip(WorkspaceClient.currentUser)
        assert.strictEqual(error._tag, "PermissionError")
        const after = yield* stats
        assert.strictEqual(after.requests.scim, 2)
        assert.strictEqual(after.tokenRequests.client_credentials, 1)
      }).pipe(Effect.provide(stack(m2m))))
  }
})
