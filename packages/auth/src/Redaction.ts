/**
 * The one rule for text we did not write (a server's answer, a driver's
 * message, a child process's stderr, a URL) before it goes into an error
 * message or a log line: every known secret value of the source is removed,
 * and so is anything shaped like a credential.
 *
 * What is removed:
 * - each value passed in `secrets` (a token, client secret, refresh token,
 *   API key or password), wherever it appears, and its URL-encoded form;
 * - the value of an `Authorization` header, and the credential after
 *   `Bearer` or `Basic` anywhere;
 * - the value of a secret-named parameter in `key=value`, `key: value` and
 *   JSON form (`access_token`, `client_secret`, `password`, `api_key`, …);
 * - JWTs and Databricks personal access tokens;
 * - the user information of a URL (`https://user:…@host`).
 *
 * The result is cut to `maxLength` characters (default 1000), and control
 * characters other than line breaks and tabs are dropped.
 *
 * @since 0.2.0
 */
import * as Redacted from "effect/Redacted"

/**
 * What replaces a removed secret.
 *
 * @since 0.2.0
 * @category constants
 */
export const placeholder = "<redacted>"

/**
 * A secret the caller knows: a `Redacted`, a plain string, or nothing.
 *
 * @since 0.2.0
 * @category models
 */
export type Secret = Redacted.Redacted<string> | string | undefined

/**
 * @since 0.2.0
 * @category models
 */
export interface Options {
  /** Values to remove wherever they appear. Values shorter than 4 characters are ignored. */
  readonly secrets?: Iterable<Secret> | undefined
  /** The longest result. Default 1000 characters. */
  readonly maxLength?: number | undefined
}

const secretKeys =
  "access_token|refresh_token|id_token|subject_token|actor_token|client_secret|client_assertion|assertion|" +
  "code_verifier|api_key|apikey|api-key|token|secret|password|passwd|pwd|private_key"

// `"key": "value"`, `key=value`, `key: value`, and JSON escaped inside a string (`\\"key\\":\\"v\\"`). A quoted
// value is removed up to its closing quote (it may hold spaces); a bare one ends at a separator or whitespace.
const keyValue = new RegExp(
  `(\\b(?:${secretKeys})\\b\\\\?["']?\\s*[:=]\\s*)` +
    `(\\\\"(?:[^"\\\\]|\\\\[^"])*\\\\"|"(?:[^"\\\\\\r\\n]|\\\\.)*"|'[^'\\r\\n]*'|\\\\?["']?[^\\s"'&,;}<>\\\\]+)`,
  "gi"
)
// Keeps the quotes around a removed value, so JSON stays readable.
const quoted = (value: string) => {
  const open = /^(?:\\"|"|')?/.exec(value)![0]
  const close = open !== "" && value.length > open.length && value.endsWith(open) ? open : ""
  return `${open}${placeholder}${close}`
}
const authorization = /(\bauthorization\b["']?\s*[:=]\s*["']?)[^"'\r\n,}]+/gi
const scheme = /\b(Bearer|Basic)(\s+)([A-Za-z0-9._~+/=:%-]+)/gi
// A credential has a digit, a symbol or mixed case; "Basic authentication" is prose and stays.
const credentialLike = (word: string) => /[0-9._~+/=:%-]/.test(word) || (/[a-z]/.test(word) && /[A-Z]/.test(word))
const jwt = /\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g
const pat = /\b(?:dapi|dose|dkea)[0-9a-f]{8,}(?:-\d+)?\b/gi
// The whole user information of a URL: it ends at the authority's last `@`, so a password holding `@` goes too.
const userInfo = /(\b[a-z][a-z0-9+.-]*:\/\/)[^\s/?#@:]*(?::[^\s/?#]*)?@/gi
// eslint-disable-next-line no-control-regex
const controls = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g

const minSecretLength = 4

const plain = (secret: Secret): string | undefined =>
  secret === undefined ? undefined : typeof secret === "string" ? secret : Redacted.value(secret)

/**
 * The forms of one secret value that can appear in text: as is, URL-encoded (as a URL and as a form encodes
 * it), escaped inside a JSON string, and each line of a multi-line one.
 */
const forms = (value: string): ReadonlyArray<string> => {
  const all = new Set<string>([
    value,
    value.trim(),
    encodeURIComponent(value),
    new URLSearchParams({ v: value }).toString().slice(2),
    JSON.stringify(value).slice(1, -1),
    // As it reads once control characters are dropped from the text (see `redact`).
    value.replace(controls, "")
  ])
  for (const line of value.split(/\r\n|\r|\n/)) all.add(line.trim())
  return [...all].filter((form) => form.length >= minSecretLength)
}

/**
 * Removes secrets from `text`. See the module's documentation for what is
 * removed.
 *
 * @since 0.2.0
 * @category redaction
 */
export const redact = (text: string, options?: Options): string => {
  const known = [...(options?.secrets ?? [])].map(plain).filter((value): value is string => typeof value === "string")
  // Longest first, so a secret that contains another is removed whole.
  const values = known.flatMap(forms).sort((a, b) => b.length - a.length)
  const removeKnown = (from: string) => values.reduce((acc, value) => acc.split(value).join(placeholder), from)
  // Known values are removed before and after control characters are dropped, so a secret split by one
  // ("se\u0001cret") cannot reappear whole.
  const result = removeKnown(removeKnown(String(text)).replace(controls, ""))
    .replace(userInfo, `$1${placeholder}@`)
    .replace(userInfo, `$1${placeholder}@`)
    .replace(authorization, `$1${placeholder}`)
    .replace(scheme, (all, name, space, word) => credentialLike(word) ? `${name}${space}${placeholder}` : all)
    .replace(jwt, placeholder)
    .replace(pat, placeholder)
    .replace(keyValue, (_, key: string, value: string) => `${key}${quoted(value)}`)
    .trim()
  const maxLength = options?.maxLength ?? 1000
  return result.length > maxLength ? `${result.slice(0, maxLength)}…` : result
}

/**
 * Whether `text` contains any of `secrets` (as is or URL-encoded). For
 * checks and tests: `redact` is what removes them.
 *
 * @since 0.2.0
 * @category redaction
 */
export const containsSecret = (text: string, secrets: Iterable<Secret>): boolean =>
  [...secrets].map(plain).some((value) =>
    value !== undefined && value.length >= minSecretLength &&
    forms(value).some((form) => text.includes(form))
  )
