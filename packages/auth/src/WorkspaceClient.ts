/**
 * Authenticated REST calls to the workspace: an `HttpClient` bound to the
 * host that adds the bearer token from the `TokenSource` to every request.
 *
 * - A 401, or a 403 for an expired token, makes it `invalidate` the source and
 *   retry once with a new token (not when the source returns the same token,
 *   as a PAT does).
 * - 429 is retried for any request; 5xx and network failures only for
 *   idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE), with exponential
 *   backoff, jitter and `Retry-After` as a floor.
 * - A redirect is never followed, whichever `HttpClient` is provided: a 3xx
 *   with a `Location` is an `ApiError` naming the origin it pointed at.
 * - Failures are tagged: `AuthenticationError`, `PermissionError`,
 *   `RateLimitError`, `ServerError`, `NetworkError`, `TimeoutError`, and
 *   `ApiError` for any other 4xx.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { AuthConfig } from "./AuthConfig.js"
import { AuthenticationError, ConfigurationError, type DatabricksError } from "./DatabricksError.js"
import * as Settings from "./internal/config.js"
import * as HttpErrors from "./internal/httpErrors.js"
import * as OptionChecks from "./internal/options.js"
import * as Redirects from "./internal/redirects.js"
import * as Retry from "./internal/retry.js"
import * as Redaction from "./Redaction.js"
import * as TokenSource from "./TokenSource.js"
import * as WorkspaceHost from "./WorkspaceHost.js"

/**
 * The workspace answered with a 4xx that is not about credentials or rate
 * limits (400, 404, 409, ...), or with a body that could not be read.
 * `errorCode` is Databricks' `error_code` when it sent one.
 *
 * @since 0.1.0
 * @category errors
 */
export class ApiError extends Schema.TaggedError<ApiError>()("ApiError", {
  message: Schema.String,
  status: Schema.Number,
  errorCode: Schema.optional(Schema.String),
  hint: Schema.optional(Schema.String)
}) {}

/**
 * Everything a workspace call can fail with.
 *
 * @since 0.1.0
 * @category errors
 */
export type WorkspaceError = DatabricksError | ApiError

/**
 * The SCIM `Me` answer, trimmed to what apps use.
 *
 * @since 0.1.0
 * @category models
 */
