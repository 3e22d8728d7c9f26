import { AzureMsi, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Redacted, TestClock } from "effect"
import * as Net from "node:net"
import { type Credential, drive, stack, until, withEnv } from "./utils.js"

// The IMDS request (api-version 2018-02-01, resource, client_id, Metadata: true): databricks-sdk-go
// config/auth_azure_msi.go.

const fromEmulator = (options?: AzureMsi.Options): Credential => (emulator) =>
  AzureMsi.layer({ endpoint: emulator.azure.managedIdentityEndpoint, ...options })

const msiRequests = Effect.map(
  Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats)),
  (stats) => stats.requests.managed_identity ?? 0
)

const emulatorOnly = Layer.provideMerge(Emulator.httpClient, Emulator.layer())

/** A loopback port nobody listens on. */
const closedPort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const server = Net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
)

describe("AzureMsi", () => {
  it.scoped("the system-assigned identity's token is accepted by the workspace; authType azure-msi", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const source = yield* TokenSource.TokenSource
      assert.strictEqual(source.authType, "azure-msi")
      const me = yield* WorkspaceClient.currentUser
      assert.strictEqual(me.userName, emulator.azure.managedIdentity.clientId)
      const request = (yield* emulator.stats).recentRequests.find((r) => r.endpoint === "managed_identity")
      assert.deepStrictEqual(request?.params, ["api-version", "resource"])
    }).pipe(Effect.provide(stack(fromEmulator()))))

  it.scoped("a user-assigned identity is picked by ARM_CLIENT_ID; refreshed ahead of expiry on the TestClock", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const identity = yield* emulator.azure.registerManagedIdentity()
      yield* Effect.gen(function*() {
        const source = yield* TokenSource.TokenSource
        const first = yield* source.token
        const me = yield* WorkspaceClient.currentUser.pipe(
          Effect.provide(WorkspaceClient.layer({ host: emulator.host }))
        )
        assert.strictEqual(me.userName, identity.clientId)
        yield* TestClock.adjust(Duration.minutes(56))
        yield* source.token
        yield* until(
          Effect.map(Effect.orDie(source.token), (t) => Redacted.value(t.value) !== Redacted.value(first.value)),
          "the background refresh"
        )
        assert.strictEqual(yield* msiRequests, 2)
      }).pipe(
        Effect.provide(AzureMsi.layerConfig()),
        Effect.provide(withEnv({
          ARM_CLIENT_ID: identity.clientId,
          AZURE_POD_IDENTITY_AUTHORITY_HOST: emulator.azure.managedIdentityEndpoint
        }))
      )
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("no identity on the machine: 'Identity not found', with a hint", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.azure.setManagedIdentities({ systemAssigned: false })
      const error = yield* Effect.flip(Effect.flatMap(TokenSource.TokenSource, (s) => s.token)).pipe(
        Effect.provide(AzureMsi.layer({ endpoint: emulator.azure.managedIdentityEndpoint }))
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "Identity not found")
      assert.include(error.hint, "no system-assigned managed identity")
      const unknown = yield* Effect.flip(Effect.flatMap(TokenSource.TokenSource, (s) => s.token)).pipe(
        Effect.provide(AzureMsi.layer({ endpoint: emulator.azure.managedIdentityEndpoint, clientId: "nobody" }))
      )
      assert.include(unknown.hint, "No identity with client id nobody")
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("an endpoint that is down is an AuthenticationError saying where azure-msi works, after retries", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const error = yield* drive(
        Effect.flip(Effect.flatMap(TokenSource.TokenSource, (s) => s.token)).pipe(
          Effect.provide(AzureMsi.layer({ endpoint: `http://127.0.0.1:${port}` }))
        )
      )
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "could not be reached")
      assert.include(error.message, "ECONNREFUSED")
      assert.include(error.hint, "Azure VM")
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("404 while the identity is being set up, and 500, are retried", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "managed_identity", status: 404 })
      yield* emulator.faults.add({ target: "managed_identity", status: 500 })
      const source = yield* TokenSource.TokenSource
      yield* drive(source.token)
      assert.strictEqual(yield* msiRequests, 3)
    }).pipe(Effect.provide(stack(fromEmulator()))))

  it.scoped("with the workspace resource id, requests carry the management token of the identity", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const identity = yield* emulator.azure.registerManagedIdentity({ workspace: "contributor" })
      const me = yield* WorkspaceClient.currentUser.pipe(
        Effect.provide(WorkspaceClient.layer({ host: emulator.host })),
        Effect.provide(AzureMsi.layer({
          endpoint: emulator.azure.managedIdentityEndpoint,
          clientId: identity.clientId,
          workspaceResourceId: emulator.azure.workspaceResourceId
        }))
      )
      assert.strictEqual(me.userName, identity.clientId)
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("a bad endpoint or resource id is a ConfigurationError naming the variable", () =>
    Effect.gen(function*() {
      const build = (env: Record<string, string>) =>
        Effect.flip(Effect.scoped(Layer.build(AzureMsi.layerConfig()))).pipe(Effect.provide(withEnv(env)))
      const endpoint = yield* build({ AZURE_POD_IDENTITY_AUTHORITY_HOST: "http://imds.example.com" })
      assert.strictEqual(endpoint.setting, "AZURE_POD_IDENTITY_AUTHORITY_HOST")
      const resource = yield* build({ DATABRICKS_AZURE_RESOURCE_ID: "ws" })
      assert.strictEqual(resource.setting, "DATABRICKS_AZURE_RESOURCE_ID")
    }).pipe(Effect.provide(emulatorOnly)))
})
