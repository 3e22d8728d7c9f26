import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import { SqlSeedError } from "../../EmulatorError.js"
import type { Fault } from "../emulator/fault.js"
import type { Faults } from "../emulator/faults.js"
import { fail, injected, json, type RequestInfo } from "../emulator/http.js"
import type { Registry } from "../emulator/registry.js"
import type { Stats } from "../emulator/stats.js"
import * as Workspace from "../emulator/workspace.js"
import * as CloudFetch from "./cloudFetch.js"
import { Engine, uuidOf } from "./engine.js"
import * as Errors from "./errors.js"
import { type CallContext, makeHandler } from "./service.js"
import { service, TBinaryProtocol, TBufferedTransport } from "./thrift.js"

export interface WarehouseOptions {
  readonly resultFormat?: "arrow" | "columns" | undefined
  readonly statementDelayMs?: number | undefined
  readonly directResultsWaitMs?: number | undefined
  readonly maxBatchRows?: number | undefined
  readonly maxBytesPerFetch?: number | undefined
  readonly cloudFetchThreshold?: number | undefined
  readonly cloudFetchFileBytes?: number | undefined
  readonly cloudFetchLinksPerFetch?: number | undefined
  readonly cloudFetchLinkExpiryMs?: number | undefined
}

/**
 * Result delivery defaults. Sources: the driver's own e2e test (tests/e2e/arrow.test.ts in databricks-sql-nodejs)
 * expects a warehouse to send a 10000-row result in more than one Arrow batch, so batches hold fewer rows (the
 * exact number is the warehouse's; 4096 is ours); the Databricks JDBC driver's capability page ("Cloud Fetch": result files of up to 20 MB) for
 * the file size; the Databricks SDK's `ExternalLink.expiration` ("a short expiration time (<= 15 minutes)") for the
 * link lifetime. The byte budget per fetch, the CloudFetch threshold and the links per fetch are ours.
 */
export const resultDefaults = {
  maxBatchRows: 4096,
  maxBytesPerFetch: 8 * 1024 * 1024,
  cloudFetchThreshold: 4 * 1024 * 1024,
  cloudFetchFileBytes: 20 * 1024 * 1024,
  cloudFetchLinksPerFetch: 8,
  cloudFetchLinkExpiryMs: 15 * 60 * 1000
} as const

const sleeper = (runtime: Runtime.Runtime<never>) => (millis: number, signal?: AbortSignal) =>
  Runtime.runPromise(runtime)(Effect.sleep(millis), signal === undefined ? undefined : { signal })

/** The name of the Thrift call in a request body, without consuming it. */
const peekName = (body: Buffer): string => {
  try {
    let name = "unknown"
    TBufferedTransport.receiver((transport: unknown) => {
      name = new TBinaryProtocol(transport).readMessageBegin().fname
    })(body)
    return name
  } catch {
    return "unknown"
  }
}

