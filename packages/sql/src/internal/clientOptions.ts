/**
 * `SqlClient`'s options, checked at the boundary, and what they resolve to (every default applied).
 *
 * @internal
 */
import type * as AuthConfig from "@effect-databricks/auth/AuthConfig"
import { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import * as WorkspaceHost from "@effect-databricks/auth/WorkspaceHost"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as RetryPolicy from "../RetryPolicy.js"
import type { Options } from "../SqlClient.js"
import * as Check from "./options.js"

/** The options as the client uses them: checked, trimmed, every default applied. */
export interface Resolved {
  readonly host: WorkspaceHost.WorkspaceHost
  /** With its leading `/`. */
  readonly httpPath: string
  readonly userAgentEntry: string | undefined
  readonly retry: RetryPolicy.RetryPolicy
  readonly rpcTimeout: Duration.Duration
  readonly queryTimeout: Duration.Duration
  readonly catalog: string | undefined
  readonly schema: string | undefined
  readonly sessionConfig: Readonly<Record<string, string>> | undefined
  readonly caCert: string | Uint8Array | undefined
  readonly telemetry: boolean
  readonly useCloudFetch: boolean
  readonly concurrentDownloads: number
  readonly poolMax: number
  readonly idleTimeToLive: Duration.DurationInput
}

const userAgentPattern = /^[A-Za-z0-9][A-Za-z0-9.-]*_[A-Za-z0-9][A-Za-z0-9.-]*\/[A-Za-z0-9][A-Za-z0-9.+-]*$/

const warehousePath =
  /^\/?sql\/[0-9.]+\/(warehouses|endpoints)\/[A-Za-z0-9]+\/?$|^\/?sql\/protocolv1\/o\/\d+\/[A-Za-z0-9-]+\/?$/

/**
 * The host and HTTP path of a resolved workspace (`AuthConfig`'s: options, environment, profile), or an error
 * naming what to set; a path that is not a warehouse's names where it came from.
 */
export const fromWorkspace = (
  workspace: AuthConfig.Workspace
): Effect.Effect<{ readonly host: string; readonly httpPath: string }, ConfigurationError> =>
  Effect.gen(function*() {
    const where = Option.match(workspace.profile, {
      onNone: () => "",
      onSome: (profile) => ` (the profile read was ${profile.name} of ${profile.file})`
    })
    if (Option.isNone(workspace.host)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "DATABRICKS_HOST",
          message: `DATABRICKS_HOST is not set, nor host in a profile${where}: no workspace host is configured`,
          hint: "Set DATABRICKS_HOST to the workspace URL, or name a profile with a host (DATABRICKS_CONFIG_PROFILE)"
        })
      )
    }
    if (Option.isNone(workspace.httpPath)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "DATABRICKS_HTTP_PATH",
          message:
            `DATABRICKS_HTTP_PATH is not set, nor DATABRICKS_WAREHOUSE_ID, nor http_path or warehouse_id in a profile${where}: no SQL warehouse is configured`,
          hint:
            "Set DATABRICKS_WAREHOUSE_ID to the warehouse's id, or DATABRICKS_HTTP_PATH to its HTTP path (/sql/1.0/warehouses/<id>)"
        })
      )
    }
    const path = workspace.httpPath.value
    if (!warehousePath.test(path.value)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: path.name,
          message: `${path.name} ${JSON.stringify(path.value.slice(0, 80))} is not a warehouse HTTP path`,
          hint: "Copy it from the warehouse's Connection details: /sql/1.0/warehouses/<id>"
        })
      )
    }
    return { host: workspace.host.value.value, httpPath: path.value }
  })

/**
 * Every option, checked at the boundary: plain JavaScript or a config read as `any` can pass anything, and a
 * wrong value is a `ConfigurationError` naming the setting, never a defect further in.
 */
