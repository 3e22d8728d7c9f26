import { AzureClientSecret, Redaction, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Logger, Redacted, TestClock } from "effect"
import { type Credential, drive, stack, until, withEnv } from "./utils.js"

// The Azure Databricks resource and the two headers: databricks-sdk-py databricks/sdk/environments.py and
// databricks/sdk/azure.py, databricks-sdk-go config/auth_azure_client_secret.go.

const fromEmulator = (options?: Partial<AzureClientSecret.Options>): Credential => (emulator) =>
  AzureClientSecret.layer({
    clientId: emulator.azure.servicePrincipal.clientId,
    clientSecret: emulator.azure.servicePrincipal.clientSecret,
    tenantId: emulator.azure.tenantId,
    authorityHost: emulator.azure.authorityHost,
    ...options
  })

const entraRequests = Effect.map(
  Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats)),
  (stats) => stats.requests.entra_token ?? 0
)

const captureLogs = () => {
  const lines: Array<string> = []
  return {
    lines,
    logger: Logger.replace(Logger.defaultLogger, Logger.make(({ message }) => lines.push(String(message))))
  }
}

describe("AzureClientSecret", () => {
  it.scoped("gets an Entra ID token the workspace accepts as the service principal; authType azure-client-secret", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const source = yield* TokenSource.TokenSource
      assert.strictEqual(source.authType, "azure-client-secret")
      const me = yield* WorkspaceClient.currentUser
      assert.strictEqual(me.userName, emulator.azure.servicePrincipal.clientId)
      yield* WorkspaceClient.currentUser
      assert.strictEqual(yield* entraRequests, 1)
      const stats = yield* emulator.stats
      const request = stats.recentRequests.find((r) => r.endpoint === "entra_token")
      // v2.0 client credentials with the secret in the body: the scope is the Azure Databricks resource.
      assert.strictEqual(request?.path, `/${emulator.azure.tenantId}/oauth2/v2.0/token`)
      assert.deepStrictEqual(request?.params, ["client_id", "client_secret", "grant_type", "scope"])
      assert.isUndefined(source.headers)
    }).pipe(Effect.provide(stack(fromEmulator()))))

  it.scoped("refreshes ahead of expiry on the TestClock", () =>
    Effect.gen(function*() {
      const source = yield* TokenSource.TokenSource
      const first = yield* source.token
      yield* TestClock.adjust(Duration.minutes(56))
      yield* source.token
      // The background refresh replaces the token: a new one, from a second request to Entra ID.
      yield* until(
        Effect.map(Effect.orDie(source.token), (t) => Redacted.value(t.value) !== Redacted.value(first.value)),
        "the background refresh"
      )
      assert.strictEqual(yield* entraRequests, 2)
      assert.strictEqual((yield* WorkspaceClient.currentUser).userName.length > 0, true)
    }).pipe(Effect.provide(stack(fromEmulator(), { tokenLifetime: "1 hour" }))))

  it.scoped("a wrong secret is an AuthenticationError with AADSTS7000215 and a hint; the secret is never shown", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Effect.flatMap(TokenSource.TokenSource, (s) => s.token))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.strictEqual(error.oauthError, "invalid_client")
      assert.strictEqual(error.status, 401)
      assert.match(error.message, /AADSTS7000215: Invalid client secret provided/)
      assert.notInclude(error.message, "Trace ID")
      assert.include(error.hint, "Value (not its Secret ID)")
      assert.isFalse(Redaction.containsSecret(JSON.stringify(error) + error.message, ["not-the-secret-42"]))
      // An IdP refusal is not retried.
      assert.strictEqual(yield* entraRequests, 1)
    }).pipe(Effect.provide(stack(fromEmulator({ clientSecret: Redacted.make("not-the-secret-42") })))))

  it.scoped("a wrong tenant is AADSTS90002; an app of another tenant is AADSTS700016", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const sp = emulator.azure.servicePrincipal
      const token = (tenantId: string) =>
        Effect.flip(Effect.flatMap(TokenSource.TokenSource, (s) => s.token)).pipe(
          Effect.provide(AzureClientSecret.layerConfig()),
          Effect.provide(
            withEnv({
              ARM_CLIENT_ID: sp.clientId,
              ARM_CLIENT_SECRET: Redacted.value(sp.clientSecret),
              ARM_TENANT_ID: tenantId,
              AZURE_AUTHORITY_HOST: emulator.azure.authorityHost
            })
          )
        )
      const unknown = yield* token("00000000-0000-0000-0000-000000000000")
      assert.match(unknown.message, /AADSTS90002/)
      assert.include(unknown.hint, "ARM_TENANT_ID")
      const other = yield* emulator.azure.registerTenant
      const wrong = yield* token(other)
      assert.match(wrong.message, /AADSTS700016/)
      assert.include(wrong.hint, "ARM_CLIENT_ID")
      assert.include(wrong.hint, "ARM_TENANT_ID")
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))

  it.scoped("an expired secret is AADSTS7000222 with a hint to create a new one", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.azure.setServicePrincipalSecret(emulator.azure.servicePrincipal.clientId, { expired: true })
      const error = yield* Effect.flip(Effect.flatMap(TokenSource.TokenSource, (s) => s.token))
      assert.match(error.message, /AADSTS7000222/)
      assert.include(error.hint, "create a new one")
    }).pipe(Effect.provide(stack(fromEmulator()))))

  it.scoped("429 and 503 from Entra ID are retried", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.faults.add({ target: "entra_token", status: 429, headers: { "retry-after": "1" } })
      yield* emulator.faults.add({ target: "entra_token", status: 503 })
      const source = yield* TokenSource.TokenSource
      yield* drive(source.token)
      assert.strictEqual(yield* entraRequests, 3)
    }).pipe(Effect.provide(stack(fromEmulator()))))

  it.scoped("a missing setting is a ConfigurationError naming the variable", () =>
    Effect.gen(function*() {
      const build = (env: Record<string, string>) =>
        Effect.flip(Effect.scoped(Layer.build(AzureClientSecret.layerConfig()))).pipe(
          Effect.provide(withEnv(env))
        )
      const noSecret = yield* build({ ARM_CLIENT_ID: "id", ARM_TENANT_ID: "tenant" })
      assert.strictEqual(noSecret._tag, "ConfigurationError")
      assert.strictEqual(noSecret.setting, "ARM_CLIENT_SECRET")
      const noTenant = yield* build({ ARM_CLIENT_ID: "id", ARM_CLIENT_SECRET: "s3cret-value" })
      assert.strictEqual(noTenant.setting, "ARM_TENANT_ID")
      assert.notInclude(noTenant.message, "s3cret-value")
      const noId = yield* build({ ARM_CLIENT_SECRET: "s", ARM_TENANT_ID: "t" })
      assert.strictEqual(noId.setting, "ARM_CLIENT_ID")
      const badResource = yield* build({
        ARM_CLIENT_ID: "id",
        ARM_CLIENT_SECRET: "s",
        ARM_TENANT_ID: "t",
        DATABRICKS_AZURE_RESOURCE_ID: "/sub/rg/ws"
      })
      assert.strictEqual(badResource.setting, "DATABRICKS_AZURE_RESOURCE_ID")
      const badCloud = yield* build({
        ARM_CLIENT_ID: "id",
        ARM_CLIENT_SECRET: "s",
        ARM_TENANT_ID: "t",
        ARM_ENVIRONMENT: "MARS"
      })
      assert.strictEqual(badCloud.setting, "ARM_ENVIRONMENT")
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))

  it.scoped(
    "with the workspace resource id, a contributor service principal not yet in the workspace is admitted through the management token",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const contributor = yield* emulator.azure.registerServicePrincipal({ workspace: "contributor" })
        const layerFor = (workspaceResourceId?: string) =>
          AzureClientSecret.layer({
            clientId: contributor.clientId,
            clientSecret: contributor.clientSecret,
            tenantId: contributor.tenantId,
            authorityHost: emulator.azure.authorityHost,
            workspaceResourceId
          })
        const me = (workspaceResourceId?: string) =>
          WorkspaceClient.currentUser.pipe(
            Effect.provide(WorkspaceClient.layer({ host: emulator.host })),
            Effect.provide(layerFor(workspaceResourceId))
          )
        // Without the headers, the workspace refuses a principal it does not know.
        const refused = yield* Effect.flip(me())
        assert.strictEqual(refused._tag, "PermissionError")
        assert.include(refused.message, "Unauthorized access to Org")
        const admitted = yield* me(emulator.azure.workspaceResourceId)
        assert.strictEqual(admitted.userName, contributor.clientId)
        const stats = yield* emulator.stats
        const scopes = stats.recentRequests.filter((r) => r.endpoint === "entra_token").length
        // One Databricks token without the resource id; with it, a Databricks and a management token.
        assert.strictEqual(scopes, 3)
        // Once admitted, it is a member: no headers needed any more.
        assert.strictEqual((yield* me()).userName, contributor.clientId)
      }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer())))
  )

  it.scoped("the management token and the secret appear in no log line and no error", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const { lines, logger } = captureLogs()
      const sp = emulator.azure.servicePrincipal
      yield* Effect.gen(function*() {
        const source = yield* TokenSource.TokenSource
        const headers = yield* source.headers!
        const management = headers["X-Databricks-Azure-SP-Management-Token"]
        assert.isString(management)
        assert.strictEqual(headers["X-Databricks-Azure-Workspace-Resource-Id"], emulator.azure.workspaceResourceId)
        const token = Redacted.value((yield* source.token).value)
        assert.notStrictEqual(management, token)
        assert.isFalse(Redaction.containsSecret(lines.join("\n"), [management, token, sp.clientSecret]))
      }).pipe(
        Effect.provide(AzureClientSecret.layer({
          clientId: sp.clientId,
          clientSecret: sp.clientSecret,
          tenantId: sp.tenantId,
          authorityHost: emulator.azure.authorityHost,
          workspaceResourceId: emulator.azure.workspaceResourceId
        })),
        Effect.provide(logger)
      )
    }).pipe(Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer()))))
})
