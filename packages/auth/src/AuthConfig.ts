/**
 * Resolves the credential the way the Databricks SDKs' unified auth does, and provides it as a `TokenSource`.
 *
 * 1. Each setting is taken from explicit options, then environment variables, then a `~/.databrickscfg`
 *    profile: the one named (`profile`, `DATABRICKS_CONFIG_PROFILE`), else `[__settings__] default_profile`,
 *    else `[DEFAULT]`; no profile is read when none is named and the options or environment already set a host
 *    or a credential.
 * 2. `APP_AUTH_TYPE`, else `DATABRICKS_AUTH_TYPE` (or `authType`, or the profile's `auth_type`) picks the
 *    method outright. Otherwise two configured methods are a conflict, and the default chain (`defaultChain`,
 *    the SDKs' order) takes the first method whose settings are there: a host alone falls back to the
 *    Databricks CLI when it is installed. None is a `ConfigurationError` that lists what was tried, in order.
 * 3. Every method needs the workspace host, as in the SDKs.
 *
 * What was resolved (method, principal when it is known without a request, host, warehouse, and where each
 * setting came from, never a secret) is logged once at info level and provided as the `AuthConfig` service.
 * `resolveWorkspace` gives the host and warehouse from the same settings, for `SqlClient.layerConfig`.
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
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as AzureCli from "./AzureCli.js"
import * as AzureClientSecret from "./AzureClientSecret.js"
import * as AzureMsi from "./AzureMsi.js"
import * as DatabricksCli from "./DatabricksCli.js"
import { ConfigurationError } from "./DatabricksError.js"
import * as EnvOidc from "./EnvOidc.js"
import * as FileOidc from "./FileOidc.js"
import * as GitHubOidc from "./GitHubOidc.js"
import * as Env from "./internal/config.js"
import * as Jwt from "./internal/jwt.js"
import * as M2M from "./internal/m2m.js"
import * as ProfileToken from "./internal/profileToken.js"
import * as Resolution from "./internal/resolution.js"
import * as Settings from "./internal/settings.js"
import * as TokenValue from "./internal/tokenValue.js"
import * as U2M from "./internal/u2m.js"
import type * as LocalM2M from "./LocalM2M.js"
import * as MetadataService from "./MetadataService.js"
import * as Pat from "./Pat.js"
import * as TokenEnv from "./TokenEnv.js"
import * as TokenSource from "./TokenSource.js"
import type * as U2MPkce from "./U2MPkce.js"
import * as WorkspaceHost from "./WorkspaceHost.js"

/**
 * The credential methods `AuthConfig` can resolve to, by the SDKs' `DATABRICKS_AUTH_TYPE` names (`oauth-u2m` is
 * their `external-browser`, which is accepted as a spelling; `token-env` is this library's).
 *
 * @since 0.1.0
 * @category models
 */
export type Method =
  | "pat"
  | "token-env"
  | "metadata-service"
  | "oauth-m2m"
  | "env-oidc"
  | "file-oidc"
  | "github-oidc"
  | "azure-msi"
  | "azure-client-secret"
  | "azure-cli"
  | "oauth-u2m"
  | "databricks-cli"

/**
 * The default chain, in order: without an explicit auth type, the first method whose settings are all there
 * is used. databricks-sdk-py's order, without the methods this library does not have, with `token-env` after
 * `pat` and `azure-msi` before `azure-client-secret` (the Go SDK's place for it). `oauth-u2m` is used only when
 * asked for.
 *
 * @since 0.3.0
 * @category resolution
 */
export const defaultChain: ReadonlyArray<Method> = Resolution.defaultChain

/**
 * Where a setting came from: an explicit option, an environment variable, or a profile (`profile:NAME`).
 *
 * @since 0.1.0
 * @category models
 */
export type Source = "option" | "env" | `profile:${string}`

/**
 * A setting as resolved: its value (never a secret), where it came from, and how to name it to the user
 * (`DATABRICKS_WAREHOUSE_ID`, `httpPath`, `warehouse_id in profile dev (…)`).
 *
 * @since 0.3.0
 * @category models
 */
export interface Resolved {
  readonly value: string
  readonly source: Source
  readonly name: string
}

