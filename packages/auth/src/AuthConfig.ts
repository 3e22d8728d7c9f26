/**
 * Resolves the credential from the environment, the way the Databricks SDKs'
 * unified auth does, and provides it as a `TokenSource`.
 *
 * 1. `APP_AUTH_TYPE` picks the method outright: `pat`, `oauth_m2m`/`m2m`,
 *    `oauth_u2m`/`u2m`, `token_env` or `databricks_cli`.
 * 2. Otherwise each setting is taken from explicit options, then environment
 *    variables, then a `~/.databrickscfg` profile (skipped when no profile is
 *    named and the options or environment already configure something), and
 *    the method is `DATABRICKS_AUTH_TYPE` (or the profile's `auth_type`), or
 *    the one method that is configured. Two configured methods with no choice
 *    made, or none at all, is a `ConfigurationError` that says what to do.
 *
 * What was resolved (method, host, and where each setting came from, never a
 * secret) is logged once at info level and provided as the `AuthConfig`
 * service.
 *
 * @since 0.1.0
 */
import type * as CommandExecutor from "@effect/platform/CommandExecutor"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as DatabricksCli from "./DatabricksCli.js"
import { ConfigurationError } from "./DatabricksError.js"
import * as Settings from "./internal/config.js"
import * as M2M from "./internal/m2m.js"
import * as Profile from "./internal/profile.js"
import * as TokenValue from "./internal/tokenValue.js"
import * as U2M from "./internal/u2m.js"
import type * as LocalM2M from "./LocalM2M.js"
import * as Pat from "./Pat.js"
import * as Redaction from "./Redaction.js"
import * as TokenEnv from "./TokenEnv.js"
import * as TokenSource from "./TokenSource.js"
import type * as U2MPkce from "./U2MPkce.js"
import * as WorkspaceHost from "./WorkspaceHost.js"

/**
 * The credential methods `AuthConfig` can resolve to.
 *
 * @since 0.1.0
 * @category models
 */
export type Method = "pat" | "oauth-m2m" | "oauth-u2m" | "token-env" | "databricks-cli"

/**
 * Where a setting came from: an explicit option, an environment variable, or
 * a profile (`profile:NAME`).
 *
 * @since 0.1.0
 * @category models
 */
export type Source = "option" | "env" | `profile:${string}`

/**
 * What was resolved. Holds no secret.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthConfig {
  readonly authType: Method
  /** How the method was chosen: `APP_AUTH_TYPE`, `DATABRICKS_AUTH_TYPE`, a profile's `auth_type`, or `only one configured`. */
  readonly chosenBy: string
  /** The normalised workspace URL, when one is configured. */
  readonly host: Option.Option<string>
  /** The service principal, for `oauth-m2m`. */
  readonly clientId: Option.Option<string>
  /** The profile that was read, if any, and its file. */
  readonly profile: Option.Option<{ readonly name: string; readonly file: string }>
  /** Where each setting that was used came from, by setting name (`host`, `token`, `client_id`, ...). */
  readonly sources: Readonly<Record<string, Source>>
}

/**
 * @since 0.1.0
 * @category tags
 */
export const AuthConfig: Context.Tag<AuthConfig, AuthConfig> = Context.GenericTag<AuthConfig>(
  "@effect-databricks/auth/AuthConfig"
)

/**
 * Explicit settings; each one wins over the environment and profiles.
 *
 * @since 0.1.0
 * @category options
 */
export interface Options {
  readonly host?: string | undefined
  readonly token?: Redacted.Redacted<string> | undefined
  readonly clientId?: string | undefined
  readonly clientSecret?: Redacted.Redacted<string> | undefined
  readonly accessToken?: Redacted.Redacted<string> | undefined
  /** `pat`, `oauth-m2m`, `oauth-u2m`, `token-env`, `databricks-cli` (spellings such as `oauth_m2m` work too). */
  readonly authType?: string | undefined
  readonly profile?: string | undefined
  readonly configFile?: string | undefined
  /** Passed to `LocalM2M` when the method is `oauth-m2m`. */
  readonly m2m?: Omit<LocalM2M.Options, "host" | "clientId" | "clientSecret"> | undefined
  /** Passed to `U2MPkce` when the method is `oauth-u2m` (its `clientId` etc. win over the environment). */
  readonly u2m?: Partial<Omit<U2MPkce.Options, "host">> | undefined
  /** Passed to `DatabricksCli` when the method is `databricks-cli`. */
  readonly cli?: Omit<DatabricksCli.Options, "host" | "profile"> | undefined
}

