/**
 * `metadata-service`: tokens from a local Databricks metadata service, the
 * token server that tools such as IDE extensions run for the Databricks SDKs
 * (`DATABRICKS_METADATA_SERVICE_URL`).
 *
 * - Each token is a `GET` of the URL with `X-Databricks-Metadata-Version: 1`
 *   and `X-Databricks-Host` set to the workspace host; the answer is
 *   `{ access_token, token_type, expires_on }`. A server that serves another
 *   host refuses with a 4xx, which is an `AuthenticationError` that says so.
 * - Only a loopback URL (`localhost`, `127.0.0.1`) is accepted, as the
 *   Databricks Go SDK accepts. The URL is treated as a secret: messages show
 *   its origin only.
 * - Tokens are cached and refreshed ahead of `expires_on`; each request has a
 *   deadline (10 s), and 429, 5xx and network failures are retried.
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
import * as Credential from "./internal/credential.js"
import * as internal from "./internal/metadataService.js"
import type * as Retry from "./internal/retry.js"
import type * as TokenSource from "./TokenSource.js"

/**
 * @since 0.3.0
 * @category options
 */
export interface Options {
  /** The workspace URL (`DATABRICKS_HOST`), sent as `X-Databricks-Host`. */
  readonly host: string
  /** The metadata service's URL (`DATABRICKS_METADATA_SERVICE_URL`). */
  readonly url: Redacted.Redacted<string>
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** Deadline for one request. Default 10 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Transient-failure retries: `times` (default 4), `base` (250 ms), `maxDelay` (5 s). */
  readonly retry?: Retry.RetryOptions | undefined
}

/**
 * The default `layerConfig` reads: `DATABRICKS_HOST` and
 * `DATABRICKS_METADATA_SERVICE_URL`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  host: Config.string("DATABRICKS_HOST"),
  url: Config.redacted("DATABRICKS_METADATA_SERVICE_URL")
}

const credential = Credential.make({
  build: internal.make,
  optionNames: internal.optionNames,
  envNames: internal.envNames,
  config,
  hints: {
    DATABRICKS_HOST: "Set it to the workspace URL",
    DATABRICKS_METADATA_SERVICE_URL:
      "Set it to the URL the tool that runs the metadata service gives (http://127.0.0.1:<port>/<path>)"
  },
  notAnObject: {
    message: "MetadataService needs an options object with host and url",
    hint: "Pass { host, url: Redacted.make(...) }, or use MetadataService.layerConfig()"
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
 * `ConfigurationError` naming it.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> => credential.layerConfig(options)
