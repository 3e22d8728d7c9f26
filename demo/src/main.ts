/**
 * `pnpm demo`: a guided tour of effect-databricks. With no configuration it
 * runs on the embedded emulator; with `DATABRICKS_HOST` (and credentials) set,
 * on that workspace, read-only.
 */
import { NodeRuntime } from "@effect/platform-node"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Modes from "./Modes.js"
import * as Output from "./Output.js"
import * as Tour from "./Tour.js"

const host = Modes.workspaceHost(process.env)

const program = Tour.reported(host === undefined ? Modes.onEmulator : Modes.onWorkspace(host)).pipe(
  Effect.flatMap((ok) => Effect.sync(() => (process.exitCode = ok ? 0 : 1))),
  Effect.provide(Layer.provideMerge(Output.logger, Output.stdout))
)

// The tour prints its own log lines (see Output.logger), so runMain's pretty logger is off.
NodeRuntime.runMain(program, { disablePrettyLogger: true })
