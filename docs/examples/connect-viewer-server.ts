// A web app on Posit Connect that greets each viewer by their Databricks display name.
//
// On Connect: deploy it; Connect sets RSTUDIO_PRODUCT, CONNECT_SERVER and CONNECT_API_KEY, and sends each viewer's
// Posit-Connect-User-Session-Token header. Associate a Databricks viewer OAuth integration with the content.
// Locally: `npx tsx docs/examples/connect-viewer-server.ts --emulator` runs it against the embedded emulator,
// which plays both Connect and the workspace, and prints curl commands to try.
import { AuthConfig, ConnectViewer, WorkspaceClient } from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import type { HttpClient } from "@effect/platform"
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeContext, NodeHttpClient, NodeHttpServer, NodeRuntime } from "@effect/platform-node"
import { ConfigProvider, Console, Effect, Layer, Redacted } from "effect"
import * as Http from "node:http"

// #region app
/** The handler: the viewer's TokenSource is provided by ConnectViewer.withViewer. */
const hello = Effect.gen(function*() {
  const client = yield* WorkspaceClient.make()
  const me = yield* client.currentUser
  return HttpServerResponse.text(`Hello, ${me.displayName}!\n`)
})

/** The app: every route that needs Databricks runs as the viewer who asked. */
export const app = HttpRouter.empty.pipe(
  HttpRouter.get("/", ConnectViewer.withViewer(hello)),
  Effect.catchTags({
    AuthenticationError: (error) => HttpServerResponse.text(`${error.message}\n${error.hint ?? ""}\n`, { status: 401 }),
    PermissionError: (error) => HttpServerResponse.text(`${error.message}\n`, { status: 403 })
  }),
  Effect.catchAll((error) => HttpServerResponse.text(`Databricks said: ${error._tag}\n`, { status: 502 }))
)

/** One shared cache of viewers' tokens; off Connect, whatever AuthConfig resolves (a PAT, U2M, the CLI...). */
export const Viewers: Layer.Layer<ConnectViewer.Viewers, unknown, HttpClient.HttpClient> = ConnectViewer.layerViewers({
  local: AuthConfig.layer().pipe(Layer.provide(NodeContext.layer))
})
// #endregion

export const serve = (port: number) =>
  HttpServer.serve(app).pipe(
    HttpServer.withLogAddress,
    Layer.provide(Viewers),
    Layer.provide(NodeHttpServer.layer(() => Http.createServer(), { port, host: "127.0.0.1" }))
  )

const withEmulator = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const ada = Redacted.value(emulator.connect.userSessionToken)
  const grace = yield* emulator.registerUser({ userName: "grace@example.com", displayName: "Grace Hopper" })
  const graceToken = Redacted.value(yield* emulator.registerUserSessionToken({ user: grace }))
  yield* Console.log(`Try:\n  curl -H "Posit-Connect-User-Session-Token: ${ada}" http://127.0.0.1:8000/`)
  yield* Console.log(`  curl -H "Posit-Connect-User-Session-Token: ${graceToken}" http://127.0.0.1:8000/`)
  const env = ConfigProvider.fromMap(
    new Map([
      ["RSTUDIO_PRODUCT", "CONNECT"],
      ["CONNECT_SERVER", emulator.connect.url],
      ["CONNECT_API_KEY", Redacted.value(emulator.connect.apiKey)],
      ["DATABRICKS_HOST", emulator.host]
    ])
  )
  return yield* Layer.launch(serve(8000)).pipe(Effect.withConfigProvider(env), Effect.provide(Emulator.httpClient))
}).pipe(Effect.provide(Emulator.layer()))

if (process.argv[1]?.endsWith("connect-viewer-server.ts")) {
  NodeRuntime.runMain(
    process.argv.includes("--emulator")
      ? withEmulator
      : Layer.launch(serve(Number(process.env.PORT ?? 8000)).pipe(Layer.provide(NodeHttpClient.layerUndici)))
  )
}
