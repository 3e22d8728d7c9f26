import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Net from "node:net"

const tcpHandles = () =>
  process.getActiveResourcesInfo().filter((name) => name === "TCPServerWrap" || name === "TCPSocketWrap").length

/** A keep-alive GET, leaving the socket open in `agent` afterwards. */
const keepAliveGet = (url: string, agent: Http.Agent, ca?: string) =>
  Effect.async<number, Error>((resume) => {
    const get = url.startsWith("https:") ? Https.get : Http.get
    const request = get(url, { agent, ...(ca === undefined ? {} : { ca }) }, (response) => {
      response.resume()
      response.on("end", () => resume(Effect.succeed(response.statusCode ?? 0)))
    })
    request.on("error", (error) => resume(Effect.fail(error)))
  })

const refused = (port: number) =>
  Effect.async<boolean>((resume) => {
    const socket = Net.connect(port, "127.0.0.1")
    socket.on("connect", () => (socket.destroy(), resume(Effect.succeed(false))))
    socket.on("error", () => resume(Effect.succeed(true)))
  })

const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))

describe("Emulator lifecycle", () => {
  it.live("20 start/stop cycles leave no open handles, even with keep-alive clients", () =>
    Effect.gen(function*() {
      yield* settle
      const before = tcpHandles()
      const ports: Array<number> = []
      const inFlight: Array<Fiber.RuntimeFiber<Either.Either<number, Error>>> = []
      const closedSql: Array<Emulator.Emulator["sql"]> = []
      // Agents the emulator does not own: their idle sockets must be closed by the server side.
      const httpsAgent = new Https.Agent({ keepAlive: true })
      const httpAgent = new Http.Agent({ keepAlive: true })
      for (let cycle = 0; cycle < 20; cycle++) {
        yield* Effect.scoped(Effect.gen(function*() {
          const emulator = yield* Emulator.make()
          const status = yield* keepAliveGet(
            `${emulator.host}/oidc/.well-known/oauth-authorization-server`,
            httpsAgent,
            emulator.caCertPem
          )
          assert.strictEqual(status, 200)
          assert.strictEqual(yield* keepAliveGet(`${emulator.connect.url}/__api__/server_settings`, httpAgent), 200)
          assert.isAbove(tcpHandles(), before)
          // And one request still in flight when the scope closes: shutdown must not wait for it.
          yield* emulator.faults.add({ target: "scim", delayMs: 600_000 })
          inFlight.push(
            yield* Effect.fork(
              Effect.either(keepAliveGet(`${emulator.host}/api/2.0/preview/scim/v2/Me`, httpsAgent, emulator.caCertPem))
            )
          )
          while (((yield* emulator.stats).requests.scim ?? 0) === 0) yield* settle
          ports.push(Number(new URL(emulator.host).port), Number(new URL(emulator.connect.url).port))
          yield* emulator.sql(`CREATE TABLE cycle AS SELECT ${cycle} AS n`)
          closedSql.push(emulator.sql)
        }))
      }
      yield* settle
      const outcomes = yield* Effect.forEach(inFlight, Fiber.join)
      assert.isTrue(outcomes.every(Either.isLeft), "an in-flight request was answered instead of cut off")
      assert.strictEqual(tcpHandles(), before)
      for (const port of ports.slice(-4)) assert.isTrue(yield* refused(port), `port ${port} still accepts`)
      // Each emulator's DuckDB database closed with it: its SQL entry point no longer works.
      for (const sql of closedSql.slice(-3)) {
        const exit = yield* Effect.exit(sql("SELECT 1"))
        assert.isTrue(Exit.isFailure(exit), "a DuckDB instance outlived its emulator")
      }
      httpsAgent.destroy()
      httpAgent.destroy()
    }), { timeout: 30_000 })

  it.live("a port already in use is a clear EmulatorError", () =>
    Effect.gen(function*() {
      const blocker = Net.createServer()
      yield* Effect.async<void>((resume) => {
        blocker.listen(0, "127.0.0.1", () => resume(Effect.void))
      })
      const port = (blocker.address() as Net.AddressInfo).port
      const error = yield* Effect.flip(Effect.scoped(Emulator.make({ port })))
      blocker.close()
      assert.strictEqual(error._tag, "EmulatorError")
      assert.include(error.message, `127.0.0.1:${port}`)
      assert.include(error.message, "in use")
    }))
})
