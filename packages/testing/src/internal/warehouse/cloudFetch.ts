/**
 * CloudFetch's "cloud storage": the result files of `URL_BASED_SET` results, served by the emulator itself over its
 * HTTPS host on loopback at `/__cloudfetch/<id>`. A link works like a presigned URL: the unguessable id is the
 * credential (no bearer token), and it expires (on Effect's `Clock`). An expired or unknown link gets what object
 * storage answers: 403 or 404 with an XML error body.
 *
 * As object storage does, a file is served again and again until its link expires (a client retrying after a cut
 * download gets it whole). It is dropped when its link expires, or when its statement is closed by the client
 * (CloseOperation) or its session is (CloseSession): that keeps the emulator's memory bounded by the open results.
 *
 * The link's `expiryTime` is told on the client's clock: a client compares it with its wall clock (the Node
 * driver's CloudFetchResultHandler refuses a link when `Date.now() >= expiryTime`, before downloading), while the
 * emulator enforces expiry on its own clock (Effect's `Clock`, a `TestClock` in tests). So the advertised time is
 * the wall clock now plus the link's lifetime on the emulator's clock.
 *
 * @internal
 */
import * as NodeHttpServerRequest from "@effect/platform-node/NodeHttpServerRequest"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Crypto from "node:crypto"
import type { Fault } from "../emulator/fault.js"
import type { Faults } from "../emulator/faults.js"
import type { Stats } from "../emulator/stats.js"

/** Where the files are served, under the workspace host. */
export const pathPrefix = "/__cloudfetch/"

/** The fault target of downloads. */
export const faultTarget = "cloudFetch"

/** The download counters, as the emulator's stats show them. */
export interface CloudFetchCounters {
  /** Links handed out in FetchResults (and direct results) answers. */
  links: number
  /** Files served whole. */
  downloads: number
  /** Bytes of the files served whole (as stored: compressed when LZ4). */
  bytes: number
  /** Downloads refused because the link had expired (injected expiries included). */
  expired: number
}

/** Whose result a file is: freed when that statement or session is closed. */
export interface Owner {
  readonly operation: string
  readonly session: string
}

interface StoredFile {
  readonly bytes: Buffer
  /** On the emulator's clock. */
  readonly expiresAt: number
  readonly owner: Owner
}

/** An object-storage style error: S3 answers presigned-URL failures with an XML `Error` document. */
const storageError = (status: number, code: string, message: string) =>
  HttpServerResponse.text(
    `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>`,
    { status, contentType: "application/xml" }
  )

const expired = () => storageError(403, "AccessDenied", "Request has expired")

export const make = (deps: {
  /** `https://127.0.0.1:PORT`, the host the links point at. */
  readonly host: () => string
  readonly now: () => number
  readonly linkExpiryMs: number
  readonly faults: Faults
  readonly stats: Stats
}) => {
  const files = new Map<string, StoredFile>()
  const counters: CloudFetchCounters = { links: 0, downloads: 0, bytes: 0, expired: 0 }

  const sweep = (now: number) => {
    for (const [id, file] of files) if (file.expiresAt <= now) files.delete(id)
  }

  /**
   * Stores a result file of `owner` and answers its link and expiry (epoch milliseconds on the client's wall clock:
   * the link's remaining lifetime from now).
   */
  const publish = (bytes: Buffer, owner: Owner): { readonly fileLink: string; readonly expiryTime: number } => {
    const now = deps.now()
    sweep(now)
    const id = Crypto.randomBytes(24).toString("base64url")
    files.set(id, { bytes, expiresAt: now + deps.linkExpiryMs, owner })
    counters.links += 1
    return { fileLink: `${deps.host()}${pathPrefix}${id}`, expiryTime: Date.now() + deps.linkExpiryMs }
  }

  /** Drops the files of a closed statement, or of every statement of a closed session. */
  const release = (closed: { readonly operation: string } | { readonly session: string }) => {
    for (const [id, file] of files) {
      if ("operation" in closed ? file.owner.operation === closed.operation : file.owner.session === closed.session) {
        files.delete(id)
      }
    }
  }

  /** Sends the head and part of the body, then destroys the connection: a reset mid-download. */
  const resetMidway = (bytes: Buffer) =>
    Effect.flatMap(
      HttpServerRequest.HttpServerRequest,
      (request) =>
        Effect.async<HttpServerResponse.HttpServerResponse>(() => {
          const response = NodeHttpServerRequest.toServerResponse(request)
          response.writeHead(200, { "content-type": "application/octet-stream", "content-length": bytes.length })
          // Destroyed once the part is flushed; the server then interrupts this handler (the response closed).
          response.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => response.socket?.destroy())
        })
    )

  const hangUp = Effect.map(HttpServerRequest.HttpServerRequest, (request) => {
    NodeHttpServerRequest.toIncomingMessage(request).socket.destroy()
    return HttpServerResponse.empty({ status: 500 })
  })

  const serve = (id: string, fault: Fault | undefined) =>
    Effect.gen(function*() {
      if (fault?.delayMs !== undefined && fault.delayMs > 0) yield* Effect.sleep(fault.delayMs)
      if (fault?.reset === "before") return yield* hangUp
      if (fault?.emptyBody === true) {
        return HttpServerResponse.empty({ status: fault.status ?? 200, headers: fault.headers ?? {} })
      }
      if (fault?.status !== undefined) {
        if (fault.status === 403 && fault.body === undefined) {
          counters.expired += 1
          return expired()
        }
        return HttpServerResponse.text(fault.body ?? "", {
          status: fault.status,
          headers: fault.headers ?? {},
          contentType: "application/xml"
        })
      }
      const now = yield* Clock.currentTimeMillis
      const file = files.get(id)
      if (file === undefined) return storageError(404, "NoSuchKey", "The specified key does not exist.")
      if (now >= file.expiresAt) {
        files.delete(id)
        counters.expired += 1
        return expired()
      }
      if (fault?.reset === "during") return yield* resetMidway(file.bytes)
      // "after": the file was handed over, the client hears nothing.
      if (fault?.reset === "after") return yield* hangUp
      counters.downloads += 1
      counters.bytes += file.bytes.length
      return HttpServerResponse.uint8Array(file.bytes, { contentType: "application/octet-stream" })
    })

  /** The download endpoint: `GET /__cloudfetch/<id>`, no credential but the link. */
  const download = Effect.gen(function*() {
    const request = yield* HttpServerRequest.HttpServerRequest
    const id = request.url.split("?")[0].slice(pathPrefix.length)
    deps.stats.request(faultTarget)
    const fault = deps.faults.take(faultTarget)
    if (fault !== undefined) deps.stats.faultInjected(faultTarget)
    const response = request.method === "GET"
      ? yield* serve(id, fault)
      : storageError(405, "MethodNotAllowed", "The specified method is not allowed against this resource.")
    // The link is the credential: the stats never show it.
    deps.stats.record({
      method: request.method,
      path: `${pathPrefix}…`,
      endpoint: faultTarget,
      status: response.status,
      ...(typeof request.headers["user-agent"] === "string" ? { userAgent: request.headers["user-agent"] } : {})
    })
    return response
  })

  return {
    publish,
    release,
    download,
    counters: (): CloudFetchCounters => ({ ...counters }),
    /** Files stored now, for leak checks. */
    get stored() {
      return files.size
    },
    reset: () => {
      counters.links = 0
      counters.downloads = 0
      counters.bytes = 0
      counters.expired = 0
    },
    clear: () => files.clear()
  }
}

export type CloudFetch = ReturnType<typeof make>
