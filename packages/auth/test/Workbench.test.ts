/**
 * Posit Workbench: managed Databricks credentials (the `workbench` profile Workbench writes), its OAuth
 * integration API, and platform detection.
 *
 * Platform facts, each with its source:
 * - Workbench-managed Databricks credentials are "refreshed automatically while your session is active", and
 *   anything implementing Databricks unified auth "will pick up the ambient credentials" (Posit Workbench User
 *   Guide, "Workbench-managed Databricks Credentials", docs.posit.co/ide/server-pro/user/posit-workbench/guide/databricks.html).
 * - Workbench generates the `.databrickscfg` in a temporary directory (a path containing `posit-workbench`), sets
 *   `DATABRICKS_CONFIG_FILE` to it and `DATABRICKS_CONFIG_PROFILE=workbench`; the `[workbench]` profile holds
 *   `host` and `token` (brickster, vignettes/setup-auth.Rmd and tests/testthat/test-auth.R "workbench managed
 *   credentials detection").
 * - posit-sdk-py's `WorkbenchStrategy` (auth type `posit-workbench`) sends `Config(profile="workbench").token`, a
 *   `Config` built once: it never reads the file again (posit-sdk-py src/posit/workbench/external/databricks.py).
 *   Here the file is read again near the token's expiry and after a refusal.
 * - The OAuth integration API (Workbench 2026.01.0+, Preview): `GET {RS_SERVER_ADDRESS}/oauth_token` with
 *   `{"method": "/oauth_token", "kwparams": {"uuid": GUID}}` and the `X-RS-Session-Server-RPC-Cookie` header;
 *   answers `{access_token, expiry}`, `{error}` or `{}` (posit-sdk-py src/posit/workbench/oauth/oauth.py,
 *   auth/cookie_reader.py; rstudioapi `getOAuthCredentials`).
 * - Detection: Connect `RSTUDIO_PRODUCT=CONNECT` or `POSIT_PRODUCT=CONNECT`, Connect Cloud
 *   `POSIT_PRODUCT=CONNECT_CLOUD`, Workbench `RSW_LAUNCHER`/`RSTUDIO_MULTI_SESSION`/`RS_SERVER_ADDRESS`/
 *   `RS_SERVER_URL` (posit-sdk-py src/posit/connect/_utils.py) or `POSIT_PRODUCT=WORKBENCH`
 *   (posit-sdk-py src/posit/workbench/client.py); Databricks Apps `DATABRICKS_APP_NAME` ("Databricks Apps system
 *   environment", docs.databricks.com/aws/dev-tools/databricks-apps/system-env).
 */
import { AuthConfig, ConnectEnvironment, Platform, TokenSource, WorkspaceClient } from "@effect-databricks/auth"
import { Workbench } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Option, Redacted, TestClock } from "effect"
import * as Fs from "node:fs"
import { until, withEnv } from "./utils.js"

// AuthConfig.layer needs a CommandExecutor too (for the CLI methods), although the workbench profile never runs one.
const emulatorLayer = (options?: Emulator.Options) =>
  Layer.merge(Layer.provideMerge(Emulator.httpClient, Emulator.layer(options)), NodeContext.layer)

const tokenOf = (source: TokenSource.TokenSource) => Effect.map(source.token, (token) => Redacted.value(token.value))

const fileToken = (file: string) => /token = (.*)/.exec(Fs.readFileSync(file, "utf8"))![1]

/** Who the workspace says the source acts as. */
const whoAmI = (source: TokenSource.TokenSource, host: string) =>
  Effect.gen(function*() {
    const client = yield* WorkspaceClient.make({ host }).pipe(
      Effect.provideService(TokenSource.TokenSource, source)
    )
    return (yield* client.currentUser).userName
  })

