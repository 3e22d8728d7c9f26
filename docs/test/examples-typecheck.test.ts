// The examples are type-checked by `pnpm check` (`tsc -b tsconfig.json`), which CI and `pnpm release` run: this
// test fails when an example would fall outside it (a new folder the docs project does not include, or the docs
// project dropped from the root build), so "every example type-checks" cannot silently stop being true.
import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")
const json = (file: string) => JSON.parse(Fs.readFileSync(Path.join(root, file), "utf8"))

const examples = (dir: string): Array<string> =>
  Fs.readdirSync(Path.join(root, dir), { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? entry.name === "node_modules" ? [] : examples(`${dir}/${entry.name}`)
      : /\.tsx?$/.test(entry.name)
      ? [`${dir}/${entry.name}`]
      : []
  )

describe("docs/examples are type-checked by pnpm check", () => {
  it("the root build references the docs project, which includes every example", () => {
    const rootConfig = json("tsconfig.json") as { references: ReadonlyArray<{ path: string }> }
    assert.isTrue(rootConfig.references.some((reference) => reference.path === "docs"), "tsconfig.json → docs")
    const docsConfig = json("docs/tsconfig.json") as { include: ReadonlyArray<string>; exclude?: ReadonlyArray<string> }
    assert.notInclude(docsConfig.include, undefined)
    const found = examples("docs/examples")
    assert.isAbove(found.length, 20)
    const outside = found.filter((file) =>
      !docsConfig.include.some((pattern) => file.startsWith(`docs/${pattern.replace(/\/\*\*.*$/, "")}/`)) ||
      (docsConfig.exclude ?? []).some((pattern) => file.startsWith(`docs/${pattern}`))
    )
    assert.deepStrictEqual(outside, [], "examples the docs project does not type-check")
    assert.isTrue(found.includes("docs/examples/viewer-app/server.ts"))
    assert.strictEqual(json("package.json").scripts.check, "tsc -b tsconfig.json")
  })
})
