import { Emulator } from "@effect-databricks/testing"
import { Effect, Layer } from "effect"

/** A fresh emulator plus an HttpClient that trusts it, for one test. */
export const withEmulator = (options?: Emulator.Options) =>
  Layer.provideMerge(Emulator.httpClient, Emulator.layer(options))

/** The emulator's stats as they are now. */
export const stats = Effect.flatten(Effect.map(Emulator.Emulator, (e) => e.stats))

/** Adds a fault to the emulator's fault plan. */
export const addFault = (fault: Emulator.Fault) => Effect.flatMap(Emulator.Emulator, (e) => e.faults.add(fault))
