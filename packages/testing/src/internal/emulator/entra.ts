import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import type { Principal } from "../../Emulator.js"
import { credential, json, readForm, Reply, type RequestInfo } from "./http.js"
import * as Random from "./random.js"
import type { Authentication, BearerVerifier, Registry } from "./registry.js"

/**
 * @internal
 *
 * The emulated Microsoft Entra ID: tenants, applications (service principals
 * and managed identities) and users, the token endpoint of each tenant
 * (`/{tenant}/oauth2/v2.0/token` and the v1 `/{tenant}/oauth2/token`), and the
 * check the workspace makes on the tokens it issues.
 *
 * Sources: the Azure Databricks resource id and the management endpoint are the Databricks SDKs'
 * (databricks-sdk-py databricks/sdk/environments.py, databricks-sdk-go common/environment/azure.go); the header
 * names are databricks-sdk-go config/auth_azure_cli.go's. The AADSTS codes and their texts are Entra ID's own
 * (its error-code reference); the trace and correlation ids in them are random here. The token claims follow
 * Entra ID's v1 access tokens (the Azure Databricks resource is issued v1 tokens on either endpoint).
 */

/** The Azure Databricks first-party application: the resource (audience) of a workspace token. */
export const databricksResource = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"
/** The Azure service management resource, whose token goes in `X-Databricks-Azure-SP-Management-Token`. */
export const managementResource = "https://management.core.windows.net/"
/** The Azure Resource Manager resource (for resolving a workspace URL from its resource id). */
export const resourceManager = "https://management.azure.com/"
/** The Azure CLI's public client id, which `az login --username` uses for the password grant. */
export const azureCliClientId = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

export const spManagementTokenHeader = "x-databricks-azure-sp-management-token"
export const workspaceResourceIdHeader = "x-databricks-azure-workspace-resource-id"

/**
 * What the workspace makes of an identity: `"member"` has been added to it, `"contributor"` has not but holds
 * Contributor (or Owner) on the workspace's Azure resource, so Azure Databricks adds it on first use (a user at
 * once, a service principal when it sends its management token), `"none"` is refused.
 */
export type WorkspaceAccess = "member" | "contributor" | "none"

export interface App {
  readonly kind: "application" | "managed-identity"
  readonly tenantId: string
  readonly clientId: string
  readonly objectId: string
  readonly displayName: string
  secret: string | undefined
  secretExpired: boolean
  access: WorkspaceAccess
}

export interface User {
  readonly tenantId: string
  readonly upn: string
  readonly objectId: string
  readonly displayName: string
  readonly password: string
  access: WorkspaceAccess
}

interface Claims {
  readonly aud: string
  readonly iss: string
  readonly iat: number
  readonly nbf: number
  readonly exp: number
  readonly tid: string
  readonly oid: string
  readonly sub: string
  readonly appid: string
  readonly idtyp: "app" | "user"
  readonly ver: "1.0"
  readonly uti: string
  readonly upn?: string
  readonly name?: string
  readonly scp?: string
}

const knownResources = [databricksResource, managementResource, resourceManager]

