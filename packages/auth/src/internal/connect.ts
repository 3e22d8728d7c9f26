import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import { AuthenticationError, ConfigurationError, type DatabricksError } from "../DatabricksError.js"
import * as Redaction from "../Redaction.js"
import * as Settings from "./config.js"
import * as HttpErrors from "./httpErrors.js"
import * as Redirects from "./redirects.js"
import * as Retry from "./retry.js"

/**
 * The Posit Connect client the Connect layers share: configuration, the
 * one-time version check, and the RFC 8693 credential exchange with
 * Connect's exact wire format.
 */

export const userSessionTokenType = "urn:posit:connect:user-session-token"
export const contentSessionTokenType = "urn:posit:connect:content-session-token"
const tokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange"
const minimumVersion = [2024, 8, 0] as const

export interface ClientOptions {
  /** Default `CONNECT_SERVER`. */
  readonly server?: string | undefined
  /** Default `CONNECT_API_KEY`. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly retry?: Retry.RetryOptions | undefined
}

export interface Exchanged {
  readonly accessToken: Redacted.Redacted<string>
  readonly expiresIn: Duration.Duration | undefined
}

export interface ExchangeRequest {
  readonly subjectTokenType: typeof userSessionTokenType | typeof contentSessionTokenType
  readonly subjectToken: Redacted.Redacted<string>
  readonly audience?: string | undefined
  readonly requestedTokenType?: string | undefined
}

export interface Client {
  readonly server: string
  readonly exchange: (request: ExchangeRequest) => Effect.Effect<Exchanged, AuthenticationError>
}

/** `CONNECT_SERVER` with a scheme and `/__api__`, without a trailing slash. */
export const normaliseServer = (input: string, setting: string): Effect.Effect<string, ConfigurationError> => {
  const bad = (problem: string) =>
    Effect.fail(
      new ConfigurationError({
        setting,
        message: `${setting} ${problem}`,
        hint: "Use the Connect server's URL with its scheme, for example https://connect.example.com"
      })
    )
  const trimmed = input.trim()
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return bad(`${JSON.stringify(Redaction.redact(trimmed, { maxLength: 80 }))} is not a URL with a scheme`)
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return bad(`uses the scheme ${url.protocol}, not http(s)`)
  if (url.username !== "" || url.password !== "") return bad("must not contain credentials")
  const path = url.pathname.replace(/\/+$/, "")
  const withApi = path.includes("/__api__") ? path : `${path}/__api__`
  return Effect.succeed(`${url.origin}${withApi}`)
}

const ServerSettings = Schema.Struct({ version: Schema.optional(Schema.String) })
const ExchangeResponse = Schema.Struct({
  access_token: Schema.String.pipe(Schema.minLength(1)),
  issued_token_type: Schema.optional(Schema.String),
  token_type: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.Number.pipe(Schema.nonNegative()))
})
const ConnectErrorBody = Schema.parseJson(Schema.Struct({
  code: Schema.optional(Schema.Number),
  error: Schema.optional(Schema.String)
}))

const parseVersion = (version: string): ReadonlyArray<number> | undefined => {
  const match = /^(\d{4})\.(\d{1,2})\.(\d+)/.exec(version.trim())
  return match === null ? undefined : [Number(match[1]), Number(match[2]), Number(match[3])]
}

const older = (version: ReadonlyArray<number>, than: ReadonlyArray<number>) => {
  for (let i = 0; i < than.length; i++) {
    if (version[i] !== than[i]) return version[i] < than[i]
  }
  return false
}

