/**
 * A self-signed TLS certificate for loopback test servers.
 *
 * @since 0.1.0
 */
export * as LoopbackCertificate from "./LoopbackCertificate.js"

/**
 * The loopback emulator: a Databricks workspace host (identity provider,
 * SCIM, admin API) and a Posit Connect server.
 *
 * @since 0.1.0
 */
export * as Emulator from "./Emulator.js"

/**
 * The emulator's errors: it could not start, or seeding SQL failed.
 *
 * @since 0.2.0
 */
export * as EmulatorError from "./EmulatorError.js"
