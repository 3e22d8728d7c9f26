// The examples that read their settings from the environment, run as a user would (see child.ts).
import { Emulator } from "@effect-databricks/testing"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { runNode, runProgram } from "./child.js"

const TestLayer = Layer.merge(Emulator.layer(), NodeContext.layer)
/** With `samples.nyctaxi.trips`, for the SQL examples. */
const SamplesLayer = Layer.merge(Emulator.layer({ samples: true }), NodeContext.layer)

describe("docs/examples, run against the emulator", () => {
  it.scoped("the child sees exactly the variables it is given, none of the parent's", () =>
    Effect.gen(function*() {
      const output = yield* runNode(
        ["--input-type=module", "-e", "console.log(JSON.stringify(Object.keys(process.env).sort()))"],
        { DATABRICKS_TOKEN: "dapi-for-this-child-only" }
      )
      assert.deepStrictEqual(JSON.parse(output), ["DATABRICKS_HOST", "DATABRICKS_TOKEN", "HOME", "NODE_EXTRA_CA_CERTS"])
    }).pipe(Effect.provide(TestLayer)), { timeout: 30_000 })

  it.scoped("auth-pat.ts greets the PAT's user", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const output = yield* runProgram("auth-pat.ts", { DATABRICKS_TOKEN: Redacted.value(emulator.pat) })
      assert.strictEqual(output, `Hello, ${emulator.user.displayName}!`)
    }).pipe(Effect.provide(TestLayer)), { timeout: 30_000 })

  it.scoped("auth-local-m2m.ts greets the service principal", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const output = yield* runProgram("auth-local-m2m.ts", {
        DATABRICKS_CLIENT_ID: emulator.servicePrincipal.clientId,
        DATABRICKS_CLIENT_SECRET: Redacted.value(emulator.servicePrincipal.clientSecret)
      })
      assert.strictEqual(output, `Hello, ${emulator.servicePrincipal.principal.displayName}!`)
    }).pipe(Effect.provide(TestLayer)), { timeout: 30_000 })

  it.scoped("auth-config.ts resolves the dev profile, says so, and greets its user", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const file = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "databrickscfg-")), "config")
      Fs.writeFileSync(file, `[dev]\nhost = ${emulator.host}\ntoken = ${Redacted.value(emulator.pat)}\n`, {
        mode: 0o600
      })
      // No DATABRICKS_HOST: the host comes from the profile.
      const output = yield* runProgram("auth-config.ts", { DATABRICKS_HOST: undefined, DATABRICKS_CONFIG_FILE: file })
      // AuthConfig also logs what it chose (at Info); the example prints it too.
      assert.match(output, /^Authenticating with pat for .*token from profile:dev\)$/m)
      assert.match(output, new RegExp(`^Hello, ${emulator.user.displayName}!$`, "m"))
      assert.notInclude(output, Redacted.value(emulator.pat))
    }).pipe(Effect.provide(TestLayer)), { timeout: 30_000 })

  it.scoped("auth-token-env.ts reads DATABRICKS_ACCESS_TOKEN", () =>
    Effect.gen(function*() {
      const output = yield* runProgram("auth-token-env.ts", { DATABRICKS_ACCESS_TOKEN: "an-opaque-token" })
      assert.strictEqual(output, "token-env token expires (unknown)")
    }).pipe(Effect.provide(TestLayer)), { timeout: 30_000 })

  it.scoped("workspace-client.ts lists the emulator's SQL warehouse: name, id and state", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const output = yield* runProgram(
        "workspace-client.ts",
        { DATABRICKS_TOKEN: Redacted.value(emulator.pat) },
        "listWarehouses"
      )
      const id = emulator.httpPath.split("/").at(-1)
      assert.strictEqual(output, `Emulator Warehouse (${id}): RUNNING`)
      assert.strictEqual((yield* emulator.stats).requests.sql_warehouses, 1)
    }).pipe(Effect.provide(TestLayer)), { timeout: 30_000 })

  it.scoped(
    "sql.ts queries and streams the sample trips, and inserts one row into main.default.audit",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* emulator.sql("CREATE TABLE main.default.audit (logged_at TIMESTAMP)")
        const output = yield* runProgram("sql.ts", {
          DATABRICKS_HTTP_PATH: emulator.httpPath,
          DATABRICKS_TOKEN: Redacted.value(emulator.pat)
        })
        // AuthConfig also logs the method it chose (at Info), so the example's lines are matched one by one.
        assert.match(output, /^10 expensive trips$/m)
        assert.match(output, /^fares: 23950\.00$/m)
        assert.match(output, /^inserted 1 row\(s\)$/m)
        assert.deepStrictEqual(yield* emulator.sql("SELECT count(*)::INT AS n FROM main.default.audit"), [{ n: 1 }])
        const inserts = (yield* emulator.stats).statements.filter((statement) => statement.text.startsWith("INSERT"))
        assert.deepStrictEqual(inserts.map((statement) => statement.state), ["FINISHED"], "the INSERT ran once")
      }).pipe(Effect.provide(SamplesLayer)),
    { timeout: 30_000 }
  )

  it.scoped(
    "auth-federation.ts exchanges a GitHub Actions ID token for the service principal's token",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const github = emulator.federation.githubActions
        yield* Effect.orDie(emulator.federation.addPolicy({
          issuer: github.issuer.url,
          servicePrincipal: emulator.servicePrincipal.clientId,
          subject: "repo:octo-org/octo-repo:environment:prod"
        }))
        const output = yield* runProgram("auth-federation.ts", {
          DATABRICKS_CLIENT_ID: emulator.servicePrincipal.clientId,
          ACTIONS_ID_TOKEN_REQUEST_URL: github.requestUrl,
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: Redacted.value(github.requestToken)
        })
        assert.strictEqual(output, `Hello, ${emulator.servicePrincipal.principal.displayName}!`)
        assert.strictEqual((yield* emulator.stats).federation.accepted, 1)
      }).pipe(Effect.provide(TestLayer)),
    { timeout: 30_000 }
  )

  it.scoped("auth-azure.ts signs in with an Entra ID client secret", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const sp = emulator.azure.servicePrincipal
      const output = yield* runProgram("auth-azure.ts", {
        ARM_CLIENT_ID: sp.clientId,
        ARM_CLIENT_SECRET: Redacted.value(sp.clientSecret),
        ARM_TENANT_ID: emulator.azure.tenantId,
        AZURE_AUTHORITY_HOST: emulator.azure.authorityHost
      })
      assert.match(output, /^Hello, .+!$/)
      assert.strictEqual((yield* emulator.stats).requests.entra_token, 1)
    }).pipe(Effect.provide(TestLayer)), { timeout: 30_000 })
})
