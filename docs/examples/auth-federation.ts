// Type-checked by `pnpm check`. Workload identity federation: no Databricks secret, only the platform's own token.
import { EnvOidc, FileOidc, GitHubOidc, WorkspaceClient } from "@effect-databricks/auth"
import { NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

// In a GitHub Actions job with `permissions: id-token: write`, DATABRICKS_HOST and DATABRICKS_CLIENT_ID set.
export const InGitHubActions = GitHubOidc.layerConfig()

// In a Kubernetes pod with a projected service-account token (DATABRICKS_OIDC_TOKEN_FILEPATH), re-read every time.
export const InKubernetes = FileOidc.layerConfig()

// Any CI that hands the job a JWT in DATABRICKS_OIDC_TOKEN (or the variable DATABRICKS_OIDC_TOKEN_ENV names).
export const InOtherCi = EnvOidc.layerConfig()

export const program = Effect.gen(function*() {
  const me = yield* WorkspaceClient.currentUser
  yield* Console.log(`Hello, ${me.displayName}!`)
}).pipe(
  // A token the federation policy refuses: the hint compares the token's claims with what the policy expects.
  Effect.catchTag("AuthenticationError", (error) => Console.error(`${error.message}\n${error.hint ?? ""}`)),
  Effect.provide(
    WorkspaceClient.layer().pipe(Layer.provideMerge(InGitHubActions), Layer.provide(NodeHttpClient.layerUndici))
  )
)
