import { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect, Redacted } from "effect"
import * as Crypto from "node:crypto"

/** A fresh emulator plus an HttpClient that trusts it, for one test (the OAuth tests' name for it). */
export { withEmulator as emulatorLayer } from "./emulator.js"

export interface Reply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: any
  readonly text: string
}

/** Sends a request and reads the whole answer; a JSON body is parsed, anything else kept as text. */
export const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(request)
    const text = yield* response.text
    let body: unknown = undefined
    try {
      body = text === "" ? undefined : JSON.parse(text)
    } catch {
      body = undefined
    }
    return { status: response.status, headers: response.headers, body, text } as Reply
  })

export const postForm = (url: string, params: Record<string, string>, headers?: Record<string, string>) =>
  send(
    HttpClientRequest.post(url).pipe(
      HttpClientRequest.bodyUrlParams(params),
      HttpClientRequest.setHeaders(headers ?? {})
    )
  )

export const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString("base64")}`
})

/** A client_credentials grant for the default service principal. */
export const machineToken = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  const reply = yield* postForm(
    `${emulator.host}/oidc/v1/token`,
    { grant_type: "client_credentials", scope: "all-apis" },
    basic(emulator.servicePrincipal.clientId, Redacted.value(emulator.servicePrincipal.clientSecret))
  )
  return reply.body.access_token as string
})

export const me = (token: string) =>
  Effect.flatMap(Emulator.Emulator, (emulator) =>
    send(
      HttpClientRequest.get(`${emulator.host}/api/2.0/preview/scim/v2/Me`).pipe(HttpClientRequest.bearerToken(token))
    ))

/** An RFC 7636 verifier and its S256 challenge. */
export const pkce = () => {
  const verifier = Crypto.randomBytes(32).toString("base64url")
  return { verifier, challenge: Crypto.createHash("sha256").update(verifier).digest("base64url") }
}

export const redirectUri = "http://127.0.0.1:8020/callback"

/** Runs the authorize step as a browser would, returning the redirect's query. */
export const authorize = (params: Record<string, string>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const url = new URL(`${emulator.host}/oidc/v1/authorize`)
    for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
    const reply = yield* send(HttpClientRequest.get(url.toString()))
    const location = reply.headers["location"]
    return { reply, query: location === undefined ? undefined : new URL(location).searchParams, location }
  })

/** authorize + code exchange for the default U2M client. */
export const userTokens = (scope = "all-apis offline_access") =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const { challenge, verifier } = pkce()
    const { query } = yield* authorize({
      client_id: emulator.u2m.clientId,
      redirect_uri: redirectUri,
      response_type: "code",
      code_challenge: challenge,
      code_challenge_method: "S256",
      scope,
      state: "s1"
    })
    const reply = yield* postForm(`${emulator.host}/oidc/v1/token`, {
      grant_type: "authorization_code",
      code: query!.get("code")!,
      code_verifier: verifier,
      redirect_uri: redirectUri,
      client_id: emulator.u2m.clientId
    })
    return reply
  })

export const decodeJwt = (token: string) => JSON.parse(Buffer.from(token.split(".")[1], "base64url").toString("utf8"))
