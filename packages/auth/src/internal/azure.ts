import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { AuthenticationError, ConfigurationError } from "../DatabricksError.js"
import type * as TokenSource from "../TokenSource.js"
import * as Oidc from "./oidc.js"

/**
 * @internal
 *
 * What the Azure methods share: the Azure Databricks resource, the Azure
 * clouds' endpoints, the workspace resource id, the headers Azure Databricks
 * reads, and Entra ID's `AADSTS` errors turned into hints.
 *
 * Sources: databricks-sdk-py databricks/sdk/environments.py (the resource id, the clouds' endpoints),
 * databricks/sdk/azure.py and databricks-sdk-go config/auth_azure_cli.go (the two headers).
 */

/** The Azure Databricks first-party application: the resource a workspace token is issued for. */
export const databricksResource = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"

export const spManagementTokenHeader = "X-Databricks-Azure-SP-Management-Token"
export const workspaceResourceIdHeader = "X-Databricks-Azure-Workspace-Resource-Id"

/** An Azure cloud: where Entra ID is, and the service management resource. */
export interface Cloud {
  readonly name: string
  readonly authorityHost: string
  readonly managementResource: string
}

export const clouds: Readonly<Record<string, Cloud>> = {
  PUBLIC: {
    name: "PUBLIC",
    authorityHost: "https://login.microsoftonline.com",
    managementResource: "https://management.core.windows.net/"
  },
  USGOVERNMENT: {
    name: "USGOVERNMENT",
    authorityHost: "https://login.microsoftonline.us",
    managementResource: "https://management.core.usgovcloudapi.net/"
  },
  CHINA: {
    name: "CHINA",
    authorityHost: "https://login.chinacloudapi.cn",
    managementResource: "https://management.core.chinacloudapi.cn/"
  }
}

/** `ARM_ENVIRONMENT`: `PUBLIC` (the default), `USGOVERNMENT` or `CHINA`, in any case. */
export const cloud = (value: unknown, setting: string): Effect.Effect<Cloud, ConfigurationError> => {
  if (value === undefined || (typeof value === "string" && value.trim() === "")) return Effect.succeed(clouds.PUBLIC)
  const name = typeof value === "string" ? value.trim().toUpperCase() : undefined
  const found = name === undefined ? undefined : Object.hasOwn(clouds, name) ? clouds[name] : undefined
  return found === undefined
    ? Effect.fail(
      new ConfigurationError({
        setting,
        message: `${setting} must be PUBLIC, USGOVERNMENT or CHINA`,
        hint: "Leave it unset for the Azure public cloud"
      })
    )
    : Effect.succeed(found)
}

/** An endpoint's base URL: https (http on loopback), no credentials, no trailing slash. */
export const baseUrl = (
  value: unknown,
  setting: string,
  example: string
): Effect.Effect<string, ConfigurationError> => {
  if (typeof value !== "string" || value.trim() === "") {
    return Effect.fail(
      new ConfigurationError({ setting, message: `${setting} is empty or not a string`, hint: `Use ${example}` })
    )
  }
  return Either.match(Oidc.checkEndpoint(value, setting), {
    onLeft: (error) => Effect.fail(new ConfigurationError({ setting, message: error.message, hint: `Use ${example}` })),
    onRight: (url) => Effect.succeed(url.replace(/\/+$/, ""))
  })
}

/** A tenant id as a URL path segment: a GUID or a domain name, nothing that changes the path. */
export const tenant = (value: string, setting: string): Effect.Effect<string, ConfigurationError> =>
  /^[A-Za-z0-9][A-Za-z0-9.-]{0,253}$/.test(value.trim())
    ? Effect.succeed(value.trim())
    : Effect.fail(
      new ConfigurationError({
        setting,
        message: `${setting} is not a tenant id (the value is not shown)`,
        hint: "Use the Directory (tenant) ID, a GUID, from the app registration's overview"
      })
    )

const resourceIdPattern =
  /^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.Databricks\/workspaces\/[^/]+$/i

/** `DATABRICKS_AZURE_RESOURCE_ID`, when set: the workspace's Azure resource id. */
export const workspaceResourceId = (
  value: unknown,
  setting: string
): Effect.Effect<string | undefined, ConfigurationError> => {
  if (value === undefined || (typeof value === "string" && value.trim() === "")) return Effect.succeed(undefined)
  return typeof value === "string" && resourceIdPattern.test(value.trim())
    ? Effect.succeed(value.trim())
    : Effect.fail(
      new ConfigurationError({
        setting,
        message: `${setting} is not an Azure Databricks workspace resource id`,
        hint:
          "Use /subscriptions/<subscription>/resourceGroups/<group>/providers/Microsoft.Databricks/workspaces/<name>, from the workspace's Properties in the Azure portal"
      })
    )
}

