/**
 * The shared errors: `AuthenticationError`, `PermissionError`,
 * `RateLimitError`, `NetworkError`, `TimeoutError` and `ConfigurationError`.
 *
 * @since 0.1.0
 */
export * as DatabricksError from "./DatabricksError.js"

/**
 * The one backoff schedule (exponential, capped, jittered, bounded) that the
 * REST retries and `SqlClient`'s `RetryPolicy` build on.
 *
 * @since 0.3.0
 */
export * as Backoff from "./Backoff.js"

/**
 * The contract every credential layer provides, and the caching wrapper the
 * OAuth layers are built on.
 *
 * @since 0.1.0
 */
export * as TokenSource from "./TokenSource.js"

/**
 * The workspace host normaliser.
 *
 * @since 0.1.0
 */
export * as WorkspaceHost from "./WorkspaceHost.js"

/**
 * The one rule that removes secrets from text we did not write, before it
 * goes into an error message or a log line.
 *
 * @since 0.2.0
 */
export * as Redaction from "./Redaction.js"

/**
 * A personal access token.
 *
 * @since 0.1.0
 */
export * as Pat from "./Pat.js"

/**
 * A token obtained beforehand (`DATABRICKS_ACCESS_TOKEN`).
 *
 * @since 0.1.0
 */
export * as TokenEnv from "./TokenEnv.js"

/**
 * OAuth machine-to-machine (a service principal's client credentials).
 *
 * @since 0.1.0
 */
export * as LocalM2M from "./LocalM2M.js"

/**
 * The credential resolved from options, the environment and `~/.databrickscfg`.
 *
 * @since 0.1.0
 */
export * as AuthConfig from "./AuthConfig.js"

/**
 * Authenticated REST calls to the workspace.
 *
 * @since 0.1.0
 */
export * as WorkspaceClient from "./WorkspaceClient.js"

/**
 * OAuth user-to-machine: browser login with PKCE, refresh and a token cache.
 *
 * @since 0.1.0
 */
export * as U2MPkce from "./U2MPkce.js"

/**
 * Where U2M tokens are kept between runs.
 *
 * @since 0.1.0
 */
export * as TokenCache from "./TokenCache.js"

/**
 * Tokens from `databricks auth token`.
 *
 * @since 0.1.0
 */
export * as DatabricksCli from "./DatabricksCli.js"

/**
 * Where the code runs: Posit Connect, Connect Cloud, Workbench or local.
 *
 * @since 0.1.0
 */
export * as ConnectEnvironment from "./ConnectEnvironment.js"

/**
 * Databricks as the Posit Connect viewer (user-session token exchange).
 *
 * @since 0.1.0
 */
export * as ConnectViewer from "./ConnectViewer.js"

/**
 * Databricks as the Posit Connect content's service account (content-session token exchange).
 *
 * @since 0.1.0
 */
export * as ConnectContent from "./ConnectContent.js"

/**
 * The metrics the credential layers record (token fetches).
 *
 * @since 0.3.0
 */
export * as AuthMetrics from "./AuthMetrics.js"

/**
 * Workload identity federation with the federated token in an environment variable (`env-oidc`).
 *
 * @since 0.3.0
 */
export * as EnvOidc from "./EnvOidc.js"

/**
 * Workload identity federation with the federated token in a file, re-read for every exchange (`file-oidc`).
 *
 * @since 0.3.0
 */
export * as FileOidc from "./FileOidc.js"

/**
 * Workload identity federation with a GitHub Actions job's OIDC ID token (`github-oidc`).
 *
 * @since 0.3.0
 */
export * as GitHubOidc from "./GitHubOidc.js"

/**
 * `azure-client-secret`: a Microsoft Entra ID service principal's client id and secret.
 *
 * @since 0.3.0
 */
export * as AzureClientSecret from "./AzureClientSecret.js"

/**
 * `azure-msi`: Entra ID tokens of an Azure managed identity.
 *
 * @since 0.3.0
 */
export * as AzureMsi from "./AzureMsi.js"

/**
 * `metadata-service`: tokens from a local Databricks metadata service (`DATABRICKS_METADATA_SERVICE_URL`).
 *
 * @since 0.3.0
 */
export * as MetadataService from "./MetadataService.js"

/**
 * `azure-cli`: Entra ID tokens from `az account get-access-token`.
 *
 * @since 0.3.0
 */
export * as AzureCli from "./AzureCli.js"

/**
 * The Databricks Apps runtime: detection, the app's service principal, the viewer whose token the Apps proxy
 * forwards, and where to listen.
 *
 * @since 0.3.0
 */
export * as DatabricksApps from "./DatabricksApps.js"

/**
 * The identity of a request (the viewer an app acts for) on Posit Connect, Databricks Apps or a custom server,
 * and the one bounded cache of viewers' token sources.
 *
 * @since 0.3.0
 */
export * as Viewer from "./Viewer.js"

/**
 * `HttpRouter` and `HttpApi` middleware that gives every request its viewer, or answers 401.
 *
 * @since 0.3.0
 */
export * as ViewerMiddleware from "./ViewerMiddleware.js"

/**
 * Where the code runs: Posit Connect, Connect Cloud, Posit Workbench, Databricks Apps, or local.
 *
 * @since 0.3.0
 */
export * as Platform from "./Platform.js"

/**
 * Posit Workbench: the session's managed Databricks credentials (the `workbench` profile) and its OAuth
 * integration API.
 *
 * @since 0.3.0
 */
export * as Workbench from "./Workbench.js"
