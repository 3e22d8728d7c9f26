// Packs every package with `pnpm pack`, installs the tarballs into a fresh project with npm,
// and imports each one both as ESM and as CommonJS, running a little real code through each.
import { execFileSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import * as path from "node:path"

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "..")
const packages = ["auth", "sql", "testing"]
const work = mkdtempSync(path.join(tmpdir(), "effect-databricks-smoke-"))
const tarballs = path.join(work, "tarballs")
const project = path.join(work, "project")
mkdirSync(tarballs)
mkdirSync(project)

const run = (command, args, cwd) => execFileSync(command, args, { cwd, stdio: ["ignore", "pipe", "inherit"] })
// Under `pnpm run`, npm_execpath is pnpm itself, so the pack uses the same pnpm as the rest of CI.
const pnpm = process.env.npm_execpath
const pnpmCommand = pnpm ? [process.execPath, [pnpm]] : ["pnpm", []]

try {
  const files = {}
  for (const name of packages) {
    run(pnpmCommand[0], [...pnpmCommand[1], "pack", "--pack-destination", tarballs], path.join(root, "packages", name))
    const file = readdirSync(tarballs).find((f) => f.startsWith(`effect-databricks-${name}-`))
    files[`@effect-databricks/${name}`] = `file:${path.join(tarballs, file)}`
  }
  writeFileSync(
    path.join(project, "package.json"),
    JSON.stringify({ name: "smoke", private: true, dependencies: files, overrides: files }, null, 2)
  )
  run("npm", ["install", "--no-audit", "--no-fund", "--ignore-scripts", "--loglevel=error"], project)

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
  writeFileSync(path.join(project, "esm.mjs"), checks((m) => `await import(${JSON.stringify(m)})`) + "await main()\n")
  writeFileSync(
    path.join(project, "cjs.cjs"),
    checks((m) => `require(${JSON.stringify(m)})`) + "main().catch((e) => { console.error(e); process.exit(1) })\n"
  )
  for (const [kind, file] of [["ESM", "esm.mjs"], ["CJS", "cjs.cjs"]]) {
    run(process.execPath, [file], project)
    console.log(`pack smoke: ${kind} import of ${packages.length} packed packages ok`)
  }
  const help = run(path.join(project, "node_modules", ".bin", "effect-databricks-emulator"), ["--help"], project)
  if (!help.toString().startsWith("Usage:")) throw new Error("the packed emulator command did not print its usage")
  console.log("pack smoke: effect-databricks-emulator --help ok")
} finally {
  rmSync(work, { recursive: true, force: true })
}
