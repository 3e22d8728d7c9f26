import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Logger, Redacted } from "effect"
import { serve } from "../examples/connect-viewer-server.js"

describe("docs/examples/connect-viewer-server.ts", () => {
  it.scoped("greets each viewer by their own Databricks display name", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
      const graceToken = yield* emulator.registerUserSessionToken({ user: grace })
      const env = ConfigProvider.fromMap(
        new Map([
          ["RSTUDIO_PRODUCT", "CONNECT"],
          ["CONNECT_SERVER", emulator.connect.url],
          ["CONNECT_API_KEY", Redacted.value(emulator.connect.apiKey)],
          ["DATABRICKS_HOST", emulator.host]
        ])
      )
      // Port 0: the system picks a free port as the server binds it (no window in which another test can take it),
      // and the server's own "Listening on" line says which.
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => lines.push(String(message)))
      yield* Layer.build(serve(0)).pipe(
        Effect.withConfigProvider(env),
        Effect.provide(Logger.replace(Logger.defaultLogger, capture))
      )
      const port = Number(/http:\/\/127\.0\.0\.1:(\d+)/.exec(lines.join("\n"))?.[1])
      assert.isAbove(port, 0, lines.join("\n"))
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
