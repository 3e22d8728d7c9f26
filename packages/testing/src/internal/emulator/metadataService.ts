import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import type { Principal } from "../../Emulator.js"
import { header, json, Reply, type RequestInfo } from "./http.js"
import type { Registry } from "./registry.js"

/**
 * @internal
 *
 * The emulated Databricks metadata service: the local token server that the
 * Databricks SDKs' `metadata-service` auth type reads
 * (`DATABRICKS_METADATA_SERVICE_URL`), as IDE extensions run one. Each
 * registration is its own secret URL path bound to one workspace host and
 * one principal.
 *
 * Sources: databricks-sdk-go config/auth_metadata_service.go states the contract: `GET` with
 * `X-Databricks-Metadata-Version: 1` and `X-Databricks-Host`; a 4xx for a missing or unsupported version and for
 * a host that does not match; `{ access_token, token_type, expires_on }` with `expires_on` in epoch seconds.
 * databricks-sdk-py tests/test_metadata_service_auth.py answers 400 for the version and 404 for the host, as here.
 * The error bodies are ours.
 */

export interface Binding {
  readonly host: string
  readonly principal: Principal
}

const refuse = (status: number, message: string) => new Reply({ response: json(status, { error: message }) })

const origin = (value: string): string | undefined => {
  try {
    return new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? value : `https://${value}`).origin
  } catch {
    return undefined
  }
}

export const token = (registry: Registry, bindings: ReadonlyMap<string, Binding>) => (info: RequestInfo) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const binding = bindings.get(request.url.split("?")[0])
    if (binding === undefined) return yield* Effect.fail(refuse(404, "Not found"))
    if (request.method !== "GET") return yield* Effect.fail(refuse(405, "Use GET"))
    if (header(request, "x-databricks-metadata-version") !== "1") {
      return yield* Effect.fail(
        refuse(400, "Unsupported or missing X-Databricks-Metadata-Version (this server speaks 1)")
      )
    }
    const host = header(request, "x-databricks-host")
    if (host === undefined || origin(host) !== origin(binding.host)) {
      return yield* Effect.fail(refuse(404, "This metadata service does not serve tokens for that X-Databricks-Host"))
    }
    info.principal = binding.principal.userName
    const now = yield* Clock.currentTimeMillis
    const issued = registry.issueAccessToken(binding.principal, "all-apis", "metadata-service", now)
    return json(200, {
      access_token: issued.token,
      token_type: "Bearer",
      expires_on: Math.floor(now / 1000) + issued.expiresIn
    })
  })
