// Every relative link in README.md, docs/*.md and the example app's README leads somewhere: the file exists and,
// with a #fragment, the target has a heading of that anchor (as the repository host makes them).
import { assert, describe, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

const documents = [
  "README.md",
  ...Fs.readdirSync(Path.join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`),
  ...["docs/examples/viewer-app/README.md"].filter((file) => Fs.existsSync(Path.join(root, file)))
]

/** Text outside fenced code blocks, with inline code removed (a link inside backticks is not a link). */
const prose = (text: string) => text.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "")

/** The anchor the repository host gives a heading: lower case, punctuation dropped, spaces to hyphens. */
export const anchorOf = (heading: string) =>
  heading.trim().toLowerCase().replace(/`/g, "").replace(/[^\p{L}\p{N}\s_-]/gu, "").replace(/\s/g, "-")

const anchors = (file: string): ReadonlySet<string> => {
  const seen = new Map<string, number>()
  const result = new Set<string>()
  for (const match of Fs.readFileSync(file, "utf8").replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6} (.+)$/gm)) {
    const base = anchorOf(match[1]!)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    result.add(count === 0 ? base : `${base}-${count}`)
  }
  return result
}

/** Every broken relative link of one document, as `file: target (why)`. */
const broken = (document: string): Array<string> => {
  const problems: Array<string> = []
  const text = prose(Fs.readFileSync(Path.join(root, document), "utf8"))
  for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
    const target = match[1]!
    if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//")) continue
    const [path, fragment] = target.split("#", 2) as [string, string | undefined]
    const file = path === "" ? Path.join(root, document) : Path.resolve(Path.dirname(Path.join(root, document)), path)
    if (!Fs.existsSync(file)) {
      problems.push(`${document}: ${target} (no such file)`)
    } else if (fragment !== undefined && fragment !== "" && file.endsWith(".md") && !anchors(file).has(fragment)) {
      problems.push(`${document}: ${target} (no heading with that anchor)`)
    }
  }
  return problems
}

describe("relative links in README.md and docs/", () => {
  it("lead to a file that exists, and to a heading that exists", () => {
    const problems = documents.flatMap(broken)
    assert.deepStrictEqual(problems, [], problems.join("\n"))
  })

  it("the check itself: anchors as the repository host makes them, and a broken link is found", () => {
    assert.strictEqual(
      anchorOf("Workload identity federation (`env-oidc`, `file-oidc`)"),
      "workload-identity-federation-env-oidc-file-oidc"
    )
    assert.strictEqual(anchorOf("Where am I running? `Platform`"), "where-am-i-running-platform")
    const scratch = Path.join(root, "docs", "zz-links-check.md")
    Fs.writeFileSync(scratch, "[gone](no-such-page.md) and [here](#nowhere)\n\n# Somewhere\n")
    try {
      assert.deepStrictEqual(broken("docs/zz-links-check.md"), [
        "docs/zz-links-check.md: no-such-page.md (no such file)",
        "docs/zz-links-check.md: #nowhere (no heading with that anchor)"
      ])
    } finally {
      Fs.rmSync(scratch)
    }
  })
})
