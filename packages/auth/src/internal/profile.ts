/**
 * `~/.databrickscfg`, read the way the Databricks SDKs read it.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Os from "node:os"
import * as Path from "node:path"
import { ConfigurationError } from "../DatabricksError.js"
import * as BoundedRead from "./boundedRead.js"

/** A parsed `.databrickscfg`: section name → keys (lower-cased) → values. `DEFAULT` holds Python's defaults. */
export interface ConfigFile {
  readonly path: string
  readonly sections: ReadonlyMap<string, ReadonlyMap<string, string>>
}

/** The section the Databricks CLI keeps its own settings in (`default_profile`); never a profile. */
export const settingsSection = "__settings__"

export const defaultPath = (): string => Path.join(Os.homedir(), ".databrickscfg")

export const expandHome = (path: string): string =>
  path === "~" ? Os.homedir() : path.startsWith("~/") ? Path.join(Os.homedir(), path.slice(2)) : path

const unquote = (value: string) =>
  value.length >= 2 && (value[0] === "\"" || value[0] === "'") && value.at(-1) === value[0] ? value.slice(1, -1) : value

/** Python's `ConfigParser` option line: the key is everything before the first `=` or `:`. */
const optionLine = /^(.*?)\s*([=:])\s*(.*)$/

/**
 * The INI dialect of Python's `configparser` (what databricks-sdk-py reads the file with), with the Go SDK's
 * leniency where Python fails the whole file on a line the Go SDK and the Databricks CLI accept:
 *
 * - `key = value` and `key: value` (the first `=` or `:` splits), keys lower-cased, values trimmed;
 * - whole-line comments starting with `#` or `;` (after any indentation); text after a value is part of it,
 *   as in Python (`token = abc # x` is `abc # x`);
 * - a line indented deeper than its key continues the value (joined with a line break), as in Python;
 * - `[DEFAULT]` holds defaults that are never merged into other profiles (the SDKs read each section alone);
 * - keys before the first header belong to `DEFAULT`, a repeated section adds to the first, a repeated key
 *   takes the last value (Python refuses these three; the Go SDK and the CLI accept them);
 * - a value in matching quotes loses them (the Go SDK's reading; Python keeps them, and then fails to use them).
 *
 * A line that is none of these (no `=` or `:`, or a header without a name) is an error naming the line, as
 * it is in both SDKs.
 */
export const parse = (text: string, path: string): Either.Either<ConfigFile, ConfigurationError> => {
  const sections = new Map<string, Map<string, string>>()
  const sectionFor = (name: string) => {
    const existing = sections.get(name)
    if (existing !== undefined) return existing
    const created = new Map<string, string>()
    sections.set(name, created)
    return created
  }
  let current = sectionFor("DEFAULT")
  // The key a continuation line adds to, and the indentation of its line.
  let open: { readonly key: string; readonly indent: number; readonly lines: Array<string> } | undefined
  const close = () => {
    if (open === undefined) return
    // Python keeps empty lines inside a value, but not at its end.
    while (open.lines.length > 1 && open.lines.at(-1) === "") open.lines.pop()
    current.set(open.key, unquote(open.lines.join("\n")))
    open = undefined
  }
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n|\r|\n/)
  for (let index = 0; index < lines.length; index++) {
    const raw = lines[index]
    const line = raw.trim()
    if (line.startsWith("#") || line.startsWith(";")) continue
    if (line === "") {
      open?.lines.push("")
      continue
    }
    const indent = raw.length - raw.trimStart().length
    if (open !== undefined && indent > open.indent) {
      open.lines.push(line)
      continue
    }
    close()
    const bad = (problem: string) =>
      Either.left(
        new ConfigurationError({
          setting: "DATABRICKS_CONFIG_FILE",
          message: `${path} line ${index + 1}: ${problem}`,
          hint: "Each line must be a [profile] header, a key = value (or key: value) pair, or a # comment"
        })
      )
    const header = /^\[(.+)\]/.exec(line)
    if (header !== null) {
      const name = header[1].trim()
      if (name === "") return bad("a section header needs a name")
      current = sectionFor(name)
      continue
    }
    const option = optionLine.exec(line)
    if (option === null) {
      return bad(line.startsWith("[") ? "a section header must look like [name]" : "expected key = value")
    }
    const key = option[1].trimEnd().toLowerCase()
    if (key === "") return bad("a key is missing before the = or :")
    open = { key, indent, lines: [option[3].trim()] }
  }
  close()
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

/** The profile that applies, and its keys. */
export interface Selected {
  readonly name: string
  readonly keys: ReadonlyMap<string, string>
  /** `true` when it is `[DEFAULT]` taken because nothing named a profile (then no profile is recorded as named). */
  readonly fallback: boolean
}

const reserved = (from: string) =>
  Either.left(
    new ConfigurationError({
      setting: from,
      message: `${settingsSection} is a reserved section name and cannot be used as a profile (asked for by ${from})`,
      hint: "Name a profile of the file instead"
    })
  )

/**
 * Which profile applies, as the SDKs choose it: the named one, else `[__settings__] default_profile`, else
 * `[DEFAULT]` if it has keys. A profile that was named (or is the `default_profile`) and is missing is an
 * error; `__settings__` is never a profile.
 */
export const select = (
  file: ConfigFile,
  named: { readonly name: string; readonly from: string } | undefined
): Either.Either<Selected | undefined, ConfigurationError> => {
  if (named?.name === settingsSection) return reserved(named.from)
  const settingsDefault = file.sections.get(settingsSection)?.get("default_profile")?.trim()
  const chosen = named ?? (settingsDefault === undefined || settingsDefault === ""
    ? undefined
    : { name: settingsDefault, from: `[${settingsSection}] default_profile in ${file.path}` })
  if (chosen?.name === settingsSection) return reserved(chosen.from)
  if (chosen === undefined) {
    const fallback = file.sections.get("DEFAULT")
    return Either.right(
      fallback === undefined || fallback.size === 0 ? undefined : { name: "DEFAULT", keys: fallback, fallback: true }
    )
  }
  const keys = file.sections.get(chosen.name)
  // An empty [DEFAULT] is no profile (Python keeps no defaults, so the SDK says it has no DEFAULT profile).
  if (keys === undefined || (chosen.name === "DEFAULT" && keys.size === 0)) {
    const available = [...file.sections.entries()]
      .filter(([name, section]) => name !== settingsSection && !(name === "DEFAULT" && section.size === 0))
      .map(([name]) => name)
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
  return Either.right({ name: chosen.name, keys, fallback: false })
}
