/**
 * `azure-msi`: tokens of an Azure managed identity, for code that runs on an
 * Azure VM, in App Service or an AKS pod with a managed identity.
 *
 * - Tokens come from the Instance Metadata Service's managed-identity
 *   endpoint, `GET http://169.254.169.254/metadata/identity/oauth2/token`
 *   with `Metadata: true`, for the Azure Databricks resource; `clientId`
 *   (`ARM_CLIENT_ID`) picks a user-assigned identity, else the machine's
 *   system-assigned one. `endpoint` (`AZURE_POD_IDENTITY_AUTHORITY_HOST`, the
 *   Azure Identity libraries' name) moves the endpoint, for tests on loopback.
 * - With the workspace's Azure resource id (`DATABRICKS_AZURE_RESOURCE_ID`),
 *   requests carry Azure's management-token headers, as `AzureClientSecret`'s do.
 * - Each request has a deadline (10 s); 404 and 410 (an identity being set
 *   up), 429, 5xx and network failures are retried with backoff. An endpoint
 *   that cannot be reached is an `AuthenticationError` that says where
 *   azure-msi works.
 *
 * @since 0.3.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Config from "effect/Config"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { ConfigurationError } from "./DatabricksError.js"
import * as internal from "./internal/azureMsi.js"
import * as Credential from "./internal/credential.js"
import type * as Retry from "./internal/retry.js"
import type * as TokenSource from "./TokenSource.js"

/**
 * @since 0.3.0
 * @category options
 */
export interface Options {
  /** A user-assigned identity's client id (`ARM_CLIENT_ID`). Default: the system-assigned identity. */
  readonly clientId?: string | undefined
  /** The workspace's Azure resource id (`DATABRICKS_AZURE_RESOURCE_ID`): sends Azure's management-token headers. */
  readonly workspaceResourceId?: string | undefined
  /** The endpoint's base URL (`AZURE_POD_IDENTITY_AUTHORITY_HOST`). Default `http://169.254.169.254`. */
  readonly endpoint?: string | undefined
  /** `PUBLIC` (default), `USGOVERNMENT` or `CHINA` (`ARM_ENVIRONMENT`): the management resource. */
  readonly environment?: string | undefined
  /** The resource to ask a token for. Default the Azure Databricks application, `2ff814a6-…`. */
  readonly resource?: string | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** Deadline for one request to the endpoint. Default 10 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Transient-failure retries: `times` (default 4), `base` (250 ms), `maxDelay` (5 s). */
  readonly retry?: Retry.RetryOptions | undefined
}

const optional = Credential.optional

/**
 * The default `layerConfig` reads, each when set: `ARM_CLIENT_ID`,
 * `DATABRICKS_AZURE_RESOURCE_ID`, `AZURE_POD_IDENTITY_AUTHORITY_HOST` and
 * `ARM_ENVIRONMENT`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  clientId: optional("ARM_CLIENT_ID"),
  workspaceResourceId: optional("DATABRICKS_AZURE_RESOURCE_ID"),
  endpoint: optional("AZURE_POD_IDENTITY_AUTHORITY_HOST"),
  environment: optional("ARM_ENVIRONMENT")
}

const credential = Credential.make({
  build: internal.make,
  optionNames: internal.optionNames,
  envNames: internal.envNames,
  config,
  hints: {},
  notAnObject: {
    message: "AzureMsi takes an options object",
    hint: "Pass {} or leave it out for the system-assigned identity"
  },
  optional: true
})

/**
 * @since 0.3.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> => credential.make(options)

/**
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layer(options)

/**
 * Reads the options through `Config`: by default `config`, the names the
 * Databricks SDKs and the Azure Identity libraries read. A setting that is
 * unreadable is a `ConfigurationError` naming it. Other options go in the same
 * `Config`, for example `{ ...AzureMsi.config, requestTimeout: Config.succeed("5 seconds") }`.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layerConfig(options)
