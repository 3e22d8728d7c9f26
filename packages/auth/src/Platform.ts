/**
 * Where the code runs: Posit Connect, Posit Connect Cloud, Posit Workbench,
 * Databricks Apps, or none of them ("local": a laptop, CI, a custom server).
 *
 * It widens `ConnectEnvironment` (which knows only Posit's products and stays
 * as it is) with Databricks Apps, from the variables each platform sets:
 *
 * - Connect: `RSTUDIO_PRODUCT=CONNECT` or `POSIT_PRODUCT=CONNECT`;
 * - Connect Cloud: `POSIT_PRODUCT=CONNECT_CLOUD`;
 * - Databricks Apps: `DATABRICKS_APP_NAME` (`DatabricksApps.isDatabricksApps`);
 * - Workbench: `POSIT_PRODUCT=WORKBENCH`, or any of `RSW_LAUNCHER`,
 *   `RSTUDIO_MULTI_SESSION`, `RS_SERVER_ADDRESS`, `RS_SERVER_URL`;
 * - otherwise local.
 *
 * The Posit rules are posit-sdk-py's (`posit.connect._utils`: `is_connect`,
 * `is_connect_cloud`, `is_workbench`, which calls its Workbench rule
 * "best-effort"). Connect is checked before Databricks Apps, and Databricks
 * Apps before Workbench: content on Connect may have been deployed with
 * Databricks variables, but only Databricks Apps sets `DATABRICKS_APP_NAME`.
 *
 * The service is swappable: provide `layerStatic("workbench")` in tests, or
 * leave it out and `current` detects. A `ConnectEnvironment` that was
 * provided is respected too, so code that forced `ConnectEnvironment` keeps
 * working.
 *
 * @since 0.3.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as ConnectEnvironment from "./ConnectEnvironment.js"
import * as DatabricksApps from "./DatabricksApps.js"

/**
 * @since 0.3.0
 * @category models
 */
export type Kind = "connect" | "connect-cloud" | "workbench" | "databricks-apps" | "local"

/**
 * @since 0.3.0
 * @category models
 */
export interface Platform {
  readonly kind: Kind
}

/**
 * @since 0.3.0
 * @category tags
 */
export const Platform: Context.Tag<Platform, Platform> = Context.GenericTag<Platform>(
  "@effect-databricks/auth/Platform"
)

/**
 * Detects the platform from the variables, read through Effect's
 * `ConfigProvider` (so `ConfigProvider.fromMap` drives it in tests).
 *
 * @since 0.3.0
 * @category detection
 */
export const detect: Effect.Effect<Kind> = Effect.gen(function*() {
  const posit = yield* ConnectEnvironment.detect
  if (ConnectEnvironment.isConnect(posit)) return posit
  if (yield* DatabricksApps.isDatabricksApps) return "databricks-apps"
  return posit
})

/**
 * The platform as provided (`Platform`, else a provided `ConnectEnvironment`),
 * else as detected.
 *
 * @since 0.3.0
 * @category detection
 */
export const current: Effect.Effect<Kind> = Effect.gen(function*() {
  const provided = yield* Effect.serviceOption(Platform)
  if (provided._tag === "Some") return provided.value.kind
  const connect = yield* Effect.serviceOption(ConnectEnvironment.ConnectEnvironment)
  return connect._tag === "Some" ? connect.value.kind : yield* detect
})

/**
 * True on Connect and Connect Cloud, where Connect session tokens can be exchanged.
 *
 * @since 0.3.0
 * @category detection
 */
export const isConnect = (kind: Kind): boolean => kind === "connect" || kind === "connect-cloud"

/**
 * True on a platform that puts a viewer's identity on each request (Connect,
 * Connect Cloud, Databricks Apps). Workbench sessions belong to one user, who
 * is the only "viewer".
 *
 * @since 0.3.0
 * @category detection
 */
export const hasViewers = (kind: Kind): boolean => isConnect(kind) || kind === "databricks-apps"

/**
 * A name for messages: `Posit Connect`, `Databricks Apps`, `local development`, ...
 *
 * @since 0.3.0
 * @category detection
 */
export const describe = (kind: Kind): string => {
  switch (kind) {
    case "connect":
      return "Posit Connect"
    case "connect-cloud":
      return "Posit Connect Cloud"
    case "workbench":
      return "Posit Workbench"
    case "databricks-apps":
      return "Databricks Apps"
    case "local":
      return "local development"
  }
}

/**
 * Detects once, at layer construction.
 *
 * @since 0.3.0
 * @category layers
 */
export const layer: Layer.Layer<Platform> = Layer.effect(Platform, Effect.map(detect, (kind) => ({ kind })))

/**
 * A fixed platform, for tests and for forcing a mode.
 *
 * @since 0.3.0
 * @category layers
 */
export const layerStatic = (kind: Kind): Layer.Layer<Platform> => Layer.succeed(Platform, { kind })