/**
 * The workspace the settings point at: the normalised host URL and the SQL warehouse's HTTP path
 * (`warehouse_id` becomes `/sql/1.0/warehouses/<id>`; `http_path` is taken as it is).
 *
 * @since 0.3.0
 * @category models
 */
export interface Workspace {
  readonly host: Option.Option<Resolved>
  readonly httpPath: Option.Option<Resolved>
  /** The profile that was read, if any, and its file. */
  readonly profile: Option.Option<{ readonly name: string; readonly file: string }>
}

/**
 * What was resolved. Holds no secret.
 *
 * @since 0.1.0
 * @category models
 */
export interface AuthConfig {
  readonly authType: Method
  /**
   * How the method was chosen: `APP_AUTH_TYPE`, `DATABRICKS_AUTH_TYPE`, `authType`, a profile's `auth_type`, or
   * `default chain`.
   */
  readonly chosenBy: string
  /** The methods of the default chain tried before this one, each with why it did not apply. */
  readonly tried: ReadonlyArray<string>
  /** The normalised workspace URL. */
  readonly host: Option.Option<string>
  /** The OAuth client: the service principal for `oauth-m2m`, the app for `oauth-u2m`. */
  readonly clientId: Option.Option<string>
  /**
   * Who the credential is, when that is known without a request: the service principal's client id, the
   * Azure client id, or the `sub` of a token that is a JWT. Otherwise it is logged with the first token.
   */
  readonly principal: Option.Option<string>
  /** The profile that was read, if any, and its file. */
  readonly profile: Option.Option<{ readonly name: string; readonly file: string }>
  /** Where each setting that was used came from, by setting name (`host`, `token`, `client_id`, ...). */
  readonly sources: Readonly<Record<string, Source>>
  /** The host and SQL warehouse from the same settings (what `SqlClient.layerConfig` uses). */
  readonly workspace: Workspace
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
  /** A method of `Method`, or an SDK spelling of one (`oauth_m2m`, `external-browser`, ...). */
  readonly authType?: string | undefined
  readonly profile?: string | undefined
  readonly configFile?: string | undefined
  /** `env-oidc`: the variable that holds the federated token. Default `DATABRICKS_OIDC_TOKEN`. @since 0.3.0 */
  readonly oidcTokenEnv?: string | undefined
  /** `file-oidc`: the file that holds the federated token. @since 0.3.0 */
  readonly oidcTokenFilepath?: string | undefined
  /** Workload identity federation: the audience of the federated token. @since 0.3.0 */
  readonly tokenAudience?: string | undefined
  /** @since 0.3.0 */
  readonly accountId?: string | undefined
  /** `metadata-service`: the local token server's URL. @since 0.3.0 */
  readonly metadataServiceUrl?: string | undefined
  /** @since 0.3.0 */
  readonly azureWorkspaceResourceId?: string | undefined
  /** `azure-msi`: use the managed identity. @since 0.3.0 */
  readonly azureUseMsi?: boolean | undefined
  /** @since 0.3.0 */
  readonly azureClientId?: string | undefined
  /** @since 0.3.0 */
  readonly azureClientSecret?: Redacted.Redacted<string> | undefined
  /** @since 0.3.0 */
  readonly azureTenantId?: string | undefined
  /** @since 0.3.0 */
  readonly azureEnvironment?: string | undefined
  /** The SQL warehouse: becomes `/sql/1.0/warehouses/<id>` in `workspace.httpPath`. @since 0.3.0 */
  readonly warehouseId?: string | undefined
  /** The SQL warehouse's HTTP path (wins over `warehouseId` from the same source). @since 0.3.0 */
  readonly httpPath?: string | undefined
  /** Passed to `LocalM2M` when the method is `oauth-m2m`. */
  readonly m2m?: Omit<LocalM2M.Options, "host" | "clientId" | "clientSecret"> | undefined
  /** Passed to `U2MPkce` when the method is `oauth-u2m` (its `clientId` etc. win over the environment). */
  readonly u2m?: Partial<Omit<U2MPkce.Options, "host">> | undefined
  /** Passed to `DatabricksCli` when the method is `databricks-cli` (its `cliPath` is looked for in the chain). */
  readonly cli?: Omit<DatabricksCli.Options, "host" | "profile"> | undefined
  /** Passed to `EnvOidc`, `FileOidc` or `GitHubOidc` when the method is `env-oidc`, `file-oidc` or `github-oidc`. @since 0.3.0 */
  readonly federation?:
    | Pick<EnvOidc.Options, "scopes" | "tokenEndpoint" | "refreshAhead" | "requestTimeout" | "retry">
    | undefined
  /**
   * Passed to `AzureClientSecret` or `AzureMsi` when the method is `azure-client-secret` or `azure-msi`
   * (`authorityHost` defaults to `AZURE_AUTHORITY_HOST`, `endpoint` to `AZURE_POD_IDENTITY_AUTHORITY_HOST`).
   * @since 0.3.0
   */
  readonly azure?:
    | Pick<AzureClientSecret.Options, "authorityHost" | "resource" | "refreshAhead" | "requestTimeout" | "retry">
      & Pick<AzureMsi.Options, "endpoint">
    | undefined
  /** Passed to `AzureCli` when the method is `azure-cli` (its `cliPath` is looked for in the chain). @since 0.3.0 */
  readonly azureCli?: Pick<AzureCli.Options, "cliPath" | "timeout" | "refreshAhead" | "resource"> | undefined
  /** Passed to `MetadataService` when the method is `metadata-service`. @since 0.3.0 */
  readonly metadataService?: Pick<MetadataService.Options, "refreshAhead" | "requestTimeout" | "retry"> | undefined
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
    for (const nested of ["u2m", "cli", "federation", "azure", "azureCli", "metadataService"]) {
      const value = given[nested]
      if (value !== undefined && (typeof value !== "object" || value === null)) {
        return yield* wrongType(nested, "an object")
      }
    }
    const u2m = (given.u2m ?? {}) as Record<string, unknown>
    const cli = (given.cli ?? {}) as Record<string, unknown>
    const strings: ReadonlyArray<readonly [string, unknown]> = [
      ...[
        "host",
        "clientId",
        "authType",
        "profile",
        "configFile",
        "oidcTokenEnv",
        "oidcTokenFilepath",
        "tokenAudience",
        "accountId",
        "metadataServiceUrl",
        "azureWorkspaceResourceId",
        "azureClientId",
        "azureTenantId",
        "azureEnvironment",
        "warehouseId",
        "httpPath"
      ].map((name) => [name, given[name]] as const),
      ["u2m.clientId", u2m.clientId],
      ["u2m.redirectUri", u2m.redirectUri],
      ["cli.cliPath", cli.cliPath],
      ["azureCli.cliPath", ((given.azureCli ?? {}) as Record<string, unknown>).cliPath]
    ]
    for (const [name, value] of strings) {
      if (value !== undefined && typeof value !== "string") return yield* wrongType(name, "a string")
    }
    if (given.azureUseMsi !== undefined && typeof given.azureUseMsi !== "boolean") {
      return yield* wrongType("azureUseMsi", "true or false")
    }
    const secrets: ReadonlyArray<readonly [string, unknown]> = [
      ["token", given.token],
      ["clientSecret", given.clientSecret],
      ["accessToken", given.accessToken],
      ["azureClientSecret", given.azureClientSecret],
      ["u2m.clientSecret", u2m.clientSecret]
    ]
    for (const [name, value] of secrets) {
      if (value !== undefined && !(Redacted.isRedacted(value) && typeof Redacted.value(value) === "string")) {
        return yield* wrongType(name, "a Redacted string (Redacted.make(value))")
      }
    }
  })

