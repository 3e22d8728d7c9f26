import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { ConnectIntegration, Principal } from "../../Emulator.js"
import type { Faults } from "./faults.js"
import { credential, endpointsOf, json, readForm, Reply, type RequestInfo } from "./http.js"
import * as Random from "./random.js"
import type { Registry } from "./registry.js"
import type { Stats } from "./stats.js"

export const tokenExchangeGrant = "urn:ietf:params:oauth:grant-type:token-exchange"
export const userSessionTokenType = "urn:posit:connect:user-session-token"
export const contentSessionTokenType = "urn:posit:connect:content-session-token"
export const accessTokenType = "urn:ietf:params:oauth:token-type:access_token"

/**
 * Connect's error codes as this emulator uses them, each with its source.
 *
 * - The "API Error Codes" table of the Posit Connect API Reference (OpenAPI spec 2023.09.0; the same table is in
 *   the clients generated from it, e.g. github.com/edavidaja/cnctapi, python/swagger_client/models/job_item.py):
 *   1 "An internal failure occurred." (500), 2 "The requested method or endpoint is not supported." (404),
 *   12 "A required parameter is missing." (400), 24 "The requested operation requires authentication." (401),
 *   25 "The parameter is invalid." (400), 87 "The request body cannot be parsed" (400). That table ends at 195:
 *   it predates the OAuth integrations API (Connect 2024.08.0).
 * - 215 "Invalid subject_token": Posit's troubleshooting docs quote "Connect API Error 215: Invalid subject_token"
 *   for an expired viewer session token (reference/posit-connect-and-databricks-auth.md §1).
 * - 212, 213, 214, 216, 217: not documented; chosen by us (in the 21x range next to 215), stable so tests can
 *   match them. The messages of 212 and 213 are the ones Posit's docs quote (same reference, §1); the others are ours.
 */
export const ErrorCode = {
  Internal: 1,
  UnsupportedEndpoint: 2,
  MissingParameter: 12,
  Unauthenticated: 24,
  InvalidParameter: 25,
  UnparseableBody: 87,
  NoIntegration: 212,
  WrongFlow: 213,
  UnknownAudience: 214,
  InvalidSubjectToken: 215,
  AmbiguousIntegration: 216,
  UnsupportedTokenType: 217
} as const

export interface Deps {
  readonly registry: Registry
  readonly faults: Faults
  readonly stats: Stats
  readonly apiKey: string
  readonly version: () => string
  readonly defaultServicePrincipal: string
}

/**
 * Connect's JSON error shape `{ code, error, payload }`: posit-sdk-py's `ClientError` reads these three fields
 * (reference/posit-connect-and-databricks-auth.md §1; an error body without `code` crashes its parser, §6).
 */
const connectError = (status: number, code: number, error: string) =>
  new Reply({ response: json(status, { code, error, payload: null }) })

const flowName = (kind: ConnectIntegration["authType"]) => kind === "viewer" ? "Viewer" : "Service Account"

/** Chooses the integration for a flow: the audience if given, else the one integration of that kind. */
const chooseIntegration = (
  integrations: ReadonlyArray<ConnectIntegration>,
  kind: ConnectIntegration["authType"],
  audience: string | undefined
): Effect.Effect<ConnectIntegration, Reply> => {
  if (integrations.length === 0) {
    return Effect.fail(
      connectError(400, ErrorCode.NoIntegration, "No OAuth integrations have been associated with this content item.")
    )
  }
  if (audience !== undefined) {
    const chosen = integrations.find((integration) => integration.guid === audience)
    if (chosen === undefined) {
      return Effect.fail(connectError(
        400,
        ErrorCode.UnknownAudience,
        `OAuth integration ${audience} is not associated with this content item.`
      ))
    }
    return chosen.authType === kind ? Effect.succeed(chosen) : Effect.fail(connectError(
      400,
      ErrorCode.WrongFlow,
      `OAuth integration ${chosen.guid} does not support ${flowName(kind)} auth flows.`
    ))
  }
  const ofKind = integrations.filter((integration) => integration.authType === kind)
  if (ofKind.length === 1) return Effect.succeed(ofKind[0])
  return Effect.fail(
    ofKind.length === 0
      ? connectError(
        400,
        ErrorCode.NoIntegration,
        `No ${flowName(kind)} OAuth integration is associated with this content item.`
      )
      : connectError(
        400,
        ErrorCode.AmbiguousIntegration,
        "Several OAuth integrations match; pass an audience to choose one."
      )
  )
}

