import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { ConfigurationError } from "../DatabricksError.js"

/**
 * Checks of option types for untyped callers, so a wrong type is a
 * `ConfigurationError` naming the option instead of a defect deep inside
 * (`Duration.decode` throws on what it cannot read).
 */

/** A `Duration.DurationInput` option, when given, must be one that decodes. */
export const duration = (value: unknown, setting: string): Effect.Effect<void, ConfigurationError> =>
  Effect.suspend(() => {
    if (value === undefined) return Effect.void
    try {
      Duration.decode(value as Duration.DurationInput)
      return Effect.void
    } catch {
      return Effect.fail(
        new ConfigurationError({
          setting,
          message: `${setting} is not a duration`,
          hint: "Pass a Duration, a number of milliseconds, or a string such as \"5 minutes\""
        })
      )
    }
  })

/** Every duration option of `options` that is named in `settings`. */
export const durations = (
  options: object,
  settings: ReadonlyArray<string>
): Effect.Effect<void, ConfigurationError> =>
  Effect.forEach(settings, (setting) => duration((options as Record<string, unknown>)[setting], setting), {
    discard: true
  })
