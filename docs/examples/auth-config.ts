// Type-checked by `pnpm check`. Let AuthConfig pick the credential from options, env and ~/.databrickscfg.
import { AuthConfig, WorkspaceClient } from "@effect-databricks/auth"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

const Live = WorkspaceClient.layer().pipe(
  Layer.provideMerge(AuthConfig.layer({ profile: "dev" })),
  // HTTP for the OAuth methods; a CommandExecutor for databricks-cli.
  Layer.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
)

export const program = Effect.gen(function*() {
  const resolved = yield* AuthConfig.AuthConfig
  yield* Console.log(`Authenticating with ${AuthConfig.describe(resolved)}`)
  const me = yield* WorkspaceClient.currentUser
  yield* Console.log(`Hello, ${me.displayName}!`)
}).pipe(
  Effect.provide(Live),
  // Two methods configured, none configured, a missing profile, a malformed file: all ConfigurationError.
  Effect.catchTag("ConfigurationError", (error) => Console.error(`${error.message}\n${error.hint ?? ""}`))
)

// Inspect the resolution without building a credential.
export const whoWouldIBe = Effect.map(AuthConfig.resolve(), AuthConfig.describe)