describe("Platform detection", () => {
  it.effect("each platform from the variables it sets", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [Record<string, string>, Platform.Kind]> = [
        [{ RSTUDIO_PRODUCT: "CONNECT" }, "connect"],
        [{ POSIT_PRODUCT: "CONNECT" }, "connect"],
        [{ POSIT_PRODUCT: "CONNECT_CLOUD" }, "connect-cloud"],
        [{ POSIT_PRODUCT: "WORKBENCH" }, "workbench"],
        [{ RS_SERVER_ADDRESS: "http://127.0.0.1:8787" }, "workbench"],
        [{ RS_SERVER_URL: "https://wb.example.com" }, "workbench"],
        [{ RSW_LAUNCHER: "1" }, "workbench"],
        [{ RSTUDIO_MULTI_SESSION: "1" }, "workbench"],
        [{ DATABRICKS_APP_NAME: "sales", DATABRICKS_APP_PORT: "8000" }, "databricks-apps"],
        // Connect wins over Databricks variables a deployment carries; Apps over Workbench's.
        [{ RSTUDIO_PRODUCT: "CONNECT", DATABRICKS_APP_NAME: "x" }, "connect"],
        [{ DATABRICKS_APP_NAME: "x", RS_SERVER_URL: "https://wb" }, "databricks-apps"],
        [{ DATABRICKS_APP_NAME: " " }, "local"],
        [{ RS_SERVER_URL: "" }, "local"],
        [{}, "local"]
      ]
      for (const [env, expected] of cases) {
        const kind = yield* Platform.detect.pipe(Effect.provide(withEnv(env)))
        assert.strictEqual(kind, expected, JSON.stringify(env))
      }
      // ConnectEnvironment keeps its names and its four kinds.
      assert.strictEqual(
        yield* ConnectEnvironment.detect.pipe(Effect.provide(withEnv({ POSIT_PRODUCT: "WORKBENCH" }))),
        "workbench"
      )
      assert.strictEqual(
        yield* ConnectEnvironment.detect.pipe(Effect.provide(withEnv({ DATABRICKS_APP_NAME: "x" }))),
        "local"
      )
    }))

  it.effect("a provided Platform, else a provided ConnectEnvironment, wins over detection", () =>
    Effect.gen(function*() {
      const env = withEnv({ DATABRICKS_APP_NAME: "x" })
      assert.strictEqual(yield* Platform.current.pipe(Effect.provide(env)), "databricks-apps")
      assert.strictEqual(
        yield* Platform.current.pipe(Effect.provide(Layer.merge(env, Platform.layerStatic("workbench")))),
        "workbench"
      )
      assert.strictEqual(
        yield* Platform.current.pipe(Effect.provide(Layer.merge(env, ConnectEnvironment.layerStatic("connect")))),
        "connect"
      )
      assert.isTrue(Platform.hasViewers("databricks-apps"))
      assert.isFalse(Platform.hasViewers("workbench"))
      assert.strictEqual(Platform.describe("connect-cloud"), "Posit Connect Cloud")
    }))
})

