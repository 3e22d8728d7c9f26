/**
 * What every hostile-input test checks: a run bounded in real time with its log lines captured, and a failure
 * that is exactly the expected tagged error and shows no secret anywhere.
 */
import { TokenSource } from "@effect-databricks/auth"
import { assert } from "@effect/vitest"
import { Cause, Effect, Exit, Logger, LogLevel, Option } from "effect"
import * as Http from "node:http"
import * as Util from "node:util"

export interface Outcome<A> {
  readonly exit: Exit.Exit<A, unknown>
  readonly lines: ReadonlyArray<string>
}

/** Runs `effect` with every log line captured, bounded in real time: a hang fails the case. */
export const runCase = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Outcome<A>, never, R> =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.make(({ annotations, cause, message }) => {
      lines.push(Util.inspect({ message, annotations: [...annotations] }, { depth: 10 }), Cause.pretty(cause))
    })
    const exit = yield* effect.pipe(
      Effect.scoped,
      Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("hang: no answer within 10 seconds") }),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Logger.withMinimumLogLevel(LogLevel.All),
      Effect.exit
    )
    return { exit, lines }
  })

/** The forms in which a secret could leak: as is, URL/form-encoded, and inside HTTP Basic. */
export const leakForms = (secret: string): ReadonlyArray<string> => [
  secret,
  encodeURIComponent(secret),
  new URLSearchParams({ v: secret }).toString().slice(2),
  Buffer.from(secret).toString("base64")
]

export type Failure =
  & { readonly _tag: string; readonly message: string; readonly hint?: string | undefined }
  & Record<
    string,
    unknown
  >

/**
 * The case failed with `tag` (no defect, no hang), and no secret shows in the error's renderings or the logs.
 * Every secret used here carries the marker "zq9", so even a part of one is found.
 */
export const expectFailure = <A>(
  outcome: Outcome<A>,
  tag: string,
  secrets: ReadonlyArray<string>
): Failure => {
  const { exit, lines } = outcome
  assert.isTrue(Exit.isFailure(exit), `expected ${tag}, got success`)
  if (Exit.isSuccess(exit)) throw new Error("unreachable")
  assert.isFalse(Cause.isDie(exit.cause), `died:\n${Cause.pretty(exit.cause)}`)
  const error = Option.getOrThrow(Cause.failureOption(exit.cause)) as Failure
  assert.strictEqual(error._tag, tag, `expected ${tag}:\n${Cause.pretty(exit.cause)}`)
  const shown = [
    String(error),
    JSON.stringify(error),
    Util.inspect(error, { depth: 10 }),
    Cause.pretty(exit.cause),
    ...lines
  ]
  for (const text of shown) {
    for (const secret of secrets) {
      for (const form of leakForms(secret)) assert.notInclude(text, form, "a secret was shown")
      assert.notInclude(text, "zq9", "a part of a secret was shown")
    }
  }
  return error
}

// Loopback servers for hostile answers, on 127.0.0.1 for the scope.

export interface Recorded {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
  readonly body: string
}

export interface Server {
  readonly origin: string
  readonly port: number
  readonly requests: Array<Recorded>
}

export type Handler = (request: Recorded, response: Http.ServerResponse) => void

export const json = (response: Http.ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { "content-type": "application/json" })
  response.end(typeof body === "string" ? body : JSON.stringify(body))
}

/** A node:http server on 127.0.0.1 for the scope; it records every request, then lets `handler` answer. */
export const serve = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.async<{ readonly server: Http.Server; readonly info: Server }>((resume) => {
      const requests: Array<Recorded> = []
      const server = Http.createServer((request, response) => {
        let body = ""
        request.setEncoding("utf8")
        request.on("data", (chunk: string) => (body += chunk))
        request.on("end", () => {
          const recorded: Recorded = {
            method: request.method ?? "",
            url: request.url ?? "",
            authorization: request.headers.authorization,
            body
          }
          requests.push(recorded)
          handler(recorded, response)
        })
      })
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as { port: number }).port
        resume(Effect.succeed({ server, info: { origin: `http://127.0.0.1:${port}`, port, requests } }))
      })
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ info }) => info))

/** Answers 200 to anything: a host that would gladly take a credential. */
export const attacker = serve((_, response) => json(response, 200, { access_token: "stolen", token_type: "Bearer" }))

/** A workspace whose discovery document names `endpoints`, relative ones resolved against its own origin. */
export const discovering = (
  endpoints: (origin: string) => { readonly token_endpoint: string; readonly authorization_endpoint?: string },
  token: Handler = (_, response) => json(response, 400, { error: "invalid_client" })
) =>
  Effect.gen(function*() {
    let origin = ""
    const server = yield* serve((request, response) => {
      if (request.url === "/oidc/.well-known/oauth-authorization-server") {
        return json(response, 200, { issuer: `${origin}/oidc`, ...endpoints(origin) })
      }
      if (request.url === "/oidc/v1/token") return token(request, response)
      json(response, 404, { error_code: "NOT_FOUND", message: "no such path" })
    })
    origin = server.origin
    return server
  })

export const noRequests = (server: Server) =>
  assert.deepStrictEqual(server.requests.map((r) => `${r.method} ${r.url}`), [], "the attacker received a request")

export const tokenOf = Effect.flatMap(TokenSource.TokenSource, (source) => source.token)

/** A workspace with OIDC discovery on its own origin; `token` answers its token endpoint. */
export const workspaceWith = (token: Handler) =>
  discovering((origin) => ({
    token_endpoint: `${origin}/oidc/v1/token`,
    authorization_endpoint: `${origin}/oidc/v1/authorize`
  }), token)
