import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"

const layer = Layer.provideMerge(Emulator.httpClient, Emulator.layer())

const entraToken = (
  authority: string,
  tenant: string,
  form: Record<string, string>,
  version: "v2.0/" | "" = "v2.0/"
) =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const response = yield* http.execute(
      HttpClientRequest.post(`${authority}/${tenant}/oauth2/${version}token`).pipe(
        HttpClientRequest.bodyUrlParams(form)
      )
    )
    return { status: response.status, body: (yield* response.json) as Record<string, unknown> }
  })

describe("Emulator.azure", () => {
  it.scoped("issues an Entra ID token the workspace accepts as the mapped service principal", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const sp = emulator.azure.servicePrincipal
      const { body, status } = yield* entraToken(emulator.azure.authorityHost, sp.tenantId, {
        grant_type: "client_credentials",
        client_id: sp.clientId,
        client_secret: Redacted.value(sp.clientSecret),
        scope: "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default"
      })
      assert.strictEqual(status, 200)
      assert.strictEqual(body.token_type, "Bearer")
      const http = yield* HttpClient.HttpClient
      const me = yield* http.execute(
        HttpClientRequest.get(`${emulator.host}/api/2.0/preview/scim/v2/Me`).pipe(
          HttpClientRequest.bearerToken(String(body.access_token))
        )
      )
      assert.strictEqual(me.status, 200)
      assert.strictEqual(((yield* me.json) as { userName: string }).userName, sp.clientId)
    }).pipe(Effect.provide(layer)))

  it.scoped("answers a wrong secret with AADSTS7000215", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const sp = emulator.azure.servicePrincipal
      const { body, status } = yield* entraToken(emulator.azure.authorityHost, sp.tenantId, {
        grant_type: "client_credentials",
        client_id: sp.clientId,
        client_secret: "wrong",
        scope: "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default"
      })
      assert.strictEqual(status, 401)
      assert.strictEqual(body.error, "invalid_client")
      assert.match(String(body.error_description), /^AADSTS7000215: /)
      assert.deepStrictEqual(body.error_codes, [7000215])
    }).pipe(Effect.provide(layer)))
})
