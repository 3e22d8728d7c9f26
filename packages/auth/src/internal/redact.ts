/**
 * Removes anything that looks like a credential from text we did not write
 * (a CLI's stderr), before it goes into an error message: JWTs, Databricks
 * PATs and OAuth secrets, and the values of token-like keys.
 */
export const redactSecrets = (text: string, maxLength = 1000): string => {
  const redacted = text
    .replace(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, "<redacted>")
    .replace(/\b(dapi|dose|dkea)[0-9a-f]{8,}\b/gi, "<redacted>")
    .replace(
      /("?(?:access_token|refresh_token|client_secret|id_token|token|password|secret)"?\s*[:=]\s*"?)[^\s",}]+/gi,
      "$1<redacted>"
    )
    .replace(/(Bearer\s+)[A-Za-z0-9._~+/=-]+/gi, "$1<redacted>")
    .trim()
  return redacted.length > maxLength ? `${redacted.slice(0, maxLength)}…` : redacted
}
