import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { AuthenticationError } from "../DatabricksError.js"
import * as Jwt from "./jwt.js"

/**
 * The one rule that turns what an issuer says about expiry (OAuth
 * `expires_in`, a JWT `exp` claim, the CLI's RFC 3339 `expiry`, a `DateTime`)
 * into a time. It never throws: a value outside the date range used to make
 * `DateTime.unsafeMake` throw inside the token cache's fetch, which stranded
 * every caller waiting on it.
 *
 * - Later than `latest` (including `expires_in: 1e20`, `exp: 1e20` and
 *   `Infinity`): clamped to `latest`. Such a token is as good as "never
 *   expires", and refusing it would break a working credential over an
 *   issuer's quirk.
 * - Before the Unix epoch (`exp: -1e20`): clamped to the epoch, that is,
 *   already expired; the callers then treat it as they treat any expired token.
 * - Not a number, or an `expires_in` that is not a duration: rejected with an
 *   `AuthenticationError` (no value is shown).
 */

/**
 * The end of year 9999: the last time RFC 3339 (the CLI's `expiry` format)
 * can write, and far inside the range of `Date` (±8.64e15 ms), so every time
 * after the clamp is representable. It is a fixed bound rather than "now plus
 * N years" so a real expiry is kept exactly even when `TestClock` starts at
 * 1970.
 */
export const latest: number = Date.UTC(9999, 11, 31, 23, 59, 59, 999)

/** What is known about a token's expiry, in the order it is believed. */
export interface Input {
  /** A time, or the CLI's RFC 3339 string (with its offset). A string that is not RFC 3339 is ignored. */
  readonly expiresAt?: DateTime.DateTime | string | undefined
  /** OAuth `expires_in`, counted from `now`. */
  readonly expiresIn?: Duration.DurationInput | undefined
  /** The token itself: its JWT `exp` claim, when nothing else is known. */
  readonly token?: string | undefined
}

const rfc3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i

const unusable = (what: string) =>
  new AuthenticationError({
    message: `The token's expiry (${what}) is not a usable time`,
    hint: "The token issuer returned a malformed expiry; check the issuer, or report it"
  })

/** Epoch milliseconds within [epoch, latest]; `NaN` is rejected by the caller. */
const clamp = (millis: number): number => Math.min(Math.max(millis, 0), latest)

const at = (millis: number, what: string): Either.Either<Option.Option<DateTime.Utc>, AuthenticationError> =>
  Number.isNaN(millis)
    ? Either.left(unusable(what))
    : Option.match(DateTime.make(clamp(millis)), {
      // Unreachable after the clamp; kept so this never throws.
      onNone: () => Either.left(unusable(what)),
      onSome: (utc) => Either.right(Option.some(utc))
    })

/** The RFC 3339 `expiry` in epoch milliseconds, honouring its offset; `undefined` when it is not RFC 3339. */
export const parseRfc3339 = (text: string): number | undefined => {
  const trimmed = text.trim()
  if (!rfc3339.test(trimmed)) return undefined
  const millis = Date.parse(trimmed)
  return Number.isNaN(millis) ? undefined : millis
}

const decodeDuration = (input: unknown): number =>
  Option.match(Duration.decodeUnknown(input), { onNone: () => Number.NaN, onSome: Duration.toMillis })

/**
 * When the token expires: from `expiresAt`, else `expiresIn`, else the JWT
 * `exp` of `token`; `None` when none of them says. `now` is epoch
 * milliseconds from `Clock`.
 */
export const resolve = (
  input: Input,
  now: number
): Either.Either<Option.Option<DateTime.Utc>, AuthenticationError> => {
  const expiresAt = input.expiresAt
  if (typeof expiresAt === "string") {
    const millis = parseRfc3339(expiresAt)
    if (millis !== undefined) return at(millis, "expiry")
  } else if (expiresAt !== undefined) {
    if (!DateTime.isDateTime(expiresAt)) return Either.left(unusable("expiresAt"))
    return at(DateTime.toEpochMillis(expiresAt), "expiresAt")
  }
  if (input.expiresIn !== undefined) return at(now + decodeDuration(input.expiresIn), "expires_in")
  if (input.token !== undefined) {
    return Option.match(Jwt.expirySeconds(input.token), {
      onNone: () => Either.right(Option.none()),
      onSome: (seconds) => at(seconds * 1000, "the JWT exp claim")
    })
  }
  return Either.right(Option.none())
}
