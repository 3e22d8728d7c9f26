import { Command } from "@effect/platform"
import { NodeContext } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

describe("code blocks in README.md and docs/", () => {
  it.live("equal the example files they come from (scripts/docs-snippets.mjs)", () =>
    Effect.gen(function*() {
      const exitCode = yield* Command.make(process.execPath, "scripts/docs-snippets.mjs").pipe(
        Command.workingDirectory(root),
        Command.exitCode
      )
      assert.strictEqual(exitCode, 0, "run node scripts/docs-snippets.mjs to see the stale blocks")
      const readme = Fs.readFileSync(Path.join(root, "README.md"), "utf8")
      assert.include(readme, "<!-- snippet: docs/examples/quick-start.ts -->")
    }).pipe(Effect.provide(NodeContext.layer)))
})
