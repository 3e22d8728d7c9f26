/**
 * The Databricks Python SDK's own auth and config tests, as a table: every scenario there that applies to a
 * workspace host resolves here to the same method and host, or fails for the same reason. Each case names
 * the test it comes from (databricks-sdk-py `tests/test_auth.py`, `tests/test_config.py`,
 * `tests/test_auth_profiles.py`); the config files are the SDK's `tests/testdata/**` files, as they are.
 *
 * Where this library differs on purpose, the case says so:
 * - `basic` (username and password) is not implemented: where the SDK resolves it, this is a
 *   ConfigurationError that says so (a conflict that involves it is still found as the SDK finds it);
 * - the SDK runs `az` and `databricks auth token` while resolving; this resolution only looks for them on
 *   PATH (no program is run and no request is made until the first token), so "installed" stands for the
 *   SDK's "installed and logged in".
 */
import { AuthConfig } from "@effect-databricks/auth"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option, Redacted } from "effect"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { tempDir, withEnv } from "./utils.js"

/** databricks-sdk-py tests/testdata/.databrickscfg */
const testdata = `[DEFAULT]
host = https://dbc-XXXXXXXX-YYYY.cloud.databricks.com/
token = PT0+IC9kZXYvdXJhbmRvbSA8PT0KYFZ
rate_limit=34
debug_truncate=829374

[nohost]
token = PT0+IC9kZXYvdXJhbmRvbSA8PT0KYFZ

[nohost2]
token = PT0+IC9kZXYvdXJhbmRvbSA8PT0KYFZ
rate_limit=34

[azure-justhost]
host = https://adb-123.4.azuredatabricks.net/

[azure-pat]
host = https://adb-123.4.azuredatabricks.net/
token = PT0+IC9kZXYvdXJhbmRvbSA8PT0KYFZ

[notoken]
host = https://dbc-XXXXXXXX-YYYY.cloud.databricks.com/

[basic]
host = https://dbc-XXXXXXXX-YYYY.cloud.databricks.com/
username = abc
password = bcd

[azure-spn]
host = https://adb-123.4.azuredatabricks.net/
azure_tenant_id = 12345678
azure_client_id = 87654321
azure_client_secret = 10000002

[gcp-example]
host = https://123.4.gcp.databricks.com/
google_credentials = paw48590aw8e09t8apu

[pat.with.dot]
host = https://dbc-XXXXXXXX-YYYY.cloud.databricks.com/
token = PT0+IC9kZXYvdXJhbmRvbSA8PT0KYFZ

[scope-empty]
host = https://example.cloud.databricks.com

[scope-single]
host = https://example.cloud.databricks.com
scopes = clusters

[scope-multiple]
host = https://example.cloud.databricks.com
scopes = clusters, jobs, pipelines, iam:read, files:read, mlflow, model-serving:read
`

/** databricks-sdk-py tests/testdata/azure/.databrickscfg */
const azure = `[nohost]
token = PT0+IC9kZXYvdXJhbmRvbSA8PT0KYFZ

[justhost]
host = https://adb-123.4.azuredatabricks.net/

[pat]
host = https://adb-123.4.azuredatabricks.net/
token = PT0+IC9kZXYvdXJhbmRvbSA8PT0KYFZ

[spn]
host = https://adb-123.4.azuredatabricks.net/
azure_workspace_resource_id = "/a/b/c"
azure_tenant_id = 12345678
azure_client_id = 87654321
azure_client_secret = 10000002

[msi]
azure_use_msi = true
azure_workspace_resource_id = "/a/b/c"
host = https://adb-123.4.azuredatabricks.net/
`

/** databricks-sdk-py tests/testdata/corrupt/.databrickscfg (no final line break) */
const corrupt = `[nohost]
token = PT0+IC9kZXYvdXJhbmRvbSA8PT0KYFZ

[notoken]
host = https://dbc-XXXXXXXX-YYYY.cloud.databricks.com/`

