import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { AuthenticationError, ConfigurationError } from "../DatabricksError.js"
import * as Settings from "./config.js"

/**
 * The one rule for a credential value that goes into an HTTP header (a
 * bearer token, an API key, a client id sent in HTTP Basic): checked before
 * it is used, so a bad value is a typed error that never prints it.
 *
 * Without it, Node refuses the header (`ERR_INVALID_CHAR`, `btoa`'s
 * `InvalidCharacterError`) as a defect, or the driver fails with a message
 * that quotes the whole `Bearer …` header; an oversized token reaches the
 * server and comes back as HTTP 431.
 *
 * Surrounding whitespace is trimmed first (a token read from a file usually
 * ends with a newline), as `config.ts` does for every setting.
 */

/**
 * The longest value accepted: 8 KiB. Node's HTTP server refuses requests whose
 * headers exceed 16 KiB in total (`--max-http-header-size`, HTTP 431) and
 * common proxies refuse a single header line over 8 KiB (nginx's
 * `large_client_header_buffers` default), while real tokens are far shorter
 * (a Databricks OAuth JWT is about 1 KB, an Entra ID token a few KB).
 */
export const maxLength = 8192

// Node's rule for a header value (`checkInvalidHeaderChar` in lib/_http_common.js) allows TAB, 0x20-0x7E and
// 0x80-0xFF. A tab inside a credential is never intended, so every control character is refused here.
// eslint-disable-next-line no-control-regex
const control = /[\u0000-\u001f\u007f]/
const beyondLatin1 = /[\u0100-\uffff]/

/** What is wrong with a (trimmed) value, in words that do not include it; `undefined` when it is fine. */
export const problem = (value: string): string | undefined => {
  if (control.test(value)) {
    return "contains a line break or another control character, which cannot be sent in an HTTP header"
  }
  if (beyondLatin1.test(value)) {
    return "contains a character outside Latin-1, which cannot be sent in an HTTP header"
  }
  if (value.length > maxLength) {
    return `is ${value.length} characters long, more than the ${maxLength} an HTTP header can carry safely`
  }
  return undefined
}

/** The text inside a secret input, whether it is a `Redacted` or (from untyped code) a plain string. */
const unwrap = (input: unknown): string | undefined | null => {
  if (input === undefined) return undefined
  if (typeof input === "string") return input
  if (Redacted.isRedacted(input)) {
    const inner: unknown = Redacted.value(input)
    return typeof inner === "string" ? inner : null
  }
  return null
}

const notText = (setting: Settings.Setting, what: string) =>
  new ConfigurationError({
    setting: setting.name,
    message: `${setting.name} must be ${what}. ${setting.hint}.`,
    hint: setting.hint
  })

const invalid = (setting: Settings.Setting, reason: string) =>
  new ConfigurationError({
    setting: setting.name,
    message: `${setting.name} ${reason} (the value is not shown)`,
    hint:
      `Set ${setting.name} to the credential alone, without extra lines or characters (surrounding whitespace, such as a file's final newline, is ignored). ${setting.hint}`
  })

/**
 * A secret the user configured (a token, an API key): a `Redacted` string,
 * or a plain string from untyped code, which is wrapped. Missing, blank, not
 * a string, or not sendable in a header: a `ConfigurationError` naming the
 * setting, never showing the value.
 */
export const configuredSecret = (
  input: unknown,
  setting: Settings.Setting
): Effect.Effect<Redacted.Redacted<string>, ConfigurationError> => {
  const text = unwrap(input)
  if (text === null) return Effect.fail(notText(setting, "a string (a Redacted<string>)"))
  return Effect.flatMap(
    Settings.nonBlankSecret(text === undefined ? undefined : Redacted.make(text), setting),
    (value) => {
      const reason = problem(Redacted.value(value))
      return reason === undefined ? Effect.succeed(value) : Effect.fail(invalid(setting, reason))
    }
  )
}

/** A non-secret value that is sent in a header (a client id): the same checks, as a plain string. */
export const configuredText = (
  input: unknown,
  setting: Settings.Setting
): Effect.Effect<string, ConfigurationError> => {
  if (input !== undefined && typeof input !== "string") return Effect.fail(notText(setting, "a string"))
  return Effect.flatMap(Settings.nonBlank(input, setting), (value) => {
    const reason = problem(value)
    return reason === undefined ? Effect.succeed(value) : Effect.fail(invalid(setting, reason))
  })
}

/**
 * A token a server or tool issued (a token endpoint, the Connect exchange,
 * the CLI): trimmed, and refused with an `AuthenticationError` that does not
 * show it when it cannot be sent. `issuer` names who issued it.
 */
export const issued = (
  value: Redacted.Redacted<string>,
  issuer: string
): Either.Either<Redacted.Redacted<string>, AuthenticationError> => {
  const inner: unknown = Redacted.isRedacted(value) ? Redacted.value(value) : value
  if (typeof inner !== "string") {
    return Either.left(new AuthenticationError({ message: `${issuer} returned a token that is not a string` }))
  }
  const trimmed = inner.trim()
  const reason = trimmed === "" ? "is empty" : problem(trimmed)
  if (reason !== undefined) {
    return Either.left(
      new AuthenticationError({
        message: `${issuer} issued a token that ${reason} (the value is not shown)`,
        hint: "The issuer returned a malformed token; check the identity provider or the tool that issued it"
      })
    )
  }
  return Either.right(trimmed === inner && Redacted.isRedacted(value) ? value : Redacted.make(trimmed))
}