const optionValues = (options: Options | undefined): Settings.OptionValues => ({
  host: options?.host,
  token: options?.token,
  client_id: options?.clientId,
  client_secret: options?.clientSecret,
  access_token: options?.accessToken,
  auth_type: options?.authType,
  u2m_client_id: options?.u2m?.clientId,
  u2m_client_secret: options?.u2m?.clientSecret,
  redirect_uri: options?.u2m?.redirectUri,
  oidc_token_env: options?.oidcTokenEnv,
  oidc_token_filepath: options?.oidcTokenFilepath,
  token_audience: options?.tokenAudience,
  account_id: options?.accountId,
  metadata_service_url: options?.metadataServiceUrl,
  azure_workspace_resource_id: options?.azureWorkspaceResourceId,
  azure_use_msi: options?.azureUseMsi === true ? "true" : undefined,
  azure_client_id: options?.azureClientId,
  azure_client_secret: options?.azureClientSecret,
  azure_tenant_id: options?.azureTenantId,
  azure_environment: options?.azureEnvironment,
  databricks_cli_path: options?.cli?.cliPath,
  warehouse_id: options?.warehouseId,
  http_path: options?.httpPath,
  profile: options?.profile,
  configFile: options?.configFile
})

/**
 * The settings sent in a header or a token request, with the check of the one rule for credential values
 * (`internal/tokenValue.ts`): a control character, a character beyond Latin-1, or more than 8 KiB is a
 * `ConfigurationError` naming the setting that never shows the value. Only the chosen method's settings are
 * checked: a stray variable for another method does not block this one.
 */