/** databricks-sdk-py tests/testdata/empty_default/.databrickscfg */
const emptyDefault =
  `; The profile defined in the DEFAULT section is be used as fallback when no profile is explicitly specified.
[DEFAULT]

[abc]
host  = https://foo
token = xyz
`

type Home = "testdata" | "azure" | "corrupt" | "empty_default" | "none"
const homes: Record<Exclude<Home, "none">, string> = {
  testdata,
  azure,
  corrupt,
  "empty_default": emptyDefault
}

interface Case {
  /** The SDK test, as `file::test`. */
  readonly sdk: string
  readonly env?: Record<string, string>
  readonly options?: AuthConfig.Options
  /** The config file (the SDK's `set_home`); none by default. */
  readonly home?: Home
  /** Programs on PATH: the Databricks CLI (a binary over 1 MiB, as the SDKs check) and `az`. */
  readonly path?: ReadonlyArray<"databricks" | "legacy-databricks" | "az">
  /** Files that exist, by name, for file-oidc (their paths replace `{name}` in env values and options). */
  readonly files?: ReadonlyArray<string>
  readonly expect:
    | { readonly authType: AuthConfig.Method; readonly host: string }
    | { readonly error: ReadonlyArray<string>; readonly setting?: string }
  /** Why the outcome differs from the SDK's, when it does. */
  readonly difference?: string
}

const nothing = "No Databricks credentials are configured"
const basicUnsupported = "basic (username and password) auth, which effect-databricks does not support"
const dbc = "https://dbc-XXXXXXXX-YYYY.cloud.databricks.com"
const adb = "https://adb-123.4.azuredatabricks.net"

