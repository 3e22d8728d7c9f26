import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

/** `path/to/X.test.ts` › "test name": how docs/security.md names the test that proves a guarantee. */
const proof = /`([\w./-]+\.test\.ts)` › "([^"]+)"/g

describe("docs/security.md", () => {
  it("names only tests that exist, and every guarantee names one", () => {
    const text = Fs.readFileSync(Path.join(root, "docs/security.md"), "utf8")
    const proofs = [...text.matchAll(proof)]
    assert.isAtLeast(proofs.length, 20, "docs/security.md names too few tests")
    for (const [, file, name] of proofs) {
      const path = Path.join(root, file)
      assert.isTrue(Fs.existsSync(path), `docs/security.md names ${file}, which does not exist`)
      // The test's title as written in its file (a template title with its `${...}` left as is).
      assert.include(Fs.readFileSync(path, "utf8"), name, `${file} has no test named "${name}"`)
    }
    // Every guarantee (a bullet in the guarantee sections) ends with the test that proves it.
    const bullets = text.split("\n## ").filter((section) => section.startsWith("Guarantee"))
      .flatMap((section) => section.split("\n- ").slice(1))
    assert.isAbove(bullets.length, 0)
    const names = new RegExp(proof.source)
    for (const bullet of bullets) assert.match(bullet, names, `a guarantee names no test: ${bullet.slice(0, 120)}`)
  })
})
