import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import type { Fault } from "./fault.js"
import type { Faults } from "./faults.js"
import type { Stats } from "./stats.js"

/** Request bodies larger than this get 413, as the bad-input rules ask. */
export const maxBodyBytes = 1024 * 1024

/** A finished response that ends a handler early: `return yield* new Reply({ response })`. */
export class Reply extends Data.TaggedError("Reply")<{ readonly response: HttpServerResponse.HttpServerResponse }> {}

export const json = (status: number, body: unknown, headers?: Record<string, string>) =>
  HttpServerResponse.unsafeJson(body, { status, ...(headers === undefined ? {} : { headers }) })

export const fail = (status: number, body: unknown, headers?: Record<string, string>) =>
  Effect.fail(new Reply({ response: json(status, body, headers) }))

/** What a handler learns about its request that the stats should show. */
export interface RequestInfo {
  principal: string | undefined
  /** Names of the form parameters, for the stats. */
  params: ReadonlyArray<string> | undefined
}

const headerValue = (request: HttpServerRequest.HttpServerRequest, name: string): string | undefined => {
  const value = request.headers[name]
  return typeof value === "string" ? value : undefined
}

export { headerValue as header }

/** The request body as a string, refusing bodies over 1 MiB before reading them where the length is known. */
export const bodyText = (onError: (status: number, message: string) => Reply) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const length = Number(headerValue(request, "content-length") ?? "0")
    if (length > maxBodyBytes) return yield* Effect.fail(onError(413, "The request body is larger than 1 MiB"))
    const text = yield* request.text.pipe(
      Effect.mapError(() => onError(413, "The request body is larger than 1 MiB or could not be read"))
    )
    if (Buffer.byteLength(text) > maxBodyBytes) {
      return yield* Effect.fail(onError(413, "The request body is larger than 1 MiB"))
    }
    return text
  })

/**
 * A form-urlencoded body as a map. A wrong content type, an oversized body or a
 * repeated parameter (RFC 6749 §3.2) is refused through `onError`.
 */
export const readForm = (onError: (status: number, message: string) => Reply) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const contentType = (headerValue(request, "content-type") ?? "").split(";")[0].trim().toLowerCase()
    if (contentType !== "application/x-www-form-urlencoded") {
      return yield* Effect.fail(onError(400, "The Content-Type must be application/x-www-form-urlencoded"))
    }
    const text = yield* bodyText(onError)
    const form = new Map<string, string>()
    for (const [key, value] of new URLSearchParams(text)) {
      if (form.has(key)) return yield* Effect.fail(onError(400, `The parameter ${key} is repeated`))
      form.set(key, value)
    }
    return form
  })

/** The JSON body, refusing a wrong content type, an oversized body and malformed JSON through `onError`. */
export const readJson = (onError: (status: number, message: string) => Reply) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const contentType = (headerValue(request, "content-type") ?? "").split(";")[0].trim().toLowerCase()
    if (contentType !== "application/json") {
      return yield* Effect.fail(onError(415, "The Content-Type must be application/json"))
    }
    const text = yield* bodyText(onError)
    return yield* Effect.try({
      try: () => JSON.parse(text) as unknown,
      catch: () => onError(400, "The body is not valid JSON")
    })
  })

/** The token of an `Authorization: <scheme> <token>` header, if it has that scheme. */
export const credential = (request: HttpServerRequest.HttpServerRequest, scheme: string): string | undefined => {
  const value = headerValue(request, "authorization")
  if (value === undefined) return undefined
  const space = value.indexOf(" ")
  if (space < 0 || value.slice(0, space).toLowerCase() !== scheme.toLowerCase()) return undefined
  const token = value.slice(space + 1).trim()
  return token === "" ? undefined : token
}

const destroySocket = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.sync(() => NodeHttpServerRequest.toIncomingMessage(request).socket.destroy())

/** Applies an injected fault around a handler: delay, reset before or after it runs, or a canned answer. */
export const injected = (fault: Fault, handler: Effect.Effect<HttpServerResponse.HttpServerResponse>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (fault.delayMs !== undefined && fault.delayMs > 0) yield* Effect.sleep(fault.delayMs)
    if (fault.reset === "before") {
      yield* destroySocket(request)
      return HttpServerResponse.empty({ status: 500 })
    }
    const response = fault.emptyBody === true
      ? HttpServerResponse.empty({ status: fault.status ?? 200, headers: fault.headers ?? {} })
      : fault.status !== undefined
      ? HttpServerResponse.text(fault.body ?? JSON.stringify({ error: "injected fault", status: fault.status }), {
        status: fault.status,
        headers: fault.headers ?? {},
        contentType: fault.body === undefined ? "application/json" : "text/plain"
      })
      : yield* handler
    // "after": the handler ran (its side effects happened) but the client never hears back.
    if (fault.reset === "after") yield* destroySocket(request)
    return response
  })

/** A route's handler: a response, or a `Reply` that short-circuits with one. */
export type Handler = (
  info: RequestInfo
) => Effect.Effect<HttpServerResponse.HttpServerResponse, Reply, HttpServerRequest.HttpServerRequest>

/** What every endpoint records into and draws faults from. */
export interface EndpointDeps {
  readonly faults: Faults
  readonly stats: Stats
}

/**
 * Wraps a route: counts it, applies an injected fault if one matches, turns a
 * `Reply` into its response and anything unexpected into a JSON 500, and
 * records the request (never its secrets) in the stats.
 */
export const endpoint = (
  name: string,
  deps: EndpointDeps,
  handler: Handler
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, HttpServerRequest.HttpServerRequest> =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const info: RequestInfo = { principal: undefined, params: undefined }
    deps.stats.request(name)
    const run = handler(info).pipe(
      Effect.catchTag("Reply", (reply) => Effect.succeed(reply.response)),
      Effect.catchAllCause((cause) =>
        Effect.logError("emulator handler failed", Cause.pretty(cause)).pipe(
          Effect.as(json(500, { error_code: "INTERNAL_ERROR", message: "The emulator failed to handle the request" }))
        )
      ),
      Effect.provideService(HttpServerRequest.HttpServerRequest, request)
    )
    const fault = deps.faults.take(name)
    if (fault !== undefined) deps.stats.faultInjected(name)
    const response = fault === undefined ? yield* run : yield* injected(fault, run)
    deps.stats.record({
      method: request.method,
      path: request.url.split("?")[0],
      endpoint: name,
      status: response.status,
      ...(info.principal === undefined ? {} : { principal: info.principal }),
      ...(info.params === undefined ? {} : { params: info.params }),
      ...(typeof request.headers["user-agent"] === "string" ? { userAgent: request.headers["user-agent"] } : {})
    })
    return response
  })

/** `endpoint` with the server's faults and stats bound, for declaring its routes. */
export const endpointsOf = (deps: EndpointDeps) => (name: string, handler: Handler) => endpoint(name, deps, handler)
