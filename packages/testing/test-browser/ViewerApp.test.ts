import { Emulator } from "@effect-databricks/testing"
import { assert, describe, layer } from "@effect/vitest"
import { Context, Effect, Layer, Redacted } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import type * as Playwright from "playwright-core"
import { inject } from "vitest"
import * as Chromium from "./chromium.js"

const chromiumPath = inject("chromium")

/** The example app of the guide "Apps that act for the viewer", run as its app.yaml runs it (through tsx). */
const appDir = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../../../docs/examples/viewer-app")

class Browser extends Context.Tag("test-browser/ViewerApp/Browser")<Browser, Playwright.Browser>() {}

const suiteLayer = Layer.provideMerge(
  Layer.scoped(
    Browser,
    Effect.flatMap(Emulator.Emulator, (emulator) => Chromium.launch(chromiumPath, { certPem: emulator.caCertPem }))
  ),
  Emulator.layer({ loginPage: true })
)

/** A free loopback port for the app (the proxy is told the app's address before the app starts). */
const freePort = Effect.async<number>((resume) => {
  const probe = Net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const port = (probe.address() as Net.AddressInfo).port
    probe.close(() => resume(Effect.succeed(port)))
  })
})

/** Whether something accepts connections on the port. */
const accepts = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect(port, "127.0.0.1")
    socket.once("connect", () => {
      socket.destroy()
      resume(Effect.succeed(true))
    })
    socket.once("error", () => resume(Effect.succeed(false)))
  })

/**
 * The app in its own Node process, with only the environment Databricks Apps gives it (the proxy's `env`), the
 * warehouse, and the emulator's certificate; stopped with the scope. Ready once its port accepts connections.
 */
const runApp = (env: Readonly<Record<string, string>>, port: number) =>
  Effect.gen(function*() {
    const home = Fs.mkdtempSync(Path.join(Os.tmpdir(), "viewer-app-"))
    const output: Array<string> = []
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        ChildProcess.spawn(process.execPath, ["--import", "tsx", "server.ts"], {
          cwd: appDir,
          env: { PATH: process.env.PATH ?? "", HOME: home, ...env },
          stdio: ["ignore", "pipe", "pipe"]
        })
      ),
      (child) =>
        Effect.async<void>((resume) => {
          Fs.rmSync(home, { recursive: true, force: true })
          if (child.exitCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.kill("SIGTERM")
        })
    )
    child.stdout.on("data", (chunk) => output.push(String(chunk)))
    child.stderr.on("data", (chunk) => output.push(String(chunk)))
    for (let tries = 0; !(yield* accepts(port)); tries++) {
      if (child.exitCode !== null || tries > 300) {
        return yield* Effect.dieMessage(`the viewer app did not start:\n${output.join("")}`)
      }
      yield* Effect.sleep("100 millis")
    }
    return output
  })

/** Logs in on the emulator's login page in a fresh browser context; answers what the app then shows. */
const visitAs = (url: string, userName: string, password: Redacted.Redacted<string>) =>
  Effect.gen(function*() {
    const page = yield* Chromium.page(yield* Browser)
    const problems: Array<string> = []
    page.on("pageerror", (error) => problems.push(error.message))
    yield* Chromium.run(() => page.goto(`${url}/`))
    assert.strictEqual(yield* Chromium.run(() => page.title()), "Log in to Databricks")
    yield* Chromium.run(() => page.locator("#username").pressSequentially(userName))
    yield* Chromium.run(() => page.locator("#password").pressSequentially(Redacted.value(password)))
    yield* Chromium.run(() => page.locator("#allow").click())
    yield* Chromium.run(() => page.waitForURL(`${url}/`))
    yield* Chromium.run(() => page.locator("#hello").waitFor())
    return {
      hello: yield* Chromium.run(() => page.locator("#hello").textContent()),
      user: yield* Chromium.run(() => page.locator("#user-name").textContent()),
      orders: yield* Chromium.run(() => page.locator("#orders tbody tr td:first-child").allTextContents()),
      empty: yield* Chromium.run(() => page.locator("#empty").count()),
      problems
    }
  })

describe("the viewer app in chromium, behind the Databricks Apps proxy", () => {
  layer(suiteLayer, { excludeTestServices: true, timeout: "60 seconds" })((it) => {
    it.scoped(
      "each user logs in by typing their credentials and sees their name and only their own rows",
      () =>
        Effect.gen(function*() {
          const emulator = yield* Emulator.Emulator
          yield* emulator.sql(`
          CREATE TABLE main.default.orders (id INT, owner STRING, item STRING, amount DECIMAL(10, 2));
          INSERT INTO main.default.orders VALUES
            (1, 'ada@example.com', 'Analytical engine gears', 120.50),
            (2, 'grace@example.com', 'COBOL manual', 35.00),
            (3, 'ada@example.com', 'Punched cards', 9.99)
        `)
          const gracePassword = Redacted.make("cobol-1959")
          yield* emulator.registerUser({
            userName: "grace@example.com",
            displayName: "Grace Hopper",
            password: gracePassword
          })
          const port = yield* freePort
          const proxy = yield* emulator.appsProxy({ target: `http://127.0.0.1:${port}`, name: "viewer-app" })
          yield* runApp({
            ...proxy.env,
            DATABRICKS_HTTP_PATH: emulator.httpPath,
            NODE_EXTRA_CA_CERTS: emulator.caCertPath
          }, port)

          const grace = yield* visitAs(proxy.url, "grace@example.com", gracePassword)
          assert.deepStrictEqual(grace, {
            hello: "Hello, Grace Hopper",
            user: "grace@example.com",
            orders: ["2"],
            empty: 0,
            problems: []
          })
          const ada = yield* visitAs(proxy.url, emulator.user.userName, emulator.userPassword)
          assert.deepStrictEqual(ada, {
            hello: "Hello, Ada Lovelace",
            user: "ada@example.com",
            orders: ["1", "3"],
            empty: 0,
            problems: []
          })

          // Two browser logins; every query ran as the person logged in, none as the app's service principal.
          assert.strictEqual((yield* proxy.stats).logins, 2)
          const queriedBy = (yield* emulator.stats).statements
            .filter((s) => s.text.includes("WHERE owner = current_user()"))
            .map((s) => s.principal)
          assert.deepStrictEqual(queriedBy, ["grace@example.com", "ada@example.com"])
        }),
      { timeout: 100_000 }
    )
  })
})
