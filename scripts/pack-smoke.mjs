// The packed packages, used as a user of a clone uses them: scripts/install-from-clone.sh (the README's install
// commands) builds and packs every package and installs the tarballs with npm into a new project outside the
// repository; then each package is imported as ESM and as CommonJS with a little real code run through each, a
// TypeScript program (docs/examples/getting-started.ts) is type-checked against the packed .d.ts files and run
// against the packed emulator, and the packed emulator command prints its usage.
// Run: node scripts/pack-smoke.mjs                 (everything in a temporary folder, removed afterwards)
//      node scripts/pack-smoke.mjs --keep <folder>  (the tarballs are left in <folder>, as scripts/release.mjs wants)
import { execFileSync } from "node:child_process"
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const packages = ["auth", "sql", "testing"]

const run = (command, args, cwd, env) => {
  try {
    return execFileSync(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "inherit"] })
  } catch (error) {
    // What the command printed says why it failed (tsc prints its errors to stdout).
    throw new Error(`${path.basename(command)} ${args.join(" ")} failed in ${cwd}:\n${error.stdout ?? ""}`)
  }
}

/** The tarball of each package in `folder`, by package name; fails unless there is exactly one per package. */
export const tarballsIn = (folder) =>
  Object.fromEntries(packages.map((name) => {
    const found = readdirSync(folder).filter((file) => new RegExp(`^effect-databricks-${name}-\\d.*\\.tgz$`).test(file))
    if (found.length !== 1) throw new Error(`expected one tarball of ${name} in ${folder}, found ${found.length}`)
    return [`@effect-databricks/${name}`, path.join(folder, found[0])]
  }))

const checks = (load) => `
const { DatabricksError, TokenSource, WorkspaceHost } = ${load("@effect-databricks/auth")}
const { SqlError } = ${load("@effect-databricks/sql")}
const { Emulator, LoopbackCertificate } = ${load("@effect-databricks/testing")}
const { Effect, Redacted } = ${load("effect")}
const deep = ${load("@effect-databricks/auth/TokenSource")}
const assert = (ok, what) => { if (!ok) throw new Error("smoke check failed: " + what) }
const main = async () => {
  const source = TokenSource.static(Redacted.make("smoke-token"))
  const headers = await TokenSource.toDriverAuthentication(source).authenticate()
  assert(headers.Authorization === "Bearer smoke-token", "toDriverAuthentication")
  assert(deep.static === TokenSource.static, "deep import is the same module")
  assert(WorkspaceHost.parse("dbc-1.cloud.databricks.com")._tag === "Right", "WorkspaceHost.parse")
  assert(SqlError.AuthenticationError === DatabricksError.AuthenticationError, "shared errors re-exported")
  assert(SqlError.QueryError.fromServerMessage("[X_Y] no").errorClass === "X_Y", "QueryError")
  const certificate = await Effect.runPromise(LoopbackCertificate.generate())
  assert(certificate.certPem.includes("BEGIN CERTIFICATE"), "LoopbackCertificate")
  const host = await Effect.runPromise(Effect.scoped(Effect.map(Emulator.make(), (emulator) => emulator.host)))
  assert(host.startsWith("https://127.0.0.1:"), "Emulator starts and stops")
  let blocked = false
  try { ${load("@effect-databricks/auth/internal/jwt")} } catch { blocked = true }
  assert(blocked, "internal modules are not exported")
}
`

// A user's TypeScript setup: strict, NodeNext, and the library's own .d.ts files checked too (no skipLibCheck).
const tsconfig = {
  compilerOptions: {
    strict: true,
    exactOptionalPropertyTypes: true,
    module: "NodeNext",
    moduleResolution: "NodeNext",
    target: "ES2022",
    types: ["node"],
    skipLibCheck: false,
    outDir: "dist",
    rootDir: "src"
  },
  include: ["src"]
}
const main = `import { Effect } from "effect"
import { program } from "./getting-started.js"

const rows = await Effect.runPromise(program)
if (rows.length !== 3) throw new Error(\`expected 3 rows, got \${rows.length}\`)
`

/** Packs, installs into a new project and checks it; the tarballs end up in `keep` when given. */
export const smoke = (keep) => {
  const work = mkdtempSync(path.join(tmpdir(), "effect-databricks-smoke-"))
  const tarballs = keep === undefined ? path.join(work, "tarballs") : path.resolve(keep)
  const project = path.join(work, "my-app")
  rmSync(tarballs, { recursive: true, force: true })
  mkdirSync(project)
  try {
    writeFileSync(
      path.join(project, "package.json"),
      JSON.stringify({ name: "my-app", private: true, type: "module" }, null, 2) + "\n"
    )
    run("bash", [path.join(root, "scripts", "install-from-clone.sh"), tarballs, project], root, {
      npm_config_audit: "false",
      npm_config_fund: "false",
      npm_config_loglevel: "error"
    })
    const installed = tarballsIn(tarballs)
    console.log(`pack smoke: installed ${Object.values(installed).map((file) => path.basename(file)).join(", ")}`)

    writeFileSync(path.join(project, "esm.mjs"), checks((m) => `await import(${JSON.stringify(m)})`) + "await main()\n")
    writeFileSync(
      path.join(project, "cjs.cjs"),
      checks((m) => `require(${JSON.stringify(m)})`) + "main().catch((e) => { console.error(e); process.exit(1) })\n"
    )
    for (const [kind, file] of [["ESM", "esm.mjs"], ["CJS", "cjs.cjs"]]) {
      run(process.execPath, [file], project)
      console.log(`pack smoke: ${kind} import of ${packages.length} packed packages ok`)
    }

    // The getting-started example as a user's program: type-checked by the repository's TypeScript (the version the
    // packages are built with) against the packed types, then run against the packed emulator.
    run("npm", ["install", "--save-dev", "--no-audit", "--no-fund", "--loglevel=error", "@types/node@^20"], project)
    mkdirSync(path.join(project, "src"))
    copyFileSync(
      path.join(root, "docs", "examples", "getting-started.ts"),
      path.join(project, "src", "getting-started.ts")
    )
    writeFileSync(path.join(project, "src", "main.ts"), main)
    writeFileSync(path.join(project, "tsconfig.json"), JSON.stringify(tsconfig, null, 2) + "\n")
    run(process.execPath, [path.join(root, "node_modules", "typescript", "bin", "tsc"), "-p", "."], project)
    console.log("pack smoke: docs/examples/getting-started.ts type-checks against the packed .d.ts (no skipLibCheck)")
    const output = run(process.execPath, ["dist/main.js"], project).toString()
    if (output.split("\n").filter((line) => / trips, \$/.test(line)).length !== 3) {
      throw new Error(`getting-started printed:\n${output}`)
    }
    console.log("pack smoke: getting-started ran against the packed emulator (3 rows)")

    const help = run(path.join(project, "node_modules", ".bin", "effect-databricks-emulator"), ["--help"], project)
    if (!help.toString().startsWith("Usage:")) throw new Error("the packed emulator command did not print its usage")
    console.log("pack smoke: effect-databricks-emulator --help ok")
    return installed
  } finally {
    rmSync(work, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const at = process.argv.indexOf("--keep")
  if (at >= 0 && process.argv[at + 1] === undefined) {
    console.error("usage: node scripts/pack-smoke.mjs [--keep <folder>]")
    process.exit(2)
  }
  smoke(at >= 0 ? process.argv[at + 1] : undefined)
}
