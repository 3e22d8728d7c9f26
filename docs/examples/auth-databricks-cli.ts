// Type-checked by `pnpm check`. Tokens from `databricks auth token`, for a profile you logged in with
// `databricks auth login`.
import { DatabricksCli, WorkspaceClient } from "@effect-databricks/auth"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

// The CLI runs through the platform's CommandExecutor (NodeContext.layer); the REST calls through HttpClient.
const Live = WorkspaceClient.layer().pipe(
  Layer.provideMerge(DatabricksCli.layer({ profile: "dev" })),
  Layer.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
)

export const program = Effect.gen(function*() {
  const me = yield* WorkspaceClient.currentUser
  yield* Console.log(`Hello, ${me.displayName}!`)
}).pipe(
  // No CLI on the PATH, an old CLI, a profile never logged in: each says what to run.
  Effect.catchTag("AuthenticationError", (error) => Console.error(`${error.message}\n${error.hint ?? ""}`)),
  Effect.provide(Live)
)
