/**
 * A token obtained beforehand (by a CI job, a sidecar, another tool) and
 * handed to the app, typically in `DATABRICKS_ACCESS_TOKEN`.
 *
 * The source cannot refresh it. When the token is a JWT, its `exp` claim is
 * read, and once it is within 30 seconds of expiry (Databricks rejects it from
 * then on) `token` fails with an `AuthenticationError` that says so, instead of
 * letting a request fail with an opaque 403.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { AuthenticationError, type ConfigurationError } from "./DatabricksError.js"
import * as Settings from "./internal/config.js"
import * as Jwt from "./internal/jwt.js"
import type * as TokenSource from "./TokenSource.js"
import { TokenSource as Tag } from "./TokenSource.js"

/**
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
  token: Redacted.Redacted<string> | undefined,
  expiresAt: DateTime.DateTime | undefined,
  setting: string
) =>
  Effect.map(
    Settings.nonBlankSecret(token, { name: setting, hint: "Pass an access token obtained beforehand" }),
    (value): TokenSource.TokenSource => {
      const expiry = expiresAt !== undefined
        ? Option.some(DateTime.toEpochMillis(expiresAt))
        : Jwt.expiryMillis(Redacted.value(value))
      const access: TokenSource.AccessToken = {
        value,
        expiresAt: Option.map(expiry, (millis) => DateTime.unsafeMake(millis))
      }
      const expired = (at: number) =>
        new AuthenticationError({
          message: `The token from ${setting} expired at ${new Date(at).toISOString()} (or is within 30 s of it)`,
          hint: `Obtain a new token and set ${setting}, or use a credential that refreshes (LocalM2M, U2MPkce)`
        })
      return {
        authType: "token-env",
        token: Option.match(expiry, {
          onNone: () => Effect.succeed(access),
          onSome: (at) =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              now >= at - margin ? Effect.fail(expired(at)) : Effect.succeed(access))
        }),
        invalidate: Effect.void
      }
    }
  )

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<TokenSource.TokenSource, ConfigurationError> =>
  fromToken(options.token, options.expiresAt, "token")

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TokenSource.TokenSource, ConfigurationError> =>
  Layer.effect(Tag, make(options))

/**
 * Reads the token from `DATABRICKS_ACCESS_TOKEN`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (): Layer.Layer<TokenSource.TokenSource, ConfigurationError> =>
  Layer.effect(
    Tag,
    Effect.flatMap(
      Settings.envSecret("DATABRICKS_ACCESS_TOKEN"),
      (token) => fromToken(token, undefined, "DATABRICKS_ACCESS_TOKEN")
    )
  )
