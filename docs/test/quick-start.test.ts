import { Emulator } from "@effect-databricks/testing"
import { Command } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")
const example = Path.join(root, "docs/examples/quick-start.ts")

describe("docs/examples/quick-start.ts (the README's quick start)", () => {
  it.scoped(
    "runs as a user would, against the emulator as the workspace, and prints the answer",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const home = Fs.mkdtempSync(Path.join(Os.tmpdir(), "quick-start-"))
        yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(home, { recursive: true, force: true })))
        // A child process with only what a user would set: the workspace, a token, and trust for its certificate.
        const output = yield* Command.make(process.execPath, "--import", "tsx", example).pipe(
          Command.workingDirectory(root),
          Command.env({
            PATH: process.env.PATH ?? "",
            HOME: home,
            DATABRICKS_HOST: emulator.host,
            DATABRICKS_HTTP_PATH: emulator.httpPath,
            DATABRICKS_TOKEN: Redacted.value(emulator.pat),
            NODE_EXTRA_CA_CERTS: emulator.caCertPath
          }),
          Command.string
        )
        assert.include(output, `me: '${emulator.user.userName}'`)
        assert.include(output, "answer: 42")
      }).pipe(Effect.provide([Emulator.layer(), NodeContext.layer])),
    { timeout: 30_000 }
  )
})
