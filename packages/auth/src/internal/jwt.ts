import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

const Claims = Schema.parseJson(Schema.Struct({ exp: Schema.optional(Schema.Number) }))
const decodeClaims = Schema.decodeUnknownOption(Claims)

/**
 * The `exp` claim of a JWT, in epoch seconds, as written: it may be huge or
 * not finite (`1e400` parses as `Infinity`), so it is turned into a time only
 * by `expiry.resolve`, which clamps it. Opaque tokens (PATs, a malformed JWT,
 * one without `exp`) give `None`: the signature is not checked, because the
 * claim only schedules a refresh.
 *
 * @internal
 */
export const expirySeconds = (token: string): Option.Option<number> => {
  const parts = token.split(".")
  if (parts.length !== 3) return Option.none()
  return Encoding.decodeBase64UrlString(parts[1]).pipe(
    Either.getRight,
    Option.flatMap(decodeClaims),
    Option.flatMap((claims) => Option.fromNullable(claims.exp))
  )
}
