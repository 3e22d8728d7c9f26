import { LocalM2M } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { type Credential, statements, stats, withClient, withEmulator } from "./utils.js"

/**
 * The SQL classifier (`internal/classify.ts`) reads a 403 with the detector the REST calls use
 * (`DatabricksError.isExpiredTokenAnswer`): Databricks' words for an expired token ("Invalid access token." as
 * JSON or as an HTML page, "Token is expiring within 30 seconds", databricks/databricks-vscode#583) get one token
 * refresh and one retry; an ordinary 403, even one that says "expired" about something else, is a PermissionError.
 */

const expired = [
  JSON.stringify({ error_code: "PERMISSION_DENIED", message: "Invalid access token." }),
  "<html><head><title>Error 403 Invalid access token.</title></head><body><h2>HTTP ERROR 403</h2></body></html>",
  JSON.stringify({ error_code: "PERMISSION_DENIED", message: "Token is expiring within 30 seconds." }),
  JSON.stringify({ error_code: "PERMISSION_DENIED", message: "Token expired" })
]
const ordinary = JSON.stringify({
  error_code: "PERMISSION_DENIED",
  message: "Your trial expired. Contact your account admin."
})

const m2m: Credential = (emulator) =>
  LocalM2M.layer({
    host: emulator.host,
    clientId: emulator.servicePrincipal.clientId,
    clientSecret: emulator.servicePrincipal.clientSecret
  })
const addFault = (fault: Emulator.Fault) => Effect.flatMap(Emulator.Emulator, (e) => e.faults.add(fault))

describe("SqlClient: which 403 is an expired token (the detector shared with the REST calls)", () => {
  for (const [i, body] of expired.entries()) {
    it.scopedLive(`refreshed once and run: ${body.slice(0, 60)}`, () =>
      Effect.gen(function*() {
        const marker = `expired-${i}`
        const rows = yield* withClient(
          Effect.gen(function*() {
            const client = yield* SqlClient.SqlClient
            yield* client.query("SELECT 1 AS warm")
            yield* addFault({ target: "ExecuteStatement", status: 403, body })
            return yield* client.query(`SELECT '${marker}' AS marker`)
          }),
          {},
          m2m
        )
        assert.deepStrictEqual(rows, [{ marker }])
        assert.strictEqual((yield* stats).tokenRequests.client_credentials, 2)
        assert.deepStrictEqual(yield* statements(marker), ["FINISHED"])
      }).pipe(Effect.provide(withEmulator())))
  }

  it.scopedLive("an ordinary 403 that says 'expired' is a PermissionError: no refresh, no retry", () =>
    Effect.gen(function*() {
      const error = yield* withClient(
        Effect.gen(function*() {
          const client = yield* SqlClient.SqlClient
          yield* client.query("SELECT 1 AS warm")
          yield* addFault({ target: "ExecuteStatement", status: 403, body: ordinary })
          return yield* Effect.flip(client.query("SELECT 'trial' AS marker"))
        }),
        {},
        m2m
      )
      assert.strictEqual(error._tag, "PermissionError")
      const after = yield* stats
      assert.strictEqual(after.tokenRequests.client_credentials, 1)
      assert.strictEqual(after.rpc.ExecuteStatement, 2)
    }).pipe(Effect.provide(withEmulator())))
})
