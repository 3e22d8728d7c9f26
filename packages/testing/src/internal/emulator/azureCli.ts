import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { AzureCli, AzureCliLogin } from "../../Emulator.js"
import { azureCliClientId } from "./entra.js"

/**
 * @internal
 *
 * A stand-in `az` for tests: `az account show` and `az account get-access-token
 * --resource R --output json [--tenant T] [--subscription S]`, answered the
 * way the Azure CLI answers them, with tokens from the emulator's Entra ID
 * (client credentials for a service-principal login, the password grant with
 * the Azure CLI's client id for a user login). Every run appends its
 * arguments to `calls`.
 *
 * Sources: the output fields (`accessToken`, `expiresOn` in local time, `expires_on` in epoch seconds,
 * `subscription`, `tenant`, `tokenType`) and `az account show`'s `user` are databricks-sdk-py
 * tests/testdata/az's; "Please run 'az login' to setup account." is the Azure CLI's own message.
 */

const script = `import * as Fs from "node:fs"
import * as Https from "node:https"
import * as Path from "node:path"
import * as Url from "node:url"
const dir = Path.dirname(Url.fileURLToPath(import.meta.url))
const config = JSON.parse(Fs.readFileSync(Path.join(dir, "state.json"), "utf8"))
const args = process.argv.slice(2)
Fs.appendFileSync(Path.join(dir, "calls"), args.join(" ") + "\\n")
const flag = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1] }
const fail = (message) => { process.stderr.write(message + "\\n"); process.exit(1) }
const login = config.login
const notLoggedIn = "ERROR: Please run 'az login' to setup account."
if (args[0] === "account" && args[1] === "show") {
  if (!login) fail(notLoggedIn)
  process.stdout.write(JSON.stringify({
    environmentName: "AzureCloud", id: config.subscription, isDefault: true, name: "Emulated subscription",
    state: "Enabled", tenantId: login.tenantId,
    user: login.kind === "servicePrincipal"
      ? { name: login.clientId, type: "servicePrincipal" }
      : { name: login.userName, type: "user" }
  }, null, 2) + "\\n")
  process.exit(0)
}
if (args[0] !== "account" || args[1] !== "get-access-token") fail("ERROR: '" + args.join(" ") + "' is misspelled or not recognized by the system.")
if (!login) fail(notLoggedIn)
const subscription = flag("--subscription")
if (subscription !== undefined && subscription !== config.subscription) {
  fail("ERROR: Subscription '" + subscription + "' not found. Check the spelling and casing and try again.")
}
const resource = flag("--resource") ?? "https://management.core.windows.net/"
const tenant = flag("--tenant") ?? login.tenantId
const form = login.kind === "servicePrincipal"
  ? { grant_type: "client_credentials", client_id: login.clientId, client_secret: login.clientSecret, scope: resource + "/.default" }
  : { grant_type: "password", client_id: "${azureCliClientId}", username: login.userName, password: login.password, scope: resource + "/.default offline_access openid profile" }
const body = new URLSearchParams(form).toString()
const request = Https.request(config.authority + "/" + encodeURIComponent(tenant) + "/oauth2/v2.0/token", {
  method: "POST",
  ca: Fs.readFileSync(config.caCertPath, "utf8"),
  headers: { "content-type": "application/x-www-form-urlencoded", "content-length": Buffer.byteLength(body) }
}, (response) => {
  let text = ""
  response.setEncoding("utf8")
  response.on("data", (chunk) => { text += chunk })
  response.on("end", () => {
    let answer
    try { answer = JSON.parse(text) } catch { fail("ERROR: The identity provider answered HTTP " + response.statusCode) }
    if (response.statusCode !== 200) fail("ERROR: " + (answer.error_description ?? answer.error ?? "HTTP " + response.statusCode))
    const expiresOn = Math.floor(Date.now() / 1000) + Number(answer.expires_in)
    const local = new Date(expiresOn * 1000)
    const pad = (n, w = 2) => String(n).padStart(w, "0")
    process.stdout.write(JSON.stringify({
      accessToken: answer.access_token,
      expiresOn: local.getFullYear() + "-" + pad(local.getMonth() + 1) + "-" + pad(local.getDate()) + " " +
        pad(local.getHours()) + ":" + pad(local.getMinutes()) + ":" + pad(local.getSeconds()) + ".000000",
      expires_on: expiresOn,
      subscription: config.subscription,
      tenant,
      tokenType: "Bearer"
    }, null, 2) + "\\n")
  })
})
request.on("error", (error) => fail("ERROR: Could not reach the identity provider: " + error.code))
request.end(body)
`

export const write = (options: {
  readonly login: AzureCliLogin
  readonly authority: string
  readonly caCertPath: string
  readonly subscription: string
}): Effect.Effect<AzureCli, never, Scope.Scope> =>
  Effect.gen(function*() {
    const directory = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-databricks-az-"))),
      (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
    )
    const login = options.login
    const state = {
      authority: options.authority,
      caCertPath: options.caCertPath,
      subscription: options.subscription,
      login: login === "none"
        ? null
        : "servicePrincipal" in login
        ? {
          kind: "servicePrincipal",
          tenantId: login.servicePrincipal.tenantId,
          clientId: login.servicePrincipal.clientId,
          clientSecret: Redacted.value(login.servicePrincipal.clientSecret)
        }
        : {
          kind: "user",
          tenantId: login.user.tenantId,
          userName: login.user.userName,
          password: Redacted.value(login.user.password)
        }
    }
    // The login is a secret: the state file is the user's own, as the Azure CLI keeps its token cache.
    Fs.writeFileSync(Path.join(directory, "state.json"), JSON.stringify(state), { mode: 0o600 })
    Fs.writeFileSync(Path.join(directory, "az.mjs"), script)
    const path = Path.join(directory, "az")
    Fs.writeFileSync(
      path,
      `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(Path.join(directory, "az.mjs"))} "$@"\n`,
      { mode: 0o755 }
    )
    const callsFile = Path.join(directory, "calls")
    return {
      path,
      directory,
      calls: Effect.sync(() =>
        Fs.existsSync(callsFile) ? Fs.readFileSync(callsFile, "utf8").split("\n").filter((line) => line !== "") : []
      )
    } satisfies AzureCli
  })