const cases: ReadonlyArray<Case> = [
  // tests/test_auth.py
  { sdk: "test_auth.py::test_config_no_params", expect: { error: [nothing] } },
  {
    sdk: "test_auth.py::test_config_host_env",
    env: { DATABRICKS_HOST: "x" },
    expect: { error: [nothing, "databricks-cli (the Databricks CLI: databricks is not on PATH)"] }
  },
  {
    sdk: "test_auth.py::test_config_host_env (with the Databricks CLI installed: the chain's databricks-cli)",
    env: { DATABRICKS_HOST: "x" },
    path: ["databricks"],
    expect: { authType: "databricks-cli", host: "https://x" }
  },
  {
    sdk: "test_auth.py::test_config_token_env",
    env: { DATABRICKS_TOKEN: "x" },
    expect: { error: [nothing, "pat (DATABRICKS_HOST not set)"] }
  },
  {
    sdk: "test_auth.py::test_config_host_token_env",
    env: { DATABRICKS_HOST: "x", DATABRICKS_TOKEN: "x" },
    expect: { authType: "pat", host: "https://x" }
  },
  {
    sdk: "test_auth.py::test_config_host_param_token_env",
    env: { DATABRICKS_TOKEN: "x" },
    options: { host: "https://x" },
    expect: { authType: "pat", host: "https://x" }
  },
  {
    sdk: "test_auth.py::test_config_user_password_env",
    env: { DATABRICKS_PASSWORD: "x", DATABRICKS_USERNAME: "x" },
    expect: { error: [nothing] }
  },
  {
    sdk: "test_auth.py::test_config_basic_auth",
    env: { DATABRICKS_HOST: "x", DATABRICKS_PASSWORD: "x", DATABRICKS_USERNAME: "x" },
    expect: { error: [basicUnsupported] },
    difference: "the SDK resolves basic"
  },
  {
    sdk: "test_auth.py::test_config_attribute_precedence",
    env: { DATABRICKS_HOST: "x", DATABRICKS_PASSWORD: "x", DATABRICKS_USERNAME: "x" },
    options: { host: "y" },
    expect: { error: [basicUnsupported] },
    difference: "the SDK resolves basic for https://y"
  },
  {
    sdk: "test_auth.py::test_config_basic_auth_mix (username from the environment: there is no username option)",
    env: { DATABRICKS_PASSWORD: "x", DATABRICKS_USERNAME: "x" },
    options: { host: "y" },
    expect: { error: [basicUnsupported] },
    difference: "the SDK resolves basic"
  },
  {
    sdk: "test_auth.py::test_config_conflicting_envs",
    env: { DATABRICKS_HOST: "x", DATABRICKS_PASSWORD: "x", DATABRICKS_TOKEN: "x", DATABRICKS_USERNAME: "x" },
    expect: {
      error: [
        "More than one authorization method is configured: basic (DATABRICKS_USERNAME) and pat (DATABRICKS_TOKEN)"
      ],
      setting: "DATABRICKS_AUTH_TYPE"
    }
  },
  {
    sdk: "test_auth.py::test_config_conflicting_envs_auth_type",
    env: { DATABRICKS_HOST: "x", DATABRICKS_PASSWORD: "x", DATABRICKS_TOKEN: "x", DATABRICKS_USERNAME: "x" },
    options: { authType: "basic" },
    expect: { error: ["authType is \"basic\", which effect-databricks does not support"], setting: "authType" },
    difference: "the SDK resolves basic"
  },
  {
    sdk: "test_auth.py::test_config_config_file",
    env: { DATABRICKS_CONFIG_FILE: "x" },
    expect: { error: [nothing, "x does not exist"] }
  },
  {
    sdk: "test_auth.py::test_config_config_file_skip_default_profile_if_host_specified",
    home: "testdata",
    options: { host: "x" },
    expect: { error: [nothing, "was not read (settings were given)"] }
  },
  {
    sdk: "test_auth.py::test_config_config_file_with_empty_default_profile_select_default",
    home: "empty_default",
    expect: { error: [nothing, "has no DEFAULT profile and none was named"] }
  },
  {
    sdk: "test_auth.py::test_config_config_file_with_empty_default_profile_select_abc",
    home: "empty_default",
    env: { DATABRICKS_CONFIG_PROFILE: "abc" },
    expect: { authType: "pat", host: "https://foo" }
  },
  {
    sdk: "test_auth.py::test_config_pat_from_databricks_cfg",
    home: "testdata",
    expect: { authType: "pat", host: dbc }
  },
  {
    sdk: "test_auth.py::test_config_pat_from_databricks_cfg_dot_profile",
    home: "testdata",
    env: { DATABRICKS_CONFIG_PROFILE: "pat.with.dot" },
    expect: { authType: "pat", host: dbc }
  },
  {
    sdk: "test_auth.py::test_config_pat_from_databricks_cfg_nohost_profile",
    home: "testdata",
    env: { DATABRICKS_CONFIG_PROFILE: "nohost" },
    expect: { error: [nothing, "pat (DATABRICKS_HOST not set)", "profile nohost of"] }
  },
  {
    sdk: "test_auth.py::test_config_config_profile_and_token",
    home: "testdata",
    env: { DATABRICKS_CONFIG_PROFILE: "nohost", DATABRICKS_TOKEN: "x" },
    expect: { error: [nothing, "pat (DATABRICKS_HOST not set)"] }
  },
  {
    sdk: "test_auth.py::test_config_config_profile_and_password",
    home: "testdata",
    env: { DATABRICKS_CONFIG_PROFILE: "nohost", DATABRICKS_USERNAME: "x" },
    expect: {
      error: [
        "More than one authorization method is configured: basic (DATABRICKS_USERNAME) and pat (token in profile nohost"
      ]
    }
  },
  {
    sdk: "test_auth.py::test_config_azure_pat",
    options: { host: "https://adb-xxx.y.azuredatabricks.net/", token: Redacted.make("y") },
    expect: { authType: "pat", host: "https://adb-xxx.y.azuredatabricks.net" }
  },
  {
    sdk: "test_auth.py::test_config_azure_cli_host",
    home: "azure",
    path: ["az"],
    options: { host: adb, azureWorkspaceResourceId: "/sub/rg/ws" },
    expect: { authType: "azure-cli", host: adb }
  },
  {
    sdk: "test_auth.py::test_config_azure_cli_host_fail",
    home: "azure",
    path: ["az"],
    env: { FAIL: "yes" },
    options: { azureWorkspaceResourceId: "/sub/rg/ws" },
    expect: { error: [nothing, "azure-cli (DATABRICKS_HOST not set)"] }
  },
  {
    sdk: "test_auth.py::test_config_azure_cli_host_az_not_installed",
    home: "azure",
    options: { azureWorkspaceResourceId: "/sub/rg/ws" },
    expect: { error: [nothing] }
  },
  {
    sdk: "test_auth.py::test_config_azure_cli_host_pat_conflict_with_config_file_present_without_default_profile",
    home: "azure",
    path: ["az"],
    options: { token: Redacted.make("x"), azureWorkspaceResourceId: "/sub/rg/ws" },
    expect: {
      error: ["More than one authorization method is configured: azure (azureWorkspaceResourceId) and pat (token)"]
    }
  },
  {
    sdk: "test_auth.py::test_config_azure_cli_host_and_resource_id",
    home: "testdata",
    path: ["az"],
    options: { host: adb, azureWorkspaceResourceId: "/sub/rg/ws" },
    expect: { authType: "azure-cli", host: adb }
  },
  {
    sdk: "test_auth.py::test_config_azure_cli_host_and_resource_i_d_configuration_precedence",
    home: "azure",
    path: ["az"],
    env: { DATABRICKS_CONFIG_PROFILE: "justhost" },
    options: { host: adb, azureWorkspaceResourceId: "/sub/rg/ws" },
    expect: { authType: "azure-cli", host: adb }
  },
  {
    sdk: "test_auth.py::test_config_azure_and_password_conflict",
    home: "azure",
    path: ["az"],
    env: { DATABRICKS_USERNAME: "x" },
    options: { host: adb, azureWorkspaceResourceId: "/sub/rg/ws" },
    expect: {
      error: [
        "More than one authorization method is configured: azure (azureWorkspaceResourceId) and basic (DATABRICKS_USERNAME)"
      ]
    }
  },
  {
    sdk: "test_auth.py::test_config_corrupt_config",
    home: "corrupt",
    env: { DATABRICKS_CONFIG_PROFILE: "DEFAULT" },
    expect: { error: ["has no DEFAULT profile configured"], setting: "DATABRICKS_CONFIG_PROFILE" }
  },
  {
    sdk: "test_auth.py::test_config_auth_type_from_env",
    env: {
      DATABRICKS_AUTH_TYPE: "basic",
      DATABRICKS_PASSWORD: "password",
      DATABRICKS_TOKEN: "token",
      DATABRICKS_USERNAME: "user"
    },
    options: { host: "x" },
    expect: { error: ["DATABRICKS_AUTH_TYPE is \"basic\", which effect-databricks does not support"] },
    difference: "the SDK resolves basic"
  },

  // tests/test_config.py
  ...[
    ["https://abc.def.ghi", "https://abc.def.ghi"],
    ["https://abc.def.ghi/", "https://abc.def.ghi"],
    ["abc.def.ghi", "https://abc.def.ghi"],
    ["abc.def.ghi/", "https://abc.def.ghi"],
    ["https://abc.def.ghi:443", "https://abc.def.ghi"],
    ["abc.def.ghi:443", "https://abc.def.ghi"]
  ].map(([host, expected]): Case => ({
    sdk: `test_config.py::test_config_host_url_format_check[${host}]`,
    options: { host, token: Redacted.make("t") },
    expect: { authType: "pat", host: expected }
  })),
  {
    sdk: "test_config.py::test_oidc_token_filepath_env_alias",
    env: { DATABRICKS_HOST: "https://abc.def.ghi", DATABRICKS_OIDC_TOKEN_FILE: "{alias}" },
    files: ["alias"],
    expect: { authType: "file-oidc", host: "https://abc.def.ghi" }
  },
  {
    sdk: "test_config.py::test_oidc_token_filepath_env_primary_precedence",
    env: {
      DATABRICKS_HOST: "https://abc.def.ghi",
      DATABRICKS_OIDC_TOKEN_FILEPATH: "{primary}",
      DATABRICKS_OIDC_TOKEN_FILE: "{absent}"
    },
    files: ["primary"],
    expect: { authType: "file-oidc", host: "https://abc.def.ghi" }
  },
  {
    sdk: "test_config.py::test_oidc_token_filepath_env_constructor_precedence",
    env: {
      DATABRICKS_HOST: "https://abc.def.ghi",
      DATABRICKS_OIDC_TOKEN_FILEPATH: "{absent}",
      DATABRICKS_OIDC_TOKEN_FILE: "{absent}"
    },
    options: { oidcTokenFilepath: "{constructor}" },
    files: ["constructor"],
    expect: { authType: "file-oidc", host: "https://abc.def.ghi" }
  },
  {
    sdk: "test_config.py::test_config_deep_copy",
    options: { host: "https://abc123.azuredatabricks.net", authType: "databricks-cli" },
    path: ["databricks"],
    expect: { authType: "databricks-cli", host: "https://abc123.azuredatabricks.net" }
  },

  // tests/test_auth_profiles.py, workspace profiles (LW: host; NW: host, account id, workspace id)
  ...[
    { profile: "LW", options: { host: "https://test-workspace.cloud.databricks.com" } },
    {
      profile: "NW",
      options: { host: "https://test-workspace.cloud.databricks.com", accountId: "test-account-id" }
    }
  ].flatMap(({ options, profile }): ReadonlyArray<Case> => {
    const host = "https://test-workspace.cloud.databricks.com"
    return [
      {
        sdk: `test_auth_profiles.py::test_pat_auth[${profile}]`,
        options: { ...options, token: Redacted.make("dapi1234567890abcdef") },
        expect: { authType: "pat", host }
      },
      {
        sdk: `test_auth_profiles.py::test_oauth_m2m[${profile}]`,
        options: {
          ...options,
          clientId: "test-client",
          clientSecret: Redacted.make("test-secret"),
          authType: "oauth-m2m"
        },
        expect: { authType: "oauth-m2m", host }
      },
      {
        sdk: `test_auth_profiles.py::test_databricks_cli[${profile}]`,
        options: { ...options, authType: "databricks-cli" },
        expect: { authType: "databricks-cli", host }
      },
      {
        sdk: `test_auth_profiles.py::test_env_oidc[${profile}]`,
        env: { DATABRICKS_OIDC_TOKEN: "test-oidc-token" },
        options: { ...options, clientId: "test-client", authType: "env-oidc" },
        expect: { authType: "env-oidc", host }
      },
      {
        sdk: `test_auth_profiles.py::test_file_oidc[${profile}]`,
        files: ["oidc_token"],
        options: { ...options, clientId: "test-client", oidcTokenFilepath: "{oidc_token}", authType: "file-oidc" },
        expect: { authType: "file-oidc", host }
      },
      {
        sdk: `test_auth_profiles.py::test_github_oidc[${profile}]`,
        env: {
          ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.githubusercontent.com",
          ACTIONS_ID_TOKEN_REQUEST_TOKEN: "test-github-token"
        },
        options: { ...options, clientId: "test-client", authType: "github-oidc" },
        expect: { authType: "github-oidc", host }
      },
      {
        sdk: `test_auth_profiles.py::test_metadata_service[${profile}]`,
        options: { ...options, metadataServiceUrl: "http://169.254.169.254/metadata", authType: "metadata-service" },
        expect: { authType: "metadata-service", host }
      },
      {
        sdk: `test_auth_profiles.py::test_basic_auth[${profile}]`,
        env: { DATABRICKS_USERNAME: "user", DATABRICKS_PASSWORD: "pass" },
        options,
        expect: { error: [basicUnsupported] },
        difference: "the SDK resolves basic"
      }
    ]
  }),
  ...["https://adb-1234567890.12.azuredatabricks.net"].flatMap((host): ReadonlyArray<Case> => [
    {
      sdk: "test_auth_profiles.py::test_azure_client_secret[AZ_LW]",
      options: {
        host,
        azureClientId: "test-azure-client",
        azureClientSecret: Redacted.make("test-azure-secret"),
        azureTenantId: "test-tenant-id",
        authType: "azure-client-secret"
      },
      expect: { authType: "azure-client-secret", host }
    },
    {
      sdk: "test_auth_profiles.py::test_azure_cli[AZ_LW]",
      options: { host, authType: "azure-cli" },
      expect: { authType: "azure-cli", host }
    }
  ]),

  // The known differences of issue 17, as the SDKs' chain decides them (credentials_provider.py).
  {
    sdk: "credentials_provider.py oauth_service_principal requires client_secret: env-oidc follows",
    env: { DATABRICKS_HOST: "https://h.example.com", DATABRICKS_CLIENT_ID: "sp", DATABRICKS_OIDC_TOKEN: "jwt" },
    expect: { authType: "env-oidc", host: "https://h.example.com" }
  },
  {
    sdk: "credentials_provider.py github_oidc requires host and client_id, in an Actions job",
    env: {
      DATABRICKS_HOST: "https://h.example.com",
      DATABRICKS_CLIENT_ID: "sp",
      ACTIONS_ID_TOKEN_REQUEST_URL: "https://token.actions.example",
      ACTIONS_ID_TOKEN_REQUEST_TOKEN: "t"
    },
    expect: { authType: "github-oidc", host: "https://h.example.com" }
  },
  {
    sdk: "credentials_provider.py: a client id alone, nothing else applies",
    env: { DATABRICKS_HOST: "https://h.example.com", DATABRICKS_CLIENT_ID: "sp" },
    expect: {
      error: [
        nothing,
        "oauth-m2m (DATABRICKS_CLIENT_SECRET not set)",
        "env-oidc (DATABRICKS_OIDC_TOKEN is not set)",
        "github-oidc (not in a GitHub Actions job"
      ]
    }
  },
  {
    sdk: "config.py validate: client_id (oauth) and oidc_token_env (env-oidc) are two families",
    env: {
      DATABRICKS_HOST: "https://h.example.com",
      DATABRICKS_CLIENT_ID: "sp",
      DATABRICKS_OIDC_TOKEN_ENV: "CI_TOKEN",
      CI_TOKEN: "jwt"
    },
    expect: {
      error: ["More than one authorization method is configured: env-oidc (DATABRICKS_OIDC_TOKEN_ENV) and oauth"]
    }
  },
  {
    sdk: "credentials_provider.py databricks_cli requires host",
    env: { DATABRICKS_AUTH_TYPE: "databricks-cli" },
    path: ["databricks"],
    expect: {
      error: ["DATABRICKS_AUTH_TYPE is databricks-cli, which needs DATABRICKS_HOST"],
      setting: "DATABRICKS_HOST"
    }
  },
  {
    sdk: "credentials_provider.py pat_auth requires host and token",
    env: { DATABRICKS_AUTH_TYPE: "pat", DATABRICKS_TOKEN: "dapi-1" },
    expect: { error: ["DATABRICKS_AUTH_TYPE is pat, which needs DATABRICKS_HOST"], setting: "DATABRICKS_HOST" }
  },
  {
    sdk: "config.py _resolve_profile: __settings__ is a reserved section name",
    home: "testdata",
    env: { DATABRICKS_CONFIG_PROFILE: "__settings__" },
    expect: { error: ["__settings__ is a reserved section name and cannot be used as a profile"] }
  },
  {
    sdk: "credentials_provider.py _find_executable: a legacy (Python) databricks CLI under 1 MiB is skipped",
    env: { DATABRICKS_HOST: "https://h.example.com" },
    path: ["az", "legacy-databricks"],
    expect: {
      error: [
        nothing,
        "azure-cli (the host is not an Azure Databricks workspace)",
        "databricks-cli (the Databricks CLI: only a legacy databricks (the Python CLI, before 0.100) is on PATH)"
      ]
    }
  }
]