type Key =
  | "host"
  | "token"
  | "client_id"
  | "client_secret"
  | "access_token"
  | "auth_type"
  | "u2m_client_id"
  | "u2m_client_secret"
  | "redirect_uri"

interface Setting {
  readonly value: string
  readonly source: Source
  /** How to name it to the user: `DATABRICKS_TOKEN`, `token`, or `token in profile dev (~/.databrickscfg)`. */
  readonly name: string
}

const envNames: Record<Key, string> = {
  host: "DATABRICKS_HOST",
  token: "DATABRICKS_TOKEN",
  client_id: "DATABRICKS_CLIENT_ID",
  client_secret: "DATABRICKS_CLIENT_SECRET",
  access_token: "DATABRICKS_ACCESS_TOKEN",
  auth_type: "DATABRICKS_AUTH_TYPE",
  u2m_client_id: "DATABRICKS_U2M_CLIENT_ID",
  u2m_client_secret: "DATABRICKS_U2M_CLIENT_SECRET",
  redirect_uri: "DATABRICKS_REDIRECT_URI"
}
const optionNames: Record<Key, string> = {
  host: "host",
  token: "token",
  client_id: "clientId",
  client_secret: "clientSecret",
  access_token: "accessToken",
  auth_type: "authType",
  u2m_client_id: "u2m.clientId",
  u2m_client_secret: "u2m.clientSecret",
  redirect_uri: "u2m.redirectUri"
}
const keys = Object.keys(envNames) as ReadonlyArray<Key>
const credentialKeys: ReadonlyArray<Key> = [
  "host",
  "token",
  "client_id",
  "client_secret",
  "access_token",
  "u2m_client_id",
  "u2m_client_secret"
]
const secretKeys: ReadonlySet<Key> = new Set(["token", "client_secret", "access_token", "u2m_client_secret"])

// A Map, not an object literal: a lookup by user text ("constructor", "__proto__") must never reach a prototype.
const methodNames: ReadonlyMap<string, Method> = new Map<string, Method>([
  ["pat", "pat"],
  ["oauth-m2m", "oauth-m2m"],
  ["oauth_m2m", "oauth-m2m"],
  ["m2m", "oauth-m2m"],
  ["oauth-u2m", "oauth-u2m"],
  ["oauth_u2m", "oauth-u2m"],
  ["u2m", "oauth-u2m"],
  ["external-browser", "oauth-u2m"],
  ["token-env", "token-env"],
  ["token_env", "token-env"],
  ["databricks-cli", "databricks-cli"],
  ["databricks_cli", "databricks-cli"]
])

const nothingConfigured = (file: string) =>
  new ConfigurationError({
    setting: "credentials",
    message: "No Databricks credentials are configured",
    hint: [
      "Set one of:",
      "a personal access token with DATABRICKS_HOST and DATABRICKS_TOKEN;",
      "OAuth M2M with DATABRICKS_HOST, DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET;",
      "a pre-obtained token with DATABRICKS_ACCESS_TOKEN;",
      `or a profile in ${file}, chosen with DATABRICKS_CONFIG_PROFILE`
    ].join(" ")
  })

/**
 * The settings that are sent in a header or a token request, with the check of the one rule for credential
 * values (`internal/tokenValue.ts`): a value with a control character, a character beyond Latin-1, or more
 * than 8 KiB is a `ConfigurationError` naming the setting that never shows the value. Only the settings of
 * the chosen method are checked: a stray variable for another method does not block this one.
 */
const credentialChecks: ReadonlyMap<Key, (setting: Setting) => Effect.Effect<unknown, ConfigurationError>> = new Map<
  Key,
  (setting: Setting) => Effect.Effect<unknown, ConfigurationError>
>([
  [
    "token",
    (s) =>
      TokenValue.configuredSecret(Redacted.make(s.value), {
        name: s.name,
        hint: `Set ${s.name} to a personal access token (dapi…)`
      })
  ],
  [
    "access_token",
    (s) =>
      TokenValue.configuredSecret(Redacted.make(s.value), {
        name: s.name,
        hint: `Set ${s.name} to an access token obtained beforehand`
      })
  ],
  [
    "client_id",
    (s) =>
      TokenValue.configuredText(s.value, {
        name: s.name,
        hint: `Set ${s.name} to the service principal's application (client) id`
      })
  ],
  [
    "client_secret",
    (s) =>
      TokenValue.configuredSecret(Redacted.make(s.value), {
        name: s.name,
        hint: `Set ${s.name} to an OAuth secret of the service principal`
      })
  ],
  [
    "u2m_client_id",
    (s) =>
      TokenValue.configuredText(s.value, {
        name: s.name,
        hint: `Set ${s.name} to the client id of the OAuth app registered for user login`
      })
  ],
  [
    "u2m_client_secret",
    (s) =>
      TokenValue.configuredSecret(Redacted.make(s.value), {
        name: s.name,
        hint: `Set ${s.name} to the OAuth app's secret, or unset it for a public app`
      })
  ]
])

