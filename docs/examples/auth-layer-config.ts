// Type-checked by `pnpm check` and run against the emulator (docs/test/layer-config-example.test.ts).
// A credential's settings through Config: the defaults read the Databricks names; replace or add any of them.
import { LocalM2M, WorkspaceClient } from "@effect-databricks/auth"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Console, Effect, Layer } from "effect"

// #region layer-config
// DATABRICKS_HOST and DATABRICKS_CLIENT_SECRET as LocalM2M.config reads them; the client id from the app's own
// variable; refreshAhead as a Config too (a literal here, Config.duration("…") to read it).
const Credentials = LocalM2M.layerConfig({
  ...LocalM2M.config,
  clientId: Config.string("ORDERS_SP_CLIENT_ID"),
  refreshAhead: Config.succeed("10 minutes")
})
// #endregion

export const program = Effect.gen(function*() {
  const me = yield* WorkspaceClient.currentUser
  yield* Console.log(`Hello, ${me.displayName}!`)
}).pipe(
  Effect.provide(
    WorkspaceClient.layer().pipe(Layer.provideMerge(Credentials), Layer.provide(NodeHttpClient.layerUndici))
  ),
  // A setting that is missing or unreadable fails the layer with a ConfigurationError naming it.
  Effect.catchTag("ConfigurationError", (error) => Console.log(`Not configured: ${error.message}`))
)
