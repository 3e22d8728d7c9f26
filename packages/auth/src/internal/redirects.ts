import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redaction from "../Redaction.js"

/**
 * The one rule for redirects on every request the auth package sends with a
 * credential (token endpoints and discovery, the Connect exchange, the
 * WorkspaceClient): a redirect is never followed. A credential goes only where
 * it was configured to go, and a redirect answer is a typed error that names
 * where it pointed (its origin only: a redirect URL may itself carry a
 * signature).
 *
 * The rule lives here rather than in the `HttpClient` the user provides,
 * because clients differ: `NodeHttpClient.layer` (node:http) and
 * `NodeHttpClient.layerUndici` (a plain undici dispatcher) return a 3xx as it
 * is, but `FetchHttpClient` uses `fetch`, which follows redirects by default.
 * `fetch` drops `Authorization` on a cross-origin redirect, yet a 307/308
 * sends the body again to the new host, and for the token endpoints and the
 * Connect exchange the body holds the secrets (`client_secret`,
 * `refresh_token`, `code`, `subject_token`). Checked with Node 20's fetch
 * (undici): `redirect: "manual"` returns the 3xx itself with its `Location`.
 */

/**
 * `fetch` with redirects turned off, whatever `RequestInit` says. It wraps the
 * `FetchHttpClient.Fetch` visible where the request is sent (else the global
 * `fetch`); one provided only to the `FetchHttpClient` layer is replaced by the
 * global `fetch`, because a layer's own context cannot be read from outside it.
 */
const manualFetch = (inner: Option.Option<typeof globalThis.fetch>): typeof globalThis.fetch => (input, init) =>
  Option.getOrElse(inner, () => globalThis.fetch)(input, { ...init, redirect: "manual" })

/** Sends `request` with `http` without following a redirect, whichever client `http` is. */
export const execute = (
  http: HttpClient.HttpClient,
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> =>
  Effect.flatMap(
    Effect.serviceOption(FetchHttpClient.Fetch),
    (visible) => Effect.provideService(http.execute(request), FetchHttpClient.Fetch, manualFetch(visible))
  )

const originOf = (url: string, base?: string): string | undefined => {
  try {
    const origin = new URL(url, base).origin
    return origin === "null" ? undefined : origin
  } catch {
    return undefined
  }
}

const shown = (origin: string | undefined) =>
  origin === undefined ? "a location that is not a usable URL" : Redaction.redact(origin, { maxLength: 120 })

/**
 * Why `response` must not be used, as a sentence starting with `what`, or
 * `undefined` when it may be: a 3xx with a `Location` (a redirect that was
 * not followed), or an answer from another origin than `request`'s (an
 * `HttpClient` that followed a redirect by itself, such as one wrapped in
 * `HttpClient.followRedirects`: the credential has then already gone there,
 * which only the user's choice of client can prevent).
 */
export const refusal = (
  request: HttpClientRequest.HttpClientRequest,
  response: HttpClientResponse.HttpClientResponse,
  what: string
): string | undefined => {
  const location = response.headers["location"]
  if (response.status >= 300 && response.status < 400 && location !== undefined) {
    const target = shown(originOf(location, request.url))
    return `${what} answered HTTP ${response.status} with a redirect to ${target}; redirects are not followed, so nothing was sent there`
  }
  const sent = originOf(request.url)
  const answered = originOf(response.request.url)
  if (answered !== undefined && answered !== sent) {
    return `${what} was answered from ${
      shown(answered)
    }, not the origin the request was sent to: the HttpClient in use followed a redirect, and its answer is not used`
  }
  return undefined
}

/** The hint that goes with a `refusal`. */
export const hint =
  "A redirect is not followed with credentials: use the final URL (the workspace URL itself, without a path, for DATABRICKS_HOST), and an HttpClient that does not follow redirects"
