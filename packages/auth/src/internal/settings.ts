/**
 * The settings of Databricks unified auth: their names in a config file, in the environment and as options,
 * and the method family each belongs to, and how they are collected (options, then environment, then a
 * `~/.databrickscfg` profile) the way the Databricks SDKs collect them.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { ConfigurationError } from "../DatabricksError.js"
import * as Env from "./config.js"
import * as Profile from "./profile.js"

/**
 * The families the SDKs' `validate` counts: two configured with no auth type chosen is a conflict. `token-env`
 * is ours (`DATABRICKS_ACCESS_TOKEN`); `basic` is counted so a conflict is found as the SDKs find it.
 */
export type Family =
  | "pat"
  | "basic"
  | "oauth"
  | "token-env"
  | "env-oidc"
  | "file-oidc"
  | "metadata-service"
  | "azure"

export interface KeySpec {
  /** The environment variables, the first the primary name and the others aliases the SDKs read too. */
  readonly env: ReadonlyArray<string>
  /** The `AuthConfig.Options` field, when there is one. */
  readonly option?: string
  readonly family?: Family
  readonly secret?: boolean
}

/** By config-file name, in the order they are read. Names, aliases and families as in databricks-sdk-py's config.py. */
export const keySpecs = {
  host: { env: ["DATABRICKS_HOST"], option: "host" },
  token: { env: ["DATABRICKS_TOKEN"], option: "token", family: "pat", secret: true },
  username: { env: ["DATABRICKS_USERNAME"], family: "basic" },
  password: { env: ["DATABRICKS_PASSWORD"], family: "basic", secret: true },
  client_id: { env: ["DATABRICKS_CLIENT_ID"], option: "clientId", family: "oauth" },
  client_secret: { env: ["DATABRICKS_CLIENT_SECRET"], option: "clientSecret", family: "oauth", secret: true },
  access_token: { env: ["DATABRICKS_ACCESS_TOKEN"], option: "accessToken", family: "token-env", secret: true },
  auth_type: { env: ["DATABRICKS_AUTH_TYPE"], option: "authType" },
  u2m_client_id: { env: ["DATABRICKS_U2M_CLIENT_ID"], option: "u2m.clientId" },
  u2m_client_secret: { env: ["DATABRICKS_U2M_CLIENT_SECRET"], option: "u2m.clientSecret", secret: true },
  redirect_uri: { env: ["DATABRICKS_REDIRECT_URI"], option: "u2m.redirectUri" },
  oidc_token_env: { env: ["DATABRICKS_OIDC_TOKEN_ENV"], option: "oidcTokenEnv", family: "env-oidc" },
  oidc_token_filepath: {
    env: ["DATABRICKS_OIDC_TOKEN_FILEPATH", "DATABRICKS_OIDC_TOKEN_FILE"],
    option: "oidcTokenFilepath",
    family: "file-oidc"
  },
  token_audience: { env: ["DATABRICKS_TOKEN_AUDIENCE"], option: "tokenAudience" },
  account_id: { env: ["DATABRICKS_ACCOUNT_ID"], option: "accountId" },
  metadata_service_url: {
    env: ["DATABRICKS_METADATA_SERVICE_URL"],
    option: "metadataServiceUrl",
    family: "metadata-service",
    secret: true
  },
  azure_workspace_resource_id: {
    env: ["DATABRICKS_AZURE_RESOURCE_ID"],
    option: "azureWorkspaceResourceId",
    family: "azure"
  },
  azure_use_msi: { env: ["ARM_USE_MSI"], option: "azureUseMsi", family: "azure" },
  azure_client_id: { env: ["ARM_CLIENT_ID"], option: "azureClientId", family: "azure" },
  azure_client_secret: { env: ["ARM_CLIENT_SECRET"], option: "azureClientSecret", family: "azure", secret: true },
  azure_tenant_id: { env: ["ARM_TENANT_ID"], option: "azureTenantId", family: "azure" },
  azure_environment: { env: ["ARM_ENVIRONMENT"], option: "azureEnvironment" },
  databricks_cli_path: { env: ["DATABRICKS_CLI_PATH"], option: "cli.cliPath" },
  warehouse_id: { env: ["DATABRICKS_WAREHOUSE_ID"], option: "warehouseId" },
  http_path: { env: ["DATABRICKS_HTTP_PATH"], option: "httpPath" }
} as const satisfies Record<string, KeySpec>

export type Key = keyof typeof keySpecs

export const keys = Object.keys(keySpecs) as ReadonlyArray<Key>

export const spec = (key: Key): KeySpec => keySpecs[key]

/** The primary environment variable of a setting, for messages. */
export const envName = (key: Key): string => keySpecs[key].env[0]

/** Where a setting came from: defined with `AuthConfig`, whose public type it is. */
export type { Source } from "../AuthConfig.js"
import type { Source } from "../AuthConfig.js"

