import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { AuthenticationError, ConfigurationError, type DatabricksError } from "../DatabricksError.js"
import type { Options } from "../LocalM2M.js"
import * as TokenSource from "../TokenSource.js"
import * as WorkspaceHost from "../WorkspaceHost.js"
import * as Settings from "./config.js"
import * as HttpErrors from "./httpErrors.js"
import * as Retry from "./retry.js"

/** How the settings are named to the user: options, or environment variables. */
export interface Names {
  readonly host: string
  readonly clientId: string
  readonly clientSecret: string
}

export const optionNames: Names = { host: "host", clientId: "clientId", clientSecret: "clientSecret" }
export const envNames: Names = {
  host: "DATABRICKS_HOST",
  clientId: "DATABRICKS_CLIENT_ID",
  clientSecret: "DATABRICKS_CLIENT_SECRET"
}

const Discovery = Schema.Struct({ token_endpoint: Schema.String })
const TokenResponse = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  token_type: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.Number.pipe(Schema.nonNegative()))
})

const hints = (names: Names): Record<string, string> => ({
  invalid_client:
    `Check ${names.clientId} / ${names.clientSecret}; the service principal needs an OAuth secret (Settings > Identity and access > Service principals > Secrets)`,
  unauthorized_client:
    "The service principal may not use the client_credentials grant; check that OAuth is enabled for it",
  invalid_scope: "Check the scopes; Databricks machine-to-machine tokens use \"all-apis\"",
  invalid_request: "The token endpoint rejected the request; check that it is a Databricks /oidc/v1/token endpoint",
  unsupported_grant_type:
    "The token endpoint does not support client_credentials; check that it is a Databricks endpoint"
})

const checkEndpoint = (url: string, setting: string): Either.Either<string, ConfigurationError> => {
  const bad = (problem: string) =>
    Either.left(
      new ConfigurationError({
        setting,
        message: `${setting} ${problem}`,
        hint: "Use the full URL of the token endpoint, for example https://<workspace>/oidc/v1/token"
      })
    )
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    return bad(`${JSON.stringify(url.slice(0, 80))} is not a valid URL`)
  }
  if (parsed.username !== "" || parsed.password !== "") return bad("must not contain credentials")
  if (parsed.protocol === "https:" || (parsed.protocol === "http:" && WorkspaceHost.isLoopback(parsed.hostname))) {
    return Either.right(parsed.toString())
  }
  return bad("must use https:// (http:// only for loopback hosts)")
}

const checkScopes = (scopes: ReadonlyArray<string>): Either.Either<string, ConfigurationError> => {
  const bad = scopes.length === 0 || scopes.some((scope) => scope.trim() === "" || /\s/.test(scope.trim()))
  return bad
    ? Either.left(
      new ConfigurationError({
        setting: "scopes",
        message: "scopes must be a non-empty list of scope names without spaces",
        hint: "Leave it out for the default [\"all-apis\"]"
      })
    )
    : Either.right(scopes.map((scope) => scope.trim()).join(" "))
}

