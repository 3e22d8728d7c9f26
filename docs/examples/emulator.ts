// Type-checked by `pnpm check`: a test that runs against the emulator, with a fault injected.
import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Layer, Redacted } from "effect"

// #region layer
const TestLayer = Layer.provideMerge(Emulator.httpClient, Emulator.layer({ tokenLifetime: "2 minutes" }))
// #endregion

export const program = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const http = yield* HttpClient.HttpClient

  // The next token request gets a 429 with Retry-After, as a busy workspace would answer.
  yield* emulator.faults.add({ target: "token", status: 429, headers: { "retry-after": "2" } })

  const response = yield* http.execute(
    HttpClientRequest.post(`${emulator.host}/oidc/v1/token`).pipe(
      HttpClientRequest.basicAuth(
        emulator.servicePrincipal.clientId,
        Redacted.value(emulator.servicePrincipal.clientSecret)
      ),
      HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials", scope: "all-apis" })
    )
  )
  const stats = yield* emulator.stats
  return { status: response.status, tokenRequests: stats.tokenRequests }
}).pipe(Effect.provide(TestLayer))
