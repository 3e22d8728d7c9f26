/**
 * The two places the tour can run: the embedded emulator (the default), or a
 * real workspace when `DATABRICKS_HOST` is set.
 */
import { AuthConfig, LocalM2M, WorkspaceClient } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import type { HttpClient } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Output from "./Output.js"
import * as Tour from "./Tour.js"

/** The user agent entry the tour's SQL sessions carry after the library's own. */
const userAgentEntry = "EffectDatabricks_Tour/0.1.0"

/**
 * Starts the emulator (with the NYC taxi samples), registers a service
 * principal for the tour, authenticates as it with OAuth M2M, and runs the
 * tour. The emulator stops when the tour ends.
 */
export const onEmulator = Effect.scoped(Effect.gen(function*() {
  const emulator = yield* Emulator.make({ samples: true })
  const principal = yield* emulator.registerServicePrincipal({ displayName: "Tour Service Principal" })
  const credential = LocalM2M.layer({
    host: emulator.host,
    clientId: principal.clientId,
    clientSecret: principal.clientSecret
  })
  const clients = Layer.merge(
    WorkspaceClient.layer({ host: emulator.host }),
    SqlClient.layer({ host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem, userAgentEntry })
  ).pipe(
    Layer.provide(credential),
    Layer.provide(Layer.provide(Emulator.httpClient, Layer.succeed(Emulator.Emulator, emulator)))
  )
  yield* Tour.run({ _tag: "Emulator", emulator, clientId: principal.clientId }).pipe(Effect.provide(clients))
}))

/**
 * Runs the tour on a real workspace: `DATABRICKS_HOST`, `DATABRICKS_HTTP_PATH`,
 * and credentials however `AuthConfig` resolves them (a token, OAuth, the
 * CLI, a profile, ...). `http` and `caCert` are for private certificate
 * authorities (and for testing this mode against the emulator).
 */
export const onWorkspace = (
  host: string,
  options?: {
    readonly http?: Layer.Layer<HttpClient.HttpClient> | undefined
    readonly caCert?: string | undefined
  }
): Effect.Effect<void, Tour.TourError, Output.Output> => {
  const platform = Layer.merge(options?.http ?? NodeHttpClient.layerUndici, NodeContext.layer)
  const clients = Layer.merge(
    WorkspaceClient.layer(),
    SqlClient.layerConfig({ userAgentEntry, ...(options?.caCert === undefined ? {} : { caCert: options.caCert }) })
  ).pipe(Layer.provideMerge(AuthConfig.layer()), Layer.provide(platform))
  return Effect.gen(function*() {
    const resolved = yield* AuthConfig.AuthConfig
    yield* Tour.run({ _tag: "Workspace", host, credential: `AuthConfig: ${AuthConfig.describe(resolved)}` })
  }).pipe(Effect.provide(clients))
}

/** The workspace to run on: `DATABRICKS_HOST`, when it is set and not blank. */
export const workspaceHost = (env: NodeJS.ProcessEnv): string | undefined =>
  env.DATABRICKS_HOST === undefined || env.DATABRICKS_HOST.trim() === "" ? undefined : env.DATABRICKS_HOST.trim()
