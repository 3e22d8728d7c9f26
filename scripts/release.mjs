// `pnpm release`: everything a release needs, in order, stopping at the first failure: type-check, lint, (tests),
// build and pack, install the tarballs into a new project and use them (scripts/pack-smoke.mjs), check what each
// tarball holds; then, only with --publish, publish those same tarballs with provenance and tag the release.
// Run: node scripts/release.mjs               (stops before publishing and says so)
//      node scripts/release.mjs --skip-checks (CI, which type-checked and linted the same tree a step earlier)
//      node scripts/release.mjs --test        (also runs the whole test suite first)
//      node scripts/release.mjs --publish     (a maintainer, with a registry token, after `pnpm changeset version`;
//                                             runs the tests too, unless --skip-tests)
// The process is described in docs/releasing.md.
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { smoke } from "./pack-smoke.mjs"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const args = process.argv.slice(2)
const known = ["--publish", "--test", "--skip-tests", "--skip-checks"]
const unknown = args.filter((arg) => !known.includes(arg))
if (unknown.length > 0) {
  console.error(
    `unknown option ${
      unknown.join(" ")
    }; usage: node scripts/release.mjs [--publish] [--test | --skip-tests] [--skip-checks]`
  )
  process.exit(2)
}
const publish = args.includes("--publish")
const test = args.includes("--test") || (publish && !args.includes("--skip-tests"))
const checks = !args.includes("--skip-checks")
if (publish && !checks) {
  console.error("--skip-checks is for CI's dry runs: a publish always type-checks and lints")
  process.exit(2)
}
// Published in this order, so a package never names a dependency that is not out yet.
const packages = ["auth", "sql", "testing"]
const tarballFolder = path.join(root, "build", "release")

const step = (what) => console.log(`\n== release: ${what}`)
const fail = (message) => {
  console.error(`\nrelease: ${message}`)
  process.exit(1)
}
const run = (command, commandArgs) => {
  try {
    execFileSync(command, commandArgs, { cwd: root, stdio: "inherit" })
  } catch {
    // The command printed why; a stack trace of this script would only bury it.
    fail(`${[path.basename(command), ...commandArgs.map((arg) => path.basename(arg))].join(" ")} failed (above)`)
  }
}
const output = (command, commandArgs) =>
  execFileSync(command, commandArgs, { cwd: root, stdio: ["ignore", "pipe", "pipe"] }).toString().trim()
// Under `pnpm run`, npm_execpath is pnpm itself: the same pnpm runs every step.
const pnpm = (...commandArgs) =>
  process.env.npm_execpath
    ? run(process.execPath, [process.env.npm_execpath, ...commandArgs])
    : run("npx", ["-y", "pnpm@10", ...commandArgs])

const manifest = (name) => JSON.parse(readFileSync(path.join(root, "packages", name, "package.json"), "utf8"))
const versions = Object.fromEntries(packages.map((name) => [name, manifest(name).version]))

// Changesets not yet turned into versions and changelogs: fine for CI, not for a publish.
const pending = readdirSync(path.join(root, ".changeset")).filter((file) =>
  file.endsWith(".md") && file !== "README.md"
)
step(`${packages.map((name) => `@effect-databricks/${name}@${versions[name]}`).join(", ")}`)
console.log(`${pending.length} changeset(s) pending${pending.length > 0 ? `: ${pending.join(", ")}` : ""}`)
if (publish) {
  if (pending.length > 0) {
    fail("changesets are pending: run `pnpm changeset version`, review and commit the versions and changelogs first")
  }
  if (new Set(Object.values(versions)).size !== 1) fail(`the packages' versions differ: ${JSON.stringify(versions)}`)
  if (output("git", ["status", "--porcelain"]) !== "") fail("the work tree has changes: publish from a clean commit")
  try {
    console.log(`registry user: ${output("npm", ["whoami"])}`)
  } catch {
    fail("npm whoami failed: log in, or set a registry token for npm (see docs/releasing.md)")
  }
}

if (checks) {
  step("type-check")
  pnpm("check")
  step("lint")
  pnpm("lint")
}
if (test) {
  step("tests")
  pnpm("test")
}
// The smoke test runs the README's install commands, which build before packing.
step("build, pack, install the tarballs into a new project, and use them")
let tarballs
try {
  tarballs = smoke(tarballFolder)
} catch (error) {
  fail(`the pack smoke test failed: ${error.message}`)
}

step("what each tarball holds")
const warnings = []
for (const name of packages) {
  const file = tarballs[`@effect-databricks/${name}`]
  const listing = output("tar", ["-tzf", file]).split("\n")
  const packed = JSON.parse(output("tar", ["-xzOf", file, "package/package.json"]))
  const problems = []
  if (packed.version !== versions[name]) problems.push(`version ${packed.version}, not ${versions[name]}`)
  for (const field of ["dependencies", "peerDependencies", "optionalDependencies"]) {
    for (const [dependency, range] of Object.entries(packed[field] ?? {})) {
      if (range.startsWith("workspace:")) problems.push(`${field}.${dependency} is still ${range}`)
    }
  }
  for (const required of ["build/esm/index.js", "build/cjs/index.js", "build/dts/index.d.ts"]) {
    if (!listing.includes(`package/${required}`)) problems.push(`no ${required}`)
  }
  if (packed.exports?.["."]?.import !== "./build/esm/index.js") problems.push("exports are not publishConfig's")
  if (problems.length > 0) fail(`${path.basename(file)}: ${problems.join("; ")}`)
  for (const wanted of ["README.md", "LICENSE"]) {
    if (!listing.some((entry) => entry.toLowerCase() === `package/${wanted.toLowerCase()}`)) {
      warnings.push(`${path.basename(file)} has no ${wanted}`)
    }
  }
  console.log(`${path.basename(file)}: ${listing.length} files, version ${packed.version}, dependencies resolved`)
}
for (const warning of warnings) console.log(`warning: ${warning}`)

if (!publish) {
  console.log(
    `\nrelease: everything up to publishing passed; the tarballs are in ${path.relative(root, tarballFolder)}/.`
  )
  console.log(
    "release: stopped before publishing (no --publish). A maintainer publishes with `pnpm release --publish`."
  )
  process.exit(0)
}
if (warnings.length > 0) fail(`not publishing a package without its README or LICENSE: ${warnings.join("; ")}`)

step("publish with provenance")
for (const name of packages) {
  const spec = `@effect-databricks/${name}@${versions[name]}`
  let published = ""
  try {
    published = output("npm", ["view", spec, "version"])
  } catch {
    // Not found: never published.
  }
  if (published === versions[name]) {
    console.log(`${spec} is already published (an earlier run stopped part way): skipped`)
    continue
  }
  run("npm", ["publish", tarballs[`@effect-databricks/${name}`], "--provenance", "--access", "public"])
}
step("tag the release")
run(process.execPath, [path.join(root, "node_modules", "@changesets", "cli", "bin.js"), "tag"])
console.log("\nrelease: published. Push the commit and its tags: git push --follow-tags")
