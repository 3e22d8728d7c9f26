import * as Https from "node:https"
import type { AddressInfo } from "node:net"

import { LoopbackCertificate } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"

/** A real HTTPS server on 127.0.0.1 that lives as long as the scope. */
const serve = (certificate: LoopbackCertificate.LoopbackCertificate) =>
  Effect.acquireRelease(
    Effect.async<Https.Server>((resume) => {
      const server = Https.createServer({ cert: certificate.certPem, key: certificate.keyPem }, (_req, res) => {
        res.end("ok")
      })
      server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const get = (url: string, ca: string | undefined) =>
  Effect.async<string, Error>((resume) => {
    const request = Https.get(url, { ...(ca === undefined ? {} : { ca }), agent: false }, (res) => {
      let body = ""
      res.on("data", (chunk) => (body += chunk))
      res.on("end", () => resume(Effect.succeed(body)))
    })
    request.on("error", (error) => resume(Effect.fail(error)))
  })

describe("LoopbackCertificate", () => {
  it.scoped("is trusted for 127.0.0.1 and localhost when given as the CA, and only then", () =>
    Effect.gen(function*() {
      const certificate = yield* LoopbackCertificate.generate()
      assert.match(certificate.certPem, /^-----BEGIN CERTIFICATE-----/)
      assert.match(certificate.keyPem, /^-----BEGIN PRIVATE KEY-----/)
      const server = yield* serve(certificate)
      const { port } = server.address() as AddressInfo
      assert.strictEqual(yield* get(`https://127.0.0.1:${port}/`, certificate.certPem), "ok")
      assert.strictEqual(yield* get(`https://localhost:${port}/`, certificate.certPem), "ok")
      const untrusted = yield* Effect.flip(get(`https://127.0.0.1:${port}/`, undefined))
      assert.match((untrusted as NodeJS.ErrnoException).code ?? "", /SELF_SIGNED|UNABLE_TO_VERIFY/)
    }))

  it.effect("each call makes a new key", () =>
    Effect.gen(function*() {
      const [a, b] = yield* Effect.all([LoopbackCertificate.generate(), LoopbackCertificate.generate()])
      assert.notStrictEqual(a.keyPem, b.keyPem)
    }))
})