interface Resolution {
  readonly config: AuthConfig
  readonly settings: ReadonlyMap<Key, Setting>
}

const wrongType = (setting: string, expected: string) =>
  Effect.fail(
    new ConfigurationError({
      setting,
      message: `${setting} must be ${expected}`,
      hint: `Pass ${expected}, or leave ${setting} out`
    })
  )

/** Untyped callers: every option is checked before it is read, so a wrong type is a ConfigurationError. */
const checkOptions = (options: unknown): Effect.Effect<void, ConfigurationError> =>
  Effect.gen(function*() {
    if (options === undefined) return
    if (typeof options !== "object" || options === null) return yield* wrongType("options", "an object")
    const given = options as Record<string, unknown>
    const u2m = given.u2m
    if (u2m !== undefined && (typeof u2m !== "object" || u2m === null)) return yield* wrongType("u2m", "an object")
    const nested = (u2m ?? {}) as Record<string, unknown>
    const strings: ReadonlyArray<readonly [string, unknown]> = [
      ["host", given.host],
      ["clientId", given.clientId],
      ["authType", given.authType],
      ["profile", given.profile],
      ["configFile", given.configFile],
      ["u2m.clientId", nested.clientId],
      ["u2m.redirectUri", nested.redirectUri]
    ]
    for (const [name, value] of strings) {
      if (value !== undefined && typeof value !== "string") return yield* wrongType(name, "a string")
    }
    const secrets: ReadonlyArray<readonly [string, unknown]> = [
      ["token", given.token],
      ["clientSecret", given.clientSecret],
      ["accessToken", given.accessToken],
      ["u2m.clientSecret", nested.clientSecret]
    ]
    for (const [name, value] of secrets) {
      if (value !== undefined && !(Redacted.isRedacted(value) && typeof Redacted.value(value) === "string")) {
        return yield* wrongType(name, "a Redacted string (Redacted.make(value))")
      }
    }
  })

