import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Os from "node:os"
import * as Path from "node:path"
import { ConfigurationError } from "../DatabricksError.js"
import * as BoundedRead from "./boundedRead.js"

/** A parsed `.databrickscfg`: section name → keys (lower-cased) → values. */
export interface ConfigFile {
  readonly path: string
  readonly sections: ReadonlyMap<string, ReadonlyMap<string, string>>
}

export const defaultPath = (): string => Path.join(Os.homedir(), ".databrickscfg")

export const expandHome = (path: string): string =>
  path === "~" ? Os.homedir() : path.startsWith("~/") ? Path.join(Os.homedir(), path.slice(2)) : path

const unquote = (value: string) =>
  value.length >= 2 && (value[0] === "\"" || value[0] === "'") && value.at(-1) === value[0] ? value.slice(1, -1) : value

/**
 * The INI dialect the Databricks CLI and SDKs read: `[section]` headers,
 * `key = value` lines, `#` and `;` comments. Keys before the first header
 * belong to `DEFAULT`. Anything else is an error that names the line.
 */
export const parse = (text: string, path: string): Either.Either<ConfigFile, ConfigurationError> => {
  const sections = new Map<string, Map<string, string>>()
  let current = "DEFAULT"
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/)
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index].trim()
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue
    const bad = (problem: string) =>
      Either.left(
        new ConfigurationError({
          setting: "DATABRICKS_CONFIG_FILE",
          message: `${path} line ${index + 1}: ${problem}`,
          hint: "Each line must be a [profile] header, a key = value pair, or a # comment"
        })
      )
    if (line.startsWith("[")) {
      const name = /^\[([^\]]*)\]$/.exec(line)?.[1]?.trim()
      if (name === undefined) return bad("a section header must look like [name]")
      if (name === "") return bad("a section header needs a name")
      current = name
      if (!sections.has(current)) sections.set(current, new Map())
      continue
    }
    const equals = line.indexOf("=")
    if (equals <= 0) return bad("expected key = value")
    const key = line.slice(0, equals).trim().toLowerCase()
    if (!/^[a-z0-9_.-]+$/.test(key)) return bad(`"${key.slice(0, 40)}" is not a valid key`)
    const section = sections.get(current) ?? new Map<string, string>()
    sections.set(current, section)
    section.set(key, unquote(line.slice(equals + 1).trim()))
  }
  return Either.right({ path, sections })
}

/**
 * Reads and parses the file; `undefined` when it does not exist. Only a regular file of at most 1 MiB is
 * read, within 5 seconds: a FIFO, a device or a directory is refused (reading a FIFO would block forever).
 * `setting` names where the path came from, for messages.
 */
export const load = (
  path: string,
  setting = "DATABRICKS_CONFIG_FILE"
): Effect.Effect<ConfigFile | undefined, ConfigurationError> =>
  BoundedRead.readTextFile(path).pipe(
    Effect.map((text): string | undefined => text),
    Effect.catchAll((refusal) =>
      refusal._tag === "Missing"
        ? Effect.succeed(undefined)
        : Effect.fail(
          new ConfigurationError({
            setting,
            message: `The Databricks config file ${BoundedRead.describe(path, refusal)}`,
            hint: refusal._tag === "Unreadable"
              ? `Check the file's permissions, or point ${setting} at another file`
              : `Make ${path} a regular text file (databricks configure writes one), or point ${setting} at one`
          })
        )
    ),
    Effect.flatMap((text) => text === undefined ? Effect.succeed(undefined) : parse(text, path))
  )

/**
 * Which profile applies: the named one, else `[__settings__] default_profile`,
 * else `[DEFAULT]` if it has keys. A named profile that is missing is an error.
 */
export const select = (
  file: ConfigFile,
  named: { readonly name: string; readonly from: string } | undefined
): Either.Either<
  { readonly name: string; readonly keys: ReadonlyMap<string, string> } | undefined,
  ConfigurationError
> => {
  const settingsDefault = file.sections.get("__settings__")?.get("default_profile")
  const chosen = named ?? (settingsDefault === undefined || settingsDefault === ""
    ? undefined
    : { name: settingsDefault, from: `[__settings__] default_profile in ${file.path}` })
  if (chosen === undefined) {
    const fallback = file.sections.get("DEFAULT")
    return Either.right(fallback === undefined || fallback.size === 0 ? undefined : { name: "DEFAULT", keys: fallback })
  }
  const keys = file.sections.get(chosen.name)
  if (keys === undefined) {
    const available = [...file.sections.keys()].filter((name) => name !== "__settings__")
    return Either.left(
      new ConfigurationError({
        setting: chosen.from,
        message: `${file.path} has no ${chosen.name} profile configured (asked for by ${chosen.from})`,
        hint: available.length === 0
          ? `Add a [${chosen.name}] section to ${file.path}, or unset ${chosen.from}`
          : `Use one of: ${available.join(", ")}`
      })
    )
  }
  return Either.right({ name: chosen.name, keys })
}