export const make = (options: Options, names: Names): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const host = yield* WorkspaceHost.make(options.host, { setting: names.host })
    const clientId = yield* Settings.nonBlank(options.clientId, {
      name: names.clientId,
      hint: "Use the service principal's application (client) id"
    })
    const clientSecret = yield* Settings.nonBlankSecret(options.clientSecret, {
      name: names.clientSecret,
      hint: "Use an OAuth secret of the service principal"
    })
    const scope = yield* checkScopes(options.scopes ?? ["all-apis"])
    const configured = options.tokenEndpoint === undefined
      ? Option.none<string>()
      : Option.some(yield* checkEndpoint(options.tokenEndpoint, "tokenEndpoint"))
    const requestTimeout = Duration.decode(options.requestTimeout ?? Duration.seconds(30))
    const http = yield* HttpClient.HttpClient
    const discovered = yield* Ref.make(configured)
    const discoveryUrl = `${host.url}/oidc/.well-known/oauth-authorization-server`
    const oauthHints = hints(names)

    /** One HTTP exchange: a transport failure or timeout becomes a tagged error, the answer is passed on. */
    const send = (request: HttpClientRequest.HttpClientRequest, what: string) =>
      http.execute(request).pipe(
        Effect.mapError((error) => HttpErrors.fromTransport(error, what)),
        Effect.timeoutFail({ duration: requestTimeout, onTimeout: () => HttpErrors.timeout(what, requestTimeout) })
      )

    const discover: Effect.Effect<string, DatabricksError> = Effect.gen(function*() {
      const what = `OIDC discovery at ${discoveryUrl}`
      const response = yield* send(HttpClientRequest.get(discoveryUrl).pipe(HttpClientRequest.acceptJson), what)
      if (response.status !== 200) {
        const details = yield* HttpErrors.errorDetails(response)
        return yield* Effect.fail(
          HttpErrors.fromStatus(details, what) ?? new AuthenticationError({
            message: `${what} answered HTTP ${response.status}`,
            status: response.status,
            hint: `Check that ${names.host} is the workspace URL, or set tokenEndpoint explicitly`
          })
        )
      }
      const body = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
      const metadata = Schema.decodeUnknownOption(Discovery)(body)
      const endpoint = Option.flatMap(
        metadata,
        (m) => Either.getRight(checkEndpoint(m.token_endpoint, "token_endpoint"))
      )
      if (Option.isNone(endpoint)) {
        return yield* Effect.fail(
          new AuthenticationError({
            message: `${what} did not return a usable token_endpoint`,
            hint: `Check that ${names.host} is a Databricks workspace URL, or set tokenEndpoint explicitly`
          })
        )
      }
      yield* Ref.set(discovered, endpoint)
      return endpoint.value
    }).pipe(Effect.retry(Retry.transient("OIDC discovery", options.retry)))

    const tokenEndpoint = Effect.flatMap(
      Ref.get(discovered),
      Option.match({ onNone: () => discover, onSome: Effect.succeed })
    )

    const refused = (details: HttpErrors.ErrorDetails): DatabricksError =>
      details.status === 429 || details.status >= 500
        ? HttpErrors.fromStatus(details, "the token endpoint")!
        : new AuthenticationError({
          message: `The token endpoint refused the client credentials (HTTP ${details.status})${
            details.errorCode === undefined ? "" : `: ${details.errorCode}`
          }${details.description === undefined ? "" : ` (${details.description})`}`,
          status: details.status,
          ...(details.errorCode === undefined ? {} : { oauthError: details.errorCode }),
          ...(details.description === undefined ? {} : { oauthErrorDescription: details.description }),
          hint: oauthHints[details.errorCode ?? ""] ??
            `Check ${names.clientId} / ${names.clientSecret} and that ${names.host} is the right workspace`
        })

    const issued = (response: HttpClientResponse.HttpClientResponse) =>
      Effect.gen(function*() {
        const body = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
        // The decode error is dropped on purpose: it would print the body, token included.
        const token = Schema.decodeUnknownOption(TokenResponse)(body)
        if (Option.isNone(token) || (token.value.token_type ?? "bearer").toLowerCase() !== "bearer") {
          return yield* Effect.fail(
            new AuthenticationError({
              message: "The token endpoint answered 200 without a usable bearer access_token",
              hint: "Check that tokenEndpoint is a Databricks /oidc/v1/token endpoint"
            })
          )
        }
        return {
          value: Redacted.make(token.value.access_token),
          expiresIn: token.value.expires_in === undefined ? undefined : Duration.seconds(token.value.expires_in)
        } satisfies TokenSource.IssuedToken
      })

    const request = (endpoint: string) =>
      Effect.gen(function*() {
        const response = yield* send(
          HttpClientRequest.post(endpoint).pipe(
            HttpClientRequest.basicAuth(clientId, Redacted.value(clientSecret)),
            HttpClientRequest.acceptJson,
            HttpClientRequest.bodyUrlParams({ grant_type: "client_credentials", scope })
          ),
          "the token endpoint"
        )
        if (response.status !== 200) return yield* Effect.fail(refused(yield* HttpErrors.errorDetails(response)))
        return yield* issued(response)
      }).pipe(Effect.retry(Retry.transient("the token request", options.retry)))

    const fetch = tokenEndpoint.pipe(
      Effect.flatMap(request),
      Effect.catchAll((error) =>
        Effect.fail(
          error._tag === "AuthenticationError" ? error : new AuthenticationError({
            message: `Could not obtain an OAuth token for ${clientId}: ${error.message}`,
            ...(error.hint === undefined ? {} : { hint: error.hint }),
            cause: error
          })
        )
      ),
      Effect.withSpan("LocalM2M.fetchToken", { attributes: { "databricks.host": host.url } })
    )

    return yield* TokenSource.make(fetch, { authType: "oauth-m2m", refreshAhead: options.refreshAhead })
  })
