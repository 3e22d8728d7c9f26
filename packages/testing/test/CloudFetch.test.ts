import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Schema, TestClock } from "effect"
import * as Https from "node:https"
import { cloudFetch, download } from "./cloudFetch.js"
import { connect, query, queryPromise, rawThrift, rejection } from "./driver.js"
import { addFault, stats, withEmulator } from "./emulator.js"
import { everyTypeQuery, everyTypeRows, expectedRows, seedEveryType } from "./everyType.js"

describe("CloudFetch downloads and their faults, as the real driver sees them", () => {
  it.scopedLive(
    "the stats count links, downloads and bytes; the recent requests never show a link",
    () =>
      Effect.gen(function*() {
        yield* seedEveryType
        const { client } = yield* connect()
        assert.deepStrictEqual(yield* query(client, everyTypeQuery), expectedRows("arrow"))
        const after = yield* stats
        assert.isAbove(after.cloudFetch.links, 3)
        assert.strictEqual(after.cloudFetch.downloads, after.cloudFetch.links)
        assert.strictEqual(after.requests.cloudFetch, after.cloudFetch.links)
        assert.isAbove(after.cloudFetch.bytes, 100_000)
        assert.strictEqual(after.cloudFetch.stored, 0)
        const downloads = after.recentRequests.filter((request) => request.endpoint === "cloudFetch")
        assert.strictEqual(downloads.length, after.cloudFetch.links)
        for (const request of downloads) {
          assert.strictEqual(request.path, "/__cloudfetch/…")
          assert.strictEqual(request.status, 200)
        }
      }).pipe(Effect.provide(withEmulator(cloudFetch))),
    60_000
  )

  // The driver does not retry a 403 and does not ask for fresh links: the fetch fails with its own message
  // (dist/result/CloudFetchResultHandler.js: `CloudFetch HTTP error ${status} ${statusText}`; HttpRetryPolicy
  // retries only 429 and 5xx but 501).
  it.scopedLive(
    "a link refused as expired by storage (403) fails the driver's fetch: no refetch, no partial result",
    () =>
      Effect.gen(function*() {
        yield* seedEveryType
        const { client } = yield* connect()
        yield* addFault({ target: "cloudFetch", status: 403 })
        const error = (yield* rejection(() => queryPromise(client, everyTypeQuery))) as Error
        assert.match(String(error?.message), /CloudFetch HTTP error 403 Forbidden/)
        const after = yield* stats
        assert.strictEqual(after.faultsInjected.cloudFetch, 1)
        assert.strictEqual(after.cloudFetch.expired, 1)
      }).pipe(Effect.provide(withEmulator(cloudFetch))),
    60_000
  )

  // Storage answers an expired presigned URL with 403 and an XML error (S3: AccessDenied, "Request has expired").
  it.scoped(
    "links expire on the emulator's clock: a result read after expiry gets 403 from storage",
    () =>
      Effect.gen(function*() {
        // The driver checks expiryTime against its own wall clock first (CloudFetchResultHandler.downloadLink): the
        // emulator tells it the link's remaining lifetime on that clock, and enforces expiry on its own (the
        // TestClock, starting at 0), so the driver downloads and storage refuses.
        yield* seedEveryType
        const { client } = yield* connect()
        const raw = yield* rawThrift(client)
        const executed = yield* Effect.promise(() => raw.execute(everyTypeQuery, { download: true }))
        const [link] = executed.directResults.resultSet.results.resultLinks
        yield* TestClock.adjust("16 minutes")
        const refused = yield* download(link.fileLink)
        assert.strictEqual(refused.status, 403)
        assert.include(refused.body.toString(), "<Code>AccessDenied</Code>")
        assert.include(refused.body.toString(), "Request has expired")
        yield* Effect.promise(() => raw.close())

        // Through the driver: the statement ran, its first links were handed out, then the reader came back late.
        const session = yield* Effect.promise(() => client.openSession())
        const operation = yield* Effect.promise(() => session.executeStatement(everyTypeQuery))
        yield* TestClock.adjust("16 minutes")
        const error = (yield* rejection(() => operation.fetchAll())) as Error
        assert.match(String(error?.message), /CloudFetch HTTP error 403/)
        assert.isAtLeast((yield* stats).cloudFetch.expired, 2)
        yield* Effect.promise(() => session.close())
      }).pipe(Effect.provide(withEmulator(cloudFetch))),
    60_000
  )

  it.scopedLive("a slow download holds the rows back, then they arrive whole", () =>
    Effect.gen(function*() {
      yield* seedEveryType
      const { client } = yield* connect()
      yield* addFault({ target: "cloudFetch", delayMs: 600 })
      const started = Date.now()
      assert.deepStrictEqual(yield* query(client, everyTypeQuery), expectedRows("arrow"))
      assert.isAtLeast(Date.now() - started, 600)
      assert.strictEqual((yield* stats).faultsInjected.cloudFetch, 1)
    }).pipe(Effect.provide(withEmulator(cloudFetch))), 60_000)

  // Storage sends Content-Length with an object (as S3 and Azure Blob do), so a connection reset mid-body is a body
  // cut short. node-fetch 2 (the driver's HTTP client) notices a cut only for chunked bodies
  // (fixResponseChunkedTransferBadEnding), and the driver sets no body timeout: its fetch never settles. A caller
  // must bound it with its own deadline.
  it.scopedLive(
    "a reset mid-download: the body is cut short, and driver 2.1 waits on it forever",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        yield* seedEveryType
        const { client } = yield* connect()
        const raw = yield* rawThrift(client)
        const executed = yield* Effect.promise(() => raw.execute(everyTypeQuery, { download: true }))
        const [link] = executed.directResults.resultSet.results.resultLinks
        yield* addFault({ target: "cloudFetch", reset: "during" })
        const cut = yield* Effect.promise(() =>
          new Promise<{ status?: number | undefined; declared: number; received: number; aborted: boolean }>(
            (resolve) => {
              const url = new URL(link.fileLink)
              const request = Https.get(url, { ca: emulator.caCertPem }, (response) => {
                let received = 0
                response.on("data", (chunk: Buffer) => (received += chunk.length))
                const done = (aborted: boolean) =>
                  resolve({
                    status: response.statusCode,
                    declared: Number(response.headers["content-length"]),
                    received,
                    aborted
                  })
                response.on("end", () => done(false))
                response.on("error", () => done(true))
              })
              request.on("error", () => resolve({ declared: 0, received: 0, aborted: true }))
            }
          )
        )
        assert.strictEqual(cut.status, 200)
        assert.isTrue(cut.aborted)
        assert.strictEqual(cut.declared, link.bytesNum.toNumber())
        assert.isBelow(cut.received, cut.declared)

        yield* addFault({ target: "cloudFetch", reset: "during" })
        const outcome = yield* Effect.promise(() =>
          Promise.race([
            queryPromise(client, everyTypeQuery).then(() => "rows", () => "failed"),
            new Promise((resolve) => setTimeout(() => resolve("still waiting"), 3000))
          ])
        )
        assert.strictEqual(outcome, "still waiting")
        assert.strictEqual((yield* stats).faultsInjected.cloudFetch, 2)
      }).pipe(Effect.provide(withEmulator(cloudFetch))),
    60_000
  )

  // A reset before the response is a network error the driver's HttpRetryPolicy retries (ECONNRESET, "socket hang
  // up"), within retryMaxAttempts (3 in test/driver.ts); then it gives up with the error.
  it.scopedLive(
    "resets before any byte on every attempt exhaust the driver's retries: the fetch fails",
    () =>
      Effect.gen(function*() {
        yield* seedEveryType
        const { client } = yield* connect()
        yield* addFault({ target: "cloudFetch", reset: "before", count: 50 })
        const error = (yield* rejection(() => queryPromise(client, everyTypeQuery))) as Error
        assert.match(String(error?.message), /Max retry count exceeded/)
        // At least one link's three attempts (the page's other links are retried in parallel).
        assert.isAtLeast((yield* stats).faultsInjected.cloudFetch, 3)
      }).pipe(Effect.provide(withEmulator(cloudFetch))),
    60_000
  )

  it.scopedLive("a reset before any byte is retried too", () =>
    Effect.gen(function*() {
      yield* seedEveryType
      const { client } = yield* connect()
      yield* addFault({ target: "cloudFetch", reset: "before" })
      const rows = yield* query(client, everyTypeQuery)
      assert.strictEqual(rows.length, everyTypeRows)
      assert.strictEqual((yield* stats).faultsInjected.cloudFetch, 1)
    }).pipe(Effect.provide(withEmulator(cloudFetch))), 60_000)

  it("reset \"during\" is refused for anything but CloudFetch downloads", () => {
    const decode = Schema.decodeUnknownEither(Emulator.Fault)
    assert.isTrue(Either.isLeft(decode({ target: "ExecuteStatement", reset: "during" })))
    assert.isTrue(Either.isRight(decode({ target: "cloudFetch", reset: "during" })))
  })
})
