/**
 * The shared errors: `AuthenticationError`, `PermissionError`,
 * `RateLimitError`, `NetworkError`, `TimeoutError` and `ConfigurationError`.
 *
 * @since 0.1.0
 */
export * as DatabricksError from "./DatabricksError.js"

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
