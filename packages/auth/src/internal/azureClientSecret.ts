import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import type { Options } from "../AzureClientSecret.js"
import type { ConfigurationError } from "../DatabricksError.js"
import * as TokenSource from "../TokenSource.js"
import * as WorkspaceHost from "../WorkspaceHost.js"
import * as Azure from "./azure.js"
import * as Oidc from "./oidc.js"
import * as OptionChecks from "./options.js"
import * as TokenValue from "./tokenValue.js"

/**
 * @internal
 *
 * `azure-client-secret`: Entra ID client credentials at
 * `{authority}/{tenant}/oauth2/v2.0/token` with `scope={resource}/.default`,
 * as the Microsoft identity libraries and the Databricks Node driver ask
 * (the Databricks SDKs use the v1 endpoint with `resource=`; both give the
 * same token). With a workspace resource id, a second token for the
 * service management resource goes in `X-Databricks-Azure-SP-Management-Token`.
 */

/** How the settings are named to the user: options, or the environment variables the SDKs read. */
export interface Names {
  readonly clientId: string
  readonly clientSecret: string
  readonly tenantId: string
  readonly workspaceResourceId: string
  readonly authorityHost: string
  readonly environment: string
}

export const optionNames: Names = {
  clientId: "clientId",
  clientSecret: "clientSecret",
  tenantId: "tenantId",
  workspaceResourceId: "workspaceResourceId",
  authorityHost: "authorityHost",
  environment: "environment"
}

export const envNames: Names = {
  clientId: "ARM_CLIENT_ID",
  clientSecret: "ARM_CLIENT_SECRET",
  tenantId: "ARM_TENANT_ID",
  workspaceResourceId: "DATABRICKS_AZURE_RESOURCE_ID",
  authorityHost: "AZURE_AUTHORITY_HOST",
  environment: "ARM_ENVIRONMENT"
}

export const make = (options: Options, names: Names): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const clientId = yield* TokenValue.configuredText(options.clientId, {
      name: names.clientId,
      hint: "Use the app registration's Application (client) ID"
    })
    const clientSecret = yield* TokenValue.configuredSecret(options.clientSecret, {
      name: names.clientSecret,
      hint: "Use a client secret's Value from the app registration's Certificates & secrets"
    })
    const tenantText = yield* TokenValue.configuredText(options.tenantId, {
      name: names.tenantId,
      hint: "Use the app registration's Directory (tenant) ID"
    })
    const tenant = yield* Azure.tenant(tenantText, names.tenantId)
    yield* OptionChecks.optionalString(options.authorityHost, names.authorityHost, "Pass the Entra ID authority URL")
    yield* OptionChecks.optionalString(options.resource, "resource", "Leave it out for Azure Databricks")
    yield* OptionChecks.durations(options, ["refreshAhead", "requestTimeout"])
    const cloud = yield* Azure.cloud(options.environment, names.environment)
    const authority = yield* Azure.baseUrl(
      options.authorityHost ?? cloud.authorityHost,
      names.authorityHost,
      cloud.authorityHost
    )
    const resourceId = yield* Azure.workspaceResourceId(options.workspaceResourceId, names.workspaceResourceId)
    const resource = options.resource?.trim() || Azure.databricksResource
    const tokenEndpoint = `${authority}/${encodeURIComponent(tenant)}/oauth2/v2.0/token`
    const oidc = yield* Oidc.make({
      host: yield* WorkspaceHost.make(authority, { setting: names.authorityHost }),
      hostSetting: names.authorityHost,
      tokenEndpoint: Option.some(tokenEndpoint),
      secrets: [clientSecret],
      requestTimeout: Duration.decode(options.requestTimeout ?? Duration.seconds(30)),
      retry: options.retry
    })
    const entraNames = { clientId: names.clientId, clientSecret: names.clientSecret, tenantId: names.tenantId }

    const fetchFor = (scopeResource: string, purpose: string) =>
      oidc.grant({
        grant_type: "client_credentials",
        client_id: clientId,
        client_secret: Redacted.value(clientSecret),
        scope: Azure.scopeFor(scopeResource)
      }, {
        what: "the client credentials",
        hints: {},
        defaultHint: `Check ${names.clientId}, ${names.clientSecret} and ${names.tenantId}`
      }).pipe(
        Effect.map((granted): TokenSource.IssuedToken => ({
          value: granted.accessToken,
          expiresIn: granted.expiresIn
        })),
        Effect.mapError((error) => {
          const what = `Could not obtain ${purpose} for ${clientId} in tenant ${tenant}`
          return error._tag === "AuthenticationError"
            ? Azure.entraRefusal(error, what, entraNames)
            : Oidc.asAuthenticationError(error, what)
        }),
        Effect.withSpan("AzureClientSecret.fetchToken", { attributes: { "azure.resource": scopeResource } })
      )

    const source = yield* TokenSource.make(fetchFor(resource, "an Entra ID token"), {
      authType: "azure-client-secret",
      refreshAhead: options.refreshAhead
    })
    // Only with a workspace resource id: the management token lets Azure Databricks add a service principal
    // that holds Contributor on the workspace but is not in it yet, and is useless without the resource id.
    const management = resourceId === undefined ? undefined : yield* TokenSource.make(
      fetchFor(cloud.managementResource, "an Azure management token"),
      { authType: "azure-client-secret", refreshAhead: options.refreshAhead }
    )
    yield* Effect.logDebug(`azure-client-secret: ${clientId} in tenant ${tenant} via ${authority}`)
    return Azure.withHeaders(source, resourceId, management)
  })