/** What to do about a refused exchange, from Connect's error text (its codes are not documented). */
const hintFor = (text: string, request: ExchangeRequest): string => {
  const viewer = request.subjectTokenType === userSessionTokenType
  if (/invalid subject_token|subject.token/i.test(text)) {
    return viewer
      ? "The viewer's session token is invalid or expired: reload the page to get a new one"
      : "The content session token is invalid or expired; Connect rotates it in CONNECT_CONTENT_SESSION_TOKEN_FILE, so read it from there"
  }
  if (/no .*oauth integrations? (have been|is) associated/i.test(text)) {
    return `Associate a Databricks OAuth integration (${
      viewer ? "viewer" : "service account"
    }) with this content in its Access settings`
  }
  if (/requires authentication|api key/i.test(text)) {
    return "Check CONNECT_API_KEY: Connect sets it for deployed content; locally, create an API key in Connect"
  }
  if (/does not support .* auth flows/i.test(text)) {
    return `This integration is not a ${
      viewer ? "viewer" : "service account"
    } integration; associate one that is, or pass the audience of one that is`
  }
  if (/not associated|audience/i.test(text)) {
    return "Check the audience: it must be the GUID of an OAuth integration associated with this content"
  }
  if (/several|multiple/i.test(text)) {
    return "Several integrations match; pass the audience (integration GUID) to choose one"
  }
  return "Check the OAuth integrations associated with this content in Connect"
}

