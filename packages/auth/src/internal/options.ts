import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { ConfigurationError } from "../DatabricksError.js"

/**
 * Checks of option types for untyped callers, so a wrong type is a
 * `ConfigurationError` naming the option instead of a defect deep inside
 * (`Duration.decode` throws on what it cannot read).
 */

/** A `Duration.DurationInput` option, when given, must be one that decodes. */
export const duration = (value: unknown, setting: string): Effect.Effect<void, ConfigurationError> =>
  value === undefined || Option.isSome(Duration.decodeUnknown(value))
    ? Effect.void
    : Effect.fail(
      new ConfigurationError({
        setting,
        message: `${setting} is not a duration`,
        hint: "Pass a Duration, a number of milliseconds, or a string such as \"5 minutes\""
      })
    )

/** Every duration option of `options` that is named in `settings`. */
export const durations = (
  options: object,
  settings: ReadonlyArray<string>
): Effect.Effect<void, ConfigurationError> =>
  Effect.forEach(settings, (setting) => duration((options as Record<string, unknown>)[setting], setting), {
    discard: true
  })

/**
 * A duration option of a function that cannot fail (`TokenSource.make`): a value that does not decode, or is
 * not finite where `finite` is asked for, is replaced by `fallback` with a warning naming the option, instead
 * of a defect. A wrong type from untyped code then costs a default, never the credential.
 */
export const durationOr = (
  value: unknown,
  setting: string,
  fallback: Duration.Duration,
  options?: { readonly finite?: boolean | undefined }
): Effect.Effect<Duration.Duration> =>
  Effect.suspend(() => {
    if (value === undefined) return Effect.succeed(fallback)
    const decoded = Option.getOrUndefined(Duration.decodeUnknown(value))
    if (decoded !== undefined && !(options?.finite === true && !Duration.isFinite(decoded))) {
      return Effect.succeed(decoded)
    }
    const why = decoded === undefined ? "is not a duration" : "is not finite"
    return Effect.as(
      Effect.logWarning(`${setting} ${why}; using the default of ${Duration.format(fallback)}`),
      fallback
    )
  })

/** A string option, when given, must be a string. */
export const optionalString = (
  value: unknown,
  setting: string,
  hint: string
): Effect.Effect<string | undefined, ConfigurationError> =>
  value === undefined || typeof value === "string"
    ? Effect.succeed(value)
    : Effect.fail(new ConfigurationError({ setting, message: `${setting} must be a string`, hint }))
