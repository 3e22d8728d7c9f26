import type { TokenSource } from "@effect-databricks/auth"
import { WorkspaceClient } from "@effect-databricks/auth"
import type { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import { Emulator } from "@effect-databricks/testing"
import type { HttpClient } from "@effect/platform"
import { assert } from "@effect/vitest"
import type { Duration } from "effect"
import { ConfigProvider, Effect, Fiber, Layer, Option, TestClock } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export type Credential = (
  emulator: Emulator.Emulator
) => Layer.Layer<TokenSource.TokenSource, ConfigurationError, HttpClient.HttpClient>

/**
 * Emulator + trusting HttpClient + a credential built from the emulator's values + a WorkspaceClient
 * on its host. Everything the tests need, per test.
 */
export const stack = (credential: Credential, options?: Emulator.Options) => {
  const emulator = Layer.provideMerge(Emulator.httpClient, Emulator.layer(options))
  const source = Layer.unwrapEffect(Effect.map(Emulator.Emulator, credential))
  const client = Layer.unwrapEffect(Effect.map(Emulator.Emulator, (e) => WorkspaceClient.layer({ host: e.host })))
  return client.pipe(Layer.provideMerge(source), Layer.provideMerge(emulator))
}

/** Environment variables for one test, through Effect's ConfigProvider. */
export const withEnv = (env: Record<string, string>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const realPause = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 2)))

/**
 * Runs an effect that sleeps on the TestClock between real loopback requests (retry backoff):
 * lets real I/O progress, then moves the clock a step, until it finishes.
 */
export const drive = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  options?: { readonly step?: Duration.DurationInput; readonly maxSteps?: number }
) =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(effect)
    for (let step = 0; step < (options?.maxSteps ?? 400); step++) {
      const exit = yield* Fiber.poll(fiber)
      if (Option.isSome(exit)) return yield* exit.value
      yield* realPause
      yield* TestClock.adjust(options?.step ?? "1 second")
    }
    return assert.fail("the effect did not finish while the clock was driven")
  })

/**
 * Waits until a condition holds: a condition, not a timed guess. The bound (tens of seconds of polling
 * on a busy machine) only turns a state that never comes into a failure instead of a hang.
 */
export const until = <R>(check: Effect.Effect<boolean, never, R>, what: string) =>
  Effect.gen(function*() {
    for (let i = 0; i < 15_000; i++) {
      if (yield* check) return
      yield* realPause
    }
    assert.fail(`timed out waiting for ${what}`)
  })

/** A temporary directory for profile files, removed with the scope. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "effect-databricks-test-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

/** Writes a config file into a fresh temporary directory. */
export const writeConfig = (text: string) =>
  Effect.map(tempDir, (dir) => {
    const path = Path.join(dir, "databrickscfg")
    Fs.writeFileSync(path, text)
    return path
  })
