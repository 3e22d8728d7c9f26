import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import type { Principal } from "../../Emulator.js"
import type { Warehouse } from "../warehouse/warehouse.js"
import { Fault } from "./fault.js"
import type { Faults } from "./faults.js"
import type { Federation } from "./federation.js"
import { credential, endpoint, endpointsOf, fail, json, readJson, Reply, type RequestInfo } from "./http.js"
import * as LoginPage from "./loginPage.js"
import * as OAuth from "./oauth.js"
import * as Random from "./random.js"
import type { Registry } from "./registry.js"
import type { Stats } from "./stats.js"

export interface Deps {
  readonly host: string
  readonly registry: Registry
  readonly faults: Faults
  readonly stats: Stats
  readonly adminToken: string
  readonly warehouse: Warehouse
  /** Stats as the admin API reports them (the warehouse's included). */
  readonly snapshot: () => unknown
  /** Adds a fault, applying a warehouse-wide one at once. */
  readonly addFault: (fault: Fault) => Effect.Effect<void>
  readonly reset: () => void
  /** Workload identity federation: the policies the token endpoint's exchange checks. */
  readonly federation: Federation
}

/**
 * The bearer check every protected workspace endpoint makes, as Databricks
 * answers it: 401 for a missing or unknown token, 403 for an expired one.
 *
 * Sources (reference/user-asks.md): 403, not 401, for an expired token is n8n-io/n8n#37854 and
 * databricks/databricks-vscode#583 ("403 Token is expiring within 30 seconds"); 401 for a malformed or unknown
 * token is databricks/databricks-sql-python#407, and dbsql-driver.md ("401 on OpenSession, 403 on any RPC").
 * Not documented, chosen by us: the `error_code` and `message` texts, the `WWW-Authenticate` headers, and the
 * expiry instant itself (Databricks already refuses a token in its last 30 s, per the same vscode issue; the
 * emulator only at expiry).
 */
export const authenticate = (registry: Registry, info: RequestInfo) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const bearer = credential(request, "Bearer")
    if (bearer === undefined) {
      return yield* fail(401, {
        error_code: "UNAUTHENTICATED",
        message: "Credential was not sent or was of an unsupported type for this API."
      }, { "www-authenticate": "Bearer" })
    }
    const result = registry.authenticate(
      bearer,
      yield* Clock.currentTimeMillis,
      request.headers as Readonly<Record<string, string | undefined>>
    )
    if (result._tag === "Forbidden") {
      return yield* fail(403, { error_code: "PERMISSION_DENIED", message: result.message })
    }
    if (result._tag === "Expired") {
      return yield* fail(403, { error_code: "PERMISSION_DENIED", message: "Invalid access token." })
    }
    if (result._tag === "Unknown") {
      return yield* fail(401, { error_code: "UNAUTHENTICATED", message: "Invalid access token." }, {
        "www-authenticate": "Bearer error=\"invalid_token\""
      })
    }
    info.principal = result.principal.userName
    return result.principal
  })

const me = (registry: Registry) => (info: RequestInfo) =>
  Effect.map(authenticate(registry, info), (principal: Principal) =>
    json(200, {
      schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
      id: principal.id,
      userName: principal.userName,
      displayName: principal.displayName,
      active: true,
      ...(principal.kind === "user" ? { emails: [{ value: principal.userName, primary: true, type: "work" }] } : {})
    }))

/** `GET /api/2.0/sql/warehouses`: the emulator's one warehouse, for any authenticated principal. */
const listWarehouses = (deps: Deps) => (info: RequestInfo) =>
  Effect.gen(function*() {
    yield* authenticate(deps.registry, info)
    return json(200, { warehouses: [yield* deps.warehouse.describe(deps.host)] })
  })

/** `GET /api/2.0/sql/warehouses/{id}`: the warehouse, or 404 `RESOURCE_DOES_NOT_EXIST` for another id. */
const getWarehouse = (deps: Deps, id: string) => (info: RequestInfo) =>
  Effect.gen(function*() {
    yield* authenticate(deps.registry, info)
    if (id !== deps.warehouse.id) {
      return yield* fail(404, { error_code: "RESOURCE_DOES_NOT_EXIST", message: `SQL warehouse ${id} does not exist.` })
    }
    return json(200, yield* deps.warehouse.describe(deps.host))
  })

const adminError = (status: number, message: string) => new Reply({ response: json(status, { error: message }) })

const decodeFaults = Schema.decodeUnknownEither(Schema.Union(Fault, Schema.Array(Fault)))

