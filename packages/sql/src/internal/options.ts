/**
 * Checks of option values at SqlClient's boundary, for callers the types do not bind (plain JavaScript, a
 * config read as `any`): a wrong value is a `ConfigurationError` naming the setting, never a defect deep
 * inside (`.trim is not a function`, `Duration.decode` throwing, a timer that fires at once).
 *
 * @internal
 */
import { ConfigurationError } from "@effect-databricks/auth/DatabricksError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** Node's timers fire at once beyond this (about 24.8 days), so no deadline or wait may be longer. */
export const maxTimerMillis = 2 ** 31 - 1

const fail = (setting: string, problem: string, hint: string) =>
  Effect.fail(new ConfigurationError({ setting, message: `${setting} ${problem}`, hint }))

/** What `get` reads from a getter or a proxy that throws: a value every check refuses. */
const unreadable: unique symbol = Symbol("unreadable option")

/**
 * Own properties only: a setting is never read from an object's prototype. A property whose read throws (a
 * getter, a proxy) is `unreadable`, which no check accepts: a typed error, not a defect.
 */
export const get = (record: unknown, key: string): unknown => {
  try {
    return record !== null && typeof record === "object" && Object.hasOwn(record, key)
      ? (record as Record<string, unknown>)[key]
      : undefined
  } catch {
    return unreadable
  }
}

/** An optional object (a plain record of options). */
export const object = (value: unknown, setting: string, shape: string): Effect.Effect<void, ConfigurationError> =>
  value === undefined || (value !== null && typeof value === "object" && !Array.isArray(value))
    ? Effect.void
    : fail(setting, "is not an object", `Pass ${shape}`)

/** An optional string. */
export const string = (value: unknown, setting: string, hint: string): Effect.Effect<void, ConfigurationError> =>
  value === undefined || typeof value === "string" ? Effect.void : fail(setting, "is not a string", hint)

/** An optional boolean. */
export const boolean = (value: unknown, setting: string): Effect.Effect<void, ConfigurationError> =>
  value === undefined || typeof value === "boolean"
    ? Effect.void
    : fail(setting, "is not true or false", "Pass a boolean")

/** `value` if it is a whole number from 1 to `max`. */
export const countValue = (value: unknown, max: number): Option.Option<number> =>
  typeof value === "number" && Number.isSafeInteger(value) && value >= 1 && value <= max
    ? Option.some(value)
    : Option.none()

/** An optional whole number from 1 to `max`. */
export const count = (value: unknown, setting: string, max: number): Effect.Effect<void, ConfigurationError> =>
  value === undefined || Option.isSome(countValue(value, max))
    ? Effect.void
    : fail(setting, `is not a whole number from 1 to ${max}`, "Pass a positive whole number")

/** `value` decoded, if it is a duration of at most `maxTimerMillis`, and above zero where `positive` is true. */
export const durationValue = (
  value: unknown,
  options?: { readonly positive?: boolean | undefined }
): Option.Option<Duration.Duration> => {
  // NaN and negative numbers decode to zero, and arrays to an hrtime: only what a caller means is accepted.
  const plausible = typeof value === "string" || Duration.isDuration(value) ||
    (typeof value === "number" && value >= 0) || typeof value === "bigint"
  const decoded = plausible ? Duration.decodeUnknown(value) : Option.none()
  if (Option.isNone(decoded)) return decoded
  const millis = Duration.toMillis(decoded.value)
  return millis >= 0 && millis <= maxTimerMillis && (options?.positive !== true || millis > 0)
    ? decoded
    : Option.none()
}

/** An optional duration that decodes, at most `maxTimerMillis`; zero only where `positive` is false. */
export const duration = (
  value: unknown,
  setting: string,
  options?: { readonly positive?: boolean | undefined }
): Effect.Effect<void, ConfigurationError> =>
  value === undefined || Option.isSome(durationValue(value, options))
    ? Effect.void
    : fail(
      setting,
      `is not a duration ${options?.positive === true ? "above zero " : ""}of at most 24 days`,
      "Pass a Duration, a number of milliseconds, or a string such as \"30 seconds\""
    )

/** An optional record of string values (session configuration). */
export const stringRecord = (value: unknown, setting: string): Effect.Effect<void, ConfigurationError> => {
  if (value === undefined) return Effect.void
  const hint = "Pass an object of string values, for example { STATEMENT_TIMEOUT: \"3600\" }"
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return fail(setting, "is not an object", hint)
  }
  for (const key of Object.keys(value)) {
    if (typeof (value as Record<string, unknown>)[key] !== "string") {
      return fail(setting, `has a value that is not a string (${JSON.stringify(key.slice(0, 40))})`, hint)
    }
  }
  return Effect.void
}
