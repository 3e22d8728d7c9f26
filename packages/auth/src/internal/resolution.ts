/**
 * Which credential method applies, chosen as the Databricks SDKs' unified auth chooses it: an explicit auth
 * type, else the first method of the default chain whose settings are all there (and whose tool or token is
 * found, for the methods that look for one), after refusing two configured families with no choice made.
 *
 * @internal
 */
import * as Effect from "effect/Effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { ConfigurationError } from "../DatabricksError.js"
import * as Redaction from "../Redaction.js"
import * as Env from "./config.js"
import type { Collected, Family, Key, Setting } from "./settings.js"
import * as Settings from "./settings.js"

/** The credential methods: defined with `AuthConfig`, whose public type it is. */
export type { Method } from "../AuthConfig.js"
import type { Method } from "../AuthConfig.js"

interface MethodSpec {
  /** Settings that must all be set for the method to apply. */
  readonly needs: ReadonlyArray<Key>
  /** Settings it reads when they are set (for the sources in the report, and the credential-value checks). */
  readonly uses: ReadonlyArray<Key>
  /** What configures it, for the "nothing found" hint. */
  readonly set: string
}

/**
 * Every method and what it needs, as databricks-sdk-py's `credentials_provider.py` declares it (the `require`
 * lists of its strategies), plus a host for every method: this library talks to a workspace.
 */
export const methods: ReadonlyMap<Method, MethodSpec> = new Map<Method, MethodSpec>([
  ["pat", { needs: ["host", "token"], uses: [], set: "DATABRICKS_TOKEN" }],
  ["token-env", { needs: ["host", "access_token"], uses: [], set: "DATABRICKS_ACCESS_TOKEN" }],
  [
    "metadata-service",
    { needs: ["host", "metadata_service_url"], uses: [], set: "DATABRICKS_METADATA_SERVICE_URL" }
  ],
  [
    "oauth-m2m",
    {
      needs: ["host", "client_id", "client_secret"],
      uses: [],
      set: "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"
    }
  ],
  [
    "env-oidc",
    {
      needs: ["host"],
      uses: ["oidc_token_env", "client_id", "token_audience", "account_id"],
      set: "DATABRICKS_OIDC_TOKEN (or the variable DATABRICKS_OIDC_TOKEN_ENV names)"
    }
  ],
  [
    "file-oidc",
    {
      needs: ["host", "oidc_token_filepath"],
      uses: ["client_id", "token_audience", "account_id"],
      set: "DATABRICKS_OIDC_TOKEN_FILEPATH"
    }
  ],
  [
    "github-oidc",
    {
      needs: ["host", "client_id"],
      uses: ["token_audience", "account_id"],
      set: "DATABRICKS_CLIENT_ID in a GitHub Actions job with id-token: write"
    }
  ],
  [
    "azure-msi",
    {
      needs: ["host", "azure_use_msi"],
      uses: ["azure_client_id", "azure_workspace_resource_id", "azure_environment"],
      set: "ARM_USE_MSI=true (and ARM_CLIENT_ID for a user-assigned identity) on an Azure VM"
    }
  ],
  [
    "azure-client-secret",
    {
      needs: ["host", "azure_client_id", "azure_client_secret"],
      uses: ["azure_tenant_id", "azure_workspace_resource_id", "azure_environment"],
      set: "ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID"
    }
  ],
  [
    "azure-cli",
    {
      needs: ["host"],
      uses: ["azure_tenant_id", "azure_workspace_resource_id", "azure_environment"],
      set: "an Azure Databricks host and az login"
    }
  ],
  [
    "oauth-u2m",
    {
      needs: ["host"],
      uses: ["u2m_client_id", "u2m_client_secret", "redirect_uri", "client_id", "client_secret"],
      set: "DATABRICKS_AUTH_TYPE=external-browser"
    }
  ],
  ["databricks-cli", { needs: ["host"], uses: ["databricks_cli_path"], set: "databricks auth login" }]
])

/**
 * The default chain: databricks-sdk-py's `DefaultCredentials` order, restricted to the methods this library
 * has (`basic`, the Google, runtime and model-serving methods are not), with `token-env` (ours) right after
 * `pat`, and `azure-msi` (which the Go SDK has and the Python SDK has not) where the Go SDK puts it, before
 * `azure-client-secret`. `oauth-u2m` is never chosen without being asked for, as in the SDKs.
 */