export const make = (options?: ClientOptions): Effect.Effect<Client, ConfigurationError, HttpClient.HttpClient> =>
  Effect.gen(function*() {
    const serverInput = options?.server ?? (yield* Settings.env("CONNECT_SERVER"))
    const serverSetting = options?.server === undefined ? "CONNECT_SERVER" : "server"
    const server = yield* Effect.flatMap(
      Settings.nonBlank(serverInput, { name: serverSetting, hint: "Set it to the Connect server's URL" }),
      (value) => normaliseServer(value, serverSetting)
    )
    const apiKey = yield* Settings.nonBlankSecret(options?.apiKey ?? (yield* Settings.envSecret("CONNECT_API_KEY")), {
      name: options?.apiKey === undefined ? "CONNECT_API_KEY" : "apiKey",
      hint: "Connect sets it for deployed content; locally, create an API key in Connect"
    })
    const http = yield* HttpClient.HttpClient
    const requestTimeout = Duration.decode(options?.requestTimeout ?? Duration.seconds(30))

    const send = (request: HttpClientRequest.HttpClientRequest, what: string) => {
      const keyed = HttpClientRequest.setHeader(request, "authorization", `Key ${Redacted.value(apiKey)}`)
      return Redirects.execute(http, keyed).pipe(
        Effect.mapError((error) => HttpErrors.fromTransport(error, what)),
        Effect.timeoutFail({ duration: requestTimeout, onTimeout: () => HttpErrors.timeout(what, requestTimeout) }),
        // A redirect would take the API key or the session token elsewhere: never followed.
        Effect.filterOrFail(
          (response) => Redirects.refusal(keyed, response, what) === undefined,
          (response) =>
            new AuthenticationError({
              message: Redirects.refusal(keyed, response, what)!,
              status: response.status,
              hint: `${Redirects.hint}; CONNECT_SERVER must be the Connect server's own URL`
            })
        )
      )
    }

    // Checked once per client (callers arriving together share the check); a failed check is tried again.
    const versionChecked = yield* Ref.make(false)
    const versionLock = yield* Effect.makeSemaphore(1)
    const readVersion = Effect.gen(function*() {
      const what = `Connect at ${server}`
      const response = yield* send(
        HttpClientRequest.get(`${server}/server_settings`).pipe(HttpClientRequest.acceptJson),
        what
      )
      if (response.status !== 200) {
        const details = yield* HttpErrors.errorDetails(response, [apiKey])
        return yield* Effect.fail(
          HttpErrors.fromStatus(details, what) ?? new AuthenticationError({
            message: `${what} answered HTTP ${response.status} for server_settings`,
            status: response.status,
            hint: "Check CONNECT_SERVER"
          })
        )
      }
      const settings = Schema.decodeUnknownOption(ServerSettings)(
        yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
      )
      const version = Option.flatMap(settings, (s) => Option.fromNullable(s.version))
      const parsed = Option.flatMap(version, (v) => Option.fromNullable(parseVersion(v)))
      if (Option.isSome(parsed) && older(parsed.value, minimumVersion)) {
        return yield* Effect.fail(
          new AuthenticationError({
            message: `OAuth integrations are not available in Connect version ${Option.getOrElse(version, () => "?")}`,
            hint: "Upgrade Connect to version 2024.08.0 or later"
          })
        )
      }
      if (Option.isNone(parsed)) yield* Effect.logDebug("Connect did not report a version; skipping the version check")
    }).pipe(Effect.retry(Retry.transient("the Connect version check", options?.retry)))
    const versionCheck: Effect.Effect<void, DatabricksError> = versionLock.withPermits(1)(
      Effect.flatMap(
        Ref.get(versionChecked),
        (done) => done ? Effect.void : Effect.zipRight(readVersion, Ref.set(versionChecked, true))
      )
    )

    const refused = (status: number, text: string, request: ExchangeRequest): DatabricksError => {
      if (status === 429 || status >= 500) {
        return HttpErrors.fromStatus({
          status,
          errorCode: undefined,
          description: undefined,
          retryAfter: Option.none(),
          expiredToken: false
        }, "the Connect exchange")!
      }
      const body = Schema.decodeUnknownOption(ConnectErrorBody)(text)
      const code = Option.flatMap(body, (b) => Option.fromNullable(b.code))
      const message = Option.getOrElse(
        Option.flatMap(body, (b) => Option.fromNullable(b.error)),
        () => `HTTP ${status}`
      )
      // Connect's error text is foreign: it may echo the API key or the session token that was sent.
      const shown = Redaction.redact(message, { secrets: [apiKey, request.subjectToken], maxLength: 300 })
      return new AuthenticationError({
        message: `Posit Connect refused the credential exchange: ${shown}`,
        status,
        ...(Option.isSome(code) ? { connectCode: code.value } : {}),
        hint: hintFor(message, request)
      })
    }

    const exchange = (request: ExchangeRequest) =>
      Effect.gen(function*() {
        const form: Record<string, string> = {
          grant_type: tokenExchangeGrant,
          subject_token_type: request.subjectTokenType,
          subject_token: Redacted.value(request.subjectToken)
        }
        // Optional parameters are left out, never sent empty.
        if (request.requestedTokenType !== undefined) form.requested_token_type = request.requestedTokenType
        if (request.audience !== undefined) form.audience = request.audience
        const response = yield* send(
          HttpClientRequest.post(`${server}/v1/oauth/integrations/credentials`).pipe(
            HttpClientRequest.acceptJson,
            HttpClientRequest.bodyUrlParams(form)
          ),
          "the Connect credential exchange"
        )
        if (response.status !== 200) {
          const text = yield* response.text.pipe(Effect.orElseSucceed(() => ""))
          return yield* Effect.fail(refused(response.status, text, request))
        }
        // The decode error is not kept: it would print the body, token included.
        const body = Schema.decodeUnknownOption(ExchangeResponse)(
          yield* response.json.pipe(Effect.orElseSucceed(() => undefined))
        )
        if (Option.isNone(body)) {
          return yield* Effect.fail(
            new AuthenticationError({
              message: "Posit Connect answered the exchange without a usable access_token",
              hint: "Check that the integration is a Databricks OAuth integration"
            })
          )
        }
        return {
          accessToken: Redacted.make(body.value.access_token),
          expiresIn: body.value.expires_in === undefined ? undefined : Duration.seconds(body.value.expires_in)
        } satisfies Exchanged
      }).pipe(
        Effect.retry(Retry.transient("the Connect credential exchange", options?.retry)),
        (exchangeOnce) => Effect.zipRight(versionCheck, exchangeOnce),
        Effect.mapError((error) =>
          error._tag === "AuthenticationError" ? error : new AuthenticationError({
            message: `Could not exchange the Connect session token: ${error.message}`,
            ...(error.hint === undefined ? {} : { hint: error.hint }),
            cause: error
          })
        ),
        Effect.withSpan("PositConnect.exchange", {
          attributes: { "posit.subject_token_type": request.subjectTokenType }
        })
      )

    return { server, exchange }
  })
