import { Emulator } from "@effect-databricks/testing"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Path from "node:path"
import { docs, runNode } from "./child.js"

describe("docs/examples/quick-start.ts (the README's quick start)", () => {
  it.scoped(
    "runs as a user would, against the emulator as the workspace, and prints the answer",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        // Only what a user would set: the workspace, the warehouse, a token (and trust for the certificate).
        const output = yield* runNode([Path.join(docs, "examples", "quick-start.ts")], {
          DATABRICKS_HTTP_PATH: emulator.httpPath,
          DATABRICKS_TOKEN: Redacted.value(emulator.pat)
        })
        assert.include(output, `me: '${emulator.user.userName}'`)
        assert.include(output, "answer: 42")
      }).pipe(Effect.provide([Emulator.layer(), NodeContext.layer])),
    { timeout: 30_000 }
  )
})
