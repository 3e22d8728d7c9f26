import { TokenCache, TokenSource, U2MPkce } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Config, DateTime, Duration, Effect, Layer, Logger, LogLevel, Option, Redacted, TestClock } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { drive, tempDir, until, withEnv } from "./utils.js"

/** Whether `port` can be bound on 127.0.0.1 right now (closed again at once). */
const bindable = (port: number) =>
  Effect.async<boolean>((resume) => {
    const server = Net.createServer()
    server.once("error", () => resume(Effect.succeed(false)))
    server.listen(port, "127.0.0.1", () => server.close(() => resume(Effect.succeed(true))))
  })

/**
 * A free port for the redirect URI, which must name its port before U2MPkce binds it. Taken below the system's
 * ephemeral range (Linux: 32768-60999, /proc/sys/net/ipv4/ip_local_port_range), where nothing that binds port 0
 * or opens a connection (the emulators and clients of tests running alongside) is ever given a port; a port
 * from that range, free a moment ago, could be handed to one of them before the login binds it.
 */
const freePort = Effect.gen(function*() {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (yield* bindable(port)) return port
  }
})

/** Holds a port for the scope, as another program would. */
const occupy = (port: number) =>
  Effect.acquireRelease(
    Effect.async<Net.Server>((resume) => {
      const server = Net.createServer()
      server.listen(port, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

interface Visit {
  readonly authorizeUrl: string
  readonly callbackStatus: number | undefined
  readonly faviconStatus: number | undefined
}

interface BrowserOptions {
  /** Request the favicon before the callback, as browsers do. */
  readonly favicon?: boolean
  /** Change the callback URL before following it. */
  readonly tamper?: (callback: URL) => URL
  /** Do nothing, like a browser the user never looks at. */
  readonly idle?: boolean
}

/** A browser made of real HTTP requests: authorize at the emulator, then the 302 to our callback. */
const makeBrowser = (options: BrowserOptions = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const visits: Array<Visit> = []
    const open = (url: string) =>
      Effect.gen(function*() {
        if (options.idle) {
          visits.push({ authorizeUrl: url, callbackStatus: undefined, faviconStatus: undefined })
          return
        }
        const authorize = yield* client.execute(HttpClientRequest.get(url))
        const location = new URL(authorize.headers["location"]!)
        let faviconStatus: number | undefined
        if (options.favicon) {
          faviconStatus =
            (yield* client.execute(HttpClientRequest.get(new URL("/favicon.ico", location).toString()))).status
        }
        const callback = options.tamper?.(location) ?? location
        const answer = yield* client.execute(HttpClientRequest.get(callback.toString()))
        visits.push({ authorizeUrl: url, callbackStatus: answer.status, faviconStatus })
      }).pipe(Effect.orDie)
    return { open, visits }
  })

const setup = (options?: {
  readonly browser?: BrowserOptions
  readonly cache?: TokenCache.TokenCache
  readonly interactive?: boolean
  readonly redirectHost?: string
}) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const browser = yield* makeBrowser(options?.browser)
    const port = yield* freePort
    const redirectUri = `http://${options?.redirectHost ?? "127.0.0.1"}:${port}/callback`
    const cache = options?.cache ?? TokenCache.memory()
    const makeSource = (overrides?: Partial<U2MPkce.Options>) =>
      U2MPkce.make({
        host: emulator.host,
        clientId: emulator.u2m.clientId,
        redirectUri,
        openBrowser: browser.open,
        tokenCache: cache,
        interactive: options?.interactive ?? true,
        ...overrides
      })
    return { emulator, browser, port, redirectUri, cache, makeSource }
  })

const TestEmulator = (options?: Emulator.Options) => Layer.provideMerge(Emulator.httpClient, Emulator.layer(options))

const scim = (token: TokenSource.AccessToken) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.get(`${emulator.host}/api/2.0/preview/scim/v2/Me`).pipe(
        HttpClientRequest.bearerToken(token.value)
      )
    )
    return (yield* response.json) as { userName: string }
  })

