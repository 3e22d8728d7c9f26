import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { ConfigurationError } from "../DatabricksError.js"
import * as ConfigErrors from "./configError.js"

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

/** A variable the provider has but cannot read (not a missing one) is the `ConfigurationError` naming it. */
const unreadable = (error: ConfigError.ConfigError) => ConfigErrors.toConfigurationError(error, {})

/**
 * Reads an optional environment variable through Effect's `ConfigProvider` (so tests can swap it). Missing is
 * `undefined`; a value the provider cannot read is a `ConfigurationError` naming the variable, never "unset".
 */
export const env = (name: string): Effect.Effect<string | undefined, ConfigurationError> =>
  Config.string(name).pipe(Config.option, Effect.map(Option.getOrUndefined), Effect.mapError(unreadable))

/** Reads an optional secret environment variable, `Redacted` from the start; unreadable fails as `env` does. */
export const envSecret = (name: string): Effect.Effect<Redacted.Redacted<string> | undefined, ConfigurationError> =>
  Config.redacted(name).pipe(Config.option, Effect.map(Option.getOrUndefined), Effect.mapError(unreadable))

/**
 * `env` for the few callers whose public signature has no error channel to report an unreadable variable in
 * (each says why at the call): an unreadable value counts as unset there, and nowhere else.
 */
export const envOrUnset = (name: string): Effect.Effect<string | undefined> =>
  Effect.orElseSucceed(env(name), () => undefined)
