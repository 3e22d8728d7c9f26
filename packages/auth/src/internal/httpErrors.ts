import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import {
  AuthenticationError,
  type DatabricksError,
  isExpiredTokenAnswer,
  NetworkError,
  parseRetryAfter,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError
} from "../DatabricksError.js"
import * as Redaction from "../Redaction.js"

/**
 * The one place HTTP answers and transport failures become tagged errors, for
 * every REST call the auth package makes (token endpoints, SCIM, the
 * WorkspaceClient).
 */

const ErrorBody = Schema.Struct({
  error_code: Schema.optional(Schema.String),
  message: Schema.optional(Schema.String),
  error: Schema.optional(Schema.String),
  error_description: Schema.optional(Schema.String)
})
const decodeErrorBody = Schema.decodeUnknownOption(Schema.parseJson(ErrorBody))

/** What an error answer said: Databricks' `{ error_code, message }` or OAuth's `{ error, error_description }`. */
export interface ErrorDetails {
  readonly status: number
  readonly errorCode: string | undefined
  readonly description: string | undefined
  readonly retryAfter: Option.Option<Duration.Duration>
  /** Databricks refusing an expired token (`DatabricksError.isExpiredTokenAnswer`), read from the whole answer. */
  readonly expiredToken: boolean
}

const maxDescription = 300

/**
 * Reads an error answer. Its text is foreign: it goes through `Redaction.redact` with the secrets the request
 * carried (`secrets`, required so that no caller forgets them), because a server may echo the request (an IdP echoing `client_secret=…`, a 500 body
 * echoing `Bearer …`). Redaction runs on the whole text before it is cut, so no part of a secret survives a cut.
 */
export const errorDetails = (
  response: HttpClientResponse.HttpClientResponse,
  secrets: Iterable<Redaction.Secret>
): Effect.Effect<ErrorDetails> =>
  Effect.gen(function*() {
    const text = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
    const body = decodeErrorBody(text)
    const known = [...secrets]
    const clean = (value: string | undefined, maxLength: number) =>
      value === undefined ? undefined : Redaction.redact(value, { secrets: known, maxLength })
    const errorCode = Option.flatMap(body, (b) => Option.fromNullable(b.error ?? b.error_code))
    const description = Option.flatMap(body, (b) => Option.fromNullable(b.error_description ?? b.message))
    const now = yield* Clock.currentTimeMillis
    return {
      status: response.status,
      errorCode: clean(Option.getOrUndefined(errorCode), 100),
      description: clean(Option.getOrUndefined(description), maxDescription),
      retryAfter: parseRetryAfter(response.headers["retry-after"], now),
      // The whole text, not the description: an HTML error page ("Error 403 Invalid access token.") has none.
      expiredToken: isExpiredTokenAnswer(response.status, text)
    }
  })

const said = (details: ErrorDetails) =>
  details.description === undefined
    ? ""
    : `: ${details.errorCode === undefined ? "" : `${details.errorCode}: `}${details.description}`

/**
 * The shared error for an HTTP status, or `undefined` for a 4xx the caller
 * must interpret itself (400, 404, ...). `what` names the call, for example
 * "the token endpoint".
 */
export const fromStatus = (details: ErrorDetails, what: string): DatabricksError | undefined => {
  const { status } = details
  if (status === 401) {
    return new AuthenticationError({
      message: `${what} refused the credentials (HTTP 401)${said(details)}`,
      status,
      hint: "Check that the token or client credentials are valid and belong to this workspace"
    })
  }
  if (status === 403) {
    return new PermissionError({
      message: `${what} denied access (HTTP 403)${said(details)}`,
      status,
      hint: "The principal is authenticated but lacks permission; ask a workspace admin to grant it"
    })
  }
  if (status === 429) {
    return new RateLimitError({
      message: `${what} is rate limiting requests (HTTP 429)${said(details)}`,
      retryAfter: details.retryAfter
    })
  }
  if (status >= 500) {
    return new ServerError({ message: `${what} failed with HTTP ${status}${said(details)}`, status })
  }
  return undefined
}

/** Databricks answers an expired token with 403 "Invalid access token." (or "... expiring ..."), not 401. */
export const looksLikeExpiredToken = (details: ErrorDetails): boolean => details.expiredToken

const systemCode = (cause: unknown): string | undefined => {
  for (let current = cause, depth = 0; current !== undefined && depth < 5; depth++) {
    if (Predicate.hasProperty(current, "code") && typeof current.code === "string") return current.code
    current = Predicate.hasProperty(current, "cause") ? current.cause : undefined
  }
  return undefined
}

/** A request that got no HTTP answer. The original error is not kept: it holds the request, body included. */
export const fromTransport = (error: HttpClientError.HttpClientError, what: string): NetworkError => {
  const code = systemCode(error.cause)
  return new NetworkError({
    message: `Could not reach ${what}${code === undefined ? "" : ` (${code})`}`,
    ...(code === undefined ? {} : { code }),
    hint: "Check the host, the network and any proxy; the request never got an HTTP answer"
  })
}

export const timeout = (what: string, after: Duration.Duration) =>
  new TimeoutError({
    message: `${what} did not answer within ${Duration.format(after)}`,
    operation: what,
    timeout: after
  })
