// The viewer app against the emulator, which plays the workspace, its SQL warehouse, and the platform in front of
// the app: `npx tsx local.ts` (Databricks Apps: open the printed URL and log in as one of the printed users) or
// `npx tsx local.ts --connect` (Posit Connect: the printed curl commands send each viewer's session token).
import { Emulator } from "@effect-databricks/testing"
import { NodeRuntime } from "@effect/platform-node"
import { ConfigProvider, Console, Effect, Layer, Redacted } from "effect"
import * as Net from "node:net"
import { server } from "./server.js"

/** The orders of two users; a third user has none. */
export const seed = (emulator: Emulator.Emulator) =>
  emulator.sql(`
    CREATE TABLE main.default.orders (id INT, owner STRING, item STRING, amount DECIMAL(10, 2));
    INSERT INTO main.default.orders VALUES
      (1, 'ada@example.com', 'Analytical engine gears', 120.50),
      (2, 'grace@example.com', 'COBOL manual', 35.00),
      (3, 'ada@example.com', 'Punched cards', 9.99),
      (4, 'grace@example.com', 'Moth (framed)', 1.00)
  `)

/** A free loopback port, for the app behind the proxy (the proxy needs the app's address first). */
export const freePort = Effect.async<number>((resume) => {
  const probe = Net.createServer()
  probe.listen(0, "127.0.0.1", () => {
    const port = (probe.address() as Net.AddressInfo).port
    probe.close(() => resume(Effect.succeed(port)))
  })
})

const connect = process.argv.includes("--connect")

const main = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  yield* seed(emulator)
  const password = Redacted.make("cobol-1959")
  const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper", password })
  const workspace = { DATABRICKS_HOST: emulator.host, DATABRICKS_HTTP_PATH: emulator.httpPath }
  if (connect) {
    const port = 8000
    const env = {
      ...workspace,
      RSTUDIO_PRODUCT: "CONNECT",
      CONNECT_SERVER: emulator.connect.url,
      CONNECT_API_KEY: Redacted.value(emulator.connect.apiKey),
      PORT: String(port)
    }
    const graceToken = yield* emulator.registerUserSessionToken({ user: grace })
    yield* Console.log(`Posit Connect sends each viewer's session token. Try:
  curl -H "Posit-Connect-User-Session-Token: ${
      Redacted.value(emulator.connect.userSessionToken)
    }" http://127.0.0.1:${port}/
  curl -H "Posit-Connect-User-Session-Token: ${Redacted.value(graceToken)}" http://127.0.0.1:${port}/
  curl http://127.0.0.1:${port}/    (no viewer: 401)`)
    return yield* Layer.launch(server({ caCert: emulator.caCertPem })).pipe(
      Effect.withConfigProvider(ConfigProvider.fromJson(env))
    )
  }
  const appPort = yield* freePort
  const proxy = yield* emulator.appsProxy({ target: `http://127.0.0.1:${appPort}`, name: "viewer-app" })
  yield* Console.log(`Databricks Apps: open ${proxy.url}/ and log in as
  ${emulator.user.userName} / ${Redacted.value(emulator.userPassword)}
  grace@example.com / ${Redacted.value(password)}
(a private window for the second user)`)
  return yield* Layer.launch(server({ caCert: emulator.caCertPem })).pipe(
    Effect.withConfigProvider(ConfigProvider.fromJson({ ...workspace, ...proxy.env }))
  )
}).pipe(
  Effect.scoped,
  Effect.provide(Layer.provideMerge(Emulator.httpClient, Emulator.layer({ loginPage: !connect })))
)

if (process.argv[1]?.endsWith("local.ts")) NodeRuntime.runMain(main)