/** A resource as Entra ID matches it: an application id in any case, a URI with or without its final slash. */
export const normalizeResource = (resource: string): string | undefined => {
  const trimmed = resource.trim()
  return knownResources.find((known) =>
    known.toLowerCase() === trimmed.toLowerCase() || known.toLowerCase() === `${trimmed.toLowerCase()}/`
  )
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

export class Directory {
  readonly tenants = new Set<string>()
  readonly apps = new Map<string, App>()
  /** By lower-cased user principal name. */
  readonly users = new Map<string, User>()
  private signing:
    | { readonly privateKey: Crypto.KeyObject; readonly publicKey: Crypto.KeyObject; kid: string }
    | undefined
  /** The numeric id Azure Databricks calls the org id, quoted in "Unauthorized access to Org". */
  readonly orgId = Random.numericId()

  constructor(
    readonly registry: Registry,
    readonly workspaceResourceId: string,
    public tokenLifetimeMs: number
  ) {}

  addTenant(tenantId?: string): string {
    const id = tenantId ?? Random.uuid()
    this.tenants.add(id)
    return id
  }

  addApp(options: {
    readonly kind: App["kind"]
    readonly tenantId: string
    readonly clientId?: string | undefined
    readonly secret?: string | undefined
    readonly displayName?: string | undefined
    readonly access: WorkspaceAccess
  }): App {
    this.tenants.add(options.tenantId)
    const clientId = options.clientId ?? Random.uuid()
    const app: App = {
      kind: options.kind,
      tenantId: options.tenantId,
      clientId,
      objectId: Random.uuid(),
      displayName: options.displayName ??
        `${options.kind === "application" ? "entra-app" : "managed-identity"}-${clientId.slice(0, 8)}`,
      secret: options.kind === "application"
        ? options.secret ?? `${Random.secret("", 3)}~${Random.secret("", 16)}`
        : undefined,
      secretExpired: false,
      access: options.access
    }
    this.apps.set(clientId.toLowerCase(), app)
    if (options.access === "member") this.admit(clientId, app.displayName, "service-principal")
    return app
  }

  addUser(options: {
    readonly tenantId: string
    readonly upn: string
    readonly displayName: string
    readonly password?: string | undefined
    readonly access: WorkspaceAccess
  }): User {
    this.tenants.add(options.tenantId)
    const user: User = {
      tenantId: options.tenantId,
      upn: options.upn,
      objectId: Random.uuid(),
      displayName: options.displayName,
      password: options.password ?? Random.secret("pw-", 12),
      access: options.access
    }
    this.users.set(options.upn.toLowerCase(), user)
    if (options.access === "member") this.admit(options.upn, options.displayName, "user")
    return user
  }

  /** The workspace principal an Entra identity maps to: a service principal by application id, a user by UPN. */
  workspacePrincipal(userName: string): Principal | undefined {
    const wanted = userName.toLowerCase()
    for (const principal of this.registry.principals.values()) {
      if (principal.userName.toLowerCase() === wanted) return principal
    }
    return undefined
  }

  /** Adds the identity to the workspace (or finds it there), as Azure Databricks does for a contributor. */
  admit(userName: string, displayName: string, kind: Principal["kind"]): Principal {
    const existing = this.workspacePrincipal(userName)
    if (existing !== undefined) return existing
    const principal: Principal = { id: Random.numericId(), kind, userName, displayName }
    this.registry.principals.set(principal.id, principal)
    return principal
  }

  private keys() {
    if (this.signing === undefined) {
      // Made on first use: a 2048-bit RSA key costs tens of milliseconds, and most emulators never issue one.
      const { privateKey, publicKey } = Crypto.generateKeyPairSync("rsa", { modulusLength: 2048 })
      this.signing = { privateKey, publicKey, kid: Random.secret("", 12) }
    }
    return this.signing
  }

  /** An access token for `resource`, signed RS256 as Entra ID signs them. */
  issue(subject: App | User, resource: string, now: number) {
    const iat = Math.floor(now / 1000)
    const expiresIn = Math.max(1, Math.round(this.tokenLifetimeMs / 1000))
    const iss = `https://sts.windows.net/${subject.tenantId}/`
    const common = {
      aud: resource,
      iss,
      iat,
      nbf: iat,
      exp: iat + expiresIn,
      tid: subject.tenantId,
      oid: subject.objectId,
      sub: subject.objectId,
      ver: "1.0" as const,
      uti: Random.secret("", 16)
    }
    const claims: Claims = "upn" in subject
      ? {
        ...common,
        appid: azureCliClientId,
        idtyp: "user",
        upn: subject.upn,
        name: subject.displayName,
        scp: "user_impersonation"
      }
      : { ...common, appid: subject.clientId, idtyp: "app" }
    const { kid, privateKey } = this.keys()
    const body = `${base64url({ typ: "JWT", alg: "RS256", x5t: kid, kid })}.${base64url(claims)}`
    const signature = Crypto.sign("sha256", Buffer.from(body), privateKey).toString("base64url")
    return { token: `${body}.${signature}`, expiresIn, expiresOn: iat + expiresIn, notBefore: iat }
  }

  /** The claims of a token this directory signed, or undefined for anything else. */
  verify(token: string): Claims | undefined {
    if (this.signing === undefined) return undefined
    const parts = token.split(".")
    if (parts.length !== 3) return undefined
    try {
      const ok = Crypto.verify(
        "sha256",
        Buffer.from(`${parts[0]}.${parts[1]}`),
        this.signing.publicKey,
        Buffer.from(parts[2], "base64url")
      )
      return ok ? JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as Claims : undefined
    } catch {
      return undefined
    }
  }

  /**
   * The workspace's check of an Entra ID token: the Azure Databricks audience, not expired, and an identity the
   * workspace admits. A service principal that is not a member but holds Contributor on the workspace resource
   * is added when it sends a valid management token of its own and the workspace's resource id.
   */
  readonly verifier: BearerVerifier = (bearer, now, headers): Authentication | undefined => {
    const claims = this.verify(bearer)
    if (claims === undefined) return undefined
    if (now >= claims.exp * 1000) return { _tag: "Expired" }
    if (claims.aud !== databricksResource) return { _tag: "Unknown" }
    const userName = claims.idtyp === "user" ? claims.upn ?? "" : claims.appid
    const member = this.workspacePrincipal(userName)
    if (member !== undefined) return { _tag: "Valid", principal: member, via: "entra" }
    const refused = (why: string): Authentication => ({
      _tag: "Forbidden",
      message: `Unauthorized access to Org: ${this.orgId}. ${why}`
    })
    if (claims.idtyp === "user") {
      const user = this.users.get(userName.toLowerCase())
      if (user?.access !== "contributor") return refused(`The user ${userName} is not a member of this workspace.`)
      return { _tag: "Valid", principal: this.admit(user.upn, user.displayName, "user"), via: "entra" }
    }
    const app = this.apps.get(userName.toLowerCase())
    const management = headers[spManagementTokenHeader]
    const resourceId = headers[workspaceResourceIdHeader]
    if (app === undefined || management === undefined || resourceId === undefined) {
      return refused(`The service principal ${userName} is not a member of this workspace.`)
    }
    const managementClaims = this.verify(management)
    if (
      managementClaims === undefined || now >= managementClaims.exp * 1000 ||
      managementClaims.aud !== managementResource || managementClaims.appid !== claims.appid ||
      managementClaims.tid !== claims.tid
    ) {
      return refused("The X-Databricks-Azure-SP-Management-Token is not a valid management token of this principal.")
    }
    if (resourceId.toLowerCase() !== this.workspaceResourceId.toLowerCase()) {
      return refused("The X-Databricks-Azure-Workspace-Resource-Id does not name this workspace.")
    }
    if (app.access !== "contributor") {
      return refused(`The service principal ${userName} has no Contributor or Owner role on the workspace resource.`)
    }
    return { _tag: "Valid", principal: this.admit(app.clientId, app.displayName, "service-principal"), via: "entra" }
  }
}

/** An Entra ID error answer: `error`, an `AADSTS…` description with trace ids, `error_codes` and `error_uri`. */
export const entraError = (
  authority: string,
  status: number,
  error: string,
  code: number,
  text: string,
  now: number
) => {
  const timestamp = new Date(now).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z")
  const traceId = Random.uuid()
  const correlationId = Random.uuid()
  return new Reply({
    response: json(status, {
      error,
      error_description:
        `AADSTS${code}: ${text}\r\nTrace ID: ${traceId}\r\nCorrelation ID: ${correlationId}\r\nTimestamp: ${timestamp}`,
      error_codes: [code],
      timestamp,
      trace_id: traceId,
      correlation_id: correlationId,
      error_uri: `${authority}/error?code=${code}`
    }, { "cache-control": "no-store, no-cache", pragma: "no-cache" })
  })
}

const missing = (authority: string, name: string, now: number) =>
  entraError(
    authority,
    400,
    "invalid_request",
    900144,
    `The request body must contain the following parameter: '${name}'.`,
    now
  )

const resourceNotFound = (authority: string, resource: string, tenant: string, now: number) =>
  entraError(
    authority,
    400,
    "invalid_resource",
    500011,
    `The resource principal named ${resource} was not found in the tenant named ${tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`,
    now
  )

/** The resource a request asks for: v2.0 `scope` (`{resource}/.default`, one only) or v1 `resource`. */
const requestedResource = (
  authority: string,
  version: "v1" | "v2",
  form: Map<string, string>,
  tenant: string,
  now: number
): Effect.Effect<string, Reply> => {
  if (version === "v1") {
    const resource = form.get("resource")
    if (resource === undefined) return Effect.fail(missing(authority, "resource", now))
    const known = normalizeResource(resource)
    return known === undefined ? Effect.fail(resourceNotFound(authority, resource, tenant, now)) : Effect.succeed(known)
  }
  const scope = form.get("scope")
  if (scope === undefined) return Effect.fail(missing(authority, "scope", now))
  // The user flows may add OIDC scopes next to the resource's; client credentials may not.
  const scopes = scope.split(" ").filter((s) => s !== "" && !["openid", "profile", "offline_access"].includes(s))
  const single = scopes.length === 1 ? scopes[0] : undefined
  if (single === undefined || !single.endsWith("/.default")) {
    return Effect.fail(
      entraError(
        authority,
        400,
        "invalid_scope",
        1002012,
        `The provided value for scope ${scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        now
      )
    )
  }
  const resource = single.slice(0, -"/.default".length)
  const known = normalizeResource(resource)
  return known === undefined ? Effect.fail(resourceNotFound(authority, resource, tenant, now)) : Effect.succeed(known)
}

/** Client authentication: `client_id` and `client_secret` in the body, or HTTP Basic. */
const clientCredentials = (request: HttpServerRequest.HttpServerRequest, form: Map<string, string>) => {
  const basic = credential(request, "Basic")
  if (basic === undefined) return { clientId: form.get("client_id"), secret: form.get("client_secret") }
  const decoded = Buffer.from(basic, "base64").toString("utf8")
  const colon = decoded.indexOf(":")
  return colon < 0
    ? { clientId: undefined, secret: undefined }
    : {
      clientId: decodeURIComponent(decoded.slice(0, colon)),
      secret: decodeURIComponent(decoded.slice(colon + 1))
    }
}

/** `POST /{tenant}/oauth2/v2.0/token` (v2) and `/{tenant}/oauth2/token` (v1). */
export const token = (directory: Directory, authority: string, tenant: string, version: "v1" | "v2") =>
(
  info: RequestInfo
) =>
  Effect.gen(function*() {
    const now = yield* Clock.currentTimeMillis
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!directory.tenants.has(tenant)) {
      return yield* Effect.fail(entraError(
        authority,
        400,
        "invalid_request",
        90002,
        `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.`,
        now
      ))
    }
    const form = yield* readForm(() => missing(authority, "grant_type", now))
    info.params = [...form.keys()].sort()
    const grantType = form.get("grant_type")
    if (grantType === undefined) return yield* Effect.fail(missing(authority, "grant_type", now))
    let subject: App | User
    if (grantType === "client_credentials") {
      const { clientId, secret } = clientCredentials(request, form)
      if (clientId === undefined) return yield* Effect.fail(missing(authority, "client_id", now))
      const app = directory.apps.get(clientId.toLowerCase())
      if (app === undefined || app.tenantId !== tenant || app.kind !== "application") {
        return yield* Effect.fail(entraError(
          authority,
          400,
          "unauthorized_client",
          700016,
          `Application with identifier '${clientId}' was not found in the directory '${tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
          now
        ))
      }
      info.principal = app.clientId
      if (secret === undefined) {
        return yield* Effect.fail(entraError(
          authority,
          401,
          "invalid_client",
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
          now
        ))
      }
      if (app.secret === undefined || !Random.safeEqual(app.secret, secret)) {
        return yield* Effect.fail(entraError(
          authority,
          401,
          "invalid_client",
          7000215,
          `Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '${app.clientId}'.`,
          now
        ))
      }
      if (app.secretExpired) {
        return yield* Effect.fail(entraError(
          authority,
          401,
          "invalid_client",
          7000222,
          `The provided client secret keys for app '${app.clientId}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.`,
          now
        ))
      }
      subject = app
    } else if (grantType === "password") {
      // The resource owner password grant, as `az login --username` uses it with the Azure CLI's public client.
      if (form.get("client_id")?.toLowerCase() !== azureCliClientId) {
        return yield* Effect.fail(entraError(
          authority,
          400,
          "unauthorized_client",
          700016,
          `Application with identifier '${form.get("client_id") ?? ""}' was not found in the directory '${tenant}'.`,
          now
        ))
      }
      const username = form.get("username")
      const password = form.get("password")
      if (username === undefined) return yield* Effect.fail(missing(authority, "username", now))
      if (password === undefined) return yield* Effect.fail(missing(authority, "password", now))
      const user = directory.users.get(username.toLowerCase())
      if (user === undefined || user.tenantId !== tenant) {
        return yield* Effect.fail(entraError(
          authority,
          400,
          "invalid_grant",
          50034,
          `The user account {EUII Hidden} does not exist in the ${tenant} directory. To sign into this application, the account must be added to the directory.`,
          now
        ))
      }
      if (!Random.safeEqual(user.password, password)) {
        return yield* Effect.fail(entraError(
          authority,
          400,
          "invalid_grant",
          50126,
          "Error validating credentials due to invalid username or password.",
          now
        ))
      }
      info.principal = user.upn
      subject = user
    } else {
      return yield* Effect.fail(entraError(
        authority,
        400,
        "unsupported_grant_type",
        70003,
        "The app requested an unsupported grant type.",
        now
      ))
    }
    const resource = yield* requestedResource(authority, version, form, tenant, now)
    const issued = directory.issue(subject, resource, now)
    const headers = { "cache-control": "no-store, no-cache", pragma: "no-cache" }
    return version === "v2"
      ? json(200, {
        token_type: "Bearer",
        expires_in: issued.expiresIn,
        ext_expires_in: issued.expiresIn,
        access_token: issued.token
      }, headers)
      : json(200, {
        token_type: "Bearer",
        expires_in: String(issued.expiresIn),
        ext_expires_in: String(issued.expiresIn),
        expires_on: String(issued.expiresOn),
        not_before: String(issued.notBefore),
        resource,
        access_token: issued.token
      }, headers)
  })