export const make = (
  options: WarehouseOptions,
  deps: {
    readonly registry: Registry
    readonly faults: Faults
    readonly stats: Stats
    /** The workspace host (`https://127.0.0.1:PORT`), where CloudFetch links point. */
    readonly host: string
  }
) =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<never>()
    const sleep = sleeper(runtime)
    const now = () => Runtime.runSync(runtime)(Clock.currentTimeMillis)
    const engine = yield* Effect.acquireRelease(
      Effect.promise(() =>
        Engine.open({
          sleep,
          now,
          statementDelayMs: options.statementDelayMs ?? 0
        })
      ),
      (engine) => Effect.promise(() => engine.close())
    )
    const id = Crypto.randomBytes(8).toString("hex")
    const httpPath = `/sql/1.0/warehouses/${id}`
    const name = "Emulator Warehouse"
    let startingUntil = 0
    let context: CallContext | undefined
    const rpcCounts: Record<string, number> = {}
    const cloudFetch = CloudFetch.make({
      host: () => deps.host,
      now,
      linkExpiryMs: options.cloudFetchLinkExpiryMs ?? resultDefaults.cloudFetchLinkExpiryMs,
      faults: deps.faults,
      stats: deps.stats
    })
    yield* Effect.addFinalizer(() => Effect.sync(() => cloudFetch.clear()))
    const handler = makeHandler(engine, {
      resultFormat: options.resultFormat ?? "arrow",
      directResultsWaitMs: options.directResultsWaitMs ?? 250,
      sleep,
      maxBatchRows: options.maxBatchRows ?? resultDefaults.maxBatchRows,
      maxBytesPerFetch: options.maxBytesPerFetch ?? resultDefaults.maxBytesPerFetch,
      cloudFetchThreshold: options.cloudFetchThreshold ?? resultDefaults.cloudFetchThreshold,
      cloudFetchFileBytes: options.cloudFetchFileBytes ?? resultDefaults.cloudFetchFileBytes,
      cloudFetchLinksPerFetch: options.cloudFetchLinksPerFetch ?? resultDefaults.cloudFetchLinksPerFetch
    }, () =>
      context!, cloudFetch)
    const processor = new service.Processor(handler)

    /** Runs one Thrift message through the driver's own Processor, as the caller. */
    const process = (body: Buffer, caller: CallContext) =>
      Effect.async<Buffer>((resume) => {
        context = caller
        try {
          TBufferedTransport.receiver((transport: unknown) => {
            const output = new TBufferedTransport(undefined, (bytes: Buffer) =>
              resume(Effect.succeed(bytes)))
            processor.process(new TBinaryProtocol(transport), new TBinaryProtocol(output))
          })(body)
        } finally {
          context = undefined
        }
      })

    const endpoint = (info: RequestInfo) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const principal = yield* Workspace.authenticate(deps.registry, info)
        const body = Buffer.from(
          yield* request.arrayBuffer.pipe(Effect.orElseSucceed(() =>
            new ArrayBuffer(0)
          ))
        )
        const name = peekName(body)
        rpcCounts[name] = (rpcCounts[name] ?? 0) + 1
        // A starting warehouse answers 503 until it is up: lightdash/lightdash#28654 in reference/user-asks.md.
        // The body's error_code and message are not documented; chosen by us.
        if ((yield* Clock.currentTimeMillis) < startingUntil) {
          return yield* fail(503, {
            error_code: "TEMPORARILY_UNAVAILABLE",
            message: "The SQL warehouse is starting. Please retry."
          })
        }
        const run = Effect.gen(function*() {
          const caller: CallContext = { principal, forbidden: false }
          const bytes = yield* process(body, caller)
          // Not documented: Databricks' answer to a session used with another principal's token is not in our
          // sources; 403 is chosen by us, the safe answer (identity stays pinned to the session's opener).
          if (caller.forbidden) {
            return json(403, {
              error_code: "PERMISSION_DENIED",
              message: "This session belongs to another principal."
            })
          }
          return HttpServerResponse.uint8Array(bytes, { contentType: "application/x-thrift" })
        })
        const fault = deps.faults.take(name)
        if (fault !== undefined) deps.stats.faultInjected(name)
        return yield* fault === undefined ? run : injected(fault, run)
      })

    const serve = (id_: string) => (info: RequestInfo) =>
      id_ === id ? endpoint(info) : fail(404, {
        error_code: "RESOURCE_DOES_NOT_EXIST",
        message: `SQL warehouse ${id_} does not exist.`
      })

    /** `STARTING` while a `startingMs` fault lasts (every RPC gets 503), `RUNNING` otherwise. */
    const state = Effect.map(
      Clock.currentTimeMillis,
      (now): "STARTING" | "RUNNING" => now < startingUntil ? "STARTING" : "RUNNING"
    )

    /**
     * The warehouse as the SQL Warehouses API (`GET /api/2.0/sql/warehouses[/{id}]`) describes it. The ODBC
     * parameters are where this warehouse really is (the emulator's port, not 443), so a client can connect with them.
     */
    const describe = (host: string) =>
      Effect.map(state, (current) => {
        const url = new URL(host)
        return {
          id,
          name,
          cluster_size: "2X-Small",
          min_num_clusters: 1,
          max_num_clusters: 1,
          auto_stop_mins: 10,
          num_clusters: current === "RUNNING" ? 1 : 0,
          num_active_sessions: engine.sessions.size,
          state: current,
          warehouse_type: "PRO",
          enable_serverless_compute: true,
          enable_photon: true,
          channel: { name: "CHANNEL_NAME_CURRENT" },
          tags: {},
          odbc_params: { hostname: url.hostname, path: httpPath, protocol: "https", port: Number(url.port || 443) },
          jdbc_url: `jdbc:databricks://${url.host}/default;transportMode=http;ssl=1;AuthMech=3;httpPath=${httpPath};`
        }
      })

    /** A warehouse-wide fault: "starting" for a while, or every session forgotten. */
    const applyWarehouseFault = (fault: Fault) =>
      Effect.gen(function*() {
        if (fault.startingMs !== undefined) startingUntil = (yield* Clock.currentTimeMillis) + fault.startingMs
        // Forgotten at once; their connections close behind their running statements.
        if (fault.expireSessions === true) void engine.expireSessions()
      })

    return {
      id,
      httpPath,
      engine,
      serve,
      describe,
      applyWarehouseFault,
      sql: (text: string) =>
        Effect.tryPromise({
          try: () => engine.adminSql(text),
          catch: (error) => new SqlSeedError({ message: Errors.fromDuckDB(error).message })
        }),
      stats: () => ({
        rpc: { ...rpcCounts },
        openSessions: engine.sessions.size,
        openOperations: engine.openOperations,
        sessions: [...engine.sessions.values()].map((session) => ({
          id: uuidOf(session.handle.guid),
          principal: session.principal.userName,
          openedAt: session.openedAt,
          openOperations: session.operations.size
        })),
        statements: engine.statements.map((statement) => ({ ...statement })),
        cloudFetch: { ...cloudFetch.counters(), stored: cloudFetch.stored }
      }),
      /** CloudFetch's storage: `GET /__cloudfetch/<id>`, outside the workspace's authenticated routes. */
      download: cloudFetch.download,
      reset: () => {
        for (const key of Object.keys(rpcCounts)) delete rpcCounts[key]
        engine.statements.length = 0
        startingUntil = 0
        cloudFetch.reset()
      }
    }
  })

export type Warehouse = Effect.Effect.Success<ReturnType<typeof make>>
export type WarehouseScope = Scope.Scope
