import { DBSQLClient } from "@databricks/sql"
import type { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import { fileURLToPath } from "node:url"
import { basic } from "./utils.js"

const bin = fileURLToPath(new URL("../bin/emulator.mjs", import.meta.url))

/** Starts `emulator` with arguments; stopped (SIGINT) when the scope ends. */
const start = (args: ReadonlyArray<string>) =>
  Effect.acquireRelease(
    Effect.sync(() => ChildProcess.spawn(process.execPath, [bin, ...args], { stdio: ["ignore", "pipe", "pipe"] })),
    (child) =>
      Effect.async<void>((resume) => {
        if (child.exitCode !== null) return resume(Effect.void)
        child.once("exit", () => resume(Effect.void))
        child.kill("SIGKILL")
      })
  )

const firstLine = (child: ChildProcess.ChildProcess) =>
  Effect.async<string, Error>((resume) => {
    let buffered = ""
    child.stdout!.on("data", (chunk: Buffer) => {
      buffered += chunk.toString()
      const newline = buffered.indexOf("\n")
      if (newline >= 0) resume(Effect.succeed(buffered.slice(0, newline)))
    })
    child.once("exit", (code) => resume(Effect.fail(new Error(`exited with ${code} before printing a line`))))
  })

const exited = (child: ChildProcess.ChildProcess) =>
  Effect.async<{ readonly code: number | null; readonly stderr: string }>((resume) => {
    let stderr = ""
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("exit", (code) => resume(Effect.succeed({ code, stderr })))
  })

/** One statement through the real driver, with its defaults, against a running `emulator` command. */
const runQuery = (info: Emulator.ConnectionInfo, ca: string, sql: string) =>
  Effect.promise(async () => {
    const client = new DBSQLClient({ logger: { log: () => undefined } as never })
    const url = new URL(info.host)
    await client.connect({
      host: url.hostname,
      port: Number(url.port),
      path: info.httpPath,
      token: info.pat,
      customCaCert: ca,
      telemetryEnabled: false
    } as never)
    const session = await client.openSession()
    const operation = await session.executeStatement(sql)
    const result = await operation.fetchAll()
    await session.close()
    await client.close()
    return result
  })

describe("emulator command", () => {
  it.scoped(
    "--json prints the connection line first, honours --token-lifetime, and cleans up on Ctrl-C",
    () =>
      Effect.gen(function*() {
        const child = yield* start(["--json", "--token-lifetime", "120"])
        const done = yield* Effect.fork(exited(child))
        const info: Emulator.ConnectionInfo = JSON.parse(yield* firstLine(child))
        assert.deepStrictEqual(Object.keys(info).sort(), [
          "adminToken",
          "caCertPath",
          "connect",
          "host",
          "httpPath",
          "pat",
          "servicePrincipal",
          "u2m"
        ])
        assert.deepStrictEqual(Object.keys(info.connect).sort(), [
          "apiKey",
          "contentSessionToken",
          "url",
          "userSessionToken"
        ])
        assert.deepStrictEqual(Object.keys(info.servicePrincipal).sort(), ["clientId", "clientSecret"])
        assert.match(info.host, /^https:\/\/127\.0\.0\.1:\d+$/)
        assert.match(info.httpPath, /^\/sql\/1\.0\/warehouses\/[0-9a-f]{16}$/)

        const ca = Fs.readFileSync(info.caCertPath, "utf8")
        const client = NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ ca })))
        const [token, stats] = yield* Effect.gen(function*() {
          const http = yield* HttpClient.HttpClient
          const token = yield* http.execute(
            HttpClientRequest.post(`${info.host}/oidc/v1/token`).pipe(
              HttpClientRequest.setHeaders(basic(info.servicePrincipal.clientId, info.servicePrincipal.clientSecret)),
              HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials" })
            )
          ).pipe(Effect.flatMap((response) => response.json))
          const stats = yield* http.execute(
            HttpClientRequest.get(`${info.host}/__emulator/stats`).pipe(HttpClientRequest.bearerToken(info.adminToken))
          ).pipe(Effect.flatMap((response) => response.json))
          return [token as any, stats as any] as const
        }).pipe(Effect.provide(client), Effect.scoped)
        assert.strictEqual(token.expires_in, 120)
        assert.deepStrictEqual(stats.tokenRequests, { client_credentials: 1 })
        // The sample table is there, through the real driver.
        const rows = yield* runQuery(info, ca, "SELECT count(*) AS trips FROM samples.nyctaxi.trips")
        assert.deepStrictEqual(rows, [{ trips: 1000 }])

        child.kill("SIGINT")
        const { code } = yield* done.await.pipe(Effect.flatten)
        assert.strictEqual(code, 0)
        assert.isFalse(Fs.existsSync(info.caCertPath), "the CA file outlived the emulator")
      }),
    { timeout: 30_000 }
  )

  it.scoped(
    "--cloud-fetch-threshold 0 sends a result by CloudFetch links, in batches of --max-batch-rows",
    () =>
      Effect.gen(function*() {
        const child = yield* start(["--json", "--cloud-fetch-threshold", "0", "--max-batch-rows", "100"])
        const info: Emulator.ConnectionInfo = JSON.parse(yield* firstLine(child))
        const ca = Fs.readFileSync(info.caCertPath, "utf8")
        // The driver's defaults: useCloudFetch true, so it tells the warehouse it can download results.
        const rows = yield* runQuery(info, ca, "SELECT pickup_zip FROM samples.nyctaxi.trips")
        assert.strictEqual(rows.length, 1000)
        const stats: any = yield* Effect.gen(function*() {
          const http = yield* HttpClient.HttpClient
          return yield* http.execute(
            HttpClientRequest.get(`${info.host}/__emulator/stats`).pipe(HttpClientRequest.bearerToken(info.adminToken))
          ).pipe(Effect.flatMap((response) => response.json))
        }).pipe(
          Effect.provide(NodeHttpClient.layerWithoutAgent.pipe(Layer.provide(NodeHttpClient.makeAgentLayer({ ca })))),
          Effect.scoped
        )
        assert.isAtLeast(stats.cloudFetch.links, 1)
        assert.strictEqual(stats.cloudFetch.downloads, stats.cloudFetch.links)
      }),
    { timeout: 30_000 }
  )

  it.scoped("a bad flag is a short message and exit code 2, not a stack trace", () =>
    Effect.gen(function*() {
      const cases = [
        ["--port", "abc"],
        ["--token-lifetime", "-5"],
        ["--bogus"],
        ["--result-format", "csv"],
        ["--cloud-fetch-threshold", "4MB"],
        ["--max-batch-rows", "0"]
      ]
      for (const args of cases) {
        const child = yield* start(args)
        const { code, stderr } = yield* exited(child)
        assert.strictEqual(code, 2, args.join(" "))
        assert.match(stderr, /^emulator: /)
        assert.include(stderr, "Usage:")
        assert.notMatch(stderr, /\n\s+at /)
      }
    }), { timeout: 60_000 })

  it.scoped("a port in use is exit code 1 with a message that names it", () =>
    Effect.gen(function*() {
      const blocker = Net.createServer()
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          blocker.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () => Effect.sync(() => blocker.close())
      )
      const port = (blocker.address() as Net.AddressInfo).port
      const { code, stderr } = yield* exited(yield* start(["--port", String(port)]))
      assert.strictEqual(code, 1)
      assert.include(stderr, `127.0.0.1:${port}`)
      assert.notMatch(stderr, /\n\s+at /)
    }), { timeout: 30_000 })
})
