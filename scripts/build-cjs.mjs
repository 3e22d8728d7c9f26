// Turns the package's ESM build (build/esm) into CommonJS (build/cjs), file by file,
// the way Effect's packages derive their CJS build from the ESM one.
import { readdirSync, rmSync, writeFileSync } from "node:fs"
import * as path from "node:path"

import { build } from "esbuild"

const esm = path.resolve("build/esm")
const cjs = path.resolve("build/cjs")

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? walk(path.join(dir, entry.name))
      : entry.name.endsWith(".js")
      ? [path.join(dir, entry.name)]
      : []
  )

rmSync(cjs, { recursive: true, force: true })
await build({
  entryPoints: walk(esm),
  outdir: cjs,
  outbase: esm,
  format: "cjs",
  // "neutral" omits the `0 && (module.exports = {...})` lexer hint, which breaks on the export named `static`.
  platform: "neutral",
  target: "node20",
  sourcemap: true,
  logLevel: "warning"
})
// The package is "type": "module"; this marks the CJS tree as CommonJS.
writeFileSync(path.join(cjs, "package.json"), JSON.stringify({ type: "commonjs" }) + "\n")
