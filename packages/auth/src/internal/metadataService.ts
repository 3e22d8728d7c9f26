import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { AuthenticationError, ConfigurationError } from "../DatabricksError.js"
import type { Options } from "../MetadataService.js"
import * as TokenSource from "../TokenSource.js"
import * as WorkspaceHost from "../WorkspaceHost.js"
import * as Oidc from "./oidc.js"
import * as OptionChecks from "./options.js"
import * as TokenServer from "./tokenServer.js"
import * as TokenValue from "./tokenValue.js"

/**
 * @internal
 *
 * `metadata-service`: the Databricks SDKs' local token-server contract
 * (databricks-sdk-go config/auth_metadata_service.go): `GET` the URL with
 * `X-Databricks-Metadata-Version: 1` and `X-Databricks-Host: <host>`; the
 * answer is `{ access_token, token_type, expires_on }` (epoch seconds); the
 * server refuses another host with a 4xx. Only loopback URLs are accepted,
 * as the Go SDK accepts only localhost ones. The URL is a secret (the Python
 * SDK marks it sensitive: its path is what keeps other processes out), so
 * messages show its origin only.
 */

export interface Names {
  readonly host: string
  readonly url: string
}

export const optionNames: Names = { host: "host", url: "url" }
export const envNames: Names = { host: "DATABRICKS_HOST", url: "DATABRICKS_METADATA_SERVICE_URL" }

export const make = (options: Options, names: Names): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    yield* OptionChecks.optionalString(options.host, names.host, "Set it to the workspace URL")
    const host = yield* WorkspaceHost.make(options.host, { setting: names.host })
    const url = yield* TokenValue.configuredSecret(options.url, {
      name: names.url,
      hint: "Set it to the URL the tool that runs the metadata service gives (http://127.0.0.1:<port>/<path>)"
    })
    yield* OptionChecks.durations(options, ["refreshAhead", "requestTimeout"])
    const bad = (problem: string) =>
      new ConfigurationError({
        setting: names.url,
        message: `${names.url} ${problem} (the URL is not shown)`,
        hint: "Use the http://localhost or http://127.0.0.1 URL of the local metadata service"
      })
    let parsed: URL
    try {
      parsed = new URL(Redacted.value(url))
    } catch {
      return yield* Effect.fail(bad("is not a valid URL"))
    }
    if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return yield* Effect.fail(bad("is not http(s)"))
    if (!WorkspaceHost.isLoopback(parsed.hostname)) {
      return yield* Effect.fail(bad("must point to this machine (localhost or 127.0.0.1)"))
    }
    const what = `The metadata service at ${parsed.origin}`
    const requestTimeout = Duration.decode(options.requestTimeout ?? Duration.seconds(10))

    const fetch = TokenServer.fetch({
      url: Redacted.value(url),
      headers: { "X-Databricks-Metadata-Version": "1", "X-Databricks-Host": host.url },
      what,
      secrets: [url, parsed.pathname.length > 1 ? parsed.pathname.slice(1) : undefined],
      requestTimeout,
      retry: options.retry,
      requireExpiresOn: true,
      refused: (details) =>
        new AuthenticationError({
          message: `${what} refused a token for ${host.url} (HTTP ${details.status})${
            details.description === undefined ? "" : `: ${details.description}`
          }`,
          status: details.status,
          hint: details.status === 400
            ? "The metadata service does not speak X-Databricks-Metadata-Version 1: update the tool that runs it"
            : `It does not serve tokens for ${host.url}, or the URL is stale: check ${names.host} and ${names.url} (restart the tool that runs the metadata service)`
        })
    }).pipe(
      Effect.mapError((error) =>
        error._tag === "NetworkError" || error._tag === "TimeoutError"
          ? new AuthenticationError({
            message: `${what} could not be reached: ${error.message}`,
            hint: `Start the tool that runs the metadata service (an IDE extension), or unset ${names.url}`,
            cause: error
          })
          : Oidc.asAuthenticationError(error, "Could not obtain a token from the metadata service")
      ),
      Effect.withSpan("MetadataService.fetchToken", { attributes: { "databricks.host": host.url } })
    )
    return yield* TokenSource.make(fetch, { authType: "metadata-service", refreshAhead: options.refreshAhead })
  })
