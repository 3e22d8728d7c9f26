/** Finds anything that looks like a credential the emulator issues, in captured text. */
import type { Emulator } from "@effect-databricks/testing"
import { Redacted } from "effect"

const patterns: ReadonlyArray<RegExp> = [
  /eyJ[\w-]{8,}\.[\w-]{8,}/, // a signed access token (JWT)
  /dapi[0-9a-f]{32}/, // a PAT
  /dose[0-9a-f]{32}/, // an OAuth client secret
  /(?:refresh|code|admin|user-session|content-session)-[0-9a-f]{48}/ // refresh, code, admin and Connect tokens
]

/** The texts that contain a secret (truncated around the match), or none. */
export const scan = (texts: Iterable<string>, literals: ReadonlyArray<string>): Array<string> => {
  const found: Array<string> = []
  for (const text of texts) {
    const hit = patterns.map((pattern) => pattern.exec(text)?.index).find((index) => index !== undefined) ??
      literals.map((literal) => text.indexOf(literal)).find((index) => index >= 0)
    if (hit !== undefined) found.push(text.slice(Math.max(0, hit - 60), hit + 20).replace(/\s+/g, " "))
  }
  return found
}

/**
 * The emulator's own secrets as they can appear in text: as is, URL-encoded, and the client credentials as an
 * HTTP Basic value (base64 of `id:secret`), which no pattern above would recognise.
 */
export const literals = (emulator: Emulator.Emulator): ReadonlyArray<string> => {
  const values = [
    Redacted.value(emulator.pat),
    Redacted.value(emulator.servicePrincipal.clientSecret),
    Redacted.value(emulator.connect.apiKey),
    Redacted.value(emulator.connect.userSessionToken),
    Redacted.value(emulator.connect.contentSessionToken)
  ]
  const basic = Buffer.from(`${emulator.servicePrincipal.clientId}:${values[1]}`).toString("base64")
  return [...new Set([...values, ...values.map(encodeURIComponent), basic])]
}
