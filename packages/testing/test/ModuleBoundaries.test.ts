import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const internal = fileURLToPath(new URL("../src/internal", import.meta.url))

const sources = (dir: string): Array<string> =>
  Fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? sources(Path.join(dir, entry.name))
      : entry.name.endsWith(".ts")
      ? [Path.join(dir, entry.name)]
      : []
  )

describe("module boundaries", () => {
  it("the internals import the public Emulator module for its types only (its errors live in EmulatorError)", () => {
    const files = sources(internal)
    assert.isAbove(files.length, 20)
    const offenders = files.flatMap((file) =>
      Fs.readFileSync(file, "utf8").split("\n")
        .filter((line) => /^import (?!type\b).*from "(\.\.\/)+Emulator\.js"/.test(line))
        .map((line) => `${Path.relative(internal, file)}: ${line}`)
    )
    assert.deepStrictEqual(offenders, [])
  })
})