const credentialChecks: ReadonlyMap<
  Settings.Key,
  (setting: Settings.Setting) => Effect.Effect<unknown, ConfigurationError>
> = new Map<Settings.Key, (setting: Settings.Setting) => Effect.Effect<unknown, ConfigurationError>>([
  ["token", secretCheck("a personal access token (dapi…)")],
  ["access_token", secretCheck("an access token obtained beforehand")],
  ["client_id", textCheck("the service principal's application (client) id")],
  ["client_secret", secretCheck("an OAuth secret of the service principal")],
  ["u2m_client_id", textCheck("the client id of the OAuth app registered for user login")],
  ["u2m_client_secret", secretCheck("the OAuth app's secret, or unset it for a public app")],
  ["azure_client_id", textCheck("the Entra ID application (client) id")],
  ["azure_client_secret", secretCheck("a client secret of the Entra ID application")]
])

function secretCheck(what: string) {
  return (s: Settings.Setting) =>
    TokenValue.configuredSecret(Redacted.make(s.value), { name: s.name, hint: `Set ${s.name} to ${what}` })
}
function textCheck(what: string) {
  return (s: Settings.Setting) => TokenValue.configuredText(s.value, { name: s.name, hint: `Set ${s.name} to ${what}` })
}

interface Resolution {
  readonly config: AuthConfig
  readonly collected: Settings.Collected
}

const warehouseIdPattern = /^[A-Za-z0-9]+$/

/** The host and warehouse of collected settings, normalised, each with where it came from. */
const workspaceOf = (collected: Settings.Collected): Effect.Effect<Workspace, ConfigurationError> =>
  Effect.gen(function*() {
    const { settings } = collected
    const hostSetting = settings.get("host")
    const host = hostSetting === undefined
      ? Option.none<Resolved>()
      : Option.some({
        ...hostSetting,
        value: (yield* WorkspaceHost.make(hostSetting.value, { setting: hostSetting.name })).url
      })
    // The higher-precedence source wins (option, env, profile); from the same source, http_path.
    const rank = (setting: Settings.Setting) => setting.source === "option" ? 0 : setting.source === "env" ? 1 : 2
    const path = settings.get("http_path")
    const id = settings.get("warehouse_id")
    let httpPath = Option.none<Resolved>()
    if (id !== undefined && (path === undefined || rank(id) < rank(path))) {
      if (!warehouseIdPattern.test(id.value)) {
        return yield* Effect.fail(
          new ConfigurationError({
            setting: id.name,
            message: `${id.name} is not a warehouse id (letters and digits, such as 1234567890abcdef)`,
            hint: "Copy the id from the warehouse's Overview page, or set the HTTP path instead"
          })
        )
      }
      httpPath = Option.some({ ...id, value: `/sql/1.0/warehouses/${id.value}` })
    } else if (path !== undefined) {
      httpPath = Option.some({ ...path, value: path.value.startsWith("/") ? path.value : `/${path.value}` })
    }
    const profile = collected.profile === undefined
      ? Option.none()
      : Option.some({ name: collected.profile.name, file: collected.profile.file })
    return { host, httpPath, profile }
  })