const exchange = (deps: Deps) => (info: RequestInfo) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const key = credential(request, "Key")
    if (key === undefined || !Random.safeEqual(key, deps.apiKey)) {
      return yield* Effect.fail(
        connectError(401, ErrorCode.Unauthenticated, "The requested operation requires authentication.")
      )
    }
    const form = yield* readForm((status, message) => connectError(status, ErrorCode.UnparseableBody, message))
    info.params = [...form.keys()].sort()
    const subjectType = form.get("subject_token_type")
    deps.stats.exchange(subjectType ?? "missing")
    if (form.get("grant_type") !== tokenExchangeGrant) {
      return yield* Effect.fail(
        connectError(400, ErrorCode.InvalidParameter, `grant_type must be ${tokenExchangeGrant}`)
      )
    }
    const subjectToken = form.get("subject_token")
    if (subjectToken === undefined || subjectToken === "") {
      return yield* Effect.fail(connectError(400, ErrorCode.MissingParameter, "subject_token is required"))
    }
    const requested = form.get("requested_token_type") ?? accessTokenType
    if (requested !== accessTokenType) {
      return yield* Effect.fail(
        connectError(400, ErrorCode.UnsupportedTokenType, `The emulator issues only ${accessTokenType}`)
      )
    }
    const audience = form.get("audience")
    const integrations = deps.registry.integrations

    let principal: Principal | undefined
    let integration: ConnectIntegration
    if (subjectType === userSessionTokenType) {
      const session = deps.registry.userSessions.get(subjectToken)
      // Unknown and expired alike: Posit's docs give 215 "Invalid subject_token" for an expired viewer session
      // token. The 401 status is not documented; chosen by us (the posit SDKs read the code, not the status).
      if (session === undefined || session.expired) {
        return yield* Effect.fail(connectError(401, ErrorCode.InvalidSubjectToken, "Invalid subject_token"))
      }
      integration = yield* chooseIntegration(integrations, "viewer", audience)
      principal = deps.registry.principals.get(session.principalId)
    } else if (subjectType === contentSessionTokenType) {
      const session = deps.registry.contentSessions.get(subjectToken)
      if (session === undefined || session.expired) {
        return yield* Effect.fail(connectError(401, ErrorCode.InvalidSubjectToken, "Invalid subject_token"))
      }
      integration = yield* chooseIntegration(integrations, "service-account", audience)
      principal = deps.registry.principalByClientId(integration.servicePrincipal ?? deps.defaultServicePrincipal)
    } else {
      return yield* Effect.fail(connectError(
        400,
        ErrorCode.InvalidParameter,
        `subject_token_type must be ${userSessionTokenType} or ${contentSessionTokenType}`
      ))
    }
    if (principal === undefined) {
      return yield* Effect.fail(
        connectError(500, ErrorCode.Internal, "The integration's principal is not registered")
      )
    }
    info.principal = principal.userName
    const { token } = deps.registry.issueAccessToken(
      principal,
      "all-apis",
      integration.guid,
      yield* Clock.currentTimeMillis
    )
    return json(200, { access_token: token, issued_token_type: accessTokenType, token_type: "Bearer" })
  })

/** The Connect server's routes. */
export const router = (deps: Deps) => {
  const on = endpointsOf(deps)
  return HttpRouter.empty.pipe(
    HttpRouter.get(
      "/__api__/server_settings",
      on("server_settings", () => Effect.sync(() => json(200, { version: deps.version() })))
    ),
    HttpRouter.post("/__api__/v1/oauth/integrations/credentials", on("exchange", exchange(deps)))
  )
}

/** Connect answers unknown paths with its error shape too. */
export const notFound = Effect.gen(function*() {
  const request = yield* HttpServerRequest.HttpServerRequest
  return json(404, {
    code: ErrorCode.UnsupportedEndpoint,
    error: `No such endpoint: ${request.method} ${request.url.split("?")[0]}`,
    payload: null
  })
})
