// Runs an example as a user would: a separate Node process (TypeScript through tsx) whose only workspace is the
// emulator, trusted through NODE_EXTRA_CA_CERTS, with an empty HOME so no real ~/.databrickscfg is read. Its
// environment is built from nothing: none of the parent's variables (a developer's or CI's DATABRICKS_*) leak in.
import { Emulator } from "@effect-databricks/testing"
import { Command } from "@effect/platform"
import { Effect } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

/** The docs folder: the child runs here, so it resolves packages as the examples do. */
export const docs = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")

/**
 * The child's whole environment: HOME, NODE_EXTRA_CA_CERTS, DATABRICKS_HOST (the emulator) and `env`; a variable
 * set to `undefined` in `env` is left out.
 */
export const childEnv = (
  emulator: Emulator.Emulator,
  home: string,
  env: Readonly<Record<string, string | undefined>>
): Record<string, string> => {
  const all: Record<string, string | undefined> = {
    HOME: home,
    NODE_EXTRA_CA_CERTS: emulator.caCertPath,
    DATABRICKS_HOST: emulator.host,
    ...env
  }
  return Object.fromEntries(
    Object.entries(all).filter((entry): entry is [string, string] => entry[1] !== undefined)
  )
}

/** Runs `node --import tsx …args` with only these environment variables; answers its standard output, trimmed. */
export const runNode = (args: ReadonlyArray<string>, env: Readonly<Record<string, string | undefined>>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const home = Fs.mkdtempSync(Path.join(Os.tmpdir(), "example-"))
    yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(home, { recursive: true, force: true })))
    const output = yield* Command.make(process.execPath, "--import", "tsx", ...args).pipe(
      Command.workingDirectory(docs),
      Command.env(childEnv(emulator, home, env), { extendEnv: false }),
      Command.stderr("inherit"),
      Command.string
    )
    return output.trim()
  })

/** Imports an example of docs/examples in a child process and runs the effect it exports (by default `program`). */
export const runProgram = (
  example: string,
  env: Readonly<Record<string, string | undefined>>,
  exported = "program"
) =>
  runNode([
    "--input-type=module",
    "-e",
    `import { Effect } from "effect"
const example = await import(${JSON.stringify(Path.join(docs, "examples", example))})
await Effect.runPromise(example[${JSON.stringify(exported)}])`
  ], env)
