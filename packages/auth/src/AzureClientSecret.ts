/**
 * `azure-client-secret`: a Microsoft Entra ID service principal's client id
 * and secret exchanged for Azure Databricks tokens (client credentials).
 *
 * - Tokens come from `{authorityHost}/{tenantId}/oauth2/v2.0/token` for the
 *   Azure Databricks resource, `2ff814a6-3304-4ab8-85cb-cd0e6f879c1d/.default`.
 *   The authority is the Azure cloud's (`ARM_ENVIRONMENT`: `PUBLIC`,
 *   `USGOVERNMENT`, `CHINA`) unless `AZURE_AUTHORITY_HOST` names another, as
 *   the Azure SDKs read it.
 * - With the workspace's Azure resource id (`DATABRICKS_AZURE_RESOURCE_ID`),
 *   every request also carries `X-Databricks-Azure-Workspace-Resource-Id` and
 *   a token for the Azure service management resource in
 *   `X-Databricks-Azure-SP-Management-Token`, as the Databricks SDKs send
 *   them: Azure Databricks then admits a service principal that holds
 *   Contributor on the workspace before it was added to it. The headers reach
 *   `WorkspaceClient` and `SqlClient` through `TokenSource.headers`.
 * - Tokens are cached and refreshed ahead of expiry by `TokenSource.make`;
 *   429, 5xx, timeouts and network failures are retried with backoff. An
 *   Entra ID refusal fails at once, as an `AuthenticationError` with the OAuth
 *   error, the `AADSTS` code and its text, and a hint for that code.
 *
 * @since 0.3.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { ConfigurationError } from "./DatabricksError.js"
import * as internal from "./internal/azureClientSecret.js"
import * as Credential from "./internal/credential.js"
import type * as Retry from "./internal/retry.js"
import type * as TokenSource from "./TokenSource.js"

/**
 * @since 0.3.0
 * @category options
 */
export interface Options {
  /** The app registration's Application (client) ID (`ARM_CLIENT_ID`). */
  readonly clientId: string
  /** A client secret's Value (`ARM_CLIENT_SECRET`). */
  readonly clientSecret: Redacted.Redacted<string>
  /** The Directory (tenant) ID (`ARM_TENANT_ID`). */
  readonly tenantId: string
  /**
   * The workspace's Azure resource id (`DATABRICKS_AZURE_RESOURCE_ID`),
   * `/subscriptions/…/resourceGroups/…/providers/Microsoft.Databricks/workspaces/…`:
   * sends Azure's management-token headers.
   */
  readonly workspaceResourceId?: string | undefined
  /** `PUBLIC` (default), `USGOVERNMENT` or `CHINA` (`ARM_ENVIRONMENT`): the cloud's authority and management resource. */
  readonly environment?: string | undefined
  /** The Entra ID authority (`AZURE_AUTHORITY_HOST`); default the cloud's, `https://login.microsoftonline.com`. */
  readonly authorityHost?: string | undefined
  /** The resource to ask a token for. Default the Azure Databricks application, `2ff814a6-…`. */
  readonly resource?: string | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** Deadline for one request to Entra ID. Default 30 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Transient-failure retries: `times` (default 4), `base` (250 ms), `maxDelay` (5 s). */
  readonly retry?: Retry.RetryOptions | undefined
}

const optional = Credential.optional

/**
 * The default `layerConfig` reads: `ARM_CLIENT_ID`, `ARM_CLIENT_SECRET`,
 * `ARM_TENANT_ID`, and when set `DATABRICKS_AZURE_RESOURCE_ID`,
 * `ARM_ENVIRONMENT` and `AZURE_AUTHORITY_HOST`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  clientId: Config.string("ARM_CLIENT_ID"),
  clientSecret: Config.redacted("ARM_CLIENT_SECRET"),
  tenantId: Config.string("ARM_TENANT_ID"),
  workspaceResourceId: optional("DATABRICKS_AZURE_RESOURCE_ID"),
  environment: optional("ARM_ENVIRONMENT"),
  authorityHost: optional("AZURE_AUTHORITY_HOST")
}

const credential = Credential.make({
  build: internal.make,
  optionNames: internal.optionNames,
  envNames: internal.envNames,
  config,
  hints: {
    ARM_CLIENT_ID: "Set it to the app registration's Application (client) ID",
    ARM_CLIENT_SECRET: "Set it to a client secret's Value from the app registration's Certificates & secrets",
    ARM_TENANT_ID: "Set it to the app registration's Directory (tenant) ID"
  },
  notAnObject: {
    message: "AzureClientSecret needs an options object with clientId, clientSecret and tenantId",
    hint: "Pass { clientId, clientSecret: Redacted.make(...), tenantId }, or use AzureClientSecret.layerConfig()"
  }
})

/**
 * @since 0.3.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> => credential.make(options)

/**
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layer(options)

/**
 * Reads the options through `Config`: by default `config`, the names the
 * Databricks SDKs read. A setting that is missing or unreadable is a
 * `ConfigurationError` naming it. Other options go in the same `Config`, for
 * example `{ ...AzureClientSecret.config, requestTimeout: Config.succeed("10 seconds") }`.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layerConfig(options)
