// Keeps the code blocks of README.md and docs/*.md equal to the example files they come from.
// Every ts, js or python block must be preceded by `<!-- snippet: <path>[#region] -->`; the path is from the repository root, and a region is
// the lines between `// #region <name>` and `// #endregion` (or `# region`/`# endregion` in Python).
// Run: node scripts/docs-snippets.mjs          (checks; exits 1 listing every stale block)
//      node scripts/docs-snippets.mjs --write  (rewrites the stale blocks from their sources)
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const marker = /^<!-- snippet: ([^#\s]+)(?:#([\w-]+))? -->\n```(\w*)\n([\s\S]*?)```/gm

/** The text a marker points at. */
export const source = (file, region) => {
  const text = Fs.readFileSync(Path.join(root, file), "utf8")
  if (region === undefined) return text
  const lines = text.split("\n")
  const start = lines.findIndex((line) => new RegExp(`^\\s*(//|#) #?region ${region}$`).test(line))
  if (start < 0) throw new Error(`${file} has no region ${region}`)
  const end = lines.findIndex((line, i) => i > start && /^\s*(\/\/|#) #?endregion$/.test(line))
  const body = lines.slice(start + 1, end < 0 ? undefined : end)
  const indent = Math.min(...body.filter((line) => line.trim() !== "").map((line) => line.match(/^ */)[0].length))
  return body.map((line) => line.slice(indent)).join("\n") + "\n"
}

/** Every markdown file whose blocks are checked. */
export const documents = () => [
  "README.md",
  ...Fs.readdirSync(Path.join(root, "docs")).filter((name) => name.endsWith(".md")).map((name) => `docs/${name}`)
]

/** The stale blocks of one document, and its text with them brought up to date. */
export const sync = (document) => {
  const text = Fs.readFileSync(Path.join(root, document), "utf8")
  const stale = []
  // Code (not data or shell) must come from a file that is type-checked or run.
  const lines = text.split("\n")
  lines.forEach((line, i) => {
    if (/^```(ts|typescript|js|python)$/.test(line) && !lines[i - 1]?.startsWith("<!-- snippet: ")) {
      stale.push(`${document}:${i + 1}: a code block without a snippet marker`)
    }
  })
  const updated = text.replace(marker, (block, file, region, language, body) => {
    const wanted = source(file, region)
    if (body === wanted) return block
    stale.push(`${document}: the block from ${file}${region === undefined ? "" : `#${region}`} is out of date`)
    return `<!-- snippet: ${file}${region === undefined ? "" : `#${region}`} -->\n\`\`\`${language}\n${wanted}\`\`\``
  })
  return { stale, updated }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const write = process.argv.includes("--write")
  let failed = false
  for (const document of documents()) {
    const { stale, updated } = sync(document)
    if (stale.length === 0) continue
    if (write) Fs.writeFileSync(Path.join(root, document), updated)
    else {
      failed = true
      for (const line of stale) console.error(line)
    }
  }
  if (failed) {
    console.error("Run node scripts/docs-snippets.mjs --write to update them.")
    process.exit(1)
  }
}
