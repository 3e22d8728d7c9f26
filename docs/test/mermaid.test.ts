// @vitest-environment jsdom
// mermaid's parser sanitises labels with DOMPurify, which needs a DOM: jsdom gives it one, so the check runs in
// Node, everywhere the docs tests run, with no browser.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import mermaid from "mermaid"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "../..")

/** The documents whose blocks the repository host renders: README.md and docs/*.md, as the snippet check. */
const documents = [
  "README.md",
  ...Fs.readdirSync(Path.join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)
]

interface Block {
  readonly where: string
  readonly text: string
}

/** Every ```mermaid block, with the document and line it starts on. */
const blocks: ReadonlyArray<Block> = documents.flatMap((document) => {
  const lines = Fs.readFileSync(Path.join(root, document), "utf8").split("\n")
  const found: Array<Block> = []
  lines.forEach((line, i) => {
    if (line.trim() !== "```mermaid") return
    const end = lines.findIndex((next, j) => j > i && next.trim() === "```")
    found.push({
      where: `${document}:${i + 1}`,
      text: lines.slice(i + 1, end < 0 ? undefined : end).join("\n")
    })
  })
  return found
})

/** Parses one diagram; the failure is mermaid's own message ("Parse error on line 3: ..."). */
const parse = (text: string) =>
  Effect.tryPromise({
    try: () => mermaid.parse(text),
    catch: (error) => error instanceof Error ? error.message : String(error)
  })

describe("Mermaid diagrams in README.md and docs/", () => {
  it.effect("every ```mermaid block parses", () =>
    Effect.gen(function*() {
      const failures: Array<string> = []
      for (const block of blocks) {
        const parsed = yield* Effect.either(parse(block.text))
        if (Either.isLeft(parsed)) failures.push(`${block.where}: ${parsed.left}`)
      }
      assert.deepStrictEqual(failures, [])
    }), 20_000)

  it("the pictures the guides promise are there", () => {
    const withDiagrams = new Set(blocks.map((block) => block.where.split(":")[0]))
    for (
      const document of [
        "docs/auth.md",
        "docs/tokens-and-errors.md",
        "docs/posit-connect.md",
        "docs/sql.md",
        "docs/emulator.md"
      ]
    ) {
      assert.isTrue(withDiagrams.has(document), `${document} has no mermaid block`)
    }
  })

  it.effect("a broken diagram is refused, so the check can fail", () =>
    Effect.gen(function*() {
      // An edge with no target, and a diagram type that does not exist.
      const dangling = yield* Effect.flip(parse("flowchart TD\n  A[options] --> "))
      assert.match(dangling, /Parse error on line \d+/)
      const unknown = yield* Effect.flip(parse("flowchrt TD\n  A --> B"))
      assert.match(unknown, /No diagram type detected/)
      // The same text fixed parses: the refusals above are about the text, not the environment.
      const fixed = yield* parse("flowchart TD\n  A[options] --> B[env]")
      assert.strictEqual(fixed && fixed.diagramType, "flowchart-v2")
    }), 20_000)
})
