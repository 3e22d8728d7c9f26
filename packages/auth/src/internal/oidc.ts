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
import { AuthenticationError, ConfigurationError, type DatabricksError } from "../DatabricksError.js"
import * as WorkspaceHost from "../WorkspaceHost.js"
import * as HttpErrors from "./httpErrors.js"
import * as Retry from "./retry.js"

/**
 * The OAuth client both LocalM2M and U2MPkce use: discovery (cached after the
 * first success only) and token-endpoint grants with a deadline, transient
 * retries and OAuth errors turned into `AuthenticationError`s with hints.
 */

export interface Endpoints {
  readonly authorization: string | undefined
  readonly token: string
}

/** A successful token-endpoint answer. */
export interface Grant {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string> | undefined
  readonly expiresIn: Duration.Duration | undefined
}

export interface GrantOptions {
  /** What the grant is, for messages: "the client credentials", "the refresh token". */
  readonly what: string
  readonly basic?: { readonly id: string; readonly secret: Redacted.Redacted<string> } | undefined
  /** Hints by OAuth `error` code, and the one for any other. */
  readonly hints: Readonly<Record<string, string>>
  readonly defaultHint: string
}

export interface Client {
  readonly endpoints: Effect.Effect<Endpoints, DatabricksError>
  readonly grant: (params: Record<string, string>, options: GrantOptions) => Effect.Effect<Grant, DatabricksError>
}

const Discovery = Schema.Struct({
  token_endpoint: Schema.String,
  authorization_endpoint: Schema.optional(Schema.String)
})
const TokenResponse = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  token_type: Schema.optional(Schema.String),
  refresh_token: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.Number.pipe(Schema.nonNegative()))
})