const setUp = (testCase: Case) =>
  Effect.gen(function*() {
    const dir = yield* tempDir
    const env: Record<string, string> = {}
    const files = new Map<string, string>()
    for (const name of [...(testCase.files ?? []), "absent"]) {
      const path = Path.join(dir, name)
      if (name !== "absent") Fs.writeFileSync(path, "header.payload.signature")
      files.set(`{${name}}`, path)
    }
    const fill = (value: string) => files.get(value) ?? value
    if (testCase.home === undefined || testCase.home === "none") {
      env.DATABRICKS_CONFIG_FILE = Path.join(dir, "no-databrickscfg")
    } else {
      env.DATABRICKS_CONFIG_FILE = Path.join(dir, ".databrickscfg")
      Fs.writeFileSync(env.DATABRICKS_CONFIG_FILE, homes[testCase.home])
    }
    const bin = Path.join(dir, "bin")
    Fs.mkdirSync(bin)
    for (const program of testCase.path ?? []) {
      // The new Databricks CLI is a binary of more than 1 MiB; the SDKs take a smaller one for the legacy CLI.
      const padding = program === "databricks" ? `\n# ${"x".repeat(1024 * 1024)}\n` : "\n"
      const name = program === "legacy-databricks" ? "databricks" : program
      Fs.writeFileSync(Path.join(bin, name), `#!/bin/sh\nexit 1${padding}`, { mode: 0o755 })
    }
    env.PATH = bin
    for (const [name, value] of Object.entries(testCase.env ?? {})) env[name] = fill(value)
    const options = testCase.options === undefined ? undefined : Object.fromEntries(
      Object.entries(testCase.options).map(([key, value]) => [key, typeof value === "string" ? fill(value) : value])
    ) as AuthConfig.Options
    return { env, options }
  })

