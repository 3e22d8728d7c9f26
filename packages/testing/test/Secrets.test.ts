import { Emulator } from "@effect-databricks/testing"
import { HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Logger, LogLevel, Redacted } from "effect"
import { basic, emulatorLayer, me, postForm, send, userTokens } from "./utils.js"

describe("Emulator secrets", () => {
  const lines: Array<string> = []
  const capture = Logger.make(({ annotations, cause, message }) => {
    lines.push(JSON.stringify({ message, annotations: [...annotations], cause: String(cause) }))
  })

  it.scoped("no secret reaches a log line, the stats, or an error body", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const secrets = [
        Redacted.value(emulator.pat),
        Redacted.value(emulator.servicePrincipal.clientSecret),
        Redacted.value(emulator.connect.apiKey),
        Redacted.value(emulator.connect.userSessionToken),
        Redacted.value(emulator.adminToken)
      ]
      const token = yield* postForm(
        `${emulator.host}/oidc/v1/token`,
        { grant_type: "client_credentials" },
        basic(emulator.servicePrincipal.clientId, Redacted.value(emulator.servicePrincipal.clientSecret))
      )
      const wrong = yield* postForm(
        `${emulator.host}/oidc/v1/token`,
        { grant_type: "client_credentials" },
        basic(emulator.servicePrincipal.clientId, `${Redacted.value(emulator.servicePrincipal.clientSecret)}x`)
      )
      const user = yield* userTokens()
      secrets.push(token.body.access_token, user.body.access_token, user.body.refresh_token)
      yield* me(Redacted.value(emulator.pat))
      yield* me(token.body.access_token)
      const exchange = yield* postForm(`${emulator.connect.url}/__api__/v1/oauth/integrations/credentials`, {
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        subject_token_type: "urn:posit:connect:user-session-token",
        subject_token: Redacted.value(emulator.connect.userSessionToken)
      }, { authorization: `Key ${Redacted.value(emulator.connect.apiKey)}` })
      assert.strictEqual(exchange.status, 200)
      // The emulator logs only what it fails to handle: Thrift bodies it cannot read, sent with each kind of
      // bearer token, give real log lines (and their causes) to scan.
      for (const bearer of [Redacted.value(emulator.pat), token.body.access_token, user.body.access_token]) {
        const garbled = yield* send(
          HttpClientRequest.post(`${emulator.host}${emulator.httpPath}`).pipe(
            HttpClientRequest.bearerToken(bearer),
            HttpClientRequest.bodyUint8Array(new TextEncoder().encode("not thrift"), "application/x-thrift")
          )
        )
        assert.strictEqual(garbled.status, 500)
        for (const secret of secrets) assert.notInclude(garbled.text, secret)
      }
      assert.strictEqual(lines.filter((line) => line.includes("emulator handler failed")).length, 3, lines.join("\n"))

      const stats = JSON.stringify(yield* emulator.stats)
      assert.isAbove((yield* emulator.stats).recentRequests.length, 5)
      for (const secret of secrets) {
        assert.notInclude(stats, secret)
        assert.notInclude(wrong.text, secret)
        for (const line of lines) assert.notInclude(line, secret)
      }
      assert.notInclude(
        String(emulator.servicePrincipal.clientSecret),
        Redacted.value(emulator.servicePrincipal.clientSecret)
      )
    }).pipe(
      Effect.provide(emulatorLayer()),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Logger.withMinimumLogLevel(LogLevel.All)
    ))
})
