import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { AuthenticationError, type DatabricksError, ServerError } from "../DatabricksError.js"
import type * as Redaction from "../Redaction.js"
import type * as TokenSource from "../TokenSource.js"
import * as HttpErrors from "./httpErrors.js"
import * as Redirects from "./redirects.js"
import * as Retry from "./retry.js"

/**
 * @internal
 *
 * One token from a local token server that answers a `GET` with
 * `{ access_token, token_type, expires_on, expires_in }`: Azure's
 * managed-identity endpoint and the Databricks metadata service. Bounded
 * (a deadline per request), transient answers retried, a redirect never
 * followed, the answer's text redacted of `secrets` before it is quoted.
 */

const Answer = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  token_type: Schema.optional(Schema.String),
  // Epoch seconds: a JSON number, or a string of one (IMDS sends strings).
  expires_on: Schema.optional(Schema.Union(Schema.Number, Schema.NumberFromString)),
  expires_in: Schema.optional(Schema.Union(Schema.Number, Schema.NumberFromString))
})

export interface Options {
  readonly url: string
  readonly headers: Readonly<Record<string, string>>
  /** Names the server in messages, without any secret part of its URL. */
  readonly what: string
  readonly secrets: ReadonlyArray<Redaction.Secret>
  readonly requestTimeout: Duration.Duration
  readonly retry: Retry.RetryOptions | undefined
  /** Statuses besides 429 and 5xx that mean "try again" (IMDS: 404 and 410 while an identity is being set up). */
  readonly transient?: ReadonlyArray<number> | undefined
  /** `expires_on` is required (the metadata-service contract), else `expires_in` or the JWT `exp` may say. */
  readonly requireExpiresOn?: boolean | undefined
  /** The error for a refusal (4xx), from what the server said. */
  readonly refused: (details: HttpErrors.ErrorDetails) => AuthenticationError
}

export const fetch = (
  options: Options
): Effect.Effect<TokenSource.IssuedToken, DatabricksError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const http = yield* HttpClient.HttpClient
    let request = HttpClientRequest.get(options.url).pipe(HttpClientRequest.acceptJson)
    request = HttpClientRequest.setHeaders(request, options.headers)
    const response = yield* Redirects.execute(http, request).pipe(
      Effect.mapError((error) => HttpErrors.fromTransport(error, options.what)),
      Effect.timeoutFail({
        duration: options.requestTimeout,
        onTimeout: () => HttpErrors.timeout(options.what, options.requestTimeout)
      })
    )
    if (response.status !== 200) {
      const details = yield* HttpErrors.errorDetails(response, options.secrets)
      if (options.transient?.includes(details.status) === true) {
        return yield* Effect.fail(
          new ServerError({ message: `${options.what} answered HTTP ${details.status}`, status: details.status })
        )
      }
      const shared = details.status === 429 || details.status >= 500
        ? HttpErrors.fromStatus(details, options.what)
        : undefined
      return yield* Effect.fail(shared ?? options.refused(details))
    }
    const body = yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
    // The decode error is dropped on purpose: it would print the body, token included.
    const answer = Schema.decodeUnknownOption(Answer)(body)
    if (
      Option.isNone(answer) || (answer.value.token_type ?? "bearer").toLowerCase() !== "bearer" ||
      (options.requireExpiresOn === true && answer.value.expires_on === undefined)
    ) {
      return yield* Effect.fail(
        new AuthenticationError({
          message: `${options.what} answered 200 without a usable bearer access_token${
            options.requireExpiresOn === true ? " and expires_on" : ""
          }`,
          hint: "Check that the URL points to the right token server"
        })
      )
    }
    const { access_token, expires_in, expires_on } = answer.value
    return {
      value: Redacted.make(access_token),
      ...(expires_on !== undefined
        ? { expiresIn: Math.max(0, expires_on * 1000 - (yield* Effect.clockWith((clock) => clock.currentTimeMillis))) }
        : expires_in !== undefined
        ? { expiresIn: expires_in * 1000 }
        : {})
    } satisfies TokenSource.IssuedToken
  }).pipe(Effect.retry(Retry.transient(options.what, options.retry)))