/** The subscription of a workspace resource id. */
export const subscriptionOf = (resourceId: string): string => resourceId.split("/")[2]

/** Entra ID's v2.0 scope for a resource: `{resource}/.default` (a URI resource keeps its slash: `…net//.default`). */
export const scopeFor = (resource: string): string => `${resource}/.default`

/**
 * A source that also sends Azure's headers: the workspace resource id, and
 * the service principal's management token when there is one to send.
 */
export const withHeaders = (
  source: TokenSource.TokenSource,
  resourceId: string | undefined,
  management: TokenSource.TokenSource | undefined
): TokenSource.TokenSource => {
  if (resourceId === undefined) return source
  const headers = management === undefined
    ? Effect.succeed({ [workspaceResourceIdHeader]: resourceId })
    : Effect.map(management.token, (token) => ({
      [workspaceResourceIdHeader]: resourceId,
      [spManagementTokenHeader]: Redacted.value(token.value)
    }))
  return { ...source, headers }
}

/** The `AADSTS` number of an Entra ID error description, if it has one. */
export const aadstsCode = (description: string | undefined): string | undefined =>
  description === undefined ? undefined : /AADSTS(\d+)/.exec(description)?.[1]

/** Entra ID appends trace and correlation ids and a time to every description: noise in a message. */
export const shortDescription = (description: string): string => description.split(/\r?\n|\s+Trace ID:/)[0].trim()

export interface EntraNames {
  readonly clientId: string
  readonly clientSecret?: string | undefined
  readonly tenantId: string
}

/** What to do about an `AADSTS` error, by its number. */
export const hintFor = (code: string | undefined, names: EntraNames): string | undefined => {
  switch (code) {
    case "7000215":
      return `${
        names.clientSecret ?? "The client secret"
      } is not a valid secret of this application: use the secret's Value (not its Secret ID) from Certificates & secrets in the app registration`
    case "7000222":
      return `The client secret has expired: create a new one under Certificates & secrets and update ${
        names.clientSecret ?? "the secret"
      }`
    case "7000218":
      return `Set ${names.clientSecret ?? "the client secret"}`
    case "700016":
      return `${names.clientId} is not an application in the tenant ${names.tenantId} names: check both (the app registration's Application (client) ID and Directory (tenant) ID)`
    case "90002":
      return `${names.tenantId} names no tenant in this cloud: check it, and ARM_ENVIRONMENT / AZURE_AUTHORITY_HOST for a sovereign cloud`
    case "500011":
      return `The Azure Databricks resource is not available in the tenant ${names.tenantId} names: check that the workspace is in that tenant`
    case "50126":
      return "The user name or password was refused: log in again (az login)"
    case "50034":
      return `The user is not in the tenant ${names.tenantId} names: log in to the workspace's tenant (az login --tenant ...)`
    default:
      return undefined
  }
}

/**
 * The OAuth client's refusal, said as an Entra ID refusal: the `AADSTS` code
 * and its text without the trace ids, and a hint for the code.
 */
export const entraRefusal = (error: AuthenticationError, what: string, names: EntraNames): AuthenticationError => {
  if (error.oauthError === undefined) {
    return new AuthenticationError({
      message: `${what}: ${error.message}`,
      ...(error.hint === undefined ? {} : { hint: error.hint }),
      ...(error.status === undefined ? {} : { status: error.status })
    })
  }
  const description = error.oauthErrorDescription === undefined
    ? undefined
    : shortDescription(error.oauthErrorDescription)
  const code = aadstsCode(description)
  return new AuthenticationError({
    message: `${what}: Entra ID refused it (HTTP ${error.status ?? "?"}, ${error.oauthError})${
      description === undefined ? "" : `: ${description}`
    }`,
    ...(error.status === undefined ? {} : { status: error.status }),
    oauthError: error.oauthError,
    ...(description === undefined ? {} : { oauthErrorDescription: description }),
    hint: hintFor(code, names) ?? error.hint ?? `Check ${names.clientId} and ${names.tenantId}`
  })
}
