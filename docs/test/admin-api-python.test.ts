import { Command } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Stream } from "effect"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

describe("docs/examples/test_admin_api.py (a Python suite using the admin API)", () => {
  it.live("passes against the emulator command", () =>
    Effect.gen(function*() {
      const suite = yield* Command.make("python3", "-m", "unittest", "-v", "docs/examples/test_admin_api.py").pipe(
        Command.workingDirectory(root),
        Command.env({ EMULATOR_COMMAND: `node ${Path.join(root, "packages/testing/bin/emulator.mjs")} --json` }),
        Command.start
      )
      // unittest reports on stderr (the emulator's human summary goes there too).
      const [report, , exitCode] = yield* Effect.all([
        suite.stderr.pipe(Stream.decodeText(), Stream.mkString),
        Stream.runDrain(suite.stdout),
        suite.exitCode
      ], { concurrency: "unbounded" })
      assert.strictEqual(exitCode, 0, report)
      assert.match(report, /Ran 3 tests/)
      assert.match(report, /test_retries_a_503_once .* ok/)
    }).pipe(Effect.scoped, Effect.provide(NodeContext.layer)), { timeout: 60_000 })
})
