/**
 * `AuthConfig.layer` builds every method it resolves, end to end on the emulator's servers: workload identity
 * federation (env-oidc, file-oidc, github-oidc), Azure (azure-client-secret, azure-msi) and the metadata
 * service, each chosen by the default chain from what the environment sets (databricks-sdk-py
 * credentials_provider.py) and by an explicit DATABRICKS_AUTH_TYPE.
 */
import { AuthConfig, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel, Option, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tempDir, withEnv } from "./utils.js"

const subject = "system:serviceaccount:jobs:etl"

const TestEmulator = Layer.provideMerge(Emulator.httpClient, Emulator.layer())

/**
 * AuthConfig.layer with `env` as the whole environment (no config file), then SCIM Me through WorkspaceClient:
 * the resolved config, the user the workspace saw, and the log lines.
 */
const signIn = (env: Record<string, string>, options?: AuthConfig.Options) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.make(({ message }) => lines.push(String(message)))
    const file = Path.join(yield* tempDir, "absent")
    const layer = WorkspaceClient.layer().pipe(
      Layer.provideMerge(AuthConfig.layer(options)),
      Layer.provide(NodeContext.layer),
      Layer.provide(withEnv({ DATABRICKS_CONFIG_FILE: file, ...env }))
    )
    const [config, source, me] = yield* Effect.all([
      AuthConfig.AuthConfig,
      TokenSource.TokenSource,
      WorkspaceClient.currentUser
    ]).pipe(
      Effect.provide(layer),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Logger.withMinimumLogLevel(LogLevel.Info)
    )
    return { config, authType: source.authType, userName: me.userName, lines }
  })

/** An ES256 issuer and the default service principal's federation policy for `subject`. */
const federated = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const issuer = yield* emulator.federation.addIssuer({ name: "k8s", algorithm: "ES256" })
  yield* Effect.orDie(emulator.federation.addPolicy({
    issuer: issuer.url,
    servicePrincipal: emulator.servicePrincipal.clientId,
    subject
  }))
  const jwt = yield* issuer.mint({ subject, audience: `${emulator.host}/oidc/v1/token`, lifetime: "1 hour" })
  return { emulator, jwt: Redacted.value(jwt) }
})

