import * as Crypto from "node:crypto"

/** The claims the emulator puts in every access token. */
export interface Claims {
  readonly iss: string
  readonly sub: string
  readonly aud: string
  readonly iat: number
  readonly exp: number
  readonly scope: string
  readonly client_id: string
  readonly jti: string
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
const header = encode({ alg: "HS256", typ: "JWT" })

/** Signs with HS256: the emulator is both issuer and only verifier, so a shared key is enough. */
export const sign = (key: Buffer, claims: Claims): string => {
  const body = `${header}.${encode(claims)}`
  return `${body}.${Crypto.createHmac("sha256", key).update(body).digest("base64url")}`
}

/** The claims of a token this emulator signed, or undefined for anything else. */
export const verify = (key: Buffer, token: string): Claims | undefined => {
  const parts = token.split(".")
  if (parts.length !== 3) return undefined
  const expected = Crypto.createHmac("sha256", key).update(`${parts[0]}.${parts[1]}`).digest()
  const actual = Buffer.from(parts[2], "base64url")
  if (actual.length !== expected.length || !Crypto.timingSafeEqual(actual, expected)) return undefined
  try {
    return JSON.parse(Buffer.from(parts[1], "base64url").toString("utf8")) as Claims
  } catch {
    return undefined
  }
}