const resolveSettings = (options: Options | undefined): Effect.Effect<Resolution, ConfigurationError> =>
  Effect.gen(function*() {
    yield* checkOptions(options)
    const collected = yield* Settings.collect(optionValues(options))
    const { settings } = collected
    const choice = yield* Resolution.choose(collected, yield* Env.env("APP_AUTH_TYPE"), {
      databricks: options?.cli?.cliPath,
      az: options?.azureCli?.cliPath
    })
    const method = choice.method
    const workspace = yield* workspaceOf(collected)
    const spec = Resolution.methods.get(method)!
    const sources: Record<string, Source> = {}
    for (const key of [...spec.needs, ...spec.uses, "warehouse_id", "http_path"] as ReadonlyArray<Settings.Key>) {
      const setting = settings.get(key)
      if (setting === undefined) continue
      sources[key] = setting.source
      // Every credential value the method will send goes through the one rule for header values here, where
      // it is read, so the error names where it came from (DATABRICKS_CLIENT_ID, `token in profile dev (...)`).
      const check = credentialChecks.get(key)
      if (check !== undefined) yield* check(setting)
    }
    const value = (key: Settings.Key) => Option.fromNullable(settings.get(key)?.value)
    const clientId = method === "oauth-m2m"
      ? value("client_id")
      : method === "oauth-u2m"
      ? Option.orElse(value("u2m_client_id"), () => value("client_id"))
      : Option.none()
    const principal = method === "oauth-m2m" || method === "env-oidc" || method === "file-oidc" ||
        method === "github-oidc"
      ? value("client_id")
      : method === "azure-client-secret" || method === "azure-msi"
      ? value("azure_client_id")
      : method === "token-env"
      ? Option.flatMap(value("access_token"), Jwt.subject)
      : Option.none()
    return {
      config: {
        authType: method,
        chosenBy: choice.chosenBy,
        tried: choice.tried,
        host: Option.map(workspace.host, (host) => host.value),
        clientId,
        principal,
        profile: workspace.profile,
        sources,
        workspace
      },
      collected
    }
  })

/**
 * Resolves what would be used, without building a credential and without any request. Useful to show users
 * what the app will authenticate as.
 *
 * @since 0.1.0
 * @category resolution
 */
export const resolve = (options?: Options): Effect.Effect<AuthConfig, ConfigurationError> =>
  Effect.map(resolveSettings(options), (resolution) => resolution.config)

/**
 * The host and SQL warehouse from the same settings as the credential (options, environment, profile), without
 * choosing a method: what `SqlClient.layerConfig` reads when no `AuthConfig` service is there.
 *
 * @since 0.3.0
 * @category resolution
 */
export const resolveWorkspace = (options?: Options): Effect.Effect<Workspace, ConfigurationError> =>
  Effect.gen(function*() {
    yield* checkOptions(options)
    return yield* workspaceOf(yield* Settings.collect(optionValues(options)))
  })

/**
 * One line, no secrets: `oauth-m2m as <principal> for https://… (chosen by default chain; host from env, ...)`.
 *
 * @since 0.1.0
 * @category resolution
 */
export const describe = (config: AuthConfig): string => {
  const from = Object.entries(config.sources).map(([key, source]) => `${key} from ${source}`).join(", ")
  const host = Option.getOrElse(config.host, () => "no host")
  const principal = Option.orElse(config.principal, () => config.clientId)
  const who = Option.match(principal, { onNone: () => "", onSome: (id) => ` as ${id}` })
  return `${config.authType}${who} for ${host} (chosen by ${config.chosenBy}; ${from})`
}

/** A setting the chosen method needs; the chain only chooses a method whose settings are there. */
const get = (settings: ReadonlyMap<Settings.Key, Settings.Setting>, key: Settings.Key) => settings.get(key)!

/** `{ [field]: value }` when the setting is set, else nothing: for optional fields of a method's options. */
const optional = <F extends string>(
  settings: ReadonlyMap<Settings.Key, Settings.Setting>,
  key: Settings.Key,
  field: F
): { readonly [K in F]?: string } => {
  const setting = settings.get(key)
  return (setting === undefined ? {} : { [field]: setting.value }) as { readonly [K in F]?: string }
}

const pickAzure = (options: Options | undefined) => ({
  ...(options?.azure?.resource === undefined ? {} : { resource: options.azure.resource }),
  ...(options?.azure?.refreshAhead === undefined ? {} : { refreshAhead: options.azure.refreshAhead }),
  ...(options?.azure?.requestTimeout === undefined ? {} : { requestTimeout: options.azure.requestTimeout }),
  ...(options?.azure?.retry === undefined ? {} : { retry: options.azure.retry })
})

