// Type-checked by `pnpm check`. Azure Databricks with Microsoft Entra ID: a client secret, `az login`, or a managed identity.
import { AzureCli, AzureClientSecret, AzureMsi, WorkspaceClient } from "@effect-databricks/auth"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

// ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID (and DATABRICKS_AZURE_RESOURCE_ID for a principal that is
// not yet in the workspace).
export const WithSecret = AzureClientSecret.layerConfig()

// A laptop or a CI job after `az login`; runs `az account get-access-token`, so it needs a CommandExecutor.
export const WithAzCli = AzureCli.layerConfig().pipe(Layer.provide(NodeContext.layer))

// An Azure VM, App Service or AKS pod with a managed identity (ARM_CLIENT_ID for a user-assigned one).
export const WithManagedIdentity = AzureMsi.layerConfig()

export const program = Effect.gen(function*() {
  const me = yield* WorkspaceClient.currentUser
  yield* Console.log(`Hello, ${me.displayName}!`)
}).pipe(
  // An Entra ID refusal carries its AADSTS code in oauthErrorDescription and a hint for it.
  Effect.catchTag("AuthenticationError", (error) => Console.error(`${error.message}\n${error.hint ?? ""}`)),
  Effect.provide(
    WorkspaceClient.layer().pipe(Layer.provideMerge(WithSecret), Layer.provide(NodeHttpClient.layerUndici))
  )
)
