// Type-checked by `pnpm check`. A browser login for a person, cached and refreshed; CLI tokens as a fallback.
import { DatabricksCli, TokenCache, U2MPkce, WorkspaceClient } from "@effect-databricks/auth"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Config, Console, Effect, Layer } from "effect"

// DATABRICKS_HOST, and optionally DATABRICKS_U2M_CLIENT_ID (default databricks-cli), DATABRICKS_U2M_CLIENT_SECRET
// and DATABRICKS_REDIRECT_URI, as U2MPkce.config reads them; other options as Configs too.
const BrowserLogin = U2MPkce.layerConfig({ ...U2MPkce.config, loginTimeout: Config.succeed("3 minutes") })

// In tests or short-lived processes: keep tokens in memory instead of ~/.config/effect-databricks/oauth.
export const InMemory = (host: string, clientId: string) =>
  U2MPkce.layer({ host, clientId, tokenCache: TokenCache.memory(), interactive: false })

// Tokens from `databricks auth token --profile dev` (the CLI must be installed and logged in).
export const FromCli = DatabricksCli.layer({ profile: "dev" }).pipe(Layer.provide(NodeContext.layer))

export const program = Effect.gen(function*() {
  const me = yield* WorkspaceClient.currentUser
  yield* Console.log(`Hello, ${me.displayName}!`)
}).pipe(
  Effect.catchTag("AuthenticationError", (error) => Console.error(`${error.message}\n${error.hint ?? ""}`)),
  Effect.provide(
    WorkspaceClient.layer().pipe(Layer.provideMerge(BrowserLogin), Layer.provide(NodeHttpClient.layerUndici))
  )
)
