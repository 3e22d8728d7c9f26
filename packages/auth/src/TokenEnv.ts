/**
 * `token-env`: an access token obtained beforehand (by a CI job, a sidecar,
 * another tool) and handed to the app in an environment variable, typically
 * `DATABRICKS_ACCESS_TOKEN`; served as it is, never refreshed.
 *
 * The source cannot refresh it. When the token is a JWT, its `exp` claim is
 * read, and once it is within 30 seconds of expiry (Databricks rejects it from
 * then on) `token` fails with an `AuthenticationError` that says so, instead of
 * letting a request fail with an opaque 403.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { AuthenticationError, ConfigurationError } from "./DatabricksError.js"
import * as Credential from "./internal/credential.js"
import * as Expiry from "./internal/expiry.js"
import * as TokenValue from "./internal/tokenValue.js"
import type * as TokenSource from "./TokenSource.js"
import { TokenSource as Tag } from "./TokenSource.js"

/**
 * The token is checked before it is used: surrounding whitespace is trimmed,
 * and one with a line break, another control character, a character beyond
 * Latin-1, or more than 8 KiB is a `ConfigurationError` that names the
 * setting and never shows the value. A plain string (from untyped code) is
 * accepted and wrapped in `Redacted`.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly token: Redacted.Redacted<string>
  /** When the token expires, if known and not in the token itself. */
  readonly expiresAt?: DateTime.DateTime | undefined
}

const margin = 30_000

const fromToken = (
  token: unknown,
  expiresAt: unknown,
  setting: string
): Effect.Effect<TokenSource.TokenSource, ConfigurationError> =>
  Effect.gen(function*() {
    const value = yield* TokenValue.configuredSecret(token, {
      name: setting,
      hint: "Pass an access token obtained beforehand"
    })
    if (expiresAt !== undefined && !DateTime.isDateTime(expiresAt)) {
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "expiresAt",
          message: "expiresAt must be a DateTime",
          hint: "Pass DateTime.unsafeMake(...) or leave it out to read the JWT exp claim"
        })
      )
    }
    const now = yield* Clock.currentTimeMillis
    // A JWT exp beyond the date range (exp: 1e20) used to be a defect here; the one expiry rule clamps it.
    const expiry = yield* Expiry.resolve({ expiresAt, token: Redacted.value(value) }, now).pipe(
      Effect.mapError((error) =>
        new ConfigurationError({
          setting,
          message: `The token in ${setting} has an expiry that is not a usable time`,
          hint: error.hint ?? "Obtain a new token"
        })
      )
    )
    const access: TokenSource.AccessToken = { value, expiresAt: expiry }
    const expired = (at: DateTime.Utc) =>
      new AuthenticationError({
        message: `The token from ${setting} expired at ${DateTime.formatIso(at)} (or is within 30 s of it)`,
        hint: `Obtain a new token and set ${setting}, or use a credential that refreshes (LocalM2M, U2MPkce)`
      })
    return {
      authType: "token-env",
      token: Option.match(expiry, {
        onNone: () => Effect.succeed(access),
        onSome: (at) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) =>
            now >= DateTime.toEpochMillis(at) - margin ? Effect.fail(expired(at)) : Effect.succeed(access))
      }),
      invalidate: Effect.void
    } satisfies TokenSource.TokenSource
  })

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<TokenSource.TokenSource, ConfigurationError> =>
  Effect.suspend(() =>
    typeof options === "string" || Redacted.isRedacted(options)
      // Untyped callers pass the token itself: taken as `{ token }`.
      ? fromToken(options, undefined, "token")
      : fromToken(options?.token, options?.expiresAt, "token")
  )

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TokenSource.TokenSource, ConfigurationError> =>
  Layer.effect(Tag, make(options))

/**
 * The default `layerConfig` reads: `DATABRICKS_ACCESS_TOKEN`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  token: Config.redacted("DATABRICKS_ACCESS_TOKEN")
}

const credential = Credential.make({
  build: (options: Options, names: Credential.Names<Options>) =>
    fromToken(options.token, options.expiresAt, names.token ?? "token"),
  optionNames: { token: "token" },
  envNames: { token: "DATABRICKS_ACCESS_TOKEN" },
  config,
  hints: { DATABRICKS_ACCESS_TOKEN: "Set it to an access token obtained beforehand" },
  notAnObject: { message: "TokenEnv needs an options object with token", hint: "Pass { token: Redacted.make(...) }" }
})

/**
 * Reads the token (and `expiresAt`, when the `Config` has one) through
 * `Config`: by default `config`, `DATABRICKS_ACCESS_TOKEN`. A token that is
 * missing or unreadable is a `ConfigurationError` naming the setting.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError> => credential.layerConfig(options)
