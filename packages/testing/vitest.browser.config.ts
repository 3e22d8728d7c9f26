import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import type { ViteUserConfig } from "vitest/config"
import shared from "../../vitest.shared.js"
import * as Chromium from "./test-browser/find.js"

/**
 * `pnpm test:browser`: real logins in the system's chromium (test-browser/). Without a chromium the suite is not
 * run, and says so; `CHROMIUM_PATH` set to something that is not one is an error. `.ci/run` reads the first line
 * ("browser suite: running in …") to know the suite ran. One test at a time: two cores are enough, and a failure
 * shows one flow. (Spread, not `mergeConfig`, which would add the shared `include` to this one.)
 */
const found = Chromium.find(process.env)
if ("missing" in found) {
  if (process.env.CHROMIUM_PATH) throw new Error(`browser suite: ${found.missing}`)
  process.stdout.write(`\nbrowser suite not run: ${found.missing}\n\n`)
} else {
  process.stdout.write(`\nbrowser suite: running in ${Chromium.version(found.path) ?? "chromium"} (${found.path})\n\n`)
}

const config: ViteUserConfig = {
  ...shared,
  test: {
    ...shared.test,
    name: "browser",
    root: Path.dirname(fileURLToPath(import.meta.url)),
    include: "missing" in found ? [] : ["test-browser/**/*.test.ts"],
    passWithNoTests: true,
    provide: "missing" in found ? {} : { chromium: found.path },
    sequence: { concurrent: false },
    testTimeout: 60_000
  }
}

export default config