describe("Workbench-managed Databricks credentials (the workbench profile)", () => {
  it.scoped("AuthConfig resolves the profile Workbench writes and queries as the session's user", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const workbench = yield* emulator.workbench()
      assert.include(workbench.configFile, "posit-workbench")
      const config = yield* AuthConfig.resolve().pipe(Effect.provide(withEnv(workbench.env)))
      assert.strictEqual(config.authType, "pat")
      assert.deepStrictEqual(config.host, Option.some(emulator.host))
      assert.deepStrictEqual(config.profile, Option.some({ name: "workbench", file: workbench.configFile }))
      const source = yield* Layer.build(AuthConfig.layer()).pipe(
        Effect.map((context) => context.unsafeMap.get(TokenSource.TokenSource.key) as TokenSource.TokenSource),
        Effect.provide(withEnv(workbench.env))
      )
      assert.strictEqual(yield* whoAmI(source, emulator.host), emulator.user.userName)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("a token Workbench refreshes in the file is read again when the cached one nears expiry", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const workbench = yield* emulator.workbench()
      const env = withEnv(workbench.env)
      const context = yield* Layer.build(AuthConfig.layer()).pipe(Effect.provide(env))
      const source = context.unsafeMap.get(TokenSource.TokenSource.key) as TokenSource.TokenSource
      const first = yield* tokenOf(source)
      assert.strictEqual(first, fileToken(workbench.configFile))

      // Workbench refreshes the file half-way through the token's hour; the cached token is still good.
      yield* TestClock.adjust("30 minutes")
      yield* workbench.refreshCredentials
      const second = fileToken(workbench.configFile)
      assert.notStrictEqual(second, first)
      assert.strictEqual(yield* tokenOf(source), first)

      // Inside the refresh-ahead window (4 minutes left) the cached token is served while the file is read
      // again in the background; then Workbench's new token is served.
      yield* TestClock.adjust("26 minutes")
      assert.strictEqual(yield* tokenOf(source), first)
      yield* until(Effect.map(Effect.orDie(tokenOf(source)), (token) => token === second), "the refreshed token")
      assert.strictEqual(yield* whoAmI(source, emulator.host), emulator.user.userName)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("after a refusal (invalidate) the file is read again at once", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const workbench = yield* emulator.workbench()
      const managed = yield* Workbench.makeDatabricks().pipe(Effect.provide(withEnv(workbench.env)))
      assert.strictEqual(managed.host, emulator.host)
      assert.strictEqual(managed.tokenSource.authType, "posit-workbench")
      const first = yield* tokenOf(managed.tokenSource)
      yield* TestClock.adjust("1 second")
      yield* workbench.refreshCredentials
      assert.strictEqual(yield* tokenOf(managed.tokenSource), first)
      yield* managed.tokenSource.invalidate
      assert.strictEqual(yield* tokenOf(managed.tokenSource), fileToken(workbench.configFile))
      assert.notStrictEqual(fileToken(workbench.configFile), first)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("a token Workbench stopped refreshing is an AuthenticationError that says why, not a stale token", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const workbench = yield* emulator.workbench()
      const managed = yield* Workbench.makeDatabricks().pipe(Effect.provide(withEnv(workbench.env)))
      const token = yield* tokenOf(managed.tokenSource)
      yield* TestClock.adjust("61 minutes")
      const error = yield* Effect.flip(managed.tokenSource.token)
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "has not been refreshed")
      assert.include(error.hint, "only while the session is active")
      assert.notInclude(`${error.message} ${error.hint}`, token)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("outside a managed session: a ConfigurationError that says how to get one", () =>
    Effect.gen(function*() {
      const missing = yield* Effect.flip(Workbench.makeDatabricks().pipe(Effect.provide(withEnv({}))))
      assert.strictEqual(missing._tag, "ConfigurationError")
      assert.include(missing.message, "DATABRICKS_CONFIG_FILE is not set")
      assert.include(missing.hint, "New Session dialog")
      assert.isFalse(yield* Workbench.hasManagedDatabricks.pipe(Effect.provide(withEnv({}))))
      const emulator = yield* Emulator.Emulator
      const workbench = yield* emulator.workbench()
      assert.isTrue(yield* Workbench.hasManagedDatabricks.pipe(Effect.provide(withEnv(workbench.env))))
      Fs.writeFileSync(workbench.configFile, "[DEFAULT]\nhost = https://x.example.com\n")
      const noProfile = yield* Effect.flip(Workbench.makeDatabricks().pipe(Effect.provide(withEnv(workbench.env))))
      assert.include(noProfile.message, "has no [workbench] profile")
    }).pipe(Effect.provide(emulatorLayer())))
})

describe("Workbench's OAuth integration API", () => {
  it.scoped("the integration's token, as the session's user, cached until near its expiry", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const workbench = yield* emulator.workbench()
      const source = yield* Workbench.makeOAuthIntegration({ audience: workbench.integration.guid }).pipe(
        Effect.provide(withEnv(workbench.env))
      )
      assert.strictEqual(source.authType, "posit-workbench")
      const first = yield* tokenOf(source)
      assert.strictEqual(yield* tokenOf(source), first)
      assert.strictEqual((yield* workbench.stats).tokenRequests, 1)
      assert.strictEqual(yield* whoAmI(source, emulator.host), emulator.user.userName)
      // The token carries an `expiry`: the source asks again only after it nears.
      // Less than 40 s left: the source asks again before serving.
      yield* TestClock.adjust(Duration.seconds(3570))
      const next = yield* tokenOf(source)
      assert.notStrictEqual(next, first)
      assert.strictEqual((yield* workbench.stats).tokenRequests, 2)
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("unknown integration, signed out, wrong cookie, old Workbench: typed errors without secrets", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const workbench = yield* emulator.workbench()
      const env = withEnv(workbench.env)
      const unknown = yield* Workbench.makeOAuthIntegration({ audience: "no-such-guid" }).pipe(Effect.provide(env))
      const notFound = yield* Effect.flip(unknown.token)
      assert.include(notFound.message, "OAuth integration not found")

      yield* workbench.setSignedIn(false)
      const signedOut = yield* Workbench.makeOAuthIntegration({ audience: workbench.integration.guid }).pipe(
        Effect.provide(env)
      )
      const noCredentials = yield* Effect.flip(signedOut.token)
      assert.include(noCredentials.message, "has not signed in")
      assert.include(noCredentials.hint, "Managed Credentials")
      yield* workbench.setSignedIn(true)

      const wrongCookie = yield* Workbench.makeOAuthIntegration({
        audience: workbench.integration.guid,
        rpcCookie: Redacted.make("forged|Mon%2C%2001%20Jan%202030%2000%3A00%3A00%20GMT")
      }).pipe(Effect.provide(env))
      const refused = yield* Effect.flip(wrongCookie.token)
      assert.strictEqual(refused.status, 401)
      assert.notInclude(`${refused.message} ${refused.hint}`, Redacted.value(workbench.rpcCookie))
      assert.isAtLeast((yield* workbench.stats).refusedCookies, 1)

      const old = yield* Effect.flip(
        Workbench.makeOAuthIntegration({ audience: workbench.integration.guid }).pipe(
          Effect.provide(withEnv({ ...workbench.env, RSTUDIO_VERSION: "2025.09.1+401.pro2" }))
        )
      )
      assert.strictEqual(old._tag, "ConfigurationError")
      assert.include(old.message, "2026.01.0")
      const noServer = yield* Effect.flip(
        Workbench.makeOAuthIntegration({ audience: "x" }).pipe(Effect.provide(withEnv({})))
      )
      assert.include(noServer.message, "RS_SERVER_ADDRESS is not set")
    }).pipe(Effect.provide(emulatorLayer())))

  it.scoped("the RPC cookie from PWB_SESSION_RUNTIME_DIR/rpc_cookie, read for each request", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const workbench = yield* emulator.workbench()
      const dir = Fs.mkdtempSync(`${workbench.configFile}-runtime-`)
      Fs.writeFileSync(`${dir}/rpc_cookie`, `${Redacted.value(workbench.rpcCookie)}\n`)
      const { RS_SESSION_RPC_COOKIE: _, ...rest } = workbench.env
      const source = yield* Workbench.makeOAuthIntegration({ audience: workbench.integration.guid }).pipe(
        Effect.provide(withEnv({ ...rest, PWB_SESSION_RUNTIME_DIR: dir }))
      )
      assert.strictEqual(yield* whoAmI(source, emulator.host), emulator.user.userName)
    }).pipe(Effect.provide(emulatorLayer())))
})