describe("AuthConfig resolves as databricks-sdk-py's tests say", () => {
  for (const testCase of cases) {
    it.scoped(`${testCase.sdk}${testCase.difference === undefined ? "" : ` (differs: ${testCase.difference})`}`, () =>
      Effect.gen(function*() {
        const { env, options } = yield* setUp(testCase)
        const exit = yield* Effect.exit(AuthConfig.resolve(options).pipe(Effect.provide(withEnv(env))))
        const expected = testCase.expect
        if ("authType" in expected) {
          if (Exit.isFailure(exit)) return assert.fail(`expected ${expected.authType}, got ${String(exit.cause)}`)
          assert.strictEqual(exit.value.authType, expected.authType)
          // Host names are compared as DNS does, without case: the URL parser lower-cases them (dbc-XXXXXXXX-YYYY).
          assert.deepStrictEqual(exit.value.host, Option.some(expected.host.toLowerCase()))
          return
        }
        if (Exit.isSuccess(exit)) return assert.fail(`expected an error, resolved ${AuthConfig.describe(exit.value)}`)
        const error = yield* Effect.flip(exit)
        assert.strictEqual(error._tag, "ConfigurationError")
        for (const text of expected.error) assert.include(error.message, text)
        if (expected.setting !== undefined) assert.strictEqual(error.setting, expected.setting)
        // Every error here is one of ours, never a secret: the SDK tests' tokens are not echoed.
        assert.notInclude(JSON.stringify(error), "PT0+IC9kZXYvdXJhbmRvbSA8PT0KYFZ")
      }))
  }
})