describe("AuthConfig builds the federation methods", () => {
  it.scoped("env-oidc from the default chain: a client id without a secret and DATABRICKS_OIDC_TOKEN", () =>
    Effect.gen(function*() {
      const { emulator, jwt } = yield* federated
      const result = yield* signIn({
        DATABRICKS_HOST: emulator.host,
        DATABRICKS_CLIENT_ID: emulator.servicePrincipal.clientId,
        DATABRICKS_OIDC_TOKEN: jwt
      })
      assert.strictEqual(result.config.authType, "env-oidc")
      assert.strictEqual(result.config.chosenBy, "default chain")
      assert.deepStrictEqual(result.config.tried, [
        "pat (DATABRICKS_TOKEN not set)",
        "token-env (DATABRICKS_ACCESS_TOKEN not set)",
        "metadata-service (DATABRICKS_METADATA_SERVICE_URL not set)",
        "oauth-m2m (DATABRICKS_CLIENT_SECRET not set)"
      ])
      assert.strictEqual(result.authType, "env-oidc")
      assert.strictEqual(result.userName, emulator.servicePrincipal.clientId)
      assert.deepStrictEqual(result.config.principal, Option.some(emulator.servicePrincipal.clientId))
      for (const line of result.lines) assert.notInclude(line, jwt)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("env-oidc reads the variable DATABRICKS_OIDC_TOKEN_ENV names", () =>
    Effect.gen(function*() {
      const { emulator, jwt } = yield* federated
      const result = yield* signIn({
        DATABRICKS_HOST: emulator.host,
        DATABRICKS_CLIENT_ID: emulator.servicePrincipal.clientId,
        DATABRICKS_AUTH_TYPE: "env-oidc",
        DATABRICKS_OIDC_TOKEN_ENV: "CI_ID_TOKEN",
        CI_ID_TOKEN: jwt
      })
      assert.strictEqual(result.userName, emulator.servicePrincipal.clientId)
      assert.deepStrictEqual(result.config.sources, { host: "env", oidc_token_env: "env", client_id: "env" })
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("file-oidc from the default chain: an account-wide policy, no client id", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const issuer = yield* emulator.federation.addIssuer({ name: "corp" })
      yield* Effect.orDie(emulator.federation.addPolicy({ issuer: issuer.url }))
      const jwt = yield* issuer.mint({ subject: emulator.user.userName, audience: `${emulator.host}/oidc/v1/token` })
      const tokenFile = Path.join(yield* tempDir, "token")
      Fs.writeFileSync(tokenFile, Redacted.value(jwt))
      const result = yield* signIn({ DATABRICKS_HOST: emulator.host, DATABRICKS_OIDC_TOKEN_FILEPATH: tokenFile })
      assert.strictEqual(result.config.authType, "file-oidc")
      assert.strictEqual(result.config.chosenBy, "default chain")
      assert.strictEqual(result.userName, emulator.user.userName)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("file-oidc with the path in a profile; with a client id it must be chosen, as in the SDKs", () =>
    Effect.gen(function*() {
      const { emulator, jwt } = yield* federated
      const dir = yield* tempDir
      const tokenFile = Path.join(dir, "token")
      Fs.writeFileSync(tokenFile, jwt)
      const config = Path.join(dir, "databrickscfg")
      Fs.writeFileSync(
        config,
        `[ci]\nhost = ${emulator.host}\nclient_id = ${emulator.servicePrincipal.clientId}\noidc_token_filepath = ${tokenFile}\n` +
          `\n[chosen]\nhost = ${emulator.host}\nclient_id = ${emulator.servicePrincipal.clientId}\n` +
          `oidc_token_filepath = ${tokenFile}\nauth_type = file-oidc\n`
      )
      // client_id (oauth) and oidc_token_filepath (file-oidc) are two families for databricks-sdk-py's validate
      // (config.py): a conflict unless auth_type chooses; its test_auth_profiles.py::test_file_oidc sets it.
      const conflict = yield* Effect.flip(signIn({ DATABRICKS_CONFIG_FILE: config, DATABRICKS_CONFIG_PROFILE: "ci" }))
      assert.include(conflict.message, "More than one authorization method is configured: file-oidc")
      const result = yield* signIn({ DATABRICKS_CONFIG_FILE: config, DATABRICKS_CONFIG_PROFILE: "chosen" })
      assert.strictEqual(result.config.authType, "file-oidc")
      assert.strictEqual(result.userName, emulator.servicePrincipal.clientId)
      assert.strictEqual(result.config.chosenBy, `auth_type in profile chosen (${config})`)
      assert.deepStrictEqual(result.config.sources, {
        host: "profile:chosen",
        oidc_token_filepath: "profile:chosen",
        client_id: "profile:chosen"
      })
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("github-oidc from the default chain, in what looks like an Actions job with id-token: write", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const actions = emulator.federation.githubActions
      yield* Effect.orDie(emulator.federation.addPolicy({
        issuer: actions.issuer.url,
        servicePrincipal: emulator.servicePrincipal.clientId,
        subject: "repo:octo-org/octo-repo:environment:prod"
      }))
      const result = yield* signIn({
        DATABRICKS_HOST: emulator.host,
        DATABRICKS_CLIENT_ID: emulator.servicePrincipal.clientId,
        ACTIONS_ID_TOKEN_REQUEST_URL: actions.requestUrl,
        ACTIONS_ID_TOKEN_REQUEST_TOKEN: Redacted.value(actions.requestToken)
      })
      assert.strictEqual(result.config.authType, "github-oidc")
      assert.include(result.config.tried.join("; "), "env-oidc (DATABRICKS_OIDC_TOKEN is not set)")
      assert.strictEqual(result.userName, emulator.servicePrincipal.clientId)
      for (const line of result.lines) assert.notInclude(line, Redacted.value(actions.requestToken))
    }).pipe(Effect.provide(TestEmulator)))
})

describe("AuthConfig builds the Azure methods and the metadata service", () => {
  it.scoped("azure-client-secret from the default chain (ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const sp = emulator.azure.servicePrincipal
      const result = yield* signIn({
        DATABRICKS_HOST: emulator.host,
        ARM_CLIENT_ID: sp.clientId,
        ARM_CLIENT_SECRET: Redacted.value(sp.clientSecret),
        ARM_TENANT_ID: sp.tenantId,
        AZURE_AUTHORITY_HOST: emulator.azure.authorityHost
      })
      assert.strictEqual(result.config.authType, "azure-client-secret")
      assert.strictEqual(result.authType, "azure-client-secret")
      assert.strictEqual(result.userName, sp.clientId)
      assert.deepStrictEqual(result.config.principal, Option.some(sp.clientId))
      for (const line of result.lines) assert.notInclude(line, Redacted.value(sp.clientSecret))
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("azure-client-secret without ARM_TENANT_ID names it, before any request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const sp = emulator.azure.servicePrincipal
      const error = yield* Effect.flip(signIn({
        DATABRICKS_HOST: emulator.host,
        ARM_CLIENT_ID: sp.clientId,
        ARM_CLIENT_SECRET: Redacted.value(sp.clientSecret)
      }))
      if (error._tag !== "ConfigurationError") return assert.fail(`unexpected ${error._tag}`)
      assert.strictEqual(error.setting, "ARM_TENANT_ID")
      assert.deepStrictEqual((yield* emulator.stats).tokenRequests, {})
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("azure-msi from the default chain (ARM_USE_MSI) with the system-assigned identity", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const result = yield* signIn({
        DATABRICKS_HOST: emulator.host,
        ARM_USE_MSI: "true",
        AZURE_POD_IDENTITY_AUTHORITY_HOST: emulator.azure.managedIdentityEndpoint
      })
      assert.strictEqual(result.config.authType, "azure-msi")
      assert.strictEqual(result.userName, emulator.azure.managedIdentity.clientId)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("ARM_USE_MSI=false configures nothing (a boolean, as the SDKs read it)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const error = yield* Effect.flip(signIn({ DATABRICKS_HOST: emulator.host, ARM_USE_MSI: "false" }))
      assert.include(error.message, "azure-msi (ARM_USE_MSI not set)")
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("metadata-service from the default chain; the URL (a secret) is never logged", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const url = emulator.metadataService.url
      const result = yield* signIn({ DATABRICKS_HOST: emulator.host, DATABRICKS_METADATA_SERVICE_URL: url })
      assert.strictEqual(result.config.authType, "metadata-service")
      assert.strictEqual(result.userName, emulator.user.userName)
      for (const line of result.lines) assert.notInclude(line, new URL(url).pathname)
      // Its principal was not known before: logged once with the first token.
      assert.lengthOf(result.lines.filter((line) => line.includes("metadata-service token belongs to")), 1)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("azure-cli from the default chain: the workspace resource id and az on PATH (the CLI runs only for a token)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const az = yield* emulator.azure.cli({ login: { user: emulator.azure.user } })
      const result = yield* signIn({
        DATABRICKS_HOST: emulator.host,
        DATABRICKS_AZURE_RESOURCE_ID: emulator.azure.workspaceResourceId,
        PATH: az.directory
      })
      assert.strictEqual(result.config.authType, "azure-cli")
      assert.include(
        result.config.tried.join("; "),
        "azure-client-secret (ARM_CLIENT_ID and ARM_CLIENT_SECRET not set)"
      )
      assert.strictEqual(result.authType, "azure-cli")
      assert.strictEqual(result.userName, emulator.azure.user.userName)
      assert.isAbove((yield* az.calls).length, 0)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("azure-cli needs an Azure host or resource id in the chain; chosen explicitly, any host", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const az = yield* emulator.azure.cli()
      const error = yield* Effect.flip(signIn({ DATABRICKS_HOST: emulator.host, PATH: az.directory }))
      assert.include(error.message, "azure-cli (the host is not an Azure Databricks workspace)")
      const result = yield* signIn({ DATABRICKS_HOST: emulator.host, DATABRICKS_AUTH_TYPE: "azure-cli" }, {
        azureCli: { cliPath: az.path }
      })
      assert.strictEqual(result.userName, emulator.azure.servicePrincipal.clientId)
    }).pipe(Effect.provide(TestEmulator)))
})
