import * as Schema from "effect/Schema"

/** The Thrift calls of the SQL warehouse that faults can target by name. */
export const rpcNames = [
  "OpenSession",
  "CloseSession",
  "ExecuteStatement",
  "GetOperationStatus",
  "GetResultSetMetadata",
  "FetchResults",
  "CancelOperation",
  "CloseOperation",
  "GetInfo"
] as const

/**
 * Targets and the fault shape: the admin API's JSON contract. Public via `Emulator`. The REST endpoints are
 * named as in the stats: `sql_warehouses` is the SQL Warehouses API (`GET /api/2.0/sql/warehouses[/{id}]`),
 * not the warehouse itself (`warehouse`, or an RPC name).
 */
export const FaultTarget = Schema.Literal(
  "discovery",
  "token",
  "authorize",
  "exchange",
  "scim",
  "sql_warehouses",
  "server_settings",
  "issuer_discovery",
  "jwks",
  "github_id_token",
  "entra_token",
  "managed_identity",
  "metadata_service",
  "apps_proxy",
  "apps_login",
  ...rpcNames,
  "warehouse",
  "cloudFetch",
  "*"
)

export type Fault = typeof Fault.Type
export const Fault = Schema.Struct({
  target: FaultTarget,
  status: Schema.optional(Schema.Int.pipe(Schema.between(100, 599))),
  headers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  body: Schema.optional(Schema.String),
  delayMs: Schema.optional(Schema.NonNegativeInt),
  /** `"during"` (CloudFetch downloads only): send part of the body, then destroy the connection. */
  reset: Schema.optional(Schema.Literal("before", "after", "during")),
  emptyBody: Schema.optional(Schema.Literal(true)),
  count: Schema.optional(Schema.Int.pipe(Schema.positive())),
  probability: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  seed: Schema.optional(Schema.Int),
  /** Warehouse only: every RPC gets 503 for this long. */
  startingMs: Schema.optional(Schema.NonNegativeInt),
  /** Warehouse only: forget every session now. */
  expireSessions: Schema.optional(Schema.Literal(true))
}).pipe(
  Schema.filter((fault) =>
    fault.target === "warehouse"
      ? fault.startingMs !== undefined || fault.expireSessions === true ||
        "A warehouse fault needs startingMs or expireSessions"
      : fault.reset === "during" && fault.target !== "cloudFetch"
      ? "reset \"during\" is for CloudFetch downloads (target cloudFetch) only"
      : fault.status !== undefined || fault.delayMs !== undefined || fault.reset !== undefined ||
        fault.emptyBody === true || "A fault needs at least one of status, delayMs, reset or emptyBody"
  )
)
