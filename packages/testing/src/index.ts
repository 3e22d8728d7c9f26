/**
 * A self-signed TLS certificate for loopback test servers.
 *
 * @since 0.1.0
 */
export * as LoopbackCertificate from "./LoopbackCertificate.js"