const resolveSettings = (options: Options | undefined): Effect.Effect<Resolution, ConfigurationError> =>
  Effect.gen(function*() {
    yield* checkOptions(options)
    const settings = new Map<Key, Setting>()
    const put = (key: Key, value: string | undefined, source: Source, name: string) => {
      if (!settings.has(key) && value !== undefined && value.trim() !== "") {
        settings.set(key, { value: value.trim(), source, name })
      }
    }
    const optionValues: Record<Key, string | undefined> = {
      host: options?.host,
      token: options?.token === undefined ? undefined : Redacted.value(options.token),
      client_id: options?.clientId,
      client_secret: options?.clientSecret === undefined ? undefined : Redacted.value(options.clientSecret),
      access_token: options?.accessToken === undefined ? undefined : Redacted.value(options.accessToken),
      auth_type: options?.authType,
      u2m_client_id: options?.u2m?.clientId,
      u2m_client_secret: options?.u2m?.clientSecret === undefined
        ? undefined
        : Redacted.value(options.u2m.clientSecret),
      redirect_uri: options?.u2m?.redirectUri
    }
    for (const key of keys) put(key, optionValues[key], "option", optionNames[key])
    for (const key of keys) {
      const value = secretKeys.has(key)
        ? Option.getOrUndefined(
          Option.map(Option.fromNullable(yield* Settings.envSecret(envNames[key])), Redacted.value)
        )
        : yield* Settings.env(envNames[key])
      put(key, value, "env", envNames[key])
    }

    // Profiles: the explicitly named one, or the defaults when nothing else configures a credential.
    const profileOption = options?.profile?.trim() || undefined
    const profileEnv = (yield* Settings.env("DATABRICKS_CONFIG_PROFILE"))?.trim() || undefined
    const named = profileOption !== undefined
      ? { name: profileOption, from: "profile" }
      : profileEnv !== undefined
      ? { name: profileEnv, from: "DATABRICKS_CONFIG_PROFILE" }
      : undefined
    const fileOption = options?.configFile?.trim() || undefined
    const fileSetting = fileOption ?? (yield* Settings.env("DATABRICKS_CONFIG_FILE"))?.trim()
    const path = Profile.expandHome(fileSetting || Profile.defaultPath())
    let profile: Option.Option<{ readonly name: string; readonly file: string }> = Option.none()
    if (named !== undefined || !credentialKeys.some((key) => settings.has(key))) {
      const file = yield* Profile.load(path, fileOption === undefined ? "DATABRICKS_CONFIG_FILE" : "configFile")
      if (file === undefined && named !== undefined) {
        return yield* Effect.fail(
          new ConfigurationError({
            setting: named.from,
            message: `The profile ${named.name} was asked for by ${named.from}, but ${path} does not exist`,
            hint: "Create it (databricks configure), or set DATABRICKS_CONFIG_FILE to the file that has the profile"
          })
        )
      }
      const selected = file === undefined ? undefined : yield* Profile.select(file, named)
      if (selected !== undefined) {
        profile = Option.some({ name: selected.name, file: path })
        for (const key of keys) {
          put(key, selected.keys.get(key), `profile:${selected.name}`, `${key} in profile ${selected.name} (${path})`)
        }
      }
    }

    // The method.
    const appAuthType = (yield* Settings.env("APP_AUTH_TYPE"))?.trim()
    const explicit = appAuthType !== undefined && appAuthType !== ""
      ? { value: appAuthType, name: "APP_AUTH_TYPE" }
      : Option.getOrUndefined(
        Option.map(Option.fromNullable(settings.get("auth_type")), (s) => ({ value: s.value, name: s.name }))
      )
    let authType: Method
    let chosenBy: string
    if (explicit !== undefined) {
      const method = methodNames.get(explicit.value.toLowerCase())
      if (method === undefined) {
        return yield* Effect.fail(
          new ConfigurationError({
            setting: explicit.name,
            message: `${explicit.name} is ${
              JSON.stringify(Redaction.redact(explicit.value, { maxLength: 40 }))
            }, which is not a supported method. Valid values: ${[...methodNames.keys()].join(", ")}`,
            hint: "Use pat, oauth_m2m (or m2m), oauth_u2m (or u2m), token_env or databricks_cli"
          })
        )
      }
      authType = method
      chosenBy = explicit.name
    } else {
      const families: Array<readonly [Method, Setting]> = []
      const m2m = settings.get("client_id") ?? settings.get("client_secret")
      if (settings.has("token")) families.push(["pat", settings.get("token")!])
      if (m2m !== undefined) families.push(["oauth-m2m", m2m])
      if (settings.has("access_token")) families.push(["token-env", settings.get("access_token")!])
      if (families.length === 0) return yield* Effect.fail(nothingConfigured(path))
      if (families.length > 1) {
        const described = families.map(([method, setting]) => `${method} (${setting.name})`)
        return yield* Effect.fail(
          new ConfigurationError({
            setting: "DATABRICKS_AUTH_TYPE",
            message: `More than one authorization method is configured: ${described.join(" and ")}`,
            hint:
              "Choose one with DATABRICKS_AUTH_TYPE or APP_AUTH_TYPE, or unset the others (for example run with env -i)"
          })
        )
      }
      authType = families[0][0]
      chosenBy = "only one configured"
    }

    const host = settings.get("host")
    const normalised = host === undefined
      ? Option.none<string>()
      : Option.some((yield* WorkspaceHost.make(host.value, { setting: host.name })).url)
    const used: ReadonlyArray<Key> = authType === "pat"
      ? ["host", "token"]
      : authType === "oauth-m2m"
      ? ["host", "client_id", "client_secret"]
      : authType === "token-env"
      ? ["host", "access_token"]
      : authType === "oauth-u2m"
      ? ["host", "u2m_client_id", "u2m_client_secret", "redirect_uri"]
      : ["host"]
    const sources: Record<string, Source> = {}
    for (const key of used) {
      const setting = settings.get(key)
      if (setting === undefined) continue
      sources[key] = setting.source
      // Every credential value the method will send goes through the one rule for header values here, where
      // it is read, so the error names where it came from (DATABRICKS_CLIENT_ID, `token in profile dev (...)`).
      const check = credentialChecks.get(key)
      if (check !== undefined) yield* check(setting)
    }
    const clientId = authType === "oauth-m2m"
      ? Option.fromNullable(settings.get("client_id")?.value)
      : authType === "oauth-u2m"
      ? Option.fromNullable(settings.get("u2m_client_id")?.value)
      : Option.none()
    return {
      config: { authType, chosenBy, host: normalised, clientId, profile, sources },
      settings
    }
  })