export const defaultChain: ReadonlyArray<Method> = [
  "pat",
  "token-env",
  "metadata-service",
  "oauth-m2m",
  "env-oidc",
  "file-oidc",
  "github-oidc",
  "azure-msi",
  "azure-client-secret",
  "azure-cli",
  "databricks-cli"
]

// A Map, not an object literal: a lookup by user text ("constructor", "__proto__") must never reach a prototype.
export const methodNames: ReadonlyMap<string, Method> = new Map<string, Method>([
  ["pat", "pat"],
  ["oauth-m2m", "oauth-m2m"],
  ["oauth_m2m", "oauth-m2m"],
  ["m2m", "oauth-m2m"],
  ["oauth-u2m", "oauth-u2m"],
  ["oauth_u2m", "oauth-u2m"],
  ["u2m", "oauth-u2m"],
  ["external-browser", "oauth-u2m"],
  ["external_browser", "oauth-u2m"],
  ["token-env", "token-env"],
  ["token_env", "token-env"],
  ["databricks-cli", "databricks-cli"],
  ["databricks_cli", "databricks-cli"],
  ["env-oidc", "env-oidc"],
  ["env_oidc", "env-oidc"],
  ["file-oidc", "file-oidc"],
  ["file_oidc", "file-oidc"],
  ["github-oidc", "github-oidc"],
  ["github_oidc", "github-oidc"],
  ["azure-client-secret", "azure-client-secret"],
  ["azure_client_secret", "azure-client-secret"],
  ["azure-cli", "azure-cli"],
  ["azure_cli", "azure-cli"],
  ["azure-msi", "azure-msi"],
  ["azure_msi", "azure-msi"],
  ["metadata-service", "metadata-service"],
  ["metadata_service", "metadata-service"]
])

/** Auth types of the SDKs that this library does not implement: named as such, not as unknown values. */
const unsupported: ReadonlyMap<string, string> = new Map([
  ["basic", "Databricks retired password sign-in for workspaces; use a token or OAuth"],
  ["runtime", "it only works inside a Databricks cluster or notebook"],
  ["runtime-oauth", "it only works inside a Databricks cluster or notebook"],
  ["model-serving", "it only works inside Databricks Model Serving"],
  ["google-credentials", "use a Databricks service principal (oauth-m2m) or workload identity federation"],
  ["google-id", "use a Databricks service principal (oauth-m2m) or workload identity federation"],
  ["github-oidc-azure", "use github-oidc with a Databricks federation policy"],
  ["azure-devops-oidc", "use env-oidc with the pipeline's ID token"]
])

/** How the method was chosen, and what was tried before it (each with why it did not apply). */
export interface Choice {
  readonly method: Method
  readonly chosenBy: string
  readonly tried: ReadonlyArray<string>
}

