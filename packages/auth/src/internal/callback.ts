import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import { AuthenticationError } from "../DatabricksError.js"
import * as Redaction from "../Redaction.js"

const constantTimeEqual = (a: string, b: string) => {
  const left = Crypto.createHash("sha256").update(a).digest()
  const right = Crypto.createHash("sha256").update(b).digest()
  return Crypto.timingSafeEqual(left, right) && a.length === b.length
}

const page = (response: Http.ServerResponse, status: number, text: string) => {
  response.writeHead(status, { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" })
  response.end(text)
}

/** The addresses to bind: `localhost` is both loopback families, because a browser may pick either. */
const bindAddresses = (hostname: string): ReadonlyArray<string> =>
  hostname === "localhost" ? ["127.0.0.1", "::1"] : [hostname === "[::1]" ? "::1" : hostname]

const listen = (server: Http.Server, host: string, port: number) =>
  Effect.async<void, NodeJS.ErrnoException>((resume) => {
    const onError = (error: NodeJS.ErrnoException) => resume(Effect.fail(error))
    server.once("error", onError)
    server.listen(port, host, () => {
      server.off("error", onError)
      resume(Effect.void)
    })
  })

const close = (server: Http.Server) =>
  Effect.async<void>((resume) => {
    server.closeAllConnections()
    server.close(() => resume(Effect.void))
  })

/** Where the callback is served, and the redirect URI to send for it, exactly as the OAuth app registered it. */
export interface Bound {
  readonly code: Deferred.Deferred<string, AuthenticationError>
  readonly redirectUri: string
}

/**
 * Serves the redirect URI on loopback for as long as the scope lives and
 * completes with the authorization `code` of the first callback, or fails
 * with why it cannot be used. Other paths get 404 and do not end the wait.
 * With more than one candidate, a port in use moves on to the next (as the
 * Databricks CLI does over 8020-8040); the first that binds is the one sent.
 */
export const receive = (
  candidates: ReadonlyArray<{ readonly url: URL; readonly redirectUri: string }>,
  setting: string,
  expectedState: string,
  /** The secrets of this login, removed from any text the callback carries into an error. */
  secrets: ReadonlyArray<Redaction.Secret>
): Effect.Effect<Bound, AuthenticationError, Scope.Scope> =>
  Effect.gen(function*() {
    const result = yield* Deferred.make<string, AuthenticationError>()
    const finish = (exit: Exit.Exit<string, AuthenticationError>) => Deferred.unsafeDone(result, exit)
    const fail = (error: AuthenticationError) => finish(Exit.fail(error))

    const handler = (target: URL) => (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      const url = new URL(request.url ?? "/", "http://loopback")
      if (url.pathname !== target.pathname) return page(response, 404, "Not found")
      if (request.method !== "GET") return page(response, 405, "Method not allowed")
      const params = url.searchParams
      const state = params.get("state")
      if (state === null || !constantTimeEqual(state, expectedState)) {
        page(response, 400, "This login link is stale or was not started here. Start the login again.")
        return fail(
          new AuthenticationError({
            message: "The login callback's state did not match the login that was started",
            hint: "Start the login again; if it keeps happening, another page may be trying to complete your login"
          })
        )
      }
      const rawError = params.get("error")
      if (rawError !== null) {
        // The query is foreign text (the IdP, or whatever page sent the browser here): it goes through the one
        // redaction rule with the secrets of this login (the client secret, the state, the PKCE verifier) and
        // the code the same callback may carry.
        const known = [...secrets, expectedState, params.get("code") ?? undefined]
        const error = Redaction.redact(rawError, { secrets: known, maxLength: 100 })
        const rawDescription = params.get("error_description")
        const description = rawDescription === null
          ? undefined
          : Redaction.redact(rawDescription, { secrets: known, maxLength: 300 })
        page(response, 400, "The login did not succeed. You can close this tab and check the application.")
        return fail(
          new AuthenticationError({
            message: `The identity provider did not grant the login: ${error}${
              description === undefined ? "" : ` (${description})`
            }`,
            oauthError: error,
            ...(description === undefined ? {} : { oauthErrorDescription: description }),
            hint: rawError === "access_denied"
              ? "The login was cancelled or denied in the browser; log in again and approve it"
              : "Check the OAuth app registration: the client id, the redirect URI and the scopes"
          })
        )
      }
      const code = params.get("code")
      if (code === null || code === "") {
        page(response, 400, "The callback carried no authorization code.")
        return fail(new AuthenticationError({ message: "The login callback carried no authorization code" }))
      }
      page(response, 200, "You are logged in to Databricks. You can close this tab.")
      finish(Exit.succeed(code))
    }

    const bindOne = (url: URL) =>
      Effect.gen(function*() {
        const port = Number(url.port)
        const [primary, ...others] = bindAddresses(url.hostname)
        const server = yield* Effect.acquireRelease(Effect.sync(() => Http.createServer(handler(url))), close)
        yield* listen(server, primary, port).pipe(
          Effect.mapError((error) => ({ error, port, primary }))
        )
        for (const address of others) {
          // Best effort: a machine without IPv6 still logs in over 127.0.0.1.
          const extra = yield* Effect.acquireRelease(Effect.sync(() => Http.createServer(handler(url))), close)
          yield* listen(extra, address, port).pipe(Effect.ignore)
        }
      })
    const ports = candidates.length > 1
      ? `${candidates[0].url.port}-${candidates[candidates.length - 1].url.port}`
      : candidates.map((candidate) => candidate.url.port).join("")
    for (const [index, candidate] of candidates.entries()) {
      const bound = yield* Effect.either(bindOne(candidate.url))
      if (bound._tag === "Right") return { code: result, redirectUri: candidate.redirectUri }
      const { error, port, primary } = bound.left
      if (error.code === "EADDRINUSE" && index < candidates.length - 1) continue
      return yield* Effect.fail(
        new AuthenticationError({
          message: error.code === "EADDRINUSE"
            ? candidates.length > 1
              ? `The login callback ports ${ports} on ${primary} are all in use`
              : `The login callback port ${port} on ${primary} is already in use`
            : `The login callback could not listen on ${primary}:${port} (${error.code ?? "error"})`,
          hint: candidates.length > 1
            ? `Free one of them, or choose a redirect URI in ${setting} (and register it with the OAuth app)`
            : `Free port ${port}, or choose another redirect URI in ${setting} (and register it with the OAuth app)`
        })
      )
    }
    return yield* Effect.die("no redirect URI to serve")
  })