type Requirements = HttpClient.HttpClient | CommandExecutor.CommandExecutor | Scope.Scope

const build = (
  resolution: Resolution,
  options: Options | undefined
): Effect.Effect<TokenSource.TokenSource, ConfigurationError, Requirements> =>
  Effect.gen(function*() {
    const { collected, config } = resolution
    const { settings } = collected
    switch (config.authType) {
      case "pat": {
        const token = get(settings, "token")
        const pat = yield* Pat.make({ token: Redacted.make(token.value) })
        // A token from a profile is read from its file again for each new token, as Posit Workbench refreshes
        // the one it keeps there (its `workbench` profile); checked once here so a bad one fails at startup.
        return collected.profile !== undefined && token.source === `profile:${collected.profile.name}`
          ? yield* ProfileToken.make({ file: collected.profile.file, profile: collected.profile.name, authType: "pat" })
          : pat
      }
      case "token-env":
        return yield* TokenEnv.make({ token: Redacted.make(get(settings, "access_token").value) })
      case "oauth-m2m": {
        const host = get(settings, "host")
        const clientId = get(settings, "client_id")
        const clientSecret = get(settings, "client_secret")
        return yield* M2M.make({
          ...options?.m2m,
          host: host.value,
          clientId: clientId.value,
          clientSecret: Redacted.make(clientSecret.value)
        }, { host: host.name, clientId: clientId.name, clientSecret: clientSecret.name })
      }
      case "oauth-u2m": {
        const host = get(settings, "host")
        // As the SDKs' external-browser: the configured client (DATABRICKS_CLIENT_ID with its secret when no
        // U2M client is set), else the public databricks-cli app (U2MPkce's default).
        const own = settings.get("u2m_client_id")
        const clientId = own ?? settings.get("client_id")
        const clientSecret = own !== undefined || settings.has("u2m_client_secret")
          ? settings.get("u2m_client_secret")
          : clientId === undefined
          ? undefined
          : settings.get("client_secret")
        const redirectUri = settings.get("redirect_uri")
        return yield* U2M.make({
          ...options?.u2m,
          host: host.value,
          ...(clientId === undefined ? {} : { clientId: clientId.value }),
          ...(clientSecret === undefined ? {} : { clientSecret: Redacted.make(clientSecret.value) }),
          ...(redirectUri === undefined ? {} : { redirectUri: redirectUri.value })
        }, {
          host: host.name,
          clientId: clientId?.name ?? Settings.envName("u2m_client_id"),
          clientSecret: clientSecret?.name ?? Settings.envName("u2m_client_secret"),
          redirectUri: redirectUri?.name ?? Settings.envName("redirect_uri")
        })
      }
      case "databricks-cli": {
        // As the SDKs: a profile that was named (or is the default_profile) is passed as --profile; otherwise
        // the host as --host.
        const profile = collected.profile !== undefined && !collected.profile.fallback
          ? collected.profile.name
          : undefined
        const cliPath = options?.cli?.cliPath ?? settings.get("databricks_cli_path")?.value
        return yield* DatabricksCli.make({
          ...options?.cli,
          ...(cliPath === undefined ? {} : { cliPath }),
          ...(profile !== undefined ? { profile } : { host: get(settings, "host").value })
        })
      }
      case "metadata-service":
        return yield* MetadataService.make({
          ...options?.metadataService,
          host: get(settings, "host").value,
          url: Redacted.make(get(settings, "metadata_service_url").value)
        })
      case "env-oidc":
        return yield* EnvOidc.make({
          ...options?.federation,
          host: get(settings, "host").value,
          ...optional(settings, "client_id", "clientId"),
          ...optional(settings, "oidc_token_env", "tokenEnv")
        })
      case "file-oidc":
        return yield* FileOidc.make({
          ...options?.federation,
          host: get(settings, "host").value,
          ...optional(settings, "client_id", "clientId"),
          tokenFilepath: get(settings, "oidc_token_filepath").value
        })
      case "github-oidc": {
        // Set by GitHub in a job with `permissions: id-token: write`; the chain only picks github-oidc then.
        const requestUrl = yield* Env.env("ACTIONS_ID_TOKEN_REQUEST_URL")
        const requestToken = yield* Env.envSecret("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        if (requestUrl === undefined || requestToken === undefined) {
          return yield* Effect.fail(
            new ConfigurationError({
              setting: "ACTIONS_ID_TOKEN_REQUEST_URL",
              message:
                "github-oidc needs ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN, which are not set",
              hint: "Run in a GitHub Actions job with `permissions: id-token: write`"
            })
          )
        }
        return yield* GitHubOidc.make({
          ...options?.federation,
          host: get(settings, "host").value,
          ...optional(settings, "client_id", "clientId"),
          ...optional(settings, "token_audience", "audience"),
          requestUrl,
          requestToken
        })
      }
      case "azure-client-secret": {
        const tenant = settings.get("azure_tenant_id")
        if (tenant === undefined) {
          return yield* Effect.fail(
            new ConfigurationError({
              setting: "ARM_TENANT_ID",
              message: "azure-client-secret needs ARM_TENANT_ID (nor azureTenantId, nor azure_tenant_id in a profile)",
              hint: "Set ARM_TENANT_ID to the Directory (tenant) ID of the app registration"
            })
          )
        }
        const authorityHost = options?.azure?.authorityHost ?? (yield* Env.env("AZURE_AUTHORITY_HOST"))
        return yield* AzureClientSecret.make({
          ...pickAzure(options),
          clientId: get(settings, "azure_client_id").value,
          clientSecret: Redacted.make(get(settings, "azure_client_secret").value),
          tenantId: tenant.value,
          ...optional(settings, "azure_workspace_resource_id", "workspaceResourceId"),
          ...optional(settings, "azure_environment", "environment"),
          ...(authorityHost === undefined || authorityHost.trim() === "" ? {} : { authorityHost })
        })
      }
      case "azure-msi": {
        const endpoint = options?.azure?.endpoint ?? (yield* Env.env("AZURE_POD_IDENTITY_AUTHORITY_HOST"))
        return yield* AzureMsi.make({
          ...pickAzure(options),
          ...optional(settings, "azure_client_id", "clientId"),
          ...optional(settings, "azure_workspace_resource_id", "workspaceResourceId"),
          ...optional(settings, "azure_environment", "environment"),
          ...(endpoint === undefined || endpoint.trim() === "" ? {} : { endpoint })
        })
      }
      case "azure-cli":
        return yield* AzureCli.make({
          ...options?.azureCli,
          ...optional(settings, "azure_tenant_id", "tenantId"),
          ...optional(settings, "azure_workspace_resource_id", "workspaceResourceId"),
          ...optional(settings, "azure_environment", "environment")
        })
    }
  })