/**
 * Resolves what would be used, without building a credential. Useful to show
 * users what the app will authenticate as.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolve = (options?: Options): Effect.Effect<AuthConfig, ConfigurationError> =>
  Effect.map(resolveSettings(options), (resolution) => resolution.config)

/**
 * One line, no secrets: `oauth-m2m for https://… (chosen by DATABRICKS_AUTH_TYPE; host from env, ...)`.
 *
 * @since 0.1.0
 * @category resolution
 */
export const describe = (config: AuthConfig): string => {
  const from = Object.entries(config.sources).map(([key, source]) => `${key} from ${source}`).join(", ")
  const host = Option.getOrElse(config.host, () => "no host")
  const who = Option.match(config.clientId, { onNone: () => "", onSome: (id) => ` as ${id}` })
  return `${config.authType}${who} for ${host} (chosen by ${config.chosenBy}; ${from})`
}

const required = (settings: ReadonlyMap<Key, Setting>, key: Key, method: Method) => {
  const setting = settings.get(key)
  return setting === undefined
    ? Effect.fail(
      new ConfigurationError({
        setting: envNames[key],
        message: `${method} needs ${envNames[key]}, which is not set (nor ${
          optionNames[key]
        }, nor ${key} in a profile)`,
        hint: `Set ${envNames[key]}`
      })
    )
    : Effect.succeed(setting)
}

const build = (
  resolution: Resolution,
  options: Options | undefined
): Effect.Effect<
  TokenSource.TokenSource,
  ConfigurationError,
  HttpClient.HttpClient | CommandExecutor.CommandExecutor | Scope.Scope
> =>
  Effect.gen(function*() {
    const { config, settings } = resolution
    switch (config.authType) {
      case "pat": {
        const token = yield* required(settings, "token", "pat")
        return yield* Pat.make({ token: Redacted.make(token.value) })
      }
      case "token-env": {
        const token = yield* required(settings, "access_token", "token-env")
        return yield* TokenEnv.make({ token: Redacted.make(token.value) })
      }
      case "oauth-m2m": {
        const host = yield* required(settings, "host", "oauth-m2m")
        const clientId = yield* required(settings, "client_id", "oauth-m2m")
        const clientSecret = yield* required(settings, "client_secret", "oauth-m2m")
        return yield* M2M.make({
          ...options?.m2m,
          host: host.value,
          clientId: clientId.value,
          clientSecret: Redacted.make(clientSecret.value)
        }, { host: host.name, clientId: clientId.name, clientSecret: clientSecret.name })
      }
      case "oauth-u2m": {
        const host = yield* required(settings, "host", "oauth-u2m")
        const clientId = yield* required(settings, "u2m_client_id", "oauth-u2m")
        const clientSecret = settings.get("u2m_client_secret")
        const redirectUri = settings.get("redirect_uri")
        return yield* U2M.make({
          ...options?.u2m,
          host: host.value,
          clientId: clientId.value,
          ...(clientSecret === undefined ? {} : { clientSecret: Redacted.make(clientSecret.value) }),
          ...(redirectUri === undefined ? {} : { redirectUri: redirectUri.value })
        }, {
          host: host.name,
          clientId: clientId.name,
          clientSecret: clientSecret?.name ?? envNames.u2m_client_secret,
          redirectUri: redirectUri?.name ?? envNames.redirect_uri
        })
      }
      case "databricks-cli": {
        // A profile that was read is passed as --profile; otherwise the host as --host.
        const profile = Option.getOrUndefined(Option.map(config.profile, (p) => p.name))
        const host = settings.get("host")
        return yield* DatabricksCli.make({
          ...options?.cli,
          ...(profile !== undefined ? { profile } : host !== undefined ? { host: host.value } : {})
        })
      }
    }
  })

/**
 * Resolves the credential and provides it as a `TokenSource`, with what was
 * resolved as `AuthConfig`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  options?: Options
): Layer.Layer<
  TokenSource.TokenSource | AuthConfig,
  ConfigurationError,
  HttpClient.HttpClient | CommandExecutor.CommandExecutor
> =>
  Layer.scopedContext(
    Effect.gen(function*() {
      const resolution = yield* resolveSettings(options)
      yield* Effect.logInfo(`Databricks auth: ${describe(resolution.config)}`)
      const source = yield* build(resolution, options)
      return Context.make(TokenSource.TokenSource, source).pipe(Context.add(AuthConfig, resolution.config))
    })
  )
