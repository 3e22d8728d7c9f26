// Type-checked by `pnpm check`. A personal access token from DATABRICKS_TOKEN; the host from DATABRICKS_HOST.
import { Pat, WorkspaceClient } from "@effect-databricks/auth"
import { NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

const Live = WorkspaceClient.layer().pipe(
  Layer.provide(Pat.layerConfig()),
  Layer.provide(NodeHttpClient.layerUndici)
)

export const program = Effect.gen(function*() {
  const me = yield* WorkspaceClient.currentUser
  yield* Console.log(`Hello, ${me.displayName}!`)
}).pipe(
  Effect.provide(Live),
  // A missing DATABRICKS_TOKEN fails when the layer is built, so this is caught too.
  Effect.catchTag("ConfigurationError", (error) => Console.error(`${error.setting}: ${error.message}`)),
  Effect.catchTag("AuthenticationError", (error) => Console.error(`${error.message}\n${error.hint ?? ""}`))
)

export const main = () => NodeRuntime.runMain(program)