export interface CurrentUser {
  readonly id: string
  readonly userName: string
  readonly displayName: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface WorkspaceClient {
  readonly host: WorkspaceHost.WorkspaceHost
  /**
   * Relative URLs (`/api/2.0/...`) are resolved against the host. The token is sent only to the workspace's
   * origin: a URL that resolves anywhere else fails with a `ConfigurationError` before any request, and a
   * redirect is never followed (an `ApiError` naming where it pointed). 4xx and 5xx answers fail with a tagged
   * error.
   */
  readonly http: HttpClient.HttpClient.With<WorkspaceError>
  readonly currentUser: Effect.Effect<CurrentUser, WorkspaceError>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const WorkspaceClient: Context.Tag<WorkspaceClient, WorkspaceClient> = Context.GenericTag<WorkspaceClient>(
  "@effect-databricks/auth/WorkspaceClient"
)

/**
 * @since 0.1.0
 * @category options
 */
export interface Options {
  /** The workspace URL. Default: the host `AuthConfig` resolved, else `DATABRICKS_HOST`. */
  readonly host?: string | undefined
  /** Deadline for one HTTP exchange. Default 60 seconds. */
  readonly requestTimeout?: Duration.DurationInput | undefined
  /** Transient-failure retries: `times` (default 4), `base` (250 ms), `maxDelay` (5 s). */
  readonly retry?: Retry.RetryOptions | undefined
}

const idempotent = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE"])

/**
 * The one rule for where the token goes: a request URL is resolved against the workspace the way a browser
 * resolves a link (so `"@other:1/x"` is a path on the workspace, not another host), and it must then be on the
 * workspace's exact origin (scheme, host and port) and carry no user information. Anything else never gets the
 * token: it is a `ConfigurationError` before any request is made.
 */
const resolveUrl = (
  host: WorkspaceHost.WorkspaceHost,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientRequest.HttpClientRequest, ConfigurationError> => {
  const refuse = (problem: string) =>
    Effect.fail(
      new ConfigurationError({
        setting: "request URL",
        message: `WorkspaceClient sends the workspace token only to ${host.url}; the request URL ${problem}`,
        hint:
          "Use a path such as /api/2.0/..., or a full URL on the workspace host; call other hosts with an HttpClient that does not carry the workspace token"
      })
    )
  let url: URL
  try {
    url = new URL(request.url, `${host.url}/`)
  } catch {
    return refuse("is not a valid URL")
  }
  if (url.username !== "" || url.password !== "") return refuse("contains user information (user:password@)")
  if (url.origin !== host.url) {
    return refuse(
      url.origin === "null"
        ? `uses the scheme ${Redaction.redact(url.protocol, { maxLength: 20 })}, which is not the workspace's`
        : `resolves to ${Redaction.redact(url.origin, { maxLength: 120 })}`
    )
  }
  return Effect.succeed(HttpClientRequest.setUrl(request, url.toString()))
}

const Me = Schema.Struct({
  id: Schema.String,
  userName: Schema.String,
  displayName: Schema.optional(Schema.String)
})

const resolveHost = (options: Options | undefined) =>
  Effect.gen(function*() {
    if (options?.host !== undefined) return yield* WorkspaceHost.make(options.host, { setting: "host" })
    const resolved = yield* Effect.serviceOption(AuthConfig)
    const fromAuth = Option.flatMap(resolved, (config) => config.host)
    if (Option.isSome(fromAuth)) return yield* WorkspaceHost.make(fromAuth.value)
    const env = yield* Settings.nonBlank(yield* Settings.env("DATABRICKS_HOST"), {
      name: "DATABRICKS_HOST",
      hint: "Set it to the workspace URL, or pass host to WorkspaceClient.layer"
    })
    return yield* WorkspaceHost.make(env)
  })

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: Options): Effect.Effect<
  WorkspaceClient,
  ConfigurationError,
  TokenSource.TokenSource | HttpClient.HttpClient
> =>
  Effect.gen(function*() {
    // Untyped callers: a duration that does not decode is a ConfigurationError here, not a defect later.
    yield* OptionChecks.durations(options ?? {}, ["requestTimeout"])
    yield* OptionChecks.durations(options?.retry ?? {}, ["base", "maxDelay", "maxRetryAfter"])
    const host = yield* resolveHost(options)
    const source = yield* TokenSource.TokenSource
    const base = yield* HttpClient.HttpClient
    const requestTimeout = Duration.decode(options?.requestTimeout ?? Duration.seconds(60))

    // A credential's own headers (Azure's management token), asked for on every request as the token is.
    const extraHeaders = source.headers ?? Effect.succeed({})
    const exchange = (request: HttpClientRequest.HttpClientRequest, token: TokenSource.AccessToken, what: string) =>
      Effect.flatMap(extraHeaders, (extra) =>
        Redirects.execute(
          base,
          HttpClientRequest.bearerToken(HttpClientRequest.setHeaders(request, extra), token.value)
        ).pipe(Effect.mapError((error) => HttpErrors.fromTransport(error, what)))).pipe(
          Effect.timeoutFail({ duration: requestTimeout, onTimeout: () => HttpErrors.timeout(what, requestTimeout) }),
          // The token goes only to the workspace's origin, so a redirect is never followed (internal/redirects.ts).
          Effect.filterOrFail(
            (response) => Redirects.refusal(request, response, what) === undefined,
            (response): WorkspaceError =>
              new ApiError({
                message: Redirects.refusal(request, response, what)!,
                status: response.status,
                hint: Redirects.hint
              })
          )
        )

    const failure = (details: HttpErrors.ErrorDetails, what: string, refreshed: boolean): WorkspaceError => {
      if (details.status === 401 || HttpErrors.looksLikeExpiredToken(details)) {
        return new AuthenticationError({
          message: `${what} refused the token (HTTP ${details.status})${
            details.description === undefined ? "" : `: ${details.description}`
          }`,
          status: details.status,
          hint: refreshed
            ? "A fresh token was refused too; check that the credential is valid for this workspace"
            : "The credential cannot be refreshed; check that it is valid and not expired"
        })
      }
      return HttpErrors.fromStatus(details, what) ?? new ApiError({
        message: `${what} failed with HTTP ${details.status}${
          details.description === undefined ? "" : `: ${details.description}`
        }`,
        status: details.status,
        ...(details.errorCode === undefined ? {} : { errorCode: details.errorCode })
      })
    }

    const once = (request: HttpClientRequest.HttpClientRequest) =>
      Effect.gen(function*() {
        const what = `${request.method} ${new URL(request.url).pathname}`
        const token = yield* source.token
        let response: HttpClientResponse.HttpClientResponse = yield* exchange(request, token, what)
        if (response.status < 400) return response
        let details = yield* HttpErrors.errorDetails(response, [token.value])
        let refreshed = false
        if (details.status === 401 || HttpErrors.looksLikeExpiredToken(details)) {
          yield* source.invalidate
          const fresh = yield* source.token
          if (Redacted.value(fresh.value) !== Redacted.value(token.value)) {
            yield* Effect.logInfo(
              `${what}: the token was refused (HTTP ${details.status}); retrying once with a new one`
            )
            refreshed = true
            response = yield* exchange(request, fresh, what)
            if (response.status < 400) return response
            details = yield* HttpErrors.errorDetails(response, [token.value, fresh.value])
          }
        }
        return yield* Effect.fail(failure(details, what, refreshed))
      })

    const send = (request: HttpClientRequest.HttpClientRequest) =>
      once(request).pipe(
        Effect.retry({
          schedule: Retry.transient(`${request.method} ${new URL(request.url).pathname}`, options?.retry),
          // Without idempotency only a 429 is safe to repeat: the server did not act on it.
          while: (error) => error._tag === "RateLimitError" || idempotent.has(request.method)
        }),
        Effect.withSpan("WorkspaceClient.request", {
          attributes: { "http.request.method": request.method, "server.address": host.hostname }
        })
      )

    // Checked right before the token is attached (not in the preprocess step), so a request changed later by
    // `HttpClient.mapRequest` is checked as it will be sent.
    const http: HttpClient.HttpClient.With<WorkspaceError> = HttpClient.makeWith<never, never, WorkspaceError, never>(
      (request) => Effect.flatMap(request, (unresolved) => Effect.flatMap(resolveUrl(host, unresolved), send)),
      Effect.succeed
    )

    const currentUser = http.get("/api/2.0/preview/scim/v2/Me").pipe(
      Effect.flatMap((response) =>
        response.json.pipe(
          Effect.flatMap(Schema.decodeUnknown(Me)),
          Effect.mapError(() =>
            new ApiError({ message: "SCIM Me answered with a body that is not a SCIM user", status: response.status })
          )
        )
      ),
      Effect.map((me): CurrentUser => ({
        id: me.id,
        userName: me.userName,
        displayName: me.displayName ?? me.userName
      }))
    )

    return { host, http, currentUser }
  })

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<WorkspaceClient, ConfigurationError, TokenSource.TokenSource | HttpClient.HttpClient> =>
  Layer.effect(WorkspaceClient, make(options))

/**
 * The current principal (`GET /api/2.0/preview/scim/v2/Me`).
 *
 * @since 0.1.0
 * @category accessors
 */
export const currentUser: Effect.Effect<CurrentUser, WorkspaceError, WorkspaceClient> = Effect.flatMap(
  WorkspaceClient,
  (client) => client.currentUser
)
