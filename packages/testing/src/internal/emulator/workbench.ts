import type * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Os from "node:os"
import * as Path from "node:path"
import type { Principal, Workbench, WorkbenchOptions, WorkbenchStats } from "../../Emulator.js"
import { EmulatorError } from "../../EmulatorError.js"
import { json } from "./http.js"
import * as Random from "./random.js"
import type { Registry } from "./registry.js"

/**
 * @internal
 *
 * Posit Workbench, as far as a session's code sees it when Workbench manages its Databricks credentials.
 *
 * Platform facts it follows, each with its source:
 * - Workbench-managed Databricks credentials: the session's user signs in to a workspace when starting the
 *   session; "anything that implements the Databricks client unified authentication standard will pick up the
 *   ambient credentials", "refreshed automatically while your session is active" (Posit Workbench User Guide,
 *   "Workbench-managed Databricks Credentials", docs.posit.co/ide/server-pro/user/posit-workbench/guide/databricks.html).
 * - How: a `.databrickscfg` that Workbench generates in a temporary directory, named by `DATABRICKS_CONFIG_FILE`,
 *   with a `[workbench]` profile selected by `DATABRICKS_CONFIG_PROFILE=workbench`, holding `host` and `token`
 *   (brickster's vignette "Connect to a Databricks Workspace" and its tests `test-auth.R`, which detect a path
 *   containing `posit-workbench`; posit-sdk-py's `WorkbenchStrategy` reads `Config(profile="workbench").token`).
 *   Whether Workbench writes other keys is not documented; this writes `host` and `token`.
 * - The session's OAuth integration API (Workbench 2026.01.0 and later, "Custom OAuth Integrations", in Preview):
 *   `GET {RS_SERVER_ADDRESS}/oauth_token` with the JSON body `{"method": "/oauth_token", "kwparams": {"uuid":
 *   <integration GUID>}}` answers `{"access_token", "expiry"}` (ISO 8601), `{"error": …}`, or `{}` when the user
 *   holds no credentials; `GET /oauth_integrations` lists `{"providers": [{"integrations": [{…, "uid"}]}]}`;
 *   both authenticated by the header `X-RS-Session-Server-RPC-Cookie`, the session's RPC cookie (from
 *   `$PWB_SESSION_RUNTIME_DIR/rpc_cookie`, else `RS_SESSION_RPC_COOKIE`), whose second `|`-separated field is
 *   its URL-encoded HTTP-date expiry (posit-sdk-py `posit/workbench/oauth/oauth.py`, `integrations.py`,
 *   `auth/cookie_reader.py`, `client.py`; rstudioapi `getOAuthCredentials`, `getOAuthIntegrations`).
 *
 * Ours, not Workbench's: a request without the right cookie gets 401 with `{"error"}` (what Workbench answers is
 * not documented); the integration is a "custom" one for the emulated workspace; tokens are the workspace's own
 * OAuth tokens of the session's user, so SQL and REST run as that user.
 */

export interface Deps {
  readonly listen: (
    create: () => Http.Server,
    port: number,
    what: string
  ) => Effect.Effect<{ readonly server: HttpServer.HttpServer; readonly port: number }, EmulatorError, Scope.Scope>
  readonly registry: Registry
  readonly host: string
  readonly user: Principal
}

export const cookieHeader = "x-rs-session-server-rpc-cookie"
const clientId = "posit-workbench"

/** `2030-01-01T00:00:00.000Z` → `Tue%2C%2001%20Jan%202030%2000%3A00%3A00%20GMT`, as the cookie carries it. */
const encodedHttpDate = (at: number) =>
  new Date(at).toUTCString().replace(/,/g, "%2C").replace(/ /g, "%20").replace(/:/g, "%3A")

