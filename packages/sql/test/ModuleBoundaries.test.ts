import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const src = fileURLToPath(new URL("../src", import.meta.url))

/** The `from "…"` specifiers of a source file, with whether the import is for types only. */
const importsOf = (file: string) =>
  [...Fs.readFileSync(file, "utf8").matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)].map((m) => ({
    typeOnly: m[2] !== undefined,
    specifier: m[3]
  }))

/** Every module `entry` imports at run time, transitively, within this package (entry included). */
const runtimeClosure = (entry: string): Set<string> => {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    for (const { specifier, typeOnly } of importsOf(file)) {
      if (typeOnly || !specifier.startsWith(".")) continue
      visit(Path.resolve(Path.dirname(file), specifier.replace(/\.js$/, ".ts")))
    }
  }
  visit(entry)
  return seen
}

const connectViewer = /^@effect-databricks\/auth(\/ConnectViewer)?$/

describe("module boundaries", () => {
  it("Posit Connect is not a dependency of the SQL core: only internal/viewers.ts imports ConnectViewer", () => {
    const core = ["internal/client.ts", "internal/connection.ts", "internal/sessionPool.ts", "internal/statement.ts"]
    for (const entry of core) {
      const closure = runtimeClosure(Path.join(src, entry))
      assert.isAbove(closure.size, 1, entry)
      for (const file of closure) {
        const relative = Path.relative(src, file)
        assert.notStrictEqual(relative, "internal/viewers.ts", `${entry} reaches the viewers module`)
        for (const { specifier, typeOnly } of importsOf(file)) {
          if (!typeOnly) {
            assert.notMatch(specifier, connectViewer, `${relative} (reached from ${entry}) imports ${specifier}`)
          }
        }
      }
    }
    // And, directly, no source file but the viewers module imports it at run time.
    const offenders = Fs.readdirSync(src, { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(".ts") && name !== Path.join("internal", "viewers.ts"))
      .filter((name) =>
        importsOf(Path.join(src, name)).some(({ specifier, typeOnly }) => !typeOnly && connectViewer.test(specifier))
      )
    assert.deepStrictEqual(offenders, [])
  })

  it("every internal module says it is internal in its header", () => {
    const internal = Path.join(src, "internal")
    const missing = Fs.readdirSync(internal).filter((name) => name.endsWith(".ts")).filter((name) => {
      const text = Fs.readFileSync(Path.join(internal, name), "utf8")
      const header = /^\/\*\*[\s\S]*?\*\//.exec(text)
      return header === null || !header[0].includes("@internal")
    })
    assert.deepStrictEqual(missing, [])
  })
})
