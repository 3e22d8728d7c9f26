import { AzureCli, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Redacted, TestClock } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { drive, tempDir, until, withEnv } from "./utils.js"

// The command, its output fields (accessToken, expiresOn, expires_on, tokenType) and the subscription and tenant
// fallbacks: databricks-sdk-go config/auth_azure_cli.go, databricks-sdk-py credentials_provider.py and
// tests/testdata/az.

const emulatorOnly = Layer.provideMerge(Emulator.httpClient, Emulator.layer())
const databricksResource = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"

/** A hand-written `az` for the cases the emulator's does not play: a hang, garbage, a failure with secrets. */
const scriptCli = (body: string) =>
  Effect.map(tempDir, (dir) => {
    const path = Path.join(dir, "az")
    Fs.writeFileSync(path, `#!/bin/sh\n${body}\n`, { mode: 0o755 })
    return path
  })

const tokenOf = (options: AzureCli.Options) =>
  Effect.flatMap(TokenSource.TokenSource, (source) => source.token).pipe(
    Effect.provide(AzureCli.layer(options)),
    Effect.provide(NodeContext.layer)
  )

const meWith = (host: string, options: AzureCli.Options) =>
  WorkspaceClient.currentUser.pipe(
    Effect.provide(WorkspaceClient.layer({ host })),
    Effect.provide(AzureCli.layer(options)),
    Effect.provide(NodeContext.layer)
  )

describe("AzureCli", () => {
  it.scoped("a service-principal login: the token is accepted as that principal; authType azure-cli", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const az = yield* emulator.azure.cli()
      const me = yield* meWith(emulator.host, { cliPath: az.path })
      assert.strictEqual(me.userName, emulator.azure.servicePrincipal.clientId)
      assert.deepStrictEqual(yield* az.calls, [
        `account get-access-token --resource ${databricksResource} --output json`
      ])
      const source = yield* TokenSource.TokenSource.pipe(
        Effect.provide(AzureCli.layer({ cliPath: az.path })),
        Effect.provide(NodeContext.layer)
      )
      assert.strictEqual(source.authType, "azure-cli")
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("a user login: accepted as the user; with the resource id only that header, no management token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const az = yield* emulator.azure.cli({ login: { user: emulator.azure.user } })
      const options = {
        cliPath: az.path,
        tenantId: emulator.azure.tenantId,
        workspaceResourceId: emulator.azure.workspaceResourceId
      }
      const me = yield* meWith(emulator.host, options)
      assert.strictEqual(me.userName, emulator.user.userName)
      const headers = yield* Effect.flatMap(TokenSource.TokenSource, (s) => s.headers!).pipe(
        Effect.provide(AzureCli.layer(options)),
        Effect.provide(NodeContext.layer)
      )
      assert.deepStrictEqual(Object.keys(headers), ["X-Databricks-Azure-Workspace-Resource-Id"])
      assert.isTrue((yield* az.calls).every((call) => call.includes(`--tenant ${emulator.azure.tenantId}`)))
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("with the resource id and no tenant: the subscription first; a contributor principal is admitted", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const contributor = yield* emulator.azure.registerServicePrincipal({ workspace: "contributor" })
      const az = yield* emulator.azure.cli({ login: { servicePrincipal: contributor } })
      const me = yield* meWith(emulator.host, {
        cliPath: az.path,
        workspaceResourceId: emulator.azure.workspaceResourceId
      })
      assert.strictEqual(me.userName, contributor.clientId)
      const calls = yield* az.calls
      assert.include(calls[0], `--subscription ${emulator.azure.subscriptionId}`)
      assert.isTrue(calls.some((call) => call.includes("--resource https://management.core.windows.net/")))
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("refreshes ahead of expiry by running az again (TestClock set to the real time)", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const az = yield* emulator.azure.cli()
      yield* TestClock.setTime(Date.now())
      yield* Effect.gen(function*() {
        const source = yield* TokenSource.TokenSource
        const first = yield* source.token
        assert.lengthOf(yield* az.calls, 1)
        yield* TestClock.adjust(Duration.minutes(56))
        yield* source.token
        yield* until(
          Effect.map(Effect.orDie(source.token), (t) => Redacted.value(t.value) !== Redacted.value(first.value)),
          "the second az run"
        )
        assert.lengthOf(yield* az.calls, 2)
      }).pipe(Effect.provide(AzureCli.layer({ cliPath: az.path })), Effect.provide(NodeContext.layer))
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("not logged in: an AuthenticationError that says to run az login", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const az = yield* emulator.azure.cli({ login: "none" })
      const error = yield* Effect.flip(tokenOf({ cliPath: az.path, tenantId: emulator.azure.tenantId }))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "Please run 'az login'")
      assert.include(error.hint, `az login --tenant ${emulator.azure.tenantId}`)
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("a service principal whose secret was rotated: the AADSTS error and its hint", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const az = yield* emulator.azure.cli()
      yield* emulator.azure.setServicePrincipalSecret(emulator.azure.servicePrincipal.clientId, {
        clientSecret: Redacted.make("rotated")
      })
      const error = yield* Effect.flip(tokenOf({ cliPath: az.path }))
      assert.match(error.message, /AADSTS7000215/)
      assert.notInclude(error.message, "Trace ID")
      assert.include(error.hint, "Value (not its Secret ID)")
    }).pipe(Effect.provide(emulatorOnly)))

  it.scoped("a missing CLI says to install it or choose another auth type", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const error = yield* Effect.flip(tokenOf({})).pipe(Effect.provide(withEnv({ PATH: dir })))
      assert.include(error.message, "The Azure CLI was not found")
      assert.include(error.hint, "Install the Azure CLI")
    }))

  it.scoped("a CLI that hangs is stopped at the deadline", () =>
    Effect.gen(function*() {
      const path = yield* scriptCli("exec sleep 30")
      const error = yield* drive(Effect.flip(tokenOf({ cliPath: path, timeout: "5 seconds" })))
      assert.include(error.message, "did not finish within 5s")
    }))

  it.scoped("output that is not a JSON token is refused without echoing it", () =>
    Effect.gen(function*() {
      const path = yield* scriptCli("echo 'accessToken: eyJabc.def.ghi'")
      const error = yield* Effect.flip(tokenOf({ cliPath: path }))
      assert.include(error.message, "did not print a bearer token as JSON")
      assert.notInclude(error.message, "eyJabc")
    }))

  it.scoped("a failure's stderr is quoted with secrets redacted", () =>
    Effect.gen(function*() {
      const path = yield* scriptCli(
        "echo 'ERROR: refresh failed: refresh_token=abc123secret Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln' >&2\nexit 1"
      )
      const error = yield* Effect.flip(tokenOf({ cliPath: path }))
      assert.include(error.message, "exit code 1")
      assert.include(error.message, "refresh failed")
      assert.notInclude(error.message, "abc123secret")
      assert.notInclude(error.message, "eyJzdWIiOiJ4In0")
    }))

  it.scoped("expiresOn in local time is read when expires_on is absent", () =>
    Effect.gen(function*() {
      const path = yield* scriptCli(
        `echo '{"accessToken": "opaque-token", "expiresOn": "2030-01-02 03:04:05.000000", "tokenType": "Bearer"}'`
      )
      const token = yield* tokenOf({ cliPath: path })
      assert.strictEqual(
        token.expiresAt._tag === "Some" ? token.expiresAt.value.epochMillis : undefined,
        new Date(2030, 0, 2, 3, 4, 5).getTime()
      )
    }))
})