export const make = (
  deps: Deps,
  options?: WorkbenchOptions
): Effect.Effect<Workbench, EmulatorError, Scope.Scope> =>
  Effect.gen(function*() {
    const user = options?.user ?? deps.user
    deps.registry.addOAuthClient(clientId)
    const directory = yield* Effect.acquireRelease(
      Effect.try({
        try: () => Fs.mkdtempSync(Path.join(Os.tmpdir(), "posit-workbench-")),
        catch: (cause) => new EmulatorError({ message: "The Workbench stand-in could not create its directory", cause })
      }),
      (path) => Effect.sync(() => Fs.rmSync(path, { recursive: true, force: true }))
    )
    const configFile = Path.join(directory, "databricks.cfg")
    const integration = { guid: Random.uuid(), name: options?.integrationName ?? "databricks" }
    const now = yield* Clock.currentTimeMillis
    const cookie = `${Random.secret("rpc")}|${encodedHttpDate(now + 24 * 3600_000)}|session`
    const state = { signedIn: true }
    const counters: { -readonly [K in keyof WorkbenchStats]: WorkbenchStats[K] } = {
      tokenRequests: 0,
      integrationRequests: 0,
      refusedCookies: 0,
      profileWrites: 0
    }

    const issue = (at: number) => deps.registry.issueAccessToken(user, "all-apis offline_access", clientId, at)

    /** Writes the profile as Workbench does; through a rename, so a reader never sees half a file. */
    const writeProfile = Effect.gen(function*() {
      const at = yield* Clock.currentTimeMillis
      const text = `[workbench]\nhost = ${deps.host}\ntoken = ${issue(at).token}\n`
      const temporary = `${configFile}.${Random.uuid()}`
      yield* Effect.try({
        try: () => {
          Fs.writeFileSync(temporary, text, { mode: 0o600 })
          Fs.renameSync(temporary, configFile)
        },
        catch: (cause) => new EmulatorError({ message: "The Workbench stand-in could not write its profile", cause })
      }).pipe(Effect.orDie)
      counters.profileWrites++
    })
    yield* writeProfile

    const listening = yield* deps.listen(() => Http.createServer(), options?.port ?? 0, "Workbench stand-in")
    const url = `http://127.0.0.1:${listening.port}`

    const handler = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const path = request.url.split("?")[0]
      if (request.headers[cookieHeader] !== cookie) {
        counters.refusedCookies++
        return json(401, { error: "Invalid or missing session RPC cookie" })
      }
      if (request.method !== "GET") return json(405, { error: `${request.method} is not supported` })
      if (path === "/oauth_integrations") {
        counters.integrationRequests++
        return json(200, {
          providers: [{
            type: "custom",
            integrations: [{
              type: "custom",
              name: integration.name,
              display_name: "Databricks",
              client_id: clientId,
              auth_url: `${deps.host}/oidc/v1/authorize`,
              token_url: `${deps.host}/oidc/v1/token`,
              scopes: ["all-apis", "offline_access"],
              issuer: `${deps.host}/oidc`,
              authenticated: state.signedIn,
              uid: integration.guid
            }]
          }]
        })
      }
      if (path === "/oauth_token") {
        counters.tokenRequests++
        const body = yield* Effect.orElseSucceed(request.json, () => undefined)
        const uuid = (body as { kwparams?: { uuid?: unknown } } | undefined)?.kwparams?.uuid
        if (uuid !== integration.guid) return json(200, { error: `OAuth integration not found: ${String(uuid)}` })
        if (!state.signedIn) return json(200, {})
        const at = yield* Clock.currentTimeMillis
        const issued = issue(at)
        return json(200, {
          access_token: issued.token,
          expiry: new Date(at + issued.expiresIn * 1000).toISOString()
        })
      }
      return json(404, { error: `No such method: ${path}` })
    })
    yield* listening.server.serve(handler)

    const workbench: Workbench = {
      url,
      configFile,
      rpcCookie: Redacted.make(cookie),
      integration,
      env: {
        POSIT_PRODUCT: "WORKBENCH",
        RS_SERVER_ADDRESS: url,
        RS_SESSION_RPC_COOKIE: cookie,
        RSTUDIO_VERSION: options?.version ?? "2026.01.0",
        DATABRICKS_CONFIG_FILE: configFile,
        DATABRICKS_CONFIG_PROFILE: "workbench"
      },
      refreshCredentials: writeProfile,
      setSignedIn: (signedIn) => Effect.sync(() => void (state.signedIn = signedIn)),
      stats: Effect.sync(() => ({ ...counters }))
    }
    return workbench
  })
