/**
 * The one place a workspace host is read and checked.
 *
 * Accepted: `https://h[:port]`, a bare `h[:port]` (which means https), and
 * `http://` for loopback hosts only (127.0.0.0/8, `localhost`, `[::1]`), which
 * exist for local emulators. Paths, queries, fragments and trailing slashes
 * are dropped, so a URL copied from the browser works. User information
 * (`user:password@`) is refused and never echoed. Everything else is a
 * `ConfigurationError` that names the setting and says how to fix it.
 *
 * @since 0.1.0
 */
import type * as Effect from "effect/Effect"
import * as Either from "effect/Either"

import { ConfigurationError } from "./DatabricksError.js"
import * as Redaction from "./Redaction.js"

/**
 * A normalised workspace host.
 *
 * @since 0.1.0
 * @category models
 */
export interface WorkspaceHost {
  /** `scheme://hostname[:port]`, without a default port or a trailing slash. */
  readonly url: string
  /** The host name as a URL spells it (`[::1]` for IPv6). */
  readonly hostname: string
  /** The port, with the scheme's default filled in. */
  readonly port: number
  /** `false` only for a loopback `http://` host. */
  readonly secure: boolean
}

/**
 * @since 0.1.0
 * @category options
 */
export interface ParseOptions {
  /** The setting the value came from, for error messages. Defaults to `DATABRICKS_HOST`. */
  readonly setting?: string | undefined
}

const schemePattern = /^([a-z][a-z0-9+.-]*):\/\//i

/**
 * True for the loopback names a local emulator listens on.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isLoopback = (hostname: string): boolean =>
  hostname === "localhost" || hostname === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)

// Echo the input so the user can see what was read, through the redaction rule (a host never holds user
// information by the time it is shown: that is refused without an echo, below).
const show = (input: string): string => JSON.stringify(Redaction.redact(input, { maxLength: 80 }))

/**
 * Checks and normalises a workspace host.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (input: string, options?: ParseOptions): Either.Either<WorkspaceHost, ConfigurationError> => {
  const setting = options?.setting ?? "DATABRICKS_HOST"
  const fail = (
    problem: string,
    hint = "Use the workspace URL, for example https://adb-1234567890.12.azuredatabricks.net"
  ) =>
    Either.left(
      new ConfigurationError({ setting, message: `${setting} ${problem}. ${hint}.`, hint })
    )

  if (typeof input !== "string") return fail("is not a string")
  const trimmed = input.trim()
  if (trimmed.length === 0) return fail("is empty")
  // A workspace host never contains "@"; one that does holds user information (a password, often), so it is
  // refused before anything else and never echoed, not even in part.
  if (trimmed.includes("@")) {
    return fail(
      "must not contain credentials (user information such as user:password@)",
      "Remove everything up to and including the @, and pass credentials separately (DATABRICKS_TOKEN, DATABRICKS_CLIENT_SECRET, ...)"
    )
  }
  if (/\s/.test(trimmed)) return fail(`${show(trimmed)} contains white space`)

  const scheme = schemePattern.exec(trimmed)?.[1]?.toLowerCase()
  if (scheme !== undefined && scheme !== "https" && scheme !== "http") {
    return fail(`${show(trimmed)} uses the scheme "${scheme}://", which is not supported`)
  }

  // WHATWG URLs skip extra slashes, so "https:///sql" would otherwise become host "sql".
  if (scheme !== undefined && /^[a-z][a-z0-9+.-]*:\/\/(?:[/?#]|$)/i.test(trimmed)) {
    return fail(`${show(trimmed)} has no host name`)
  }

  let url: URL
  try {
    url = new URL(scheme === undefined ? `https://${trimmed}` : trimmed)
  } catch {
    return fail(`${show(trimmed)} is not a valid URL`)
  }
  if (url.username !== "" || url.password !== "") {
    return fail("must not contain credentials", "Remove the user:password@ part and pass credentials separately")
  }
  if (url.hostname === "") return fail(`${show(trimmed)} has no host name`)
  if (url.port === "0") return fail(`${show(trimmed)} has port 0`)

  const secure = url.protocol === "https:"
  if (!secure && !isLoopback(url.hostname)) {
    return fail(
      `${show(trimmed)} uses http:// for a host that is not loopback`,
      "Use https://; plain http:// is accepted only for 127.0.0.1, localhost and [::1]"
    )
  }
  const port = url.port === "" ? (secure ? 443 : 80) : Number(url.port)
  return Either.right({ url: url.origin, hostname: url.hostname, port, secure })
}

/**
 * `parse` as an Effect that fails with `ConfigurationError`.
 *
 * @since 0.1.0
 * @category parsing
 */
export const make = (input: string, options?: ParseOptions): Effect.Effect<WorkspaceHost, ConfigurationError> =>
  parse(input, options)
