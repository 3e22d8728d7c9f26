/**
 * Databricks as the content's service account on Posit Connect: the
 * content-session token is exchanged, through a service-account OAuth
 * integration, for the integration's Databricks token.
 *
 * - The content-session token is read from `CONNECT_CONTENT_SESSION_TOKEN_FILE`
 *   on **every** exchange (Connect rotates the file for long-running
 *   content), then from `CONNECT_CONTENT_SESSION_TOKEN`. A missing file falls
 *   back silently; an empty one with a warning. Only a regular file of at
 *   most 64 KiB is read: a FIFO, a device or a directory there is an
 *   `AuthenticationError` naming it, never a hang.
 * - Exchanged tokens are cached and refreshed ahead of expiry by
 *   `TokenSource.make`.
 * - Off Connect it uses the `local` layer (LocalM2M for the same service
 *   principal, typically).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as ConnectEnvironment from "./ConnectEnvironment.js"
import { AuthenticationError, type ConfigurationError } from "./DatabricksError.js"
import * as BoundedRead from "./internal/boundedRead.js"
import * as Settings from "./internal/config.js"
import * as Connect from "./internal/connect.js"
import * as ConnectApiKey from "./internal/connectApiKey.js"
import * as OptionChecks from "./internal/options.js"
import type * as Retry from "./internal/retry.js"
import * as TokenValue from "./internal/tokenValue.js"
import * as TokenSource from "./TokenSource.js"

/**
 * @since 0.1.0
 * @category options
 */
export interface Options<E, R> {
  /** The credential to use off Connect. */
  readonly local: Layer.Layer<TokenSource.TokenSource, E, R>
  /** The GUID of the OAuth integration to use, when several are associated with the content. */
  readonly audience?: string | undefined
  /** See `TokenSource.MakeOptions.refreshAhead`. Default 5 minutes. */
  readonly refreshAhead?: Duration.DurationInput | undefined
  /** Default `CONNECT_SERVER`. */
  readonly server?: string | undefined
  /** Default `CONNECT_API_KEY`. */
  readonly apiKey?: Redacted.Redacted<string> | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly retry?: Retry.RetryOptions | undefined
}

const noToken = new AuthenticationError({
  message: "No content session token is available for the credential exchange",
  hint:
    "On Connect, CONNECT_CONTENT_SESSION_TOKEN_FILE or CONNECT_CONTENT_SESSION_TOKEN is set for content with a service-account integration; check that one is associated"
})

/** The current content-session token: the file (re-read each time), then the variable. */
const readContentToken: Effect.Effect<Redacted.Redacted<string>, AuthenticationError> = Effect.gen(function*() {
  const path = yield* Settings.env("CONNECT_CONTENT_SESSION_TOKEN_FILE")
  if (path !== undefined && path.trim() !== "") {
    // Read bounded (the one rule for files we are pointed at): a FIFO or a device there is refused unread
    // instead of blocking every exchange, and the file may be at most 64 KiB (a session token is far shorter).
    const text = yield* BoundedRead.readTextFile(path.trim(), { maxBytes: 64 * 1024 }).pipe(
      Effect.catchAll((refusal) =>
        refusal._tag === "Missing"
          ? Effect.succeed(undefined)
          : Effect.fail(
            new AuthenticationError({
              message: `CONNECT_CONTENT_SESSION_TOKEN_FILE: ${BoundedRead.describe(path.trim(), refusal)}`,
              hint: refusal._tag === "Unreadable"
                ? "Check the file's permissions"
                : "Point CONNECT_CONTENT_SESSION_TOKEN_FILE at the regular file Connect writes the token to"
            })
          )
      )
    )
    if (text !== undefined) {
      if (text.trim() !== "") return Redacted.make(text.trim())
      yield* Effect.logWarning(
        `CONNECT_CONTENT_SESSION_TOKEN_FILE (${path}) is empty; falling back to CONNECT_CONTENT_SESSION_TOKEN`
      )
    }
  }
  const variable = yield* Settings.envSecret("CONNECT_CONTENT_SESSION_TOKEN")
  if (variable === undefined || Redacted.value(variable).trim() === "") return yield* Effect.fail(noToken)
  return variable
}).pipe(
  // Read on every exchange, inside the token fetch, whose channel is AuthenticationError: an unreadable variable
  // fails it, still naming the variable, instead of counting as unset.
  Effect.catchTag(
    "ConfigurationError",
    (error) =>
      Effect.fail(new AuthenticationError({ message: error.message, hint: error.hint ?? "Check the setting's value" }))
  )
)

/**
 * The content's service-account `TokenSource`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = <E, R>(
  options: Options<E, R>
): Layer.Layer<TokenSource.TokenSource, E | ConfigurationError, R | HttpClient.HttpClient> =>
  Layer.scoped(
    TokenSource.TokenSource,
    Effect.gen(function*() {
      const kind = yield* ConnectEnvironment.current
      if (!ConnectEnvironment.isConnect(kind)) {
        const local = yield* Layer.build(options.local).pipe(Effect.map(Context.get(TokenSource.TokenSource)))
        yield* Effect.logInfo(
          `ConnectContent: not on Posit Connect (${kind}); using the local ${local.authType} credential`
        )
        return local
      }
      yield* OptionChecks.durations(options, ["refreshAhead", "requestTimeout"])
      yield* ConnectApiKey.check(options)
      const client = yield* Connect.make(options)
      const fetch = Effect.gen(function*() {
        const subjectToken = yield* readContentToken
        const exchanged = yield* client.exchange({
          subjectTokenType: Connect.contentSessionTokenType,
          subjectToken,
          audience: options.audience
        })
        // Checked here too (TokenSource.make would) so the message names the exchange; the expiry is
        // resolved, and clamped when absurd, by TokenSource.make.
        const value = yield* TokenValue.issued(exchanged.accessToken, "Posit Connect's credential exchange")
        return { value, expiresIn: exchanged.expiresIn } satisfies TokenSource.IssuedToken
      })
      return yield* TokenSource.make(fetch, { authType: "posit-oauth-integration", refreshAhead: options.refreshAhead })
    })
  )