export interface Setting {
  readonly value: string
  readonly source: Source
  /** How to name it to the user: `DATABRICKS_TOKEN`, `token`, or `token in profile dev (~/.databrickscfg)`. */
  readonly name: string
}

/** What the SDKs read before choosing a method. */
export interface Collected {
  readonly settings: ReadonlyMap<Key, Setting>
  /** The profile whose keys were read. `fallback` is `[DEFAULT]` taken because no profile was named. */
  readonly profile: { readonly name: string; readonly file: string; readonly fallback: boolean } | undefined
  /** The config file that was (or would have been) read. */
  readonly file: string
  /** Why no profile was read, for the "nothing found" error. */
  readonly profileNote: string
}

/** The options `collect` reads, by config-file name: strings, and secrets as they were passed. */
export type OptionValues = { readonly [K in Key]?: string | Redacted.Redacted<string> | undefined } & {
  readonly profile?: string | undefined
  readonly configFile?: string | undefined
}

/** `azure_use_msi` is a boolean: only a true value configures it (as the SDKs parse booleans). */
const truthy = (value: string) => /^(true|1|yes|on|t|y)$/i.test(value)

/**
 * Options, then environment variables, then a profile, each filling only what is still unset; blank values
 * count as unset (the SDKs skip empty environment variables). The profile is read when one is named
 * (`profile`, `DATABRICKS_CONFIG_PROFILE`) or when nothing configures a credential or a host yet, as the SDKs'
 * config-file loader decides. A missing file is no profile, even a named one (both SDKs ignore it); a named
 * profile missing from a file that exists is an error.
 */
export const collect = (options: OptionValues): Effect.Effect<Collected, ConfigurationError> =>
  Effect.gen(function*() {
    const settings = new Map<Key, Setting>()
    const put = (key: Key, value: string | undefined, source: Source, name: string) => {
      if (settings.has(key) || value === undefined || value.trim() === "") return
      if (key === "azure_use_msi" && !truthy(value.trim())) return
      settings.set(key, { value: value.trim(), source, name })
    }
    for (const key of keys) {
      const given = options[key]
      const option = keySpecs[key] as KeySpec
      if (option.option === undefined) continue
      put(key, Redacted.isRedacted(given) ? Redacted.value(given) : given, "option", option.option)
    }
    for (const key of keys) {
      const names = keySpecs[key].env
      for (const name of names) {
        // Read only what can still be used: a variable behind an option (or an earlier variable) is not read, so
        // one that the provider cannot read fails the resolution only when it would have counted.
        if (settings.has(key)) break
        const value = (keySpecs[key] as KeySpec).secret === true
          ? yield* Effect.map(
            Env.envSecret(name),
            (secret) => secret === undefined ? undefined : Redacted.value(secret)
          )
          : yield* Env.env(name)
        put(key, value, "env", name)
      }
    }

    const profileOption = options.profile?.trim() || undefined
    const profileEnv = (yield* Env.env("DATABRICKS_CONFIG_PROFILE"))?.trim() || undefined
    const named = profileOption !== undefined
      ? { name: profileOption, from: "profile" }
      : profileEnv !== undefined
      ? { name: profileEnv, from: "DATABRICKS_CONFIG_PROFILE" }
      : undefined
    const fileOption = options.configFile?.trim() || undefined
    const fileSetting = fileOption ?? (yield* Env.env("DATABRICKS_CONFIG_FILE"))?.trim()
    const path = Profile.expandHome(fileSetting || Profile.defaultPath())
    const configured = keys.some((key) =>
      settings.has(key) &&
      (key === "host" || (keySpecs[key] as KeySpec).family !== undefined)
    )
    if (named === undefined && configured) {
      return { settings, profile: undefined, file: path, profileNote: `${path} was not read (settings were given)` }
    }
    const file = yield* Profile.load(path, fileOption === undefined ? "DATABRICKS_CONFIG_FILE" : "configFile")
    if (file === undefined) {
      const note = named === undefined
        ? `${path} does not exist`
        : `the profile ${named.name} was asked for by ${named.from}, but ${path} does not exist`
      return { settings, profile: undefined, file: path, profileNote: note }
    }
    const selected = yield* Profile.select(file, named)
    if (selected === undefined) {
      return {
        settings,
        profile: undefined,
        file: path,
        profileNote: `${path} has no DEFAULT profile and none was named`
      }
    }
    for (const key of keys) {
      put(key, selected.keys.get(key), `profile:${selected.name}`, `${key} in profile ${selected.name} (${path})`)
    }
    return {
      settings,
      profile: { name: selected.name, file: path, fallback: selected.fallback },
      file: path,
      profileNote: `profile ${selected.name} of ${path}`
    }
  })
