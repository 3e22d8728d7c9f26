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
import * as Redaction from "../Redaction.js"
import * as WorkspaceHost from "../WorkspaceHost.js"
import * as HttpErrors from "./httpErrors.js"
import * as Redirects from "./redirects.js"
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
    return bad(`${JSON.stringify(Redaction.redact(url, { maxLength: 80 }))} is not a valid URL`)
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

/** Form parameters whose values are secrets: removed from any error text built from the answer. */
const secretParameters: ReadonlySet<string> = new Set([
  "client_secret",
  "refresh_token",
  "code",
  "code_verifier",
  "subject_token",
  "actor_token",
  "assertion",
  "client_assertion",
  "password"
])

/** The secrets a token request carries: its secret parameters and its Basic credentials, as sent. */
const requestSecrets = (
  params: Readonly<Record<string, string>>,
  basic: GrantOptions["basic"]
): ReadonlyArray<Redaction.Secret> => {
  const secrets: Array<Redaction.Secret> = Object.entries(params)
    .filter(([name]) => secretParameters.has(name))
    .map(([, value]) => value)
  if (basic !== undefined) {
    secrets.push(basic.secret)
    // The Authorization value itself, in case a server echoes it without the "Basic" in front.
    secrets.push(Buffer.from(`${basic.id}:${Redacted.value(basic.secret)}`).toString("base64"))
  }
  return secrets
}

/**
 * Endpoints from discovery must be on the workspace's own origin: the discovery answer decides where the
 * client secret, refresh token and code go, so a hostile or misconfigured answer must not send them elsewhere.
 * Only an endpoint the user configured explicitly (`tokenEndpoint`) may be on another origin.
 */
const onWorkspaceOrigin = (
  url: string,
  field: string,
  host: WorkspaceHost.WorkspaceHost,
  context: { readonly what: string; readonly hint: string }
): Either.Either<string, AuthenticationError> => {
  const checked = checkEndpoint(url, field)
  if (Either.isLeft(checked)) {
    return Either.left(
      new AuthenticationError({ message: `${context.what} returned an unusable ${field}`, hint: context.hint })
    )
  }
  const origin = new URL(checked.right).origin
  if (origin === host.url) return Either.right(checked.right)
  return Either.left(
    new AuthenticationError({
      message: `${context.what} returned a ${field} on ${
        Redaction.redact(origin, { maxLength: 120 })
      }, which is not the workspace's origin ${host.url}; no credentials were sent to it`,
      hint: context.hint
    })
  )
}

export const make = (options: {
  readonly host: WorkspaceHost.WorkspaceHost
  /** How the host is named to the user (`host`, `DATABRICKS_HOST`). */
  readonly hostSetting: string
  readonly tokenEndpoint: Option.Option<string>
  /** The setting that configures a token endpoint explicitly, if the caller has one (`tokenEndpoint`). */
  readonly tokenEndpointSetting?: string | undefined
  /** The client's own secrets (its client secret): removed from every error text built from an answer. */
  readonly secrets: ReadonlyArray<Redaction.Secret>
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
      Redirects.execute(http, request).pipe(
        Effect.mapError((error) => HttpErrors.fromTransport(error, what)),
        Effect.timeoutFail({
          duration: options.requestTimeout,
          onTimeout: () => HttpErrors.timeout(what, options.requestTimeout)
        }),
        // A redirect would take the client secret, the refresh token or the code elsewhere: never followed.
        Effect.filterOrFail(
          (response) => Redirects.refusal(request, response, what) === undefined,
          (response) =>
            new AuthenticationError({
              message: Redirects.refusal(request, response, what)!,
              status: response.status,
              hint: Redirects.hint
            })
        )
      )

    const discover: Effect.Effect<Endpoints, DatabricksError> = Effect.gen(function*() {
      const what = `OIDC discovery at ${discoveryUrl}`
      const response = yield* send(HttpClientRequest.get(discoveryUrl).pipe(HttpClientRequest.acceptJson), what)
      if (response.status !== 200) {
        const details = yield* HttpErrors.errorDetails(response, options.secrets)
        return yield* Effect.fail(
          HttpErrors.fromStatus(details, what) ?? new AuthenticationError({
            message: `${what} answered HTTP ${response.status}`,
            status: response.status,
            hint: notAWorkspace
          })
        )
      }
      const body = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
      const metadata = Schema.decodeUnknownOption(Discovery)(body)
      if (Option.isNone(metadata)) {
        return yield* Effect.fail(
          new AuthenticationError({ message: `${what} did not return usable endpoints`, hint: notAWorkspace })
        )
      }
      const context = {
        what,
        hint: options.tokenEndpointSetting === undefined
          ? notAWorkspace
          : `${notAWorkspace}; a token endpoint on another origin must be set explicitly with ${options.tokenEndpointSetting}`
      }
      const token = yield* onWorkspaceOrigin(metadata.value.token_endpoint, "token_endpoint", options.host, context)
      const authorization = metadata.value.authorization_endpoint === undefined
        ? undefined
        : yield* onWorkspaceOrigin(
          metadata.value.authorization_endpoint,
          "authorization_endpoint",
          options.host,
          context
        )
      const endpoints: Endpoints = { token, authorization }
      yield* Ref.set(discovered, Option.some(endpoints))
      return endpoints
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
          // An own-property lookup: an error code such as "constructor" must not find Object's prototype.
          hint: details.errorCode !== undefined && Object.hasOwn(grant.hints, details.errorCode)
            ? grant.hints[details.errorCode]
            : grant.defaultHint
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
            const secrets = [...options.secrets, ...requestSecrets(params, grantOptions.basic)]
            return yield* Effect.fail(refused(yield* HttpErrors.errorDetails(response, secrets), grantOptions))
          }
          return yield* granted(response)
        }).pipe(Effect.retry(Retry.transient("the token request", options.retry))))

    return { endpoints, grant }
  })
