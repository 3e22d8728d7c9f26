import { MetadataService, Redaction, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Redacted, TestClock } from "effect"
import { type Credential, drive, stack, until, withEnv } from "./utils.js"

// The contract (X-Databricks-Metadata-Version: 1, X-Databricks-Host, { access_token, token_type, expires_on },
// a 4xx for another host, loopback URLs only): databricks-sdk-go config/auth_metadata_service.go and
// databricks-sdk-py tests/test_metadata_service_auth.py.

const fromEmulator: Credential = (emulator) =>
  MetadataService.layer({ host: emulator.host, url: Redacted.make(emulator.metadataService.url) })

const requests = Effect.map(
  Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats)),
  (stats) => stats.requests.metadata_service ?? 0
)

const emulatorOnly = Layer.provideMerge(Emulator.httpClient, Emulator.layer())

describe("MetadataService", () => {
  it.scoped("gets the bound principal's token for the host; authType metadata-service; refreshes on the TestClock", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const source = yield* TokenSource.TokenSource
      assert.strictEqual(source.authType, "metadata-service")
      const me = yield* WorkspaceClient.currentUser
      assert.strictEqual(me.userName, emulator.user.userName)
      const first = yield* source.token
      yield* TestClock.adjust(Duration.minutes(56))
      yield* source.token
      yield* until(
        Effect.map(Effect.orDie(source.token), (t) => Redacted.value(t.value) !== Redacted.value(first.value)),
        "the background refresh"
      )
      assert.strictEqual(yield* requests, 2)
    }).pipe(Effect.provide(stack(fromEmulator))))

  it.scoped("a server bound to another host refuses: an AuthenticationError naming the host; the URL is not shown", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const url = yield* emulator.metadataService.register({ host: "https://adb-1.2.azuredatabricks.net" })
      const error = yield* Effect.flip(Effect.flatMap(TokenSource.TokenSource, (s) => s.token)).pipe(
        Effect.provide(MetadataService.layerConfig()),
        Effect.provide(withEnv({ DATABRICKS_HOST: emulator.host, DATABRICKS_METADATA_SERVICE_URL: url }))
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.strictEqual(error.status, 404)
      assert.include(error.message, emulator.host)
      assert.include(error.hint, "DATABRICKS_HOST")
      const path = new URL(url).pathname.slice(1)
      assert.isFalse(Redaction.containsSecret(`${error.message} ${error.hint} ${JSON.stringify(error)}`, [path]))
      // A refusal is not retried.
      assert.strictEqual(yield* requests, 1)
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("a URL off this machine, or missing, is a ConfigurationError naming the variable without showing it", () =>
    Effect.gen(function*() {
      const build = (env: Record<string, string>) =>
        Effect.flip(Effect.scoped(Layer.build(MetadataService.layerConfig()))).pipe(Effect.provide(withEnv(env)))
      const remote = yield* build({
        DATABRICKS_HOST: "https://h.example.com",
        DATABRICKS_METADATA_SERVICE_URL: "http://tokens.example.com/secret-path-123"
      })
      assert.strictEqual(remote.setting, "DATABRICKS_METADATA_SERVICE_URL")
      assert.include(remote.message, "must point to this machine")
      assert.notInclude(remote.message, "secret-path-123")
      const missing = yield* build({ DATABRICKS_HOST: "https://h.example.com" })
      assert.strictEqual(missing.setting, "DATABRICKS_METADATA_SERVICE_URL")
      const noHost = yield* build({ DATABRICKS_METADATA_SERVICE_URL: "http://127.0.0.1:1/x" })
      assert.strictEqual(noHost.setting, "DATABRICKS_HOST")
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("503 is retried; an answer without expires_on is refused", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "metadata_service", status: 503 })
      const source = yield* TokenSource.TokenSource
      yield* drive(source.token)
      assert.strictEqual(yield* requests, 2)
      yield* source.invalidate
      yield* emulator.faults.add({
        target: "metadata_service",
        status: 200,
        body: JSON.stringify({ access_token: "t", token_type: "Bearer" })
      })
      const error = yield* Effect.flip(source.token)
      assert.include(error.message, "expires_on")
    }).pipe(Effect.provide(stack(fromEmulator))))
})