/** The admin API: loopback only like everything else, and behind the admin bearer token. */
const admin = (
  deps: Deps,
  handler: () => Effect.Effect<HttpServerResponse.HttpServerResponse, Reply, HttpServerRequest.HttpServerRequest>
) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const bearer = credential(request, "Bearer")
    if (bearer === undefined || !Random.safeEqual(bearer, deps.adminToken)) {
      return json(401, { error: "The admin API needs Authorization: Bearer <adminToken>" })
    }
    return yield* handler().pipe(Effect.catchTag("Reply", (reply) => Effect.succeed(reply.response)))
  })

const addFaults = (deps: Deps) => () =>
  Effect.gen(function*() {
    const body = yield* readJson(adminError)
    const decoded = decodeFaults(body)
    if (Either.isLeft(decoded)) {
      return json(400, { error: "Invalid fault", details: ParseResult.TreeFormatter.formatErrorSync(decoded.left) })
    }
    const faults = Array.isArray(decoded.right) ? decoded.right : [decoded.right as Fault]
    for (const fault of faults) yield* deps.addFault(fault)
    return json(200, { faults: deps.faults.list() })
  })

// The SQL endpoint applies faults per Thrift call itself, so the generic wrapper must not take them too.
const noFaults = { take: () => undefined } as unknown as Faults

const SqlRequest = Schema.Struct({ sql: Schema.String })

/** `POST /__emulator/sql {"sql": "..."}`: seed data as the administrator; answers the rows. */
const runSql = (deps: Deps) => () =>
  Effect.gen(function*() {
    const body = Schema.decodeUnknownOption(SqlRequest)(yield* readJson(adminError))
    if (body._tag === "None") return json(400, { error: "The body must be {\"sql\": \"...\"}" })
    const rows = yield* deps.warehouse.sql(body.value.sql).pipe(Effect.either)
    if (rows._tag === "Left") return json(400, { error: String(rows.left) })
    return HttpServerResponse.text(
      JSON.stringify({ rows: rows.right }, (_key, value) => typeof value === "bigint" ? value.toString() : value),
      { contentType: "application/json" }
    )
  })

/** The workspace host's routes: identity provider, SCIM, the SQL Warehouses API, the SQL warehouse and the admin API. */
export const router = (deps: Deps) => {
  const on = endpointsOf(deps)
  const discovery = on("discovery", () => OAuth.discovery(deps.host))
  return HttpRouter.empty.pipe(
    HttpRouter.get("/oidc/.well-known/oauth-authorization-server", discovery),
    HttpRouter.get("/oidc/.well-known/openid-configuration", discovery),
    HttpRouter.post("/oidc/v1/token", on("token", OAuth.token(deps.registry, deps.stats, deps.federation))),
    HttpRouter.get("/oidc/v1/authorize", on("authorize", OAuth.authorize(deps.registry))),
    HttpRouter.post("/oidc/v1/authorize", on("authorize", LoginPage.submit(deps.registry))),
    HttpRouter.get("/api/2.0/preview/scim/v2/Me", on("scim", me(deps.registry))),
    HttpRouter.get("/api/2.0/sql/warehouses", on("sql_warehouses", listWarehouses(deps))),
    HttpRouter.get(
      "/api/2.0/sql/warehouses/:id",
      Effect.flatMap(HttpRouter.params, (params) => on("sql_warehouses", getWarehouse(deps, params.id ?? "")))
    ),
    HttpRouter.post(
      "/sql/1.0/warehouses/:id",
      Effect.flatMap(
        HttpRouter.params,
        (params) => endpoint("sql", { faults: noFaults, stats: deps.stats }, deps.warehouse.serve(params.id ?? ""))
      )
    ),
    HttpRouter.get("/__emulator/stats", admin(deps, () => Effect.sync(() => json(200, deps.snapshot())))),
    HttpRouter.post("/__emulator/sql", admin(deps, runSql(deps))),
    HttpRouter.get("/__emulator/faults", admin(deps, () => Effect.succeed(json(200, { faults: deps.faults.list() })))),
    HttpRouter.post("/__emulator/faults", admin(deps, addFaults(deps))),
    HttpRouter.del(
      "/__emulator/faults",
      admin(deps, () => Effect.sync(() => (deps.faults.clear(), json(200, { faults: [] }))))
    ),
    HttpRouter.post(
      "/__emulator/reset",
      admin(deps, () => Effect.sync(() => (deps.reset(), json(200, { reset: true }))))
    )
  )
}

/** Unknown paths get a JSON 404 (or 405 for a known path with the wrong method), as Databricks answers them. */
export const notFound = (knownPaths: ReadonlySet<string>) =>
  Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const path = request.url.split("?")[0]
    return knownPaths.has(path)
      ? json(405, { error_code: "METHOD_NOT_ALLOWED", message: `${request.method} is not allowed on ${path}` })
      : json(404, { error_code: "ENDPOINT_NOT_FOUND", message: `No API found for '${request.method} ${path}'` })
  })
