/**
 * Which chromium the browser suite runs in: `CHROMIUM_PATH`, else `chromium` (then `chromium-browser`) on the
 * `PATH`. Read by the suite's vitest config, so it has no dependencies.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"

declare module "vitest" {
  export interface ProvidedContext {
    /** The chromium the suite runs in (without one, the suite is not run at all). */
    readonly chromium: string
  }
}

const executable = (file: string) => {
  try {
    Fs.accessSync(file, Fs.constants.X_OK)
    return Fs.statSync(file).isFile()
  } catch {
    return false
  }
}

/** The browser binary, or why there is none. */
export const find = (env: NodeJS.ProcessEnv): { readonly path: string } | { readonly missing: string } => {
  const configured = env.CHROMIUM_PATH
  if (configured !== undefined && configured !== "") {
    return executable(configured)
      ? { path: configured }
      : { missing: `CHROMIUM_PATH (${configured}) is not an executable file` }
  }
  for (const name of ["chromium", "chromium-browser"]) {
    for (const dir of (env.PATH ?? "").split(Path.delimiter)) {
      if (dir === "") continue
      const file = Path.join(dir, name)
      if (executable(file)) return { path: file }
    }
  }
  return { missing: "no chromium on the PATH (install Debian's package: apt-get install -y chromium)" }
}

/** `Chromium 150.0.7871.100 built on Debian …`, or undefined if it does not answer. */
export const version = (path: string): string | undefined => {
  try {
    return ChildProcess.execFileSync(path, ["--version"], { encoding: "utf8", timeout: 15_000, stdio: "pipe" }).trim()
  } catch {
    return undefined
  }
}
