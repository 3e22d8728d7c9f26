import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import { AuthenticationError } from "../DatabricksError.js"
import * as Redaction from "../Redaction.js"

/** What the redirect URI points at, and how to name it to the user when something goes wrong. */
export interface Target {
  readonly url: URL
  /** `DATABRICKS_REDIRECT_URI` or `redirectUri`. */
  readonly setting: string
}

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

/**
 * Serves the redirect URI on loopback for as long as the scope lives and
 * completes with the authorization `code` of the first callback, or fails
 * with why it cannot be used. Other paths get 404 and do not end the wait.
 */
export const receive = (
  target: Target,
  expectedState: string,
  /** The secrets of this login, removed from any text the callback carries into an error. */
  secrets: ReadonlyArray<Redaction.Secret>
): Effect.Effect<Deferred.Deferred<string, AuthenticationError>, AuthenticationError, Scope.Scope> =>
  Effect.gen(function*() {
    const result = yield* Deferred.make<string, AuthenticationError>()
    const finish = (exit: Exit.Exit<string, AuthenticationError>) => Deferred.unsafeDone(result, exit)
    const fail = (error: AuthenticationError) => finish(Exit.fail(error))

    const handler = (request: Http.IncomingMessage, response: Http.ServerResponse) => {
      const url = new URL(request.url ?? "/", "http://loopback")
      if (url.pathname !== target.url.pathname) return page(response, 404, "Not found")
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

    const port = Number(target.url.port)
    const [primary, ...others] = bindAddresses(target.url.hostname)
    const server = yield* Effect.acquireRelease(Effect.sync(() => Http.createServer(handler)), close)
    yield* listen(server, primary, port).pipe(
      Effect.mapError((error) =>
        new AuthenticationError({
          message: error.code === "EADDRINUSE"
            ? `The login callback port ${port} on ${primary} is already in use`
            : `The login callback could not listen on ${primary}:${port} (${error.code ?? "error"})`,
          hint:
            `Free port ${port}, or choose another redirect URI in ${target.setting} (and register it with the OAuth app)`
        })
      )
    )
    for (const address of others) {
      // Best effort: a machine without IPv6 still logs in over 127.0.0.1.
      const extra = yield* Effect.acquireRelease(Effect.sync(() => Http.createServer(handler)), close)
      yield* listen(extra, address, port).pipe(Effect.ignore)
    }
    return result
  })
