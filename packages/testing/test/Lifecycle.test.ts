import { DBSQLClient } from "@databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Exit, Fiber, Option, Redacted } from "effect"
import * as Http from "node:http"
import * as Https from "node:https"
import * as Net from "node:net"

// Only what this test owns is measured: its own client sockets and the emulators' own ports. Counting the
// process's TCP handles also counted whatever a concurrent test (or vitest itself) had open at the time.

/** A keep-alive GET, leaving the socket open in `agent` afterwards; answers the status and the socket used. */
const keepAliveGet = (url: string, agent: Http.Agent, ca?: string) =>
  Effect.async<{ readonly status: number; readonly socket: Net.Socket }, Error>((resume) => {
    const get = url.startsWith("https:") ? Https.get : Http.get
    const request = get(url, { agent, ...(ca === undefined ? {} : { ca }) }, (response) => {
      response.resume()
      response.on("end", () => resume(Effect.succeed({ status: response.statusCode ?? 0, socket: request.socket! })))
    })
    request.on("error", (error) => resume(Effect.fail(error)))
  })

/** Resolves once `socket` is closed (at once if it already is). */
const closed = (socket: Net.Socket) =>
  Effect.async<void>((resume) => {
    if (socket.closed) return resume(Effect.void)
    socket.once("close", () => resume(Effect.void))
  })

/** The error code a connection to `port` gets: `ECONNREFUSED` once nothing listens there. */
const connectError = (port: number) =>
  Effect.async<string>((resume) => {
    const socket = Net.connect(port, "127.0.0.1")
    socket.on("connect", () => (socket.destroy(), resume(Effect.succeed("connected"))))
    socket.on("error", (error: NodeJS.ErrnoException) => resume(Effect.succeed(error.code ?? error.message)))
  })

/** A condition poll, not a timed assertion: the test only goes on once `check` holds. */
const poll = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))

describe("Emulator lifecycle", () => {
  it.live(
    "20 start/stop cycles close every port and connection they opened, even with keep-alive clients",
    () =>
      Effect.gen(function*() {
        const ports: Array<number> = []
        const sockets: Array<Net.Socket> = []
        const inFlight: Array<Fiber.RuntimeFiber<Either.Either<unknown, Error>>> = []
        const closedSql: Array<Emulator.Emulator["sql"]> = []
        // Agents the emulator does not own: their idle sockets must be closed by the server side.
        const httpsAgent = new Https.Agent({ keepAlive: true })
        const httpAgent = new Http.Agent({ keepAlive: true })
        for (let cycle = 0; cycle < 20; cycle++) {
          yield* Effect.scoped(Effect.gen(function*() {
            const emulator = yield* Emulator.make()
            const workspace = yield* keepAliveGet(
              `${emulator.host}/oidc/.well-known/oauth-authorization-server`,
              httpsAgent,
              emulator.caCertPem
            )
            assert.strictEqual(workspace.status, 200)
            const connect = yield* keepAliveGet(`${emulator.connect.url}/__api__/server_settings`, httpAgent)
            assert.strictEqual(connect.status, 200)
            // Kept alive: both connections are still open when the scope closes.
            assert.isFalse(workspace.socket.destroyed || connect.socket.destroyed, "a keep-alive socket closed early")
            sockets.push(workspace.socket, connect.socket)
            // And one request still in flight when the scope closes: shutdown must not wait for it.
            yield* emulator.faults.add({ target: "scim", delayMs: 600_000 })
            inFlight.push(
              yield* Effect.fork(
                Effect.either(
                  keepAliveGet(`${emulator.host}/api/2.0/preview/scim/v2/Me`, httpsAgent, emulator.caCertPem)
                )
              )
            )
            while (((yield* emulator.stats).requests.scim ?? 0) === 0) yield* poll
            ports.push(Number(new URL(emulator.host).port), Number(new URL(emulator.connect.url).port))
            yield* emulator.sql(`CREATE TABLE cycle AS SELECT ${cycle} AS n`)
            closedSql.push(emulator.sql)
          }))
        }
        const outcomes = yield* Effect.forEach(inFlight, Fiber.join)
        assert.isTrue(outcomes.every(Either.isLeft), "an in-flight request was answered instead of cut off")
        // Every keep-alive connection was closed by the server side (the agents never close an idle socket).
        const allClosed = yield* Effect.timeoutOption(Effect.forEach(sockets, closed), "10 seconds")
        assert.isTrue(Option.isSome(allClosed), "a keep-alive connection outlived its emulator")
        assert.strictEqual(sockets.length, 40)
        // Nothing listens on any of the 40 ports any more.
        const errors = yield* Effect.forEach(ports, connectError)
        assert.deepStrictEqual(errors, ports.map(() => "ECONNREFUSED"))
        // Each emulator's DuckDB database closed with it: its SQL entry point no longer works.
        for (const sql of closedSql) {
          const exit = yield* Effect.exit(sql("SELECT 1"))
          assert.isTrue(Exit.isFailure(exit), "a DuckDB instance outlived its emulator")
        }
        httpsAgent.destroy()
        httpAgent.destroy()
      }),
    { timeout: 30_000 }
  )

  it.live(
    "stops while a driver is still downloading CloudFetch files, with its session left open",
    () =>
      Effect.gen(function*() {
        const client = new DBSQLClient({ logger: { log: () => undefined } as never })
        const stopped = yield* Effect.scoped(Effect.gen(function*() {
          const emulator = yield* Emulator.make({
            warehouse: { cloudFetchThreshold: 0, cloudFetchFileBytes: 64 * 1024, cloudFetchLinksPerFetch: 16 }
          })
          // Every download is refused: the driver fails the fetch while its other downloads are still connecting.
          yield* emulator.faults.add({ target: "cloudFetch", status: 403, count: 1000 })
          const url = new URL(emulator.host)
          const failure = yield* Effect.promise(async () => {
            await client.connect({
              host: url.hostname,
              port: Number(url.port),
              path: emulator.httpPath,
              token: Redacted.value(emulator.pat),
              customCaCert: Buffer.from(emulator.caCertPem),
              telemetryEnabled: false,
              // The driver's own retries would keep its final close() sending CloseSession to the stopped
              // emulator for about 30 seconds; one attempt is enough to show the close fails fast.
              retryMaxAttempts: 1,
              retriesTimeout: 1
            } as never)
            const session = await client.openSession()
            const operation = await session.executeStatement("SELECT id, repeat('x', 100) AS s FROM range(20000)")
            return operation.fetchAll().then(() => "rows", (error: Error) => error.message)
          })
          assert.include(failure, "403")
          // The session stays open and the driver's downloads may still be in flight as the scope closes.
        })).pipe(Effect.timeoutOption("20 seconds"))
        assert.isTrue(Option.isSome(stopped), "closing the emulator waited for requests nobody would answer")
        yield* Effect.promise(() => client.close().catch(() => undefined))
      }),
    { timeout: 40_000 }
  )

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
