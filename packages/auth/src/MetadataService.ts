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
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { ConfigurationError } from "./DatabricksError.js"
import * as Settings from "./internal/config.js"
import * as internal from "./internal/metadataService.js"
import type * as Retry from "./internal/retry.js"
import * as TokenSource from "./TokenSource.js"

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
 * @since 0.3.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.suspend(() =>
    typeof options !== "object" || options === null
      ? Effect.fail(
        new ConfigurationError({
          setting: "options",
          message: "MetadataService needs an options object with host and url",
          hint: "Pass { host, url: Redacted.make(...) }, or use MetadataService.layerConfig()"
        })
      )
      : internal.make(options, internal.optionNames)
  )

/**
 * @since 0.3.0
 * @category layers
 */
export const layer = (
  options: Options
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> =>
  Layer.scoped(TokenSource.TokenSource, make(options))

/**
 * Reads `DATABRICKS_HOST` and `DATABRICKS_METADATA_SERVICE_URL`.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerConfig = (
  options?: Omit<Options, "host" | "url">
): Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient> =>
  Layer.scoped(
    TokenSource.TokenSource,
    Effect.gen(function*() {
      const names = internal.envNames
      const host = yield* Settings.nonBlank(yield* Settings.env(names.host), {
        name: names.host,
        hint: "Set it to the workspace URL"
      })
      const url = yield* Settings.envSecret(names.url)
      return yield* internal.make({ ...options, host, url: url! }, names)
    })
  )
