import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { AuthenticationError, ConfigurationError, type DatabricksError } from "../DatabricksError.js"
import * as Redaction from "../Redaction.js"
import * as TokenSource from "../TokenSource.js"
import * as WorkspaceHost from "../WorkspaceHost.js"
import * as Jwt from "./jwt.js"
import * as Oidc from "./oidc.js"
import * as OptionChecks from "./options.js"
import type * as Retry from "./retry.js"
import * as TokenValue from "./tokenValue.js"

/**
 * Workload identity federation, the part env-oidc, file-oidc and github-oidc share: a federated JWT (from the
 * environment, a file, or GitHub Actions) exchanged at the workspace's OIDC token endpoint with RFC 8693 token
 * exchange, the workspace token cached and refreshed by `TokenSource.make`.
 *
 * The request is the one the Databricks SDKs send (databricks-sdk-go config/experimental/auth/oidc/tokensource.go,
 * databricks-sdk-py oidc.py): `grant_type=urn:ietf:params:oauth:grant-type:token-exchange`,
 * `subject_token_type=urn:ietf:params:oauth:token-type:jwt`, `subject_token`, `scope` (default `all-apis`) and
 * `client_id` only for a service principal's federation policy (none for an account-wide one), in the form, with
 * no client secret. The federated token is fetched again for every exchange (a file is re-read, GitHub is asked
 * again), so short-lived ones rotate; the audience asked of a source that takes one (GitHub) is the configured
 * audience, else the token endpoint, as both SDKs choose.
 */

export const tokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
export const jwtTokenType = "urn:ietf:params:oauth:token-type:jwt"

/** A federated token is a JWT: three base64url parts. Far larger than any real one (a few KB) is refused. */
export const maxJwtLength = 64 * 1024

/** The claims of a JWT without checking its signature (the workspace checks it), or undefined if it is none. */
export const claimsOf = (jwt: string): Readonly<Record<string, unknown>> | undefined =>
  Option.getOrUndefined(Jwt.claims(jwt))

/** What is wrong with a federated token, in words that never include it; undefined when it looks like a JWT. */
export const jwtProblem = (value: string): string | undefined => {
  if (value === "") return "is empty"
  if (value.length > maxJwtLength) return `is ${value.length} characters long, more than a JWT's ${maxJwtLength}`
  if (TokenValue.problem(value.slice(0, TokenValue.maxLength)) !== undefined || /\s/.test(value)) {
    return "contains whitespace or a control character inside it"
  }
  return claimsOf(value) === undefined ? "is not a JWT (three base64url parts: header, claims, signature)" : undefined
}

/** A federated token read from `source`, trimmed, as a `Redacted`; or why it cannot be one. */
export const checkedJwt = (value: string, source: string): Either.Either<Redacted.Redacted<string>, string> => {
  const trimmed = value.trim()
  const problem = jwtProblem(trimmed)
  return problem === undefined
    ? Either.right(Redacted.make(trimmed))
    : Either.left(`The federated token in ${source} ${problem} (the value is not shown)`)
}

export interface Settings {
  readonly authType: "env-oidc" | "file-oidc" | "github-oidc"
  readonly host: string
  readonly hostSetting: string
  readonly clientId: string | undefined
  readonly clientIdSetting: string
  readonly scopes: ReadonlyArray<string> | undefined
  readonly tokenEndpoint: string | undefined
  /** The audience to ask the source for, if it takes one; default the token endpoint. */
  readonly audience: string | undefined
  /** The setting that configures `audience`, for hints; only for sources that take one. */
  readonly audienceSetting: string | undefined
  /** Where the federated token comes from, for messages ("DATABRICKS_OIDC_TOKEN", "the file /x"). */
  readonly source: string
  /** What to do so the source holds a fresh token, for the hint on an expired one. */
  readonly freshHint: string
  /** The federated token, fetched for every exchange, for `audience`. */
  readonly idToken: (audience: string) => Effect.Effect<Redacted.Redacted<string>, DatabricksError>
  readonly refreshAhead: Duration.DurationInput | undefined
  readonly requestTimeout: Duration.DurationInput | undefined
  readonly retry: Retry.RetryOptions | undefined
}