/**
 * Logs who the credential belongs to with its first token, when the resolution could not tell (`oauth-u2m`,
 * `metadata-service`, ...) and the token is a JWT: no request beyond the one the app makes anyway.
 */
const announcing = (source: TokenSource.TokenSource): Effect.Effect<TokenSource.TokenSource> =>
  Effect.map(Ref.make(false), (announced) => ({
    ...source,
    token: Effect.tap(source.token, (token) =>
      Effect.flatMap(Ref.getAndSet(announced, true), (done) =>
        done
          ? Effect.void
          : Option.match(Jwt.subject(Redacted.value(token.value)), {
            onNone: () => Effect.void,
            onSome: (sub) => Effect.logInfo(`Databricks auth: ${source.authType} token belongs to ${sub}`)
          })))
  }))

/**
 * Resolves the credential and provides it as a `TokenSource`, with what was resolved as `AuthConfig`.
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
      const { config } = resolution
      yield* Effect.logInfo(`Databricks auth: ${describe(config)}`)
      if (config.tried.length > 0) yield* Effect.logDebug(`Databricks auth: tried first ${config.tried.join("; ")}`)
      const built = yield* build(resolution, options)
      // PATs are opaque and the CLI logs its token's principal itself.
      const source = Option.isNone(config.principal) && config.authType !== "pat" &&
          config.authType !== "databricks-cli"
        ? yield* announcing(built)
        : built
      return Context.make(TokenSource.TokenSource, source).pipe(Context.add(AuthConfig, config))
    })
  )
