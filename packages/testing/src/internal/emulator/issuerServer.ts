import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { Faults } from "./faults.js"
import type { Federation } from "./federation.js"
import { credential, endpointsOf, fail, json, type RequestInfo } from "./http.js"
import * as Random from "./random.js"
import type { Stats } from "./stats.js"

/**
 * The workload identity provider's server: the test issuers' OIDC discovery and JWKS (what a federation
 * policy's issuer publishes), and a stand-in for the GitHub Actions ID-token endpoint.
 *
 * The GitHub contract, as the Databricks SDKs use it (databricks-sdk-go config/experimental/auth/oidc/github.go,
 * databricks-sdk-py oidc_token_supplier.py): `GET <ACTIONS_ID_TOKEN_REQUEST_URL>&audience=<aud>` with
 * `Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>` answers `{"value": "<jwt>"}`; the URL already carries
 * `?api-version=…`. GitHub's own `count` field is sent too. Ours: the 401 body, the default audience when none
 * is asked for (GitHub uses the repository owner's URL), and the 5-minute lifetime.
 */

export interface Deps {
  readonly federation: Federation
  readonly faults: Faults
  readonly stats: Stats
}

/** The path of the GitHub stand-in; the request URL handed out is this with `?api-version=2.0`. */
export const githubPath = "/_apis/distributedtask/hubs/Actions/plans/emulator/jobs/emulator/idtoken"

const notFound = (name: string) => fail(404, { error: `No issuer named ${name}` })

const issuerNamed = (federation: Federation, name: string) => {
  const issuer = federation.issuers.get(name)
  return issuer === undefined ? notFound(name) : Effect.succeed(issuer)
}

const discovery = (deps: Deps, name: string) => (_info: RequestInfo) =>
  Effect.map(issuerNamed(deps.federation, name), (issuer) =>
    json(200, {
      issuer: issuer.url,
      jwks_uri: `${issuer.url}/jwks`,
      response_types_supported: ["id_token"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: [issuer.algorithm],
      claims_supported: ["sub", "aud", "exp", "iat", "iss", "jti", "nbf"]
    }))

const jwks = (deps: Deps, name: string) => (_info: RequestInfo) =>
  Effect.map(issuerNamed(deps.federation, name), (issuer) => json(200, issuer.jwks, { "cache-control": "max-age=60" }))

const githubIdToken = (deps: Deps) => (info: RequestInfo) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const bearer = credential(request, "Bearer")
    if (bearer === undefined || !Random.safeEqual(bearer, deps.federation.githubRequestToken)) {
      return yield* fail(401, {
        message: "Bad credentials: send Authorization: Bearer <ACTIONS_ID_TOKEN_REQUEST_TOKEN>"
      })
    }
    const query = new URL(request.url, "http://emulator").searchParams
    const audience = query.get("audience") ?? "https://github.com/octo-org"
    const github = deps.federation.github
    info.principal = github.subject
    deps.federation.idTokenIssued()
    const value = deps.federation.githubIssuer.mint(
      { subject: github.subject, audience, lifetimeMs: github.lifetimeMs, claims: github.claims },
      yield* Clock.currentTimeMillis
    )
    return json(200, { count: 1, value })
  })

export const router = (deps: Deps) => {
  const on = endpointsOf(deps)
  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/issuers/:name/.well-known/openid-configuration",
      Effect.flatMap(HttpRouter.params, (params) => on("issuer_discovery", discovery(deps, params.name ?? "")))
    ),
    HttpRouter.get(
      "/issuers/:name/jwks",
      Effect.flatMap(HttpRouter.params, (params) => on("jwks", jwks(deps, params.name ?? "")))
    ),
    HttpRouter.get(githubPath, on("github_id_token", githubIdToken(deps)))
  )
}

export const routeNotFound = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  return json(404, { error: `No such endpoint: ${request.method} ${request.url.split("?")[0]}` })
})
