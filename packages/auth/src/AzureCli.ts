/**
 * `azure-cli`: Entra ID tokens from the Azure CLI, `az account
 * get-access-token --resource 2ff814a6-3304-4ab8-85cb-cd0e6f879c1d --output
 * json`, for developers and CI jobs that already ran `az login`.
 *
 * - The command runs through @effect/platform `Command` with a deadline
 *   (`timeout`, 30 s), so the layer requires a `CommandExecutor`
 *   (`NodeContext.layer`). Its stderr is redacted before it is quoted.
 * - `--tenant` is passed when `tenantId` (`ARM_TENANT_ID`) is set; otherwise
 *   the subscription of the workspace resource id is tried first, as the
 *   Databricks SDKs do. The expiry is `expires_on` (newer CLIs), else
 *   `expiresOn` in local time, else the JWT `exp`.
 * - With the workspace resource id (`DATABRICKS_AZURE_RESOURCE_ID`), requests
 *   carry `X-Databricks-Azure-Workspace-Resource-Id`, and for a service
 *   principal login the management token too (skipped when the CLI cannot
 *   get one), as the Databricks SDKs send them.
 * - A missing CLI, a login that is missing or expired, a non-zero exit, a
 *   timeout or output that is not a token is an `AuthenticationError` that
 *   says what to do.
 *
 * @since 0.3.0
 */
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { ConfigurationError } from "./DatabricksError.js"
import * as internal from "./internal/azureCli.js"
import * as Credential from "./internal/credential.js"
import type * as TokenSource from "./TokenSource.js"

/**
 * @since 0.3.0
 * @category options
 */
export interface Options {
  /** The tenant to ask in (`ARM_TENANT_ID`): passed as `--tenant`. */
  readonly tenantId?: string | undefined
  /** The workspace's Azure resource id (`DATABRICKS_AZURE_RESOURCE_ID`): its subscription, and Azure's headers. */
  readonly workspaceResourceId?: string | undefined
  /** `PUBLIC` (default), `USGOVERNMENT` or `CHINA` (`ARM_ENVIRONMENT`): the management resource. */
  readonly environment?: string | undefined
  /** The resource to ask a token for. Default the Azure Databricks application, `2ff814a6-…`. */
  readonly resource?: string | undefined
  /** The CLI executable. Default `az` on the `PATH`. */
  readonly cliPath?: string | undefined
  /** Deadline for one run of the CLI. Default 30 seconds. */
  readonly timeout?: Duration.DurationInput | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
}

/**
 * The default `layerConfig` reads, each when set: `ARM_TENANT_ID`,
 * `DATABRICKS_AZURE_RESOURCE_ID` and `ARM_ENVIRONMENT`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  tenantId: Credential.optional("ARM_TENANT_ID"),
  workspaceResourceId: Credential.optional("DATABRICKS_AZURE_RESOURCE_ID"),
  environment: Credential.optional("ARM_ENVIRONMENT")
}

const credential = Credential.make({
  build: internal.make,
  optionNames: internal.optionNames,
  envNames: internal.envNames,
  config,
  hints: {},
  notAnObject: { message: "AzureCli takes an options object", hint: "Pass {} or leave it out" },
  optional: true
})

/**
 * @since 0.3.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  CommandExecutor.CommandExecutor | Scope.Scope
> => credential.make(options)

/**
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, CommandExecutor.CommandExecutor> =>
  credential.layer(options)

/**
 * Reads the options through `Config`: by default `config`, the names the
 * Databricks SDKs read. A setting that is unreadable is a
 * `ConfigurationError` naming it. Other options go in the same `Config`, for
 * example `{ ...AzureCli.config, cliPath: Config.succeed("/opt/az/bin/az") }`.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, CommandExecutor.CommandExecutor> =>
  credential.layerConfig(options)
