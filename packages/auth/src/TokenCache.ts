/**
 * Where `U2MPkce` keeps its tokens between runs, so a valid login is reused
 * and a refresh token survives restarts.
 *
 * - `TokenCache.file(path)`: a JSON file, mode 0600, in a 0700 directory,
 *   replaced atomically (written to a temporary file, then renamed). The
 *   default is one file per host, client id and scopes under the user's config
 *   directory.
 * - `TokenCache.memory()`: for tests and short-lived processes.
 *
 * A cache never fails a login: a missing file is a miss, and a corrupt or
 * unreadable one is a miss with a warning (which never shows the contents).
 * Only a regular file of at most 1 MiB is read: a FIFO, a device or a
 * directory in its place is refused unread, with a warning.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import * as BoundedRead from "./internal/boundedRead.js"

/**
 * What is cached for one login.
 *
 * @since 0.1.0
 * @category models
 */
export interface CachedTokens {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Redacted.Redacted<string> | undefined
  readonly expiresAt: DateTime.Utc | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface TokenCache {
  /** The tokens stored under `key`, if any. Never fails. */
  readonly load: (key: string) => Effect.Effect<Option.Option<CachedTokens>>
  /** Stores the tokens under `key`. Never fails: a write error is logged. */
  readonly save: (key: string, tokens: CachedTokens) => Effect.Effect<void>
}

/**
 * A cache that lives as long as the process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const memory = (): TokenCache => {
  const entries = new Map<string, CachedTokens>()
  return {
    load: (key) => Effect.sync(() => Option.fromNullable(entries.get(key))),
    save: (key, tokens) => Effect.sync(() => void entries.set(key, tokens))
  }
}

const FileContents = Schema.Struct({
  version: Schema.Literal(1),
  key: Schema.String,
  access_token: Schema.String,
  refresh_token: Schema.optional(Schema.String),
  expiry: Schema.optional(Schema.String)
})

const errorCode = (error: unknown) =>
  typeof error === "object" && error !== null && "code" in error ? String(error.code) : "error"

/**
 * A cache in one JSON file. A file written for another key (another host,
 * client or scopes) is a miss.
 *
 * @since 0.1.0
 * @category constructors
 */
export const file = (path: string): TokenCache => ({
  load: (key) =>
    BoundedRead.readTextFile(path).pipe(
      Effect.map((text) => {
        let json: unknown
        try {
          json = JSON.parse(text)
        } catch {
          return "corrupt" as const
        }
        return Option.getOrElse(Schema.decodeUnknownOption(FileContents)(json), () => "corrupt" as const)
      }),
      Effect.flatMap((contents) => {
        if (contents === "corrupt") {
          return Effect.logWarning(`ignoring the token cache ${path}: it is not a valid cache file`).pipe(
            Effect.as(Option.none<CachedTokens>())
          )
        }
        if (contents.key !== key) return Effect.succeed(Option.none<CachedTokens>())
        const expiry = contents.expiry === undefined ? undefined : DateTime.make(contents.expiry)
        return Effect.succeed(Option.some<CachedTokens>({
          accessToken: Redacted.make(contents.access_token),
          refreshToken: contents.refresh_token === undefined ? undefined : Redacted.make(contents.refresh_token),
          expiresAt: expiry === undefined ? undefined : Option.getOrUndefined(Option.map(expiry, DateTime.toUtc))
        }))
      }),
      // A FIFO, device or directory in the cache's place is refused unread (reading a FIFO blocks forever); like
      // any unreadable cache it is a miss with a warning, never a failed login.
      Effect.catchAll((refusal) =>
        refusal._tag === "Missing"
          ? Effect.succeed(Option.none<CachedTokens>())
          : Effect.logWarning(`ignoring the token cache: ${BoundedRead.describe(path, refusal)}`).pipe(
            Effect.as(Option.none<CachedTokens>())
          )
      )
    ),
  save: (key, tokens) =>
    Effect.tryPromise(async () => {
      const contents = JSON.stringify({
        version: 1,
        key,
        access_token: Redacted.value(tokens.accessToken),
        ...(tokens.refreshToken === undefined ? {} : { refresh_token: Redacted.value(tokens.refreshToken) }),
        ...(tokens.expiresAt === undefined ? {} : { expiry: DateTime.formatIso(tokens.expiresAt) })
      })
      await Fs.mkdir(Path.dirname(path), { recursive: true, mode: 0o700 })
      // Written beside the target and renamed over it, so a reader never sees half a file.
      const temporary = `${path}.${Crypto.randomBytes(6).toString("hex")}.tmp`
      try {
        await Fs.writeFile(temporary, contents, { mode: 0o600, flag: "wx" })
        await Fs.rename(temporary, path)
      } catch (error) {
        await Fs.rm(temporary, { force: true })
        throw error
      }
    }).pipe(
      Effect.catchAll((error) =>
        Effect.logWarning(`could not write the token cache ${path} (${errorCode(error.error)}); the login is not saved`)
      )
    )
})

/**
 * The cache key for a login: a hash of the host, the client id and the scopes.
 *
 * @since 0.1.0
 * @category utils
 */
export const key = (host: string, clientId: string, scopes: ReadonlyArray<string>): string =>
  Crypto.createHash("sha256").update(JSON.stringify({ host, clientId, scopes: [...scopes].sort() })).digest("hex")

/**
 * The default directory: `$XDG_CONFIG_HOME/effect-databricks/oauth` (or
 * `~/.config/...`; `%APPDATA%\...` on Windows).
 *
 * @since 0.1.0
 * @category utils
 */
export const defaultDirectory = (
  env: { readonly XDG_CONFIG_HOME?: string | undefined; readonly APPDATA?: string | undefined } = process.env
): string => {
  const base = process.platform === "win32"
    ? env.APPDATA ?? Path.join(Os.homedir(), "AppData", "Roaming")
    : env.XDG_CONFIG_HOME || Path.join(Os.homedir(), ".config")
  return Path.join(base, "effect-databricks", "oauth")
}