/** An endpoint URL must be https (or http on loopback) and carry no credentials. */
export const checkEndpoint = (url: string, setting: string): Either.Either<string, ConfigurationError> => {
  const bad = (problem: string) =>
    Either.left(
      new ConfigurationError({
        setting,
        message: `${setting} ${problem}`,
        hint: "Use the full URL of the endpoint, for example https://<workspace>/oidc/v1/token"
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

/** OAuth scopes as the space-separated `scope` parameter; a bad list is a `ConfigurationError`. */
export const scopeParameter = (
  scopes: ReadonlyArray<string>,
  defaultScopes: ReadonlyArray<string>
): Either.Either<string, ConfigurationError> => {
  const bad = scopes.length === 0 || scopes.some((scope) => scope.trim() === "" || /\s/.test(scope.trim()))
  return bad
    ? Either.left(
      new ConfigurationError({
        setting: "scopes",
        message: "scopes must be a non-empty list of scope names without spaces",
        hint: `Leave it out for the default ${JSON.stringify(defaultScopes)}`
      })
    )
    : Either.right(scopes.map((scope) => scope.trim()).join(" "))
}

/** Any failure on the way to a token, as the `AuthenticationError` a `TokenSource` fails with. */
export const asAuthenticationError = (error: DatabricksError, context: string): AuthenticationError =>
  error._tag === "AuthenticationError" ? error : new AuthenticationError({
    message: `${context}: ${error.message}`,
    ...(error.hint === undefined ? {} : { hint: error.hint }),
    cause: error
  })

export const make = (options: {
  readonly host: WorkspaceHost.WorkspaceHost
  /** How the host is named to the user (`host`, `DATABRICKS_HOST`). */
  readonly hostSetting: string
  readonly tokenEndpoint: Option.Option<string>
  readonly requestTimeout: Duration.Duration
  readonly retry: Retry.RetryOptions | undefined
}): Effect.Effect<Client, never, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    const discovered = yield* Ref.make(
      Option.map(options.tokenEndpoint, (token): Endpoints => ({ authorization: undefined, token }))
    )
    const discoveryUrl = `${options.host.url}/oidc/.well-known/oauth-authorization-server`
    const notAWorkspace = `Check that ${options.hostSetting} is the workspace URL`

    /** One HTTP exchange: a transport failure or a timeout becomes a tagged error; the answer is passed on. */
    const send = (request: HttpClientRequest.HttpClientRequest, what: string) =>
      http.execute(request).pipe(
        Effect.mapError((error) => HttpErrors.fromTransport(error, what)),
        Effect.timeoutFail({
          duration: options.requestTimeout,
          onTimeout: () => HttpErrors.timeout(what, options.requestTimeout)
        })
      )

    const discover: Effect.Effect<Endpoints, DatabricksError> = Effect.gen(function*() {
      const what = `OIDC discovery at ${discoveryUrl}`
      const response = yield* send(HttpClientRequest.get(discoveryUrl).pipe(HttpClientRequest.acceptJson), what)
      if (response.status !== 200) {
        const details = yield* HttpErrors.errorDetails(response)
        return yield* Effect.fail(
          HttpErrors.fromStatus(details, what) ?? new AuthenticationError({
            message: `${what} answered HTTP ${response.status}`,
            status: response.status,
            hint: notAWorkspace
          })
        )
      }
      const body = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
      const endpoints = Option.flatMap(Schema.decodeUnknownOption(Discovery)(body), (metadata) =>
        Option.all({
          token: Either.getRight(checkEndpoint(metadata.token_endpoint, "token_endpoint")),
          authorization: metadata.authorization_endpoint === undefined
            ? Option.some(undefined)
            : Option.map(Either.getRight(checkEndpoint(metadata.authorization_endpoint, "authorization_endpoint")), (
              url
            ): string | undefined => url)
        }))
      if (Option.isNone(endpoints)) {
        return yield* Effect.fail(
          new AuthenticationError({ message: `${what} did not return usable endpoints`, hint: notAWorkspace })
        )
      }
      yield* Ref.set(discovered, endpoints)
      return endpoints.value
    }).pipe(Effect.retry(Retry.transient("OIDC discovery", options.retry)))

    const endpoints = Effect.flatMap(
      Ref.get(discovered),
      Option.match({ onNone: () => discover, onSome: Effect.succeed })
    )

    const refused = (details: HttpErrors.ErrorDetails, grant: GrantOptions): DatabricksError =>
      details.status === 429 || details.status >= 500
        ? HttpErrors.fromStatus(details, "the token endpoint")!
        : new AuthenticationError({
          message: `The token endpoint refused ${grant.what} (HTTP ${details.status})${
            details.errorCode === undefined ? "" : `: ${details.errorCode}`
          }${details.description === undefined ? "" : ` (${details.description})`}`,
          status: details.status,
          ...(details.errorCode === undefined ? {} : { oauthError: details.errorCode }),
          ...(details.description === undefined ? {} : { oauthErrorDescription: details.description }),
          hint: grant.hints[details.errorCode ?? ""] ?? grant.defaultHint
        })

    const granted = (response: HttpClientResponse.HttpClientResponse) =>
      Effect.gen(function*() {
        const body = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
        // The decode error is dropped on purpose: it would print the body, tokens included.
        const token = Schema.decodeUnknownOption(TokenResponse)(body)
        if (Option.isNone(token) || (token.value.token_type ?? "bearer").toLowerCase() !== "bearer") {
          return yield* Effect.fail(
            new AuthenticationError({
              message: "The token endpoint answered 200 without a usable bearer access_token",
              hint: "Check that the token endpoint is a Databricks /oidc/v1/token endpoint"
            })
          )
        }
        const { access_token, expires_in, refresh_token } = token.value
        return {
          accessToken: Redacted.make(access_token),
          refreshToken: refresh_token === undefined || refresh_token === "" ? undefined : Redacted.make(refresh_token),
          expiresIn: expires_in === undefined ? undefined : Duration.seconds(expires_in)
        } satisfies Grant
      })

    const grant = (params: Record<string, string>, grantOptions: GrantOptions) =>
      Effect.flatMap(endpoints, (found) =>
        Effect.gen(function*() {
          let request = HttpClientRequest.post(found.token).pipe(
            HttpClientRequest.acceptJson,
            HttpClientRequest.bodyUrlParams(params)
          )
          if (grantOptions.basic !== undefined) {
            request = HttpClientRequest.basicAuth(
              request,
              grantOptions.basic.id,
              Redacted.value(grantOptions.basic.secret)
            )
          }
          const response = yield* send(request, "the token endpoint")
          if (response.status !== 200) {
            return yield* Effect.fail(refused(yield* HttpErrors.errorDetails(response), grantOptions))
          }
          return yield* granted(response)
        }).pipe(Effect.retry(Retry.transient("the token request", options.retry))))

    return { endpoints, grant }
  })
