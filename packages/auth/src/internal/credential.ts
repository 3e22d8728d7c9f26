import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { ConfigurationError } from "../DatabricksError.js"
import * as TokenSource from "../TokenSource.js"
import * as ConfigErrors from "./configError.js"

/**
 * @internal
 *
 * The `make` / `layer` / `layerConfig` triple of a credential module, written once.
 *
 * - `make(options)`: the options as given in code. Untyped callers get a `ConfigurationError` for options that
 *   are not an object, and every error names the option (`host`, `clientId`).
 * - `layerConfig(config)`: the same options read through `Config` (`Config.Config.Wrap<Options>`, as
 *   `PgClient.layerConfig` takes them); the module's exported `config` is the default and reads the Databricks
 *   names. A `ConfigError` (a setting that is missing, or that the provider cannot read) becomes the one
 *   `ConfigurationError` naming the setting, here and nowhere else. Optional settings are optional in the
 *   `Config` itself (`optional` below), so a malformed value fails instead of counting as unset.
 * - Errors about a value read by a `Config` of the default `config` (the same object, key by key) name its
 *   variable (`DATABRICKS_HOST`); a value from the caller's own `Config` is named by its option.
 */

/** How the settings are named to the user, by option: the option itself, or the variable that fills it. */
export type Names<Options> = { readonly [K in keyof Options]?: string }

export interface Spec<Options, N extends Names<Options>, R> {
  /** Builds the credential from checked-to-be-an-object options; errors name settings as `names` says. */
  readonly build: (options: Options, names: N) => Effect.Effect<TokenSource.TokenSource, ConfigurationError, R>
  readonly optionNames: N
  /** The variables the default `config` reads, by option. */
  readonly envNames: N
  /** The default `layerConfig` reads. */
  readonly config: Config.Config.Wrap<Options>
  /** What to do about a setting that is missing, by the name the `Config` reads it under. */
  readonly hints: Readonly<Record<string, string>>
  /** The error for options that are not an object. */
  readonly notAnObject: { readonly message: string; readonly hint: string }
  /** Whether `make()` with no options at all is the empty options. */
  readonly optional?: boolean | undefined
}

export interface Credential<Options, R> {
  readonly make: (options: Options | undefined) => Effect.Effect<TokenSource.TokenSource, ConfigurationError, R>
  readonly layer: (
    options: Options | undefined
  ) => Layer.Layer<TokenSource.TokenSource, ConfigurationError, Exclude<R, Scope.Scope>>
  readonly layerConfig: (
    config: Config.Config.Wrap<Options>
  ) => Layer.Layer<TokenSource.TokenSource, ConfigurationError, Exclude<R, Scope.Scope>>
}

/** An optional string setting: missing is `undefined`; anything the provider cannot read still fails. */
export const optional = (name: string): Config.Config<string | undefined> =>
  Config.string(name).pipe(Config.option, Config.map(Option.getOrUndefined))

/** Reads a `Config.Wrap`, its `ConfigError` turned into the `ConfigurationError` naming the setting. */
export const read = <A>(
  config: Config.Config.Wrap<A>,
  hints: Readonly<Record<string, string>>
): Effect.Effect<A, ConfigurationError> =>
  Config.unwrap(config).pipe(Effect.mapError((error) => ConfigErrors.toConfigurationError(error, hints)))

/** The names for what `config` read: a key still read by the default's own `Config` is named by its variable. */
export const namesFor = <Options, N extends Names<Options>>(
  config: Config.Config.Wrap<Options>,
  spec: Pick<Spec<Options, N, never>, "config" | "optionNames" | "envNames">
): N => {
  if (Config.isConfig(config) || Config.isConfig(spec.config)) return spec.optionNames
  const given = config as Readonly<Record<string, unknown>>
  const defaults = spec.config as Readonly<Record<string, unknown>>
  const keys = Object.keys(spec.optionNames)
  const fromDefault = (key: string) => given[key] !== undefined && given[key] === defaults[key]
  // The tables themselves when no key is mixed, so a module can tell which ones it got.
  if (keys.every(fromDefault)) return spec.envNames
  if (!keys.some(fromDefault)) return spec.optionNames
  const table = (key: string) =>
    (fromDefault(key) ? spec.envNames : spec.optionNames) as Readonly<Record<string, string | undefined>>
  return Object.fromEntries(keys.map((key) => [key, table(key)[key]])) as N
}

export const make = <Options, N extends Names<Options>, R>(spec: Spec<Options, N, R>): Credential<Options, R> => {
  const make = (options: Options | undefined) =>
    Effect.suspend(() =>
      typeof options === "object" && options !== null
        ? spec.build(options, spec.optionNames)
        : options === undefined && spec.optional === true
        ? spec.build({} as Options, spec.optionNames)
        : Effect.fail(new ConfigurationError({ setting: "options", ...spec.notAnObject }))
    )
  return {
    make,
    layer: (options) => Layer.scoped(TokenSource.TokenSource, make(options)),
    layerConfig: (config) =>
      Layer.scoped(
        TokenSource.TokenSource,
        Effect.flatMap(read(config, spec.hints), (options) => spec.build(options, namesFor(config, spec)))
      )
  }
}