/** The options every federation method shares, checked for untyped callers. */
export const checkCommon = (
  options: {
    readonly host?: unknown
    readonly clientId?: unknown
    readonly scopes?: unknown
    readonly tokenEndpoint?: unknown
  },
  names: { readonly host: string; readonly clientId: string }
): Effect.Effect<{ readonly clientId: string | undefined }, ConfigurationError> =>
  Effect.gen(function*() {
    yield* OptionChecks.optionalString(options.host, names.host, "Set it to the workspace URL")
    yield* OptionChecks.optionalString(options.tokenEndpoint, "tokenEndpoint", "Pass the token endpoint's URL")
    yield* OptionChecks.durations(options, ["refreshAhead", "requestTimeout"])
    const scopes = options.scopes
    if (scopes !== undefined && !(Array.isArray(scopes) && scopes.every((scope) => typeof scope === "string"))) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "scopes",
          message: "scopes must be an array of strings",
          hint: "Leave it out for [\"all-apis\"]"
        })
      )
    }
    // No client id (or a blank one, as the SDKs read it) is account-wide federation.
    if (options.clientId === undefined || (typeof options.clientId === "string" && options.clientId.trim() === "")) {
      return { clientId: undefined }
    }
    const clientId = yield* TokenValue.configuredText(options.clientId, {
      name: names.clientId,
      hint:
        "Use the application (client) id of the service principal whose federation policy trusts the token, or leave it unset for an account-wide policy"
    })
    return { clientId }
  })

const owner = (settings: Settings) =>
  settings.clientId === undefined
    ? "the account-wide federation policy"
    : `the federation policy of service principal ${settings.clientId}`

const clean = (value: unknown) =>
  Redaction.redact(typeof value === "string" ? value : JSON.stringify(value) ?? "", {
    maxLength: 200
  })

/**
 * A refusal explained with what the token itself says (its `iss`, `aud`, `sub`, `exp`: identifiers, not
 * secrets) and what to change; the server's own description stays in the message.
 */
const explain = (
  error: AuthenticationError,
  claims: Readonly<Record<string, unknown>> | undefined,
  settings: Settings
): AuthenticationError => {
  // Every description names the subject_token: matched without it, so "subject" means the policy's subject.
  const said = `${error.oauthError ?? ""} ${error.oauthErrorDescription ?? ""}`.replace(
    /subject_token(_type)?/g,
    "token"
  )
  const policy = owner(settings)
  let hint: string | undefined
  if (error.oauthError === "invalid_client") {
    hint =
      `No service principal has the client id ${settings.clientId}: set ${settings.clientIdSetting} to the application (client) id of the service principal whose federation policy trusts the token, or leave it unset for an account-wide policy`
  } else if (/signature|signed|\balg\b|HS256|JWKS/i.test(said)) {
    hint =
      "The workspace could not verify the token's signature: federation accepts RS256 and ES256 tokens signed by a key the issuer publishes (its JWKS)"
  } else if (/audience|\baud\b/i.test(said)) {
    const expected = /expects (?:one of )?(.+)$/.exec(error.oauthErrorDescription ?? "")?.[1]
    hint = `The token's audience (aud: ${clean(claims?.aud)}) is not one ${policy} accepts${
      expected === undefined ? "" : `; it expects ${expected}`
    }. ${
      settings.audienceSetting === undefined
        ? "Have the issuer mint the token for that audience"
        : `Set ${settings.audienceSetting} to it`
    }, or add the token's audience to the policy`
  } else if (/expired|\bexp\b/i.test(said)) {
    const exp = claims?.exp
    hint = `The federated token from ${settings.source} has expired${
      typeof exp === "number" && Number.isFinite(exp) && Math.abs(exp) < 1e11
        ? ` (exp ${new Date(exp * 1000).toISOString()})`
        : ""
    }. ${settings.freshHint}`
  } else if (/not valid before|\bnbf\b/i.test(said)) {
    hint = "The federated token is not valid yet (nbf); check the clocks of the issuer and this machine"
  } else if (/issuer|\biss\b/i.test(said)) {
    hint = `No federation policy trusts the token's issuer (iss: ${
      clean(claims?.iss)
    }); check the issuer URL of ${policy}${settings.clientId === undefined ? "" : `, and ${settings.clientIdSetting}`}`
  } else if (/subject|\bsub\b|no user/i.test(said)) {
    hint = `The token's subject (sub: ${
      clean(claims?.sub)
    }) is not the one ${policy} accepts; make the policy's subject match the workload's (for GitHub Actions, repo:<org>/<repo>:environment:<name> is stable)`
  }
  return hint === undefined ? error : new AuthenticationError({
    message: error.message,
    hint,
    ...(error.status === undefined ? {} : { status: error.status }),
    ...(error.oauthError === undefined ? {} : { oauthError: error.oauthError }),
    ...(error.oauthErrorDescription === undefined ? {} : { oauthErrorDescription: error.oauthErrorDescription }),
    ...(error.cause === undefined ? {} : { cause: error.cause })
  })
}

