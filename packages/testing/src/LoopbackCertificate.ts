/**
 * A self-signed TLS certificate for loopback servers, generated in-process
 * at start-up (no `openssl` binary), valid for `127.0.0.1`, `::1` and
 * `localhost`. Clients trust it by passing `certPem` as their CA, exactly as
 * `@databricks/sql` takes `customCaCert`.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as selfsigned from "selfsigned"

/**
 * @since 0.1.0
 * @category models
 */
export interface LoopbackCertificate {
  /** The certificate, which is also the CA to trust. */
  readonly certPem: string
  /** The private key, for the server only. */
  readonly keyPem: string
}

/**
 * @since 0.1.0
 * @category errors
 */
export class CertificateError extends Data.TaggedError("CertificateError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * Generates a fresh key pair and certificate, valid from one hour ago (to
 * tolerate clock skew) for `validFor` days.
 *
 * @since 0.1.0
 * @category constructors
 */
export const generate = (options?: { readonly validForDays?: number | undefined }): Effect.Effect<
  LoopbackCertificate,
  CertificateError
> =>
  Effect.tryPromise({
    try: () => {
      const notBeforeDate = new Date(Date.now() - 3_600_000)
      const notAfterDate = new Date(notBeforeDate.getTime() + (options?.validForDays ?? 30) * 86_400_000)
      return selfsigned.generate([{ name: "commonName", value: "localhost" }], {
        keyType: "ec",
        curve: "P-256",
        algorithm: "sha256",
        notBeforeDate,
        notAfterDate,
        extensions: [
          { name: "basicConstraints", cA: true },
          { name: "keyUsage", digitalSignature: true, keyCertSign: true },
          { name: "extKeyUsage", serverAuth: true },
          {
            name: "subjectAltName",
            altNames: [{ type: 2, value: "localhost" }, { type: 7, ip: "127.0.0.1" }, { type: 7, ip: "::1" }]
          }
        ]
      })
    },
    catch: (cause) => new CertificateError({ message: "Could not generate the loopback TLS certificate", cause })
  }).pipe(Effect.map((result) => ({ certPem: result.cert, keyPem: result.private })))
