// Type-checked by `pnpm check`. OAuth M2M for a service principal, with explicit options.
import { LocalM2M, WorkspaceClient } from "@effect-databricks/auth"
import { NodeHttpClient } from "@effect/platform-node"
import { Config, Console, Effect, Layer } from "effect"

const Credentials = Layer.unwrapEffect(
  Effect.gen(function*() {
    const host = yield* Config.string("DATABRICKS_HOST")
    const clientId = yield* Config.string("DATABRICKS_CLIENT_ID")
    const clientSecret = yield* Config.redacted("DATABRICKS_CLIENT_SECRET")
    return LocalM2M.layer({ host, clientId, clientSecret, scopes: ["all-apis"], refreshAhead: "10 minutes" })
  })
)

export const program = Effect.gen(function*() {
  const me = yield* WorkspaceClient.currentUser
  yield* Console.log(`Hello, ${me.displayName}!`)
}).pipe(
  Effect.catchTags({
    AuthenticationError: (error) =>
      Console.error(`${error.oauthError ?? "auth"}: ${error.message}. ${error.hint ?? ""}`),
    RateLimitError: (error) => Console.error(`rate limited; retry after ${error.retryAfter}`)
  }),
  Effect.provide(
    WorkspaceClient.layer().pipe(Layer.provideMerge(Credentials), Layer.provide(NodeHttpClient.layerUndici))
  )
)
