import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Entra from "./entra.js"
import { header, json, Reply, type RequestInfo } from "./http.js"

/**
 * @internal
 *
 * The emulated Azure Instance Metadata Service's managed-identity endpoint,
 * `GET /metadata/identity/oauth2/token?api-version=…&resource=…[&client_id=…]`
 * with `Metadata: true`, for one virtual machine: its system-assigned
 * identity (if it has one) and the user-assigned identities attached to it.
 *
 * Sources: the request shape is databricks-sdk-go config/auth_azure_msi.go's (api-version 2018-02-01, `resource`,
 * `client_id`, the `Metadata: true` header) and the answer's fields (strings, `expires_on` in epoch seconds) are
 * the ones it and Azure's IMDS documentation read. "Required metadata header not specified" and "Identity not
 * found" are IMDS's own texts; the other `error_description` texts are ours.
 */

export const path = "/metadata/identity/oauth2/token"

export interface Machine {
  /** The client id of the system-assigned identity, if the machine has one. */
  systemAssigned: string | undefined
  /** The client ids of the user-assigned identities attached to it. */
  readonly userAssigned: Set<string>
}

const imdsError = (status: number, error: string, description: string) =>
  new Reply({ response: json(status, { error, error_description: description }) })

export const token = (directory: Entra.Directory, machine: Machine) => (info: RequestInfo) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const now = yield* Clock.currentTimeMillis
    if (request.method !== "GET") return yield* Effect.fail(imdsError(405, "invalid_request", "Use GET"))
    if (header(request, "metadata")?.toLowerCase() !== "true") {
      return yield* Effect.fail(imdsError(400, "invalid_request", "Required metadata header not specified"))
    }
    const query = new URL(request.url, "http://imds").searchParams
    info.params = [...new Set(query.keys())].sort()
    if (query.get("api-version") === null) {
      return yield* Effect.fail(imdsError(400, "invalid_request", "Required query variable 'api-version' is missing"))
    }
    const resource = query.get("resource")
    if (resource === null || resource === "") {
      return yield* Effect.fail(imdsError(400, "invalid_request", "Required audience parameter not specified"))
    }
    const clientId = query.get("client_id") ?? undefined
    const chosen = clientId === undefined
      ? machine.systemAssigned
      : [...machine.userAssigned, machine.systemAssigned].find((id) => id?.toLowerCase() === clientId.toLowerCase())
    const identity = chosen === undefined ? undefined : directory.apps.get(chosen.toLowerCase())
    if (identity === undefined) return yield* Effect.fail(imdsError(400, "invalid_request", "Identity not found"))
    info.principal = identity.clientId
    const known = Entra.normalizeResource(resource)
    if (known === undefined) {
      return yield* Effect.fail(imdsError(
        400,
        "invalid_resource",
        `AADSTS500011: The resource principal named ${resource} was not found in the tenant named ${identity.tenantId}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.`
      ))
    }
    const issued = directory.issue(identity, known, now)
    return json(200, {
      access_token: issued.token,
      client_id: identity.clientId,
      expires_in: String(issued.expiresIn),
      expires_on: String(issued.expiresOn),
      ext_expires_in: String(issued.expiresIn),
      not_before: String(issued.notBefore),
      resource: known,
      token_type: "Bearer"
    })
  })
