import * as path from "node:path"
import { fileURLToPath } from "node:url"

import type { ViteUserConfig } from "vitest/config"

const root = path.dirname(fileURLToPath(import.meta.url))

/** Settings every package's vitest project shares. */
const config: ViteUserConfig = {
  esbuild: {
    target: "es2022"
  },
  test: {
    setupFiles: [path.join(root, "vitest.setup.ts")],
    fakeTimers: {
      toFake: undefined
    },
    sequence: {
      concurrent: true
    },
    include: ["test/**/*.test.ts"],
    // Loopback servers and the real driver can take a moment on a 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
}

export default config
