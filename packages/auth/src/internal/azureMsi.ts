import type * as HttpClient from "@effect/platform/HttpClient"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { Options } from "../AzureMsi.js"
import { AuthenticationError, type ConfigurationError } from "../DatabricksError.js"
import * as TokenSource from "../TokenSource.js"
import * as Azure from "./azure.js"
import * as Oidc from "./oidc.js"
import * as OptionChecks from "./options.js"
import * as TokenServer from "./tokenServer.js"
import * as TokenValue from "./tokenValue.js"

/**
 * @internal
 *
 * `azure-msi`: tokens of a managed identity from the Instance Metadata
 * Service, `GET {endpoint}/metadata/identity/oauth2/token?api-version=2018-02-01
 * &resource=…[&client_id=…]` with `Metadata: true`, as databricks-sdk-go
 * config/auth_azure_msi.go asks. `AZURE_POD_IDENTITY_AUTHORITY_HOST` moves the
 * endpoint, as the Azure Identity libraries read it.
 */

export interface Names {
  readonly clientId: string
  readonly workspaceResourceId: string
  readonly endpoint: string
  readonly environment: string
}

export const optionNames: Names = {
  clientId: "clientId",
  workspaceResourceId: "workspaceResourceId",
  endpoint: "endpoint",
  environment: "environment"
}

export const envNames: Names = {
  clientId: "ARM_CLIENT_ID",
  workspaceResourceId: "DATABRICKS_AZURE_RESOURCE_ID",
  endpoint: "AZURE_POD_IDENTITY_AUTHORITY_HOST",
  environment: "ARM_ENVIRONMENT"
}

export const defaultEndpoint = "http://169.254.169.254"
const tokenPath = "/metadata/identity/oauth2/token"

const isLinkLocalImds = (url: string) => new URL(url).hostname === "169.254.169.254"

export const make = (options: Options, names: Names): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | Scope.Scope
> =>
  Effect.gen(function*() {
    const clientId = options.clientId === undefined || options.clientId.trim() === ""
      ? undefined
      : yield* TokenValue.configuredText(options.clientId, {
        name: names.clientId,
        hint: "Use the client id of a user-assigned identity attached to this machine, or leave it unset"
      })
    yield* OptionChecks.optionalString(options.endpoint, names.endpoint, `Use ${defaultEndpoint}`)
    yield* OptionChecks.optionalString(options.resource, "resource", "Leave it out for Azure Databricks")
    yield* OptionChecks.durations(options, ["refreshAhead", "requestTimeout"])
    const cloud = yield* Azure.cloud(options.environment, names.environment)
    const rawEndpoint = options.endpoint?.trim() || defaultEndpoint
    // IMDS is plain HTTP on a link-local address by design; any other endpoint follows the usual https rule.
    const endpoint = isLinkLocalImds(rawEndpoint.startsWith("http") ? rawEndpoint : `http://${rawEndpoint}`)
      ? defaultEndpoint
      : yield* Azure.baseUrl(rawEndpoint, names.endpoint, defaultEndpoint)
    const resourceId = yield* Azure.workspaceResourceId(options.workspaceResourceId, names.workspaceResourceId)
    const resource = options.resource?.trim() || Azure.databricksResource
    const requestTimeout = Duration.decode(options.requestTimeout ?? Duration.seconds(10))
    const what = `The managed-identity endpoint at ${endpoint}`
    const identity = clientId === undefined ? "the system-assigned identity" : `the identity ${clientId}`

    const fetchFor = (scopeResource: string) =>
      TokenServer.fetch({
        url: `${endpoint}${tokenPath}?${new URLSearchParams({
          "api-version": "2018-02-01",
          resource: scopeResource,
          ...(clientId === undefined ? {} : { client_id: clientId })
        })}`,
        headers: { Metadata: "true" },
        what,
        secrets: [],
        requestTimeout,
        retry: options.retry,
        // IMDS answers 404 while an identity is being assigned and 410 while it is being updated.
        transient: [404, 410],
        refused: (details) =>
          new AuthenticationError({
            message: `${what} refused a token for ${identity} (HTTP ${details.status})${
              details.description === undefined ? "" : `: ${Azure.shortDescription(details.description)}`
            }`,
            status: details.status,
            ...(details.errorCode === undefined ? {} : { oauthError: details.errorCode }),
            ...(details.description === undefined ? {} : { oauthErrorDescription: details.description }),
            hint: /identity not found/i.test(details.description ?? "")
              ? clientId === undefined
                ? `This machine has no system-assigned managed identity: enable one, or set ${names.clientId} to a user-assigned identity's client id`
                : `No identity with client id ${clientId} is attached to this machine: check ${names.clientId}`
              : "Check that the managed identity may get tokens for Azure Databricks"
          })
      }).pipe(
        Effect.mapError((error) =>
          error._tag === "NetworkError" || error._tag === "TimeoutError"
            ? new AuthenticationError({
              message: `${what} could not be reached: ${error.message}`,
              hint:
                `azure-msi works on an Azure VM, App Service or AKS pod with a managed identity; elsewhere choose another auth type (or set ${names.endpoint} to the endpoint's address)`,
              cause: error
            })
            : Oidc.asAuthenticationError(error, `Could not obtain a token for ${identity}`)
        ),
        Effect.withSpan("AzureMsi.fetchToken", { attributes: { "azure.resource": scopeResource } })
      )

    const source = yield* TokenSource.make(fetchFor(resource), {
      authType: "azure-msi",
      refreshAhead: options.refreshAhead
    })
    const management = resourceId === undefined ? undefined : yield* TokenSource.make(
      fetchFor(cloud.managementResource),
      { authType: "azure-msi", refreshAhead: options.refreshAhead }
    )
    return Azure.withHeaders(source, resourceId, management)
  })
