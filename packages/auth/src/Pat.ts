/**
 * A personal access token (`dapi…`), sent as `Authorization: Bearer`.
 *
 * PATs do not expire on a schedule the client knows and cannot be
 * refreshed, so the source serves the same token until the server refuses
 * it; `invalidate` does nothing.
 *
 * @since 0.1.0
 */
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { ConfigurationError } from "./DatabricksError.js"
import * as Credential from "./internal/credential.js"
import * as TokenValue from "./internal/tokenValue.js"
import * as TokenSource from "./TokenSource.js"

/**
 * The token is checked before it is used: surrounding whitespace is trimmed,
 * and one with a line break, another control character, a character beyond
 * Latin-1, or more than 8 KiB is a `ConfigurationError` that names the
 * setting and never shows the value.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly token: Redacted.Redacted<string>
}

const hint = "Use a personal access token (dapi…), created under Settings > Developer > Access tokens"

const fromToken = (token: unknown, setting: string) =>
  Effect.map(
    TokenValue.configuredSecret(token, { name: setting, hint }),
    (value) => TokenSource.static(value, { authType: "pat" })
  )

/**
 * From untyped code, `Pat.make("dapi…")` and `Pat.make({ token: "dapi…" })`
 * (a plain string instead of a `Redacted`) are accepted: the string is
 * wrapped in `Redacted` at once.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: Options): Effect.Effect<TokenSource.TokenSource, ConfigurationError> =>
  Effect.suspend(() =>
    fromToken(
      typeof options === "string" || Redacted.isRedacted(options)
        ? options
        : (options as Options | undefined)?.token,
      "token"
    )
  )

/**
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<TokenSource.TokenSource, ConfigurationError> =>
  Layer.effect(TokenSource.TokenSource, make(options))

/**
 * The default `layerConfig` reads: `DATABRICKS_TOKEN`.
 *
 * @since 0.3.0
 * @category config
 */
export const config: Config.Config.Wrap<Options> = {
  token: Config.redacted("DATABRICKS_TOKEN")
}

const credential = Credential.make({
  build: (options: Options, names: Credential.Names<Options>) => fromToken(options.token, names.token ?? "token"),
  optionNames: { token: "token" },
  envNames: { token: "DATABRICKS_TOKEN" },
  config,
  hints: { DATABRICKS_TOKEN: hint },
  notAnObject: { message: "Pat needs an options object with token", hint: "Pass { token: Redacted.make(\"dapi…\") }" }
})

/**
 * Reads the token through `Config`: by default `config`, `DATABRICKS_TOKEN`.
 * A token that is missing or unreadable is a `ConfigurationError` naming the
 * setting.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  options: Config.Config.Wrap<Options> = config
): Layer.Layer<TokenSource.TokenSource, ConfigurationError> => credential.layerConfig(options)