export const make = (settings: Settings): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const host = yield* WorkspaceHost.make(settings.host, { setting: settings.hostSetting })
    const scope = yield* Oidc.scopeParameter(settings.scopes ?? ["all-apis"], ["all-apis"])
    const tokenEndpoint = settings.tokenEndpoint === undefined
      ? Option.none<string>()
      : Option.some(yield* Oidc.checkEndpoint(settings.tokenEndpoint, "tokenEndpoint"))
    const oidc = yield* Oidc.make({
      host,
      hostSetting: settings.hostSetting,
      tokenEndpoint,
      tokenEndpointSetting: "tokenEndpoint",
      secrets: [],
      requestTimeout: Duration.decode(settings.requestTimeout ?? Duration.seconds(30)),
      retry: settings.retry
    })
    const who = settings.clientId === undefined ? "account-wide federation" : `service principal ${settings.clientId}`
    const grant: Oidc.GrantOptions = {
      what: `the federated token from ${settings.source}`,
      hints: {
        invalid_scope: "Check the scopes; Databricks tokens for federated workloads use \"all-apis\"",
        unsupported_grant_type:
          `The token endpoint does not support token exchange; check that ${settings.hostSetting} is the workspace URL`
      },
      defaultHint: `Check ${
        owner(settings)
      }: its issuer, audiences and subject must match the token from ${settings.source}`
    }

    const fetch = Effect.gen(function*() {
      const endpoints = yield* oidc.endpoints
      const jwt = yield* settings.idToken(settings.audience ?? endpoints.token)
      const params: Record<string, string> = {
        grant_type: tokenExchange,
        subject_token_type: jwtTokenType,
        subject_token: Redacted.value(jwt),
        scope,
        ...(settings.clientId === undefined ? {} : { client_id: settings.clientId })
      }
      const granted = yield* oidc.grant(params, grant).pipe(
        Effect.mapError((error) =>
          error._tag === "AuthenticationError" ? explain(error, claimsOf(Redacted.value(jwt)), settings) : error
        )
      )
      return { value: granted.accessToken, expiresIn: granted.expiresIn } satisfies TokenSource.IssuedToken
    }).pipe(
      Effect.mapError((error) => Oidc.asAuthenticationError(error, `Could not exchange a federated token (${who})`)),
      Effect.withSpan(`${settings.authType}.fetchToken`, {
        attributes: { "databricks.host": host.url, "databricks.auth_type": settings.authType }
      })
    )
    return yield* TokenSource.make(fetch, { authType: settings.authType, refreshAhead: settings.refreshAhead })
  })
