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
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { ConfigurationError } from "./DatabricksError.js"
import * as internal from "./internal/azureCli.js"
import * as Settings from "./internal/config.js"
import * as TokenSource from "./TokenSource.js"

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
 * @since 0.3.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  CommandExecutor.CommandExecutor | Scope.Scope
> =>
  Effect.suspend(() =>
    options !== undefined && (typeof options !== "object" || options === null)
      ? Effect.fail(
        new ConfigurationError({
          setting: "options",
          message: "AzureCli takes an options object",
          hint: "Pass {} or leave it out"
        })
      )
      : internal.make(options ?? {}, internal.optionNames)
  )

/**
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, CommandExecutor.CommandExecutor> =>
  Layer.scoped(TokenSource.TokenSource, make(options))

/**
 * Reads `ARM_TENANT_ID`, `DATABRICKS_AZURE_RESOURCE_ID` and `ARM_ENVIRONMENT`,
 * each when set; options given here win.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options?: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, CommandExecutor.CommandExecutor> =>
  Layer.scoped(
    TokenSource.TokenSource,
    Effect.gen(function*() {
      const names = internal.envNames
      return yield* internal.make({
        ...options,
        tenantId: options?.tenantId ?? (yield* Settings.env(names.tenantId)),
        workspaceResourceId: options?.workspaceResourceId ?? (yield* Settings.env(names.workspaceResourceId)),
        environment: options?.environment ?? (yield* Settings.env(names.environment))
      }, names)
    })
  )
