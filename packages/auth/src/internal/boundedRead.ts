import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as FsPromises from "node:fs/promises"

/**
 * The one way the auth package reads a small file it was pointed at (a
 * `.databrickscfg`, a token cache): only a regular file, at most `maxBytes`,
 * within `timeout`. A FIFO, a device, a socket or a directory is refused
 * without being read, because reading one can block forever (a FIFO with no
 * writer) or never end (`/dev/zero`).
 */

/** Why a file was not read. `Missing` is not a problem for most callers: they treat it as "no file". */
export type Refusal =
  | { readonly _tag: "Missing" }
  | { readonly _tag: "NotRegular"; readonly kind: string }
  | { readonly _tag: "TooLarge"; readonly maxBytes: number }
  | { readonly _tag: "TimedOut"; readonly after: Duration.Duration }
  | { readonly _tag: "Unreadable"; readonly code: string }

export interface Options {
  /** Default 1 MiB: a config file or token cache is a few hundred bytes. */
  readonly maxBytes?: number | undefined
  /** Default 5 seconds: a local file answers in microseconds; a stuck network file system must not hang us. */
  readonly timeout?: Duration.DurationInput | undefined
}

export const defaultMaxBytes = 1024 * 1024

const kindOf = (stats: Fs.Stats): string =>
  stats.isDirectory()
    ? "a directory"
    : stats.isFIFO()
    ? "a FIFO (named pipe)"
    : stats.isSocket()
    ? "a socket"
    : stats.isCharacterDevice()
    ? "a character device"
    : stats.isBlockDevice()
    ? "a block device"
    : "not a regular file"

const codeOf = (error: unknown): string =>
  typeof error === "object" && error !== null && "code" in error && typeof error.code === "string"
    ? error.code
    : "error"

type Outcome = { readonly _tag: "Read"; readonly text: string } | Refusal

const attempt = async (path: string, maxBytes: number): Promise<Outcome> => {
  let handle: FsPromises.FileHandle
  try {
    // O_NONBLOCK: opening a FIFO for reading otherwise waits for a writer, holding one of libuv's few threads
    // for good. It changes nothing for a regular file. (Windows has no such flag and no such FIFOs.)
    handle = await FsPromises.open(path, Fs.constants.O_RDONLY | (Fs.constants.O_NONBLOCK ?? 0))
  } catch (error) {
    const code = codeOf(error)
    if (code === "ENOENT") return { _tag: "Missing" }
    if (code === "EISDIR") return { _tag: "NotRegular", kind: "a directory" }
    return { _tag: "Unreadable", code }
  }
  try {
    // The type is checked on the open handle, not on the path, so a file swapped in between is still caught.
    const stats = await handle.stat()
    if (!stats.isFile()) return { _tag: "NotRegular", kind: kindOf(stats) }
    if (stats.size > maxBytes) return { _tag: "TooLarge", maxBytes }
    // Read until end of file but never past the limit: a file can grow, and some report size 0.
    const chunks: Array<Buffer> = []
    const buffer = Buffer.alloc(Math.min(maxBytes + 1, 64 * 1024))
    let total = 0
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, null)
      if (bytesRead === 0) break
      total += bytesRead
      if (total > maxBytes) return { _tag: "TooLarge", maxBytes }
      chunks.push(Buffer.from(buffer.subarray(0, bytesRead)))
    }
    return { _tag: "Read", text: Buffer.concat(chunks).toString("utf8") }
  } catch (error) {
    return { _tag: "Unreadable", code: codeOf(error) }
  } finally {
    await handle.close().catch(() => undefined)
  }
}

/** The file's text, or why it was not read. Never throws, never blocks past `timeout`. */
export const readTextFile = (path: string, options?: Options): Effect.Effect<string, Refusal> => {
  const maxBytes = options?.maxBytes ?? defaultMaxBytes
  const timeout = Duration.decode(options?.timeout ?? Duration.seconds(5))
  return Effect.promise(() => attempt(path, maxBytes)).pipe(
    Effect.timeoutFail({ duration: timeout, onTimeout: (): Refusal => ({ _tag: "TimedOut", after: timeout }) }),
    Effect.flatMap((outcome) => outcome._tag === "Read" ? Effect.succeed(outcome.text) : Effect.fail(outcome))
  )
}

/** A refusal as a sentence about `path`, for messages. */
export const describe = (path: string, refusal: Refusal): string => {
  switch (refusal._tag) {
    case "Missing":
      return `${path} does not exist`
    case "NotRegular":
      return `${path} could not be read: it is ${refusal.kind}, not a regular file`
    case "TooLarge":
      return `${path} could not be read: it is larger than ${refusal.maxBytes} bytes`
    case "TimedOut":
      return `${path} could not be read within ${Duration.format(refusal.after)}`
    case "Unreadable":
      return `${path} could not be read (${refusal.code})`
  }
}
