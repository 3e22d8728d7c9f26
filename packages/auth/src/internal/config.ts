import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { ConfigurationError } from "../DatabricksError.js"

/** A setting as a caller names it: the environment variable, or the option. */
export interface Setting {
  readonly name: string
  /** What to do when it is missing or empty. */
  readonly hint: string
}

const missing = (setting: Setting) =>
  new ConfigurationError({
    setting: setting.name,
    message: `${setting.name} is not set. ${setting.hint}.`,
    hint: setting.hint
  })

const empty = (setting: Setting) =>
  new ConfigurationError({
    setting: setting.name,
    message: `${setting.name} is empty. ${setting.hint}.`,
    hint: setting.hint
  })

/** A value that must be present and not blank. */
export const nonBlank = (value: string | undefined, setting: Setting): Effect.Effect<string, ConfigurationError> =>
  value === undefined
    ? Effect.fail(missing(setting))
    : value.trim() === ""
    ? Effect.fail(empty(setting))
    : Effect.succeed(value.trim())

/** A secret that must be present and not blank; it stays `Redacted`. */
export const nonBlankSecret = (
  value: Redacted.Redacted<string> | undefined,
  setting: Setting
): Effect.Effect<Redacted.Redacted<string>, ConfigurationError> =>
  value === undefined
    ? Effect.fail(missing(setting))
    : Redacted.value(value).trim() === ""
    ? Effect.fail(empty(setting))
    : Effect.succeed(
      Redacted.value(value) === Redacted.value(value).trim() ? value : Redacted.make(Redacted.value(value).trim())
    )

/** Reads an optional environment variable through Effect's `ConfigProvider` (so tests can swap it). */
export const env = (name: string): Effect.Effect<string | undefined> =>
  Config.string(name).pipe(Config.option, Effect.map(Option.getOrUndefined), Effect.orElseSucceed(() => undefined))

/** Reads an optional secret environment variable, `Redacted` from the start. */
export const envSecret = (name: string): Effect.Effect<Redacted.Redacted<string> | undefined> =>
  Config.redacted(name).pipe(Config.option, Effect.map(Option.getOrUndefined), Effect.orElseSucceed(() => undefined))
