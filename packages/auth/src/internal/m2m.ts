import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { ConfigurationError } from "../DatabricksError.js"
import type { Options } from "../LocalM2M.js"
import * as TokenSource from "../TokenSource.js"
import * as WorkspaceHost from "../WorkspaceHost.js"
import * as Oidc from "./oidc.js"
import * as TokenValue from "./tokenValue.js"

/** How the settings are named to the user: options, or environment variables. */
export interface Names {
  readonly host: string
  readonly clientId: string
  readonly clientSecret: string
}

export const optionNames: Names = { host: "host", clientId: "clientId", clientSecret: "clientSecret" }
export const envNames: Names = {
  host: "DATABRICKS_HOST",
  clientId: "DATABRICKS_CLIENT_ID",
  clientSecret: "DATABRICKS_CLIENT_SECRET"
}

const hints = (names: Names): Record<string, string> => ({
  invalid_client:
    `Check ${names.clientId} / ${names.clientSecret}; the service principal needs an OAuth secret (Settings > Identity and access > Service principals > Secrets)`,
  unauthorized_client:
    "The service principal may not use the client_credentials grant; check that OAuth is enabled for it",
  invalid_scope: "Check the scopes; Databricks machine-to-machine tokens use \"all-apis\"",
  invalid_request: "The token endpoint rejected the request; check that it is a Databricks /oidc/v1/token endpoint",
  unsupported_grant_type:
    "The token endpoint does not support client_credentials; check that it is a Databricks endpoint"
})

export const make = (options: Options, names: Names): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const host = yield* WorkspaceHost.make(options.host, { setting: names.host })
    // The client id and secret go into HTTP Basic: the one rule for header values applies to them on every path
    // here (LocalM2M, and AuthConfig, which resolves them from the environment or a profile).
    const clientId = yield* TokenValue.configuredText(options.clientId, {
      name: names.clientId,
      hint: "Use the service principal's application (client) id"
    })
    const clientSecret = yield* TokenValue.configuredSecret(options.clientSecret, {
      name: names.clientSecret,
      hint: "Use an OAuth secret of the service principal"
    })
    const scope = yield* Oidc.scopeParameter(options.scopes ?? ["all-apis"], ["all-apis"])
    const tokenEndpoint = options.tokenEndpoint === undefined
      ? Option.none<string>()
      : Option.some(yield* Oidc.checkEndpoint(options.tokenEndpoint, "tokenEndpoint"))
    const oidc = yield* Oidc.make({
      host,
      hostSetting: names.host,
      tokenEndpoint,
      tokenEndpointSetting: "tokenEndpoint",
      secrets: [clientSecret],
      requestTimeout: Duration.decode(options.requestTimeout ?? Duration.seconds(30)),
      retry: options.retry
    })
    const grant: Oidc.GrantOptions = {
      what: "the client credentials",
      basic: { id: clientId, secret: clientSecret },
      hints: hints(names),
      defaultHint: `Check ${names.clientId} / ${names.clientSecret} and that ${names.host} is the right workspace`
    }

    const fetch = oidc.grant({ grant_type: "client_credentials", scope }, grant).pipe(
      Effect.map((granted): TokenSource.IssuedToken => ({ value: granted.accessToken, expiresIn: granted.expiresIn })),
      Effect.mapError((error) => Oidc.asAuthenticationError(error, `Could not obtain an OAuth token for ${clientId}`)),
      Effect.withSpan("LocalM2M.fetchToken", { attributes: { "databricks.host": host.url } })
    )

    return yield* TokenSource.make(fetch, { authType: "oauth-m2m", refreshAhead: options.refreshAhead })
  })
