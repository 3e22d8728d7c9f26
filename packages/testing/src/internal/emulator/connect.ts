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
 * Connect's error codes as this emulator uses them. 30 and 215 are the codes
 * Connect's documentation shows; the others are the emulator's own, stable
 * so tests can match them.
 */
export const ErrorCode = {
  Unauthenticated: 30,
  InvalidRequest: 4,
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

/** Connect's JSON error shape `{ code, error, payload }`. */
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
    const form = yield* readForm((status, message) => connectError(status, ErrorCode.InvalidRequest, message))
    info.params = [...form.keys()].sort()
    const subjectType = form.get("subject_token_type")
    deps.stats.exchange(subjectType ?? "missing")
    if (form.get("grant_type") !== tokenExchangeGrant) {
      return yield* Effect.fail(connectError(400, ErrorCode.InvalidRequest, `grant_type must be ${tokenExchangeGrant}`))
    }
    const subjectToken = form.get("subject_token")
    if (subjectToken === undefined || subjectToken === "") {
      return yield* Effect.fail(connectError(400, ErrorCode.InvalidRequest, "subject_token is required"))
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
        ErrorCode.InvalidRequest,
        `subject_token_type must be ${userSessionTokenType} or ${contentSessionTokenType}`
      ))
    }
    if (principal === undefined) {
      return yield* Effect.fail(
        connectError(500, ErrorCode.InvalidRequest, "The integration's principal is not registered")
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
    code: ErrorCode.InvalidRequest,
    error: `No such endpoint: ${request.method} ${request.url.split("?")[0]}`,
    payload: null
  })
})
