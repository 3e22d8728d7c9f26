import * as Command from "@effect/platform/Command"
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { AuthenticationError, type ConfigurationError } from "../DatabricksError.js"
import * as Redaction from "../Redaction.js"
import * as Settings from "./config.js"

/**
 * @internal
 *
 * The one way a credential runs a command-line tool (`databricks auth token`, `az account get-access-token`):
 * through @effect/platform `Command`, with `PATH` read through Effect's `ConfigProvider` (so the tool is looked up
 * where the app says), both streams read to the end, a deadline, and what the tool printed on a failed run
 * redacted before anyone quotes it.
 */

/** How to talk about the tool in errors. */
export interface Tool {
  /** The executable: a name on the `PATH`, or a path. */
  readonly cli: string
  /** Its name in messages, for example "The Databricks CLI". */
  readonly what: string
  /** The hint when the executable is not found. */
  readonly notFoundHint: string
  /** The hint when a run does not finish within the deadline. */
  readonly timeoutHint: string
  /** The deadline for one run. */
  readonly timeout: Duration.Duration
}

/** A run that exited with a non-zero code: what the tool printed, stderr first, secrets redacted. */
export class Failed {
  readonly _tag = "Failed"
  constructor(readonly exitCode: number, readonly output: string) {}
}

const text = <E>(stream: Stream.Stream<Uint8Array, E>) =>
  Stream.runCollect(Stream.decodeText(stream)).pipe(Effect.map((chunks) => Chunk.join(chunks, "")))

/**
 * A runner for `tool`: `PATH` is read now, when the credential is built, so a refresh in the background looks the
 * tool up where the first run did. Each run of `tool.cli args` gives its stdout when it exits with 0. A missing
 * executable, a run that cannot start and a run past the deadline are `AuthenticationError`s; a non-zero exit is
 * `Failed`, for the caller to word (its hint depends on what the tool said).
 */
export const runner = (tool: Tool): Effect.Effect<
  (args: ReadonlyArray<string>) => Effect.Effect<string, AuthenticationError | Failed, CommandExecutor.CommandExecutor>,
  ConfigurationError
> =>
  Effect.map(Settings.env("PATH"), (path) => (args) => {
    const shown = [tool.cli, ...args].join(" ")
    return Effect.scoped(
      Effect.gen(function*() {
        const command = Command.make(tool.cli, ...args).pipe(Command.env(path === undefined ? {} : { PATH: path }))
        const process = yield* Command.start(command)
        const [stdout, stderr, exitCode] = yield* Effect.all(
          [text(process.stdout), text(process.stderr), process.exitCode],
          { concurrency: "unbounded" }
        )
        return { stdout, stderr, exitCode: Number(exitCode) }
      })
    ).pipe(
      Effect.mapError((error) =>
        error._tag === "SystemError" && error.reason === "NotFound"
          ? new AuthenticationError({ message: `${tool.what} was not found (${tool.cli})`, hint: tool.notFoundHint })
          : new AuthenticationError({ message: `Could not run ${shown}: ${error.message}` })
      ),
      Effect.timeoutFail({
        duration: tool.timeout,
        onTimeout: () =>
          new AuthenticationError({
            message: `${shown} did not finish within ${Duration.format(tool.timeout)}`,
            hint: tool.timeoutHint
          })
      }),
      Effect.flatMap((result) =>
        result.exitCode === 0
          ? Effect.succeed(result.stdout)
          : Effect.fail(new Failed(result.exitCode, Redaction.redact(`${result.stderr}\n${result.stdout}`.trim())))
      )
    )
  })

/** The JSON a tool printed, or `undefined` when it is not JSON (the text is never quoted: it holds the token). */
export const json = (stdout: string): unknown => {
  try {
    return JSON.parse(stdout)
  } catch {
    return undefined
  }
}