describe("U2MPkce", () => {
  it.scoped("a full login: PKCE at the emulator, a working user token, cached", () =>
    Effect.gen(function*() {
      const { browser, cache, emulator, makeSource, redirectUri } = yield* setup()
      const source = yield* makeSource()
      assert.strictEqual(source.authType, "oauth-u2m")
      const token = yield* source.token
      assert.strictEqual((yield* scim(token)).userName, emulator.user.userName)
      assert.lengthOf(browser.visits, 1)
      assert.strictEqual(browser.visits[0].callbackStatus, 200)
      const authorizeUrl = new URL(browser.visits[0].authorizeUrl)
      assert.strictEqual(authorizeUrl.searchParams.get("code_challenge_method"), "S256")
      assert.strictEqual(authorizeUrl.searchParams.get("redirect_uri"), redirectUri)
      assert.strictEqual(authorizeUrl.searchParams.get("scope"), "all-apis offline_access")
      assert.isAtLeast(Buffer.from(authorizeUrl.searchParams.get("state")!, "base64url").length, 32)
      const stats = yield* emulator.stats
      assert.deepStrictEqual(stats.tokenRequests, { authorization_code: 1 })
      const cached = yield* cache.load(
        TokenCache.key(emulator.host, emulator.u2m.clientId, ["all-apis", "offline_access"])
      )
      assert.isTrue(Option.isSome(cached) && cached.value.refreshToken !== undefined)
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("localhost redirect URIs work, and a favicon request before the callback does not end the wait", () =>
    Effect.gen(function*() {
      const { browser, makeSource } = yield* setup({ browser: { favicon: true }, redirectHost: "localhost" })
      yield* Effect.flatMap(makeSource(), (source) => source.token)
      assert.strictEqual(browser.visits[0].faviconStatus, 404)
      assert.strictEqual(browser.visits[0].callbackStatus, 200)
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("a state mismatch is an AuthenticationError, and the code is never exchanged", () =>
    Effect.gen(function*() {
      const { browser, emulator, makeSource } = yield* setup({
        browser: {
          tamper: (callback) => {
            callback.searchParams.set("state", "forged-state")
            return callback
          }
        }
      })
      const error = yield* Effect.flip(Effect.flatMap(makeSource(), (source) => source.token))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "state did not match")
      assert.strictEqual(browser.visits[0].callbackStatus, 400)
      assert.deepStrictEqual((yield* emulator.stats).tokenRequests, {})
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("error=access_denied carries the identity provider's error", () =>
    Effect.gen(function*() {
      const { emulator, makeSource } = yield* setup()
      yield* emulator.setAuthorize({ decision: "deny" })
      const error = yield* Effect.flip(Effect.flatMap(makeSource(), (source) => source.token))
      if (error._tag !== "AuthenticationError") return assert.fail(`unexpected ${error._tag}`)
      assert.strictEqual(error.oauthError, "access_denied")
      assert.strictEqual(error.oauthErrorDescription, "The user denied the request")
      assert.include(error.hint, "denied")
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("no callback within loginTimeout fails, and the port is released", () =>
    Effect.gen(function*() {
      const { browser, makeSource, port } = yield* setup({ browser: { idle: true } })
      const source = yield* makeSource({ loginTimeout: "2 minutes" })
      const error = yield* drive(Effect.flip(source.token), { step: "10 seconds" })
      assert.include(error.message, "No login callback arrived within 2m")
      assert.lengthOf(browser.visits, 1)
      yield* occupy(port)
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("a port in use names the port and DATABRICKS_REDIRECT_URI, and opens no browser", () =>
    Effect.gen(function*() {
      const { browser, makeSource, port } = yield* setup()
      yield* occupy(port)
      const error = yield* Effect.flip(Effect.flatMap(makeSource(), (source) => source.token))
      assert.include(error.message, `port ${port}`)
      assert.include(error.message, "already in use")
      assert.include(error.hint, "redirectUri")
      assert.lengthOf(browser.visits, 0)
      const emulator = yield* Emulator.Emulator
      const fromEnv = yield* Effect.flip(
        Effect.flatMap(TokenSource.TokenSource, (source) => source.token).pipe(
          Effect.provide(
            U2MPkce.layerConfig({
              ...U2MPkce.config,
              openBrowser: Config.succeed(browser.open),
              tokenCache: Config.succeed(TokenCache.memory()),
              interactive: Config.succeed(true)
            })
          ),
          Effect.provide(withEnv({
            DATABRICKS_HOST: emulator.host,
            DATABRICKS_U2M_CLIENT_ID: emulator.u2m.clientId,
            DATABRICKS_REDIRECT_URI: `http://127.0.0.1:${port}/callback`
          }))
        )
      )
      assert.include(fromEnv.hint, "DATABRICKS_REDIRECT_URI")
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("a valid cached login means no browser and no token request; the cache file is 0600 and replaced atomically", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "oauth", "login.json")
      const { browser, emulator, makeSource } = yield* setup({ cache: TokenCache.file(path) })
      const first = yield* Effect.flatMap(makeSource(), (source) => source.token)
      assert.strictEqual((Fs.statSync(path).mode & 0o777).toString(8), "600")
      assert.strictEqual((Fs.statSync(Path.dirname(path)).mode & 0o777).toString(8), "700")
      const inode = Fs.statSync(path).ino

      // A second run (a new source, the same cache) logs in from the file alone.
      const second = yield* Effect.flatMap(makeSource(), (source) => source.token)
      assert.strictEqual(Redacted.value(second.value), Redacted.value(first.value))
      assert.lengthOf(browser.visits, 1)
      assert.deepStrictEqual((yield* emulator.stats).tokenRequests, { authorization_code: 1 })

      // Saving again replaces the file by rename (a new inode) and leaves no temporary file behind.
      yield* TokenCache.file(path).save("another-key", {
        accessToken: Redacted.make("x"),
        refreshToken: undefined,
        expiresAt: undefined
      })
      assert.notStrictEqual(Fs.statSync(path).ino, inode)
      assert.deepStrictEqual(Fs.readdirSync(Path.dirname(path)), ["login.json"])
      assert.strictEqual((Fs.statSync(path).mode & 0o777).toString(8), "600")
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("refresh uses the refresh token, never the browser or the port, and persists the rotated token", () =>
    Effect.gen(function*() {
      const dir = yield* tempDir
      const path = Path.join(dir, "login.json")
      const { browser, emulator, makeSource, port } = yield* setup({ cache: TokenCache.file(path) })
      const source = yield* makeSource()
      const first = yield* source.token
      const refreshBefore = JSON.parse(Fs.readFileSync(path, "utf8")).refresh_token as string

      // While the callback port is taken by someone else, a refresh must still work.
      yield* occupy(port)
      yield* TestClock.adjust(Duration.minutes(56))
      assert.strictEqual(Redacted.value((yield* source.token).value), Redacted.value(first.value))
      yield* until(Effect.map(emulator.stats, (s) => s.tokenRequests.refresh_token === 1), "the background refresh")
      yield* until(
        Effect.map(Effect.orDie(source.token), (t) => Redacted.value(t.value) !== Redacted.value(first.value)),
        "the refreshed token"
      )
      assert.lengthOf(browser.visits, 1, "a refresh opened the browser")
      const refreshAfter = JSON.parse(Fs.readFileSync(path, "utf8")).refresh_token as string
      assert.notStrictEqual(refreshAfter, refreshBefore)

      // The persisted (rotated) token is the one the identity provider accepts: a new, non-interactive
      // process with an expired access token refreshes from the file.
      yield* TestClock.adjust(Duration.hours(2))
      const later = yield* makeSource({ interactive: false })
      const token = yield* later.token
      assert.strictEqual((yield* scim(token)).userName, emulator.user.userName)
      assert.strictEqual((yield* emulator.stats).tokenRequests.refresh_token, 2)
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("invalid_grant on refresh with interactive false says to log in again; interactive logs in", () =>
    Effect.gen(function*() {
      const cache = TokenCache.memory()
      const { browser, emulator, makeSource } = yield* setup({ cache })
      const key = TokenCache.key(emulator.host, emulator.u2m.clientId, ["all-apis", "offline_access"])
      const expired = DateTime.unsafeMake((yield* TestClock.currentTimeMillis) - 1000)
      yield* cache.save(key, {
        accessToken: Redacted.make("old"),
        refreshToken: Redacted.make("refresh-revoked"),
        expiresAt: expired
      })

      const quiet = yield* makeSource({ interactive: false })
      const error = yield* Effect.flip(quiet.token)
      assert.include(error.message, "invalid_grant")
      assert.include(error.message, "log in again")
      assert.lengthOf(browser.visits, 0)

      const loud = yield* makeSource({ interactive: true })
      yield* loud.token
      assert.lengthOf(browser.visits, 1)
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("non-interactive with nothing cached fails without a browser or a port", () =>
    Effect.gen(function*() {
      const { browser, makeSource, port } = yield* setup({ interactive: false })
      yield* occupy(port)
      const error = yield* Effect.flip(Effect.flatMap(makeSource(), (source) => source.token))
      assert.include(error.message, "no cached login")
      assert.lengthOf(browser.visits, 0)
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("a corrupt cache file is ignored with a warning, and the login proceeds", () =>
    Effect.gen(function*() {
      const warnings: Array<string> = []
      const capture = Logger.make(({ logLevel, message }) => {
        if (logLevel._tag === "Warning") warnings.push(String(message))
      })
      const dir = yield* tempDir
      const path = Path.join(dir, "login.json")
      Fs.writeFileSync(path, "{ this is not json", { mode: 0o600 })
      const { browser, makeSource } = yield* setup({ cache: TokenCache.file(path) })
      yield* Effect.flatMap(makeSource(), (source) => source.token).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.Warning)
      )
      assert.lengthOf(browser.visits, 1)
      assert.isTrue(warnings.some((line) => line.includes("ignoring the token cache") && line.includes(path)))
      assert.isTrue(JSON.parse(Fs.readFileSync(path, "utf8")).version === 1, "the corrupt file was not replaced")
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("the login URL is logged, and a browser that cannot open is not fatal", () =>
    Effect.gen(function*() {
      const infos: Array<string> = []
      const capture = Logger.make(({ message }) => infos.push(String(message)))
      const { emulator, makeSource } = yield* setup({ browser: { idle: true } })
      const source = yield* makeSource({
        openBrowser: () => Effect.dieMessage("no display"),
        loginTimeout: "5 seconds"
      })
      const error = yield* drive(Effect.flip(source.token)).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      assert.include(error.message, "No login callback")
      assert.isTrue(infos.some((line) => line.includes(`${emulator.host}/oidc/v1/authorize?`)))
      assert.isTrue(infos.some((line) => line.includes("could not open a browser")))
    }).pipe(Effect.provide(TestEmulator())))

  it.scoped("no client secret, code, access or refresh token reaches a log line or an error", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.make(({ annotations, cause, message }) => {
        lines.push(JSON.stringify({ message: String(message), annotations: [...annotations] }), String(cause))
      })
      const emulator = yield* Emulator.Emulator
      const secret = "u2m-client-secret-7f3a9c"
      yield* emulator.registerOAuthClient({ clientId: "confidential-app", clientSecret: Redacted.make(secret) })
      const codes: Array<string> = []
      const cache = TokenCache.memory()
      const { makeSource } = yield* setup({
        cache,
        browser: {
          tamper: (callback) => {
            codes.push(callback.searchParams.get("code") ?? "")
            return callback
          }
        }
      })
      const errors: Array<unknown> = []
      yield* Effect.gen(function*() {
        const source = yield* makeSource({ clientId: "confidential-app", clientSecret: Redacted.make(secret) })
        yield* source.token
        yield* TestClock.adjust(Duration.minutes(56))
        yield* source.token
        yield* until(Effect.map(emulator.stats, (s) => s.tokenRequests.refresh_token === 1), "the refresh")
        // A wrong secret on a fresh login, and a denied login: error paths with secrets in play.
        const wrong = yield* makeSource({
          clientId: "confidential-app",
          clientSecret: Redacted.make(`${secret}x`),
          tokenCache: TokenCache.memory()
        })
        errors.push(yield* Effect.flip(wrong.token))
        yield* emulator.setAuthorize({ decision: "deny" })
        const denied = yield* makeSource({
          clientId: "confidential-app",
          clientSecret: Redacted.make(secret),
          tokenCache: TokenCache.memory()
        })
        errors.push(yield* Effect.flip(denied.token))
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, capture)), Logger.withMinimumLogLevel(LogLevel.All))
      const key = TokenCache.key(emulator.host, "confidential-app", ["all-apis", "offline_access"])
      const stored = Option.getOrThrow(yield* cache.load(key))
      const values = [
        secret,
        Redacted.value(stored.accessToken),
        Redacted.value(stored.refreshToken!),
        ...codes.filter((c) => c !== "")
      ]
      assert.isAtLeast(values.length, 4)
      const texts = [
        ...lines,
        ...errors.flatMap((error) => [String(error), JSON.stringify(error), (error as Error).message])
      ]
      for (const text of texts) for (const value of values) assert.notInclude(text, value)
      assert.isAbove(lines.length, 3)
    }).pipe(Effect.provide(TestEmulator())))
})
