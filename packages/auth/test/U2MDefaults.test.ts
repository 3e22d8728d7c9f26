/**
 * U2M with nothing registered: the Databricks CLI's public OAuth app (`databricks-cli`) and its redirect,
 * `http://localhost:8020`, then the next free port up to 8040 (databricks-sdk-go credentials/u2m
 * persistent_auth.go: defaultPort 8020, maxPortFallback 8040; databricks-sdk-py credentials_provider.py
 * external_browser: client id "databricks-cli", redirect "http://localhost:8020"), against the emulator.
 */
import type { TokenSource } from "@effect-databricks/auth"
import { AuthConfig, TokenCache, U2MPkce, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Logger, LogLevel } from "effect"
import * as Net from "node:net"
import * as Path from "node:path"
import { tempDir, withEnv } from "./utils.js"

/** Holds `port` on 127.0.0.1 for the scope, as another program would; `false` if something already holds it. */
const occupy = (port: number) =>
  Effect.acquireRelease(
    Effect.async<Net.Server | undefined>((resume) => {
      const server = Net.createServer()
      server.once("error", () => resume(Effect.succeed(undefined)))
      server.listen(port, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      server === undefined ? Effect.void : Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
  )

/** A browser made of real requests: authorize at the emulator, then follow its redirect to our callback. */
const makeBrowser = Effect.gen(function*() {
  const client = yield* HttpClient.HttpClient
  const opened: Array<URL> = []
  const open = (url: string) =>
    Effect.gen(function*() {
      opened.push(new URL(url))
      const authorize = yield* client.execute(HttpClientRequest.get(url))
      yield* client.execute(HttpClientRequest.get(authorize.headers["location"]!))
    }).pipe(Effect.orDie)
  return { open, opened }
})

const scimUser = (token: TokenSource.AccessToken) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(
      HttpClientRequest.get(`${emulator.host}/api/2.0/preview/scim/v2/Me`).pipe(
        HttpClientRequest.bearerToken(token.value)
      )
    )
    return ((yield* response.json) as { userName: string }).userName
  })

const TestEmulator = Layer.provideMerge(Emulator.httpClient, Emulator.layer())

const publicPorts = Array.from({ length: 21 }, (_, index) => 8020 + index)

describe("U2MPkce without an app registration", () => {
  it.scoped("uses the databricks-cli app and http://localhost:8020 (or the next free port), and logs in", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const browser = yield* makeBrowser
      // Whether 8020 was free a moment ago decides which port is expected.
      const free8020 = (yield* Effect.scoped(occupy(8020))) !== undefined
      const source = yield* U2MPkce.make({
        host: emulator.host,
        openBrowser: browser.open,
        tokenCache: TokenCache.memory(),
        interactive: true
      })
      const token = yield* source.token
      assert.strictEqual(yield* scimUser(token), emulator.user.userName)
      const authorize = browser.opened[0]
      assert.strictEqual(authorize.searchParams.get("client_id"), "databricks-cli")
      const redirect = authorize.searchParams.get("redirect_uri")!
      assert.match(redirect, /^http:\/\/localhost:80[2-4]\d$/)
      if (free8020) assert.strictEqual(redirect, "http://localhost:8020")
      assert.deepStrictEqual((yield* emulator.stats).tokenRequests, { authorization_code: 1 })
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("8020 to 8022 busy: the login binds the next free port and sends that redirect", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const browser = yield* makeBrowser
      yield* Effect.forEach([8020, 8021, 8022], occupy)
      const token = yield* Effect.flatMap(
        U2MPkce.make({
          host: emulator.host,
          openBrowser: browser.open,
          tokenCache: TokenCache.memory(),
          interactive: true
        }),
        (source) => source.token
      )
      assert.strictEqual(yield* scimUser(token), emulator.user.userName)
      const port = Number(new URL(browser.opened[0].searchParams.get("redirect_uri")!).port)
      assert.isAtLeast(port, 8023)
      assert.isAtMost(port, 8040)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("every port from 8020 to 8040 busy: an AuthenticationError naming the range, no browser opened", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const browser = yield* makeBrowser
      yield* Effect.forEach(publicPorts, occupy)
      const error = yield* Effect.flip(Effect.flatMap(
        U2MPkce.make({
          host: emulator.host,
          openBrowser: browser.open,
          tokenCache: TokenCache.memory(),
          interactive: true
        }),
        (source) => source.token
      ))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.include(error.message, "ports 8020-8040")
      assert.include(error.message, "all in use")
      assert.lengthOf(browser.opened, 0)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("an explicit redirect URI is used as given: no fallback when its port is busy", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const browser = yield* makeBrowser
      const held = yield* occupy(8020)
      if (held === undefined) return // something else holds 8020: the fallback test above covers the rest
      const error = yield* Effect.flip(Effect.flatMap(
        U2MPkce.make({
          host: emulator.host,
          redirectUri: "http://localhost:8020",
          openBrowser: browser.open,
          tokenCache: TokenCache.memory(),
          interactive: true
        }),
        (source) => source.token
      ))
      assert.include(error.message, "port 8020")
      assert.include(error.message, "already in use")
      assert.include(error.hint ?? "", "redirectUri")
      assert.lengthOf(browser.opened, 0)
    }).pipe(Effect.provide(TestEmulator)))

  it.scoped("AuthConfig with DATABRICKS_AUTH_TYPE=external-browser and no client id logs in with databricks-cli", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const browser = yield* makeBrowser
      const lines: Array<string> = []
      const capture = Logger.make(({ message }) => lines.push(String(message)))
      const layer = WorkspaceClient.layer().pipe(
        Layer.provideMerge(
          AuthConfig.layer({ u2m: { openBrowser: browser.open, tokenCache: TokenCache.memory(), interactive: true } })
        ),
        Layer.provide(NodeContext.layer),
        Layer.provide(withEnv({
          DATABRICKS_HOST: emulator.host,
          DATABRICKS_AUTH_TYPE: "external-browser",
          DATABRICKS_CONFIG_FILE: Path.join(yield* tempDir, "absent")
        }))
      )
      const me = yield* Effect.zipRight(WorkspaceClient.currentUser, WorkspaceClient.currentUser).pipe(
        Effect.provide(layer),
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.Info)
      )
      assert.strictEqual(me.userName, emulator.user.userName)
      assert.strictEqual(browser.opened[0].searchParams.get("client_id"), "databricks-cli")
      // The principal was not known before the login: it is logged once, with the first token.
      const announced = lines.filter((line) => line.startsWith("Databricks auth: oauth-u2m token belongs to"))
      assert.lengthOf(announced, 1)
    }).pipe(Effect.provide(TestEmulator)))
})
