/**
 * Where the code runs, as far as Posit is concerned: on Posit Connect, on
 * Connect Cloud, in Workbench, or locally. `ConnectViewer` and
 * `ConnectContent` exchange Connect session tokens only on Connect (or Connect
 * Cloud) and use their `local` layer everywhere else.
 *
 * The service is swappable: provide `layerStatic("connect")` in tests, or
 * leave it out and the layers detect the environment from the variables
 * Posit sets.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Settings from "./internal/config.js"

/**
 * @since 0.1.0
 * @category models
 */
export type Kind = "connect" | "connect-cloud" | "workbench" | "local"

/**
 * @since 0.1.0
 * @category models
 */
export interface ConnectEnvironment {
  readonly kind: Kind
}

/**
 * @since 0.1.0
 * @category tags
 */
export const ConnectEnvironment: Context.Tag<ConnectEnvironment, ConnectEnvironment> = Context.GenericTag<
  ConnectEnvironment
>("@effect-databricks/auth/ConnectEnvironment")

const workbenchVariables = ["RSW_LAUNCHER", "RSTUDIO_MULTI_SESSION", "RS_SERVER_ADDRESS", "RS_SERVER_URL"] as const

/**
 * Detects the environment from the variables (through Effect's
 * `ConfigProvider`):
 *
 * - Connect: `RSTUDIO_PRODUCT=CONNECT` or `POSIT_PRODUCT=CONNECT`;
 * - Connect Cloud: `POSIT_PRODUCT=CONNECT_CLOUD`;
 * - Workbench: `POSIT_PRODUCT=WORKBENCH` (what posit-sdk-py's Workbench client checks), or any of
 *   `RSW_LAUNCHER`, `RSTUDIO_MULTI_SESSION`, `RS_SERVER_ADDRESS`, `RS_SERVER_URL`;
 * - otherwise local.
 *
 * `Platform` adds Databricks Apps to these.
 *
 * @since 0.1.0
 * @category detection
 */
export const detect: Effect.Effect<Kind> = Effect.gen(function*() {
  // `detect` is public with no error channel: an unreadable variable here counts as unset (envOrUnset).
  const rstudio = (yield* Settings.envOrUnset("RSTUDIO_PRODUCT"))?.trim().toUpperCase()
  const posit = (yield* Settings.envOrUnset("POSIT_PRODUCT"))?.trim().toUpperCase()
  if (rstudio === "CONNECT" || posit === "CONNECT") return "connect"
  if (posit === "CONNECT_CLOUD") return "connect-cloud"
  if (posit === "WORKBENCH") return "workbench"
  for (const name of workbenchVariables) {
    const value = yield* Settings.envOrUnset(name)
    if (value !== undefined && value !== "") return "workbench"
  }
  return "local"
})

/**
 * True on Connect and Connect Cloud, where session tokens can be exchanged.
 *
 * @since 0.1.0
 * @category detection
 */
export const isConnect = (kind: Kind): boolean => kind === "connect" || kind === "connect-cloud"

/**
 * The environment as provided, else as detected.
 *
 * @since 0.1.0
 * @category detection
 */
export const current: Effect.Effect<Kind> = Effect.flatMap(
  Effect.serviceOption(ConnectEnvironment),
  (provided) => provided._tag === "Some" ? Effect.succeed(provided.value.kind) : detect
)

/**
 * Detects once, at layer construction.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<ConnectEnvironment> = Layer.effect(
  ConnectEnvironment,
  Effect.map(detect, (kind) => ({ kind }))
)

/**
 * A fixed environment, for tests and for forcing a mode.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStatic = (kind: Kind): Layer.Layer<ConnectEnvironment> => Layer.succeed(ConnectEnvironment, { kind })
