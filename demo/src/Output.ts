/**
 * Where the tour writes. Plain text only: no colours, so it reads the same in
 * a terminal, piped to a file, or in a CI log.
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"

export interface Output {
  /** A whole line. */
  readonly line: (text: string) => void
  /** A progress line: redrawn in place on a terminal; when piped, printed at most once a second. */
  readonly status: (text: string) => void
}

export const Output = Context.GenericTag<Output>("@effect-databricks/demo/Output")

/** Standard output, redrawing progress in place only when it is a terminal. */
export const stdout: Layer.Layer<Output> = Layer.sync(Output, () => {
  const stream = process.stdout
  let pending = 0
  let lastStatus = 0
  const endStatus = () => {
    if (pending > 0) stream.write("\n")
    pending = 0
  }
  return {
    line: (text) => {
      endStatus()
      stream.write(`${text}\n`)
    },
    status: (text) => {
      if (stream.isTTY) {
        stream.write(`\r${text.padEnd(pending)}`)
        pending = text.length
      } else if (Date.now() - lastStatus >= 1_000) {
        lastStatus = Date.now()
        stream.write(`${text}\n`)
      }
    }
  }
})

/** Keeps every line and progress update in memory, for tests. */
export const memory = (lines: Array<string>): Layer.Layer<Output> =>
  Layer.succeed(Output, { line: (text) => lines.push(text), status: (text) => lines.push(`~ ${text}`) })

/** Writes a line. */
export const line = (text: string): Effect.Effect<void, never, Output> =>
  Effect.flatMap(Output, (output) => Effect.sync(() => output.line(text)))

/** Updates the progress line. */
export const status = (text: string): Effect.Effect<void, never, Output> =>
  Effect.flatMap(Output, (output) => Effect.sync(() => output.status(text)))

const messageText = (message: unknown) => Array.isArray(message) ? message.map(String).join(" ") : String(message)

/**
 * The library's log lines (retry progress, long waits) as indented lines of
 * the tour; the driver's debug chatter stays out.
 */
export const logger: Layer.Layer<never, never, Output> = Layer.unwrapEffect(
  Effect.map(Output, (output) =>
    Layer.merge(
      Logger.replace(
        Logger.defaultLogger,
        Logger.make(({ logLevel, message }) =>
          output.line(`    [${logLevel.label.toLowerCase()}] ${messageText(message)}`)
        )
      ),
      Logger.minimumLogLevel(LogLevel.Info)
    ))
)
