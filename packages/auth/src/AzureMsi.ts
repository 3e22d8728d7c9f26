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
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { ConfigurationError } from "./DatabricksError.js"
import * as internal from "./internal/azureMsi.js"
import * as Settings from "./internal/config.js"
import type * as Retry from "./internal/retry.js"
import * as TokenSource from "./TokenSource.js"

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

/**
 * @since 0.3.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.suspend(() =>
    options !== undefined && (typeof options !== "object" || options === null)
      ? Effect.fail(
        new ConfigurationError({
          setting: "options",
          message: "AzureMsi takes an options object",
          hint: "Pass {} or leave it out for the system-assigned identity"
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
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> =>
  Layer.scoped(TokenSource.TokenSource, make(options))

/**
 * Reads `ARM_CLIENT_ID`, `DATABRICKS_AZURE_RESOURCE_ID`,
 * `AZURE_POD_IDENTITY_AUTHORITY_HOST` and `ARM_ENVIRONMENT`, each when set;
 * options given here win.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options?: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> =>
  Layer.scoped(
    TokenSource.TokenSource,
    Effect.gen(function*() {
      const names = internal.envNames
      return yield* internal.make({
        ...options,
        clientId: options?.clientId ?? (yield* Settings.env(names.clientId)),
        workspaceResourceId: options?.workspaceResourceId ?? (yield* Settings.env(names.workspaceResourceId)),
        endpoint: options?.endpoint ?? (yield* Settings.env(names.endpoint)),
        environment: options?.environment ?? (yield* Settings.env(names.environment))
      }, names)
    })
  )
