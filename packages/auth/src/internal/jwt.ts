import * as Either from "effect/Either"
import * as Encoding from "effect/Encoding"
import * as Option from "effect/Option"

/**
 * @internal
 *
 * The one JWT reader: a token's claims, read but never verified. Every use here only names or schedules
 * something (who a token is for, when to refresh it, whether it is a user's); the server that receives the token
 * checks its signature. Opaque tokens (PATs, a malformed JWT) give `None`.
 */

/** A part of a JWT: base64url, unpadded as RFC 7515 writes it (padding is tolerated). */
const part = /^[A-Za-z0-9_-]+={0,2}$/

const jsonObject = (text: string): Option.Option<Readonly<Record<string, unknown>>> =>
  Encoding.decodeBase64UrlString(text).pipe(
    Either.getRight,
    Option.flatMap((json) => {
      try {
        const value: unknown = JSON.parse(json)
        return typeof value === "object" && value !== null && !Array.isArray(value)
          ? Option.some(value as Readonly<Record<string, unknown>>)
          : Option.none()
      } catch {
        return Option.none()
      }
    })
  )

/**
 * The claims of a token that is a JWT: three parts, the header and the claims JSON objects in base64url. The
 * signature is neither needed nor checked.
 */
export const claims = (token: string): Option.Option<Readonly<Record<string, unknown>>> => {
  const parts = token.split(".")
  if (parts.length !== 3 || !part.test(parts[0]) || !part.test(parts[1])) return Option.none()
  return Option.flatMap(jsonObject(parts[0]), () => jsonObject(parts[1]))
}

/** A claim that is a non-empty string (`sub`, `upn`, `iss`, ...). */
export const stringClaim = (token: string, name: string): Option.Option<string> =>
  Option.flatMap(claims(token), (all) => {
    const value = all[name]
    return typeof value === "string" && value !== "" ? Option.some(value) : Option.none()
  })

/** Who the token is for: its `sub` claim. */
export const subject = (token: string): Option.Option<string> => stringClaim(token, "sub")

/**
 * The `exp` claim of a JWT, in epoch seconds, as written: it may be huge or
 * not finite (`1e400` parses as `Infinity`), so it is turned into a time only
 * by `expiry.resolve`, which clamps it. Opaque tokens (PATs, a malformed JWT,
 * one without `exp`) give `None`: the signature is not checked, because the
 * claim only schedules a refresh.
 */
export const expirySeconds = (token: string): Option.Option<number> =>
  Option.flatMap(claims(token), (all) => typeof all.exp === "number" ? Option.some(all.exp) : Option.none())