/** Hosts of Azure Databricks (the SDKs' Azure environments). */
export const isAzureHost = (host: string): boolean => {
  try {
    return /\.(azuredatabricks\.net|databricks\.azure\.us|databricks\.azure\.cn)$/i.test(
      new URL(/^[a-z]+:\/\//i.test(host) ? host : `https://${host}`).hostname
    )
  } catch {
    return false
  }
}

/** The new Databricks CLI is a single binary of more than 1 MiB; smaller is the legacy Python CLI (as the SDKs check). */
const cliMinBytes = 1024 * 1024

const statFile = (path: string): Fs.Stats | undefined => {
  try {
    const stats = Fs.statSync(path)
    return stats.isFile() ? stats : undefined
  } catch {
    return undefined
  }
}

/** Looks `name` up on `PATH` (from the ConfigProvider, so tests and apps decide), like the SDKs' `_find_executable`. */
export const findOnPath = (
  name: string,
  minBytes = 0
): Effect.Effect<{ readonly path: string } | { readonly problem: string }, ConfigurationError> =>
  Effect.gen(function*() {
    const path = (yield* Env.env("PATH")) ?? ""
    let legacy = false
    for (const dir of path.split(Path.delimiter)) {
      if (dir === "") continue
      const candidate = Path.join(dir, name)
      const stats = statFile(candidate)
      if (stats === undefined) continue
      if (stats.size < minBytes) {
        legacy = true
        continue
      }
      return { path: candidate }
    }
    return {
      problem: legacy
        ? `only a legacy ${name} (the Python CLI, before 0.100) is on PATH`
        : `${name} is not on PATH`
    }
  })

/** The executables given as options (`cli.cliPath`, `azureCli.cliPath`), which the chain looks for instead. */
export interface CliPaths {
  readonly databricks?: string | undefined
  readonly az?: string | undefined
}

type Probe = (
  settings: ReadonlyMap<Key, Setting>,
  cliPaths: CliPaths
) => Effect.Effect<string | undefined, ConfigurationError>

const envSet = (name: string) => Effect.map(Env.env(name), (value) => value !== undefined && value.trim() !== "")

/**
 * What the SDKs check beyond settings before a method of the default chain applies; `undefined` when it
 * applies, else why not. Only what is cheap and local: an environment variable, a file, a program on PATH;
 * never a network call, never running a program.
 */
const probes: ReadonlyMap<Method, Probe> = new Map<Method, Probe>([
  [
    "env-oidc",
    (settings) =>
      Effect.gen(function*() {
        const name = settings.get("oidc_token_env")?.value ?? "DATABRICKS_OIDC_TOKEN"
        return (yield* envSet(name)) ? undefined : `${name} is not set`
      })
  ],
  [
    "file-oidc",
    (settings) =>
      Effect.sync(() => {
        const path = settings.get("oidc_token_filepath")!.value
        return statFile(path) === undefined
          ? `${settings.get("oidc_token_filepath")!.name} is not a readable file`
          : undefined
      })
  ],
  [
    "github-oidc",
    () =>
      Effect.gen(function*() {
        const url = yield* envSet("ACTIONS_ID_TOKEN_REQUEST_URL")
        const token = yield* envSet("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        return url && token
          ? undefined
          : "not in a GitHub Actions job with id-token: write (ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not set)"
      })
  ],
  [
    "azure-cli",
    (settings, cliPaths) =>
      Effect.gen(function*() {
        const host = settings.get("host")!.value
        if (!isAzureHost(host) && !settings.has("azure_workspace_resource_id")) {
          return "the host is not an Azure Databricks workspace"
        }
        const configured = cliPaths.az
        if (configured !== undefined && configured.includes(Path.sep)) {
          return statFile(configured) === undefined ? `${configured} does not exist` : undefined
        }
        const found = yield* findOnPath(configured ?? "az")
        return "problem" in found ? found.problem : undefined
      })
  ],
  [
    "databricks-cli",
    (settings, cliPaths) =>
      Effect.gen(function*() {
        const configured = cliPaths.databricks ?? settings.get("databricks_cli_path")?.value
        // A path with a directory is used as given; a bare name is looked up on PATH (as the SDKs do).
        if (configured !== undefined && configured.includes(Path.sep)) {
          return statFile(configured) === undefined ? `${configured} does not exist` : undefined
        }
        const found = yield* findOnPath(configured ?? "databricks", configured === undefined ? cliMinBytes : 0)
        return "problem" in found ? `the Databricks CLI: ${found.problem}` : undefined
      })
  ]
])

const missingOf = (settings: ReadonlyMap<Key, Setting>, method: Method): ReadonlyArray<Key> =>
  methods.get(method)!.needs.filter((key) => !settings.has(key))

const notSet = (keys: ReadonlyArray<Key>) => `${keys.map(Settings.envName).join(" and ")} not set`

const nothingFound = (collected: Collected, tried: ReadonlyArray<string>) =>
  new ConfigurationError({
    setting: "credentials",
    message: `No Databricks credentials are configured. Tried, in order: ${
      tried.join("; ")
    }. Config file: ${collected.profileNote}`,
    hint: [
      "Set DATABRICKS_HOST and one of:",
      "DATABRICKS_TOKEN (a personal access token);",
      "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (OAuth M2M);",
      "DATABRICKS_OIDC_TOKEN or DATABRICKS_OIDC_TOKEN_FILEPATH (workload identity federation);",
      "ARM_CLIENT_ID, ARM_CLIENT_SECRET and ARM_TENANT_ID (Azure);",
      "or run databricks auth login --host <host> with the Databricks CLI on PATH;",
      `or name a profile of ${collected.file} with DATABRICKS_CONFIG_PROFILE`
    ].join(" ")
  })

/** The families configured, in the SDKs' order of attributes, with the first setting of each. */
const families = (settings: ReadonlyMap<Key, Setting>): ReadonlyArray<readonly [Family, Setting]> => {
  const found = new Map<Family, Setting>()
  for (const key of Settings.keys) {
    const family = Settings.spec(key).family
    const setting = settings.get(key)
    if (family !== undefined && setting !== undefined && !found.has(family)) found.set(family, setting)
  }
  return [...found.entries()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
}

/**
 * Chooses the method. `appAuthType` (`APP_AUTH_TYPE`) wins over `auth_type`; an explicit method must have its
 * settings (a `ConfigurationError` names the first missing one); without one, two families are a conflict
 * (as the SDKs' `validate`), and the default chain picks the first method that applies.
 */
export const choose = (
  collected: Collected,
  appAuthType: string | undefined,
  cliPaths: CliPaths
): Effect.Effect<Choice, ConfigurationError> =>
  Effect.gen(function*() {
    const { settings } = collected
    const explicit = appAuthType !== undefined && appAuthType.trim() !== ""
      ? { value: appAuthType.trim(), name: "APP_AUTH_TYPE" }
      : settings.get("auth_type")
    if (explicit !== undefined) {
      const spelled = explicit.value.toLowerCase()
      const method = methodNames.get(spelled)
      if (method === undefined) {
        const why = unsupported.get(spelled.replaceAll("_", "-"))
        return yield* Effect.fail(
          new ConfigurationError({
            setting: explicit.name,
            message: why !== undefined
              ? `${explicit.name} is ${JSON.stringify(spelled)}, which effect-databricks does not support: ${why}`
              : `${explicit.name} is ${
                JSON.stringify(Redaction.redact(explicit.value, { maxLength: 40 }))
              }, which is not a supported method. Valid values: ${[...methodNames.keys()].join(", ")}`,
            hint: `Use one of ${[...new Set(methodNames.values())].join(", ")}, or unset ${explicit.name}`
          })
        )
      }
      const missing = missingOf(settings, method)
      if (missing.length > 0) {
        const first = missing[0]
        const option = Settings.spec(first).option
        return yield* Effect.fail(
          new ConfigurationError({
            setting: Settings.envName(first),
            message: `${explicit.name} is ${method}, which needs ${Settings.envName(first)}: it is not set (nor ${
              option ?? first
            }, nor ${first} in a profile; ${collected.profileNote})`,
            hint: `Set ${missing.map(Settings.envName).join(" and ")}, or choose another method`
          })
        )
      }
      // An explicitly chosen method's own checks (a token variable, a file) fail here, naming what is missing;
      // the CLIs are looked for when they are run, with their own errors.
      const probe = method === "databricks-cli" || method === "azure-cli" ? undefined : probes.get(method)
      const problem = probe === undefined ? undefined : yield* probe(settings, cliPaths)
      if (problem !== undefined) {
        return yield* Effect.fail(
          new ConfigurationError({
            setting: explicit.name,
            message: `${explicit.name} is ${method}, but ${problem}`,
            hint: `Configure ${methods.get(method)!.set}, or choose another method`
          })
        )
      }
      return { method, chosenBy: explicit.name, tried: [] }
    }

    const configured = families(settings)
    if (configured.length > 1) {
      const described = configured.map(([family, setting]) => `${family} (${setting.name})`)
      return yield* Effect.fail(
        new ConfigurationError({
          setting: "DATABRICKS_AUTH_TYPE",
          message: `More than one authorization method is configured: ${described.join(" and ")}`,
          hint:
            "Choose one with DATABRICKS_AUTH_TYPE (or the auth_type of the profile), or unset the others (for example run with env -i)"
        })
      )
    }

    // Host, username and password: the SDKs' chain takes basic auth (second, after pat), which this library
    // does not have, so that is the error rather than a later method.
    if (
      configured.length === 1 && configured[0][0] === "basic" &&
      ["host", "username", "password"].every((key) => settings.has(key as Key))
    ) {
      const setting = configured[0][1]
      return yield* Effect.fail(
        new ConfigurationError({
          setting: setting.name,
          message:
            `${setting.name} configures basic (username and password) auth, which effect-databricks does not support: ${
              unsupported.get("basic")
            }`,
          hint: "Set DATABRICKS_TOKEN, or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET, instead"
        })
      )
    }

    const tried: Array<string> = []
    for (const method of defaultChain) {
      const missing = missingOf(settings, method)
      if (missing.length > 0) {
        tried.push(`${method} (${notSet(missing)})`)
        continue
      }
      const probe = probes.get(method)
      const problem = probe === undefined ? undefined : yield* probe(settings, cliPaths)
      if (problem !== undefined) {
        tried.push(`${method} (${problem})`)
        continue
      }
      return { method, chosenBy: "default chain", tried }
    }
    return yield* Effect.fail(nothingFound(collected, tried))
  })