export const checkOptions = (options: Options): Effect.Effect<Resolved, ConfigurationError> =>
  Effect.gen(function*() {
    if (options === null || typeof options !== "object") {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "options",
          message: "SqlClient options are not an object",
          hint: "Pass { host, httpPath, ... }"
        })
      )
    }
    const option = (key: string) => Check.get(options, key)
    const host = yield* WorkspaceHost.make(option("host") as string, { setting: "host" })
    if (!host.secure) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "host",
          message: "host must be https://: the SQL driver only speaks HTTPS",
          hint: "Use the https:// workspace URL (the emulator serves HTTPS too)"
        })
      )
    }
    const pathHint = "Copy it from the warehouse's Connection details: /sql/1.0/warehouses/<id>"
    yield* Check.string(option("httpPath"), "httpPath", pathHint)
    const httpPath = (option("httpPath") as string | undefined)?.trim() ?? ""
    if (!warehousePath.test(httpPath)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "httpPath",
          message: `httpPath ${JSON.stringify(httpPath.slice(0, 80))} is not a warehouse HTTP path`,
          hint: pathHint
        })
      )
    }
    yield* Check.string(option("userAgentEntry"), "userAgentEntry", "For example Acme_Dashboards/1.4.0")
    const entry = (option("userAgentEntry") as string | undefined)?.trim()
    if (entry !== undefined && entry !== "" && !userAgentPattern.test(entry)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "userAgentEntry",
          message: `userAgentEntry ${JSON.stringify(entry.slice(0, 80))} is not <ISV>_<Product>/<Version>`,
          hint: "For example Acme_Dashboards/1.4.0"
        })
      )
    }
    yield* Check.string(option("catalog"), "catalog", "Pass the catalog's name")
    yield* Check.string(option("schema"), "schema", "Pass the schema's name")
    yield* Check.stringRecord(option("sessionConfig"), "sessionConfig")
    const caCert = option("caCert")
    if (caCert !== undefined && typeof caCert !== "string" && !(caCert instanceof Uint8Array)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "caCert",
          message: "caCert is not a PEM string or bytes",
          hint: "Pass the CA certificate's PEM text"
        })
      )
    }
    yield* Check.boolean(option("telemetry"), "telemetry")
    const pool = option("pool")
    yield* Check.object(pool, "pool", "{ max?, idleTimeToLive? }")
    yield* Check.count(Check.get(pool, "max"), "pool.max", 10_000)
    yield* Check.duration(Check.get(pool, "idleTimeToLive"), "pool.idleTimeToLive")
    const timeouts = option("timeouts")
    yield* Check.object(timeouts, "timeouts", "{ rpc?, query? }")
    yield* Check.duration(Check.get(timeouts, "rpc"), "timeouts.rpc", { positive: true })
    yield* Check.duration(Check.get(timeouts, "query"), "timeouts.query", { positive: true })
    const retry = yield* RetryPolicy.validate(option("retry"), "retry")
    const cloudFetch = option("cloudFetch")
    yield* Check.object(cloudFetch, "cloudFetch", "{ enabled?, concurrentDownloads? }")
    yield* Check.boolean(Check.get(cloudFetch, "enabled"), "cloudFetch.enabled")
    yield* Check.count(Check.get(cloudFetch, "concurrentDownloads"), "cloudFetch.concurrentDownloads", 32)
    return {
      host,
      httpPath: httpPath.startsWith("/") ? httpPath : `/${httpPath}`,
      userAgentEntry: entry || undefined,
      retry,
      rpcTimeout: Duration.decode((Check.get(timeouts, "rpc") as Duration.DurationInput) ?? Duration.seconds(60)),
      queryTimeout: Duration.decode(
        (Check.get(timeouts, "query") as Duration.DurationInput) ?? Duration.minutes(15)
      ),
      // Read as checked: own properties only.
      catalog: option("catalog") as string | undefined,
      schema: option("schema") as string | undefined,
      sessionConfig: option("sessionConfig") as Readonly<Record<string, string>> | undefined,
      caCert: caCert as string | Uint8Array | undefined,
      telemetry: (option("telemetry") as boolean | undefined) ?? false,
      useCloudFetch: (Check.get(cloudFetch, "enabled") as boolean | undefined) ?? true,
      concurrentDownloads: (Check.get(cloudFetch, "concurrentDownloads") as number | undefined) ?? 2,
      poolMax: (Check.get(pool, "max") as number | undefined) ?? 8,
      idleTimeToLive: (Check.get(pool, "idleTimeToLive") as Duration.DurationInput | undefined) ??
        Duration.minutes(10)
    }
  })
