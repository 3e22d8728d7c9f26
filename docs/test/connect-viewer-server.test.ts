import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Redacted } from "effect"
import * as Net from "node:net"
import { serve } from "../examples/connect-viewer-server.js"

const freePort = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

describe("docs/examples/connect-viewer-server.ts", () => {
  it.scoped("greets each viewer by their own Databricks display name", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
      const graceToken = yield* emulator.registerUserSessionToken({ user: grace })
      const port = yield* freePort
      const env = ConfigProvider.fromMap(
        new Map([
          ["RSTUDIO_PRODUCT", "CONNECT"],
          ["CONNECT_SERVER", emulator.connect.url],
          ["CONNECT_API_KEY", Redacted.value(emulator.connect.apiKey)],
          ["DATABRICKS_HOST", emulator.host]
        ])
      )
      yield* Layer.build(serve(port)).pipe(Effect.withConfigProvider(env))
      const client = yield* HttpClient.HttpClient
      const greet = (token?: Redacted.Redacted<string>) =>
        client.execute(
          HttpClientRequest.get(`http://127.0.0.1:${port}/`).pipe(
            HttpClientRequest.setHeaders(
              token === undefined ? {} : { "posit-connect-user-session-token": Redacted.value(token) }
            )
          )
        ).pipe(Effect.flatMap((response) => Effect.map(response.text, (text) => `${response.status} ${text.trim()}`)))
      assert.strictEqual(yield* greet(emulator.connect.userSessionToken), "200 Hello, Ada Lovelace!")
      assert.strictEqual(yield* greet(graceToken), "200 Hello, Grace Hopper!")
      assert.match(yield* greet(), /^401 The user-session-token is required/)
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))
})
