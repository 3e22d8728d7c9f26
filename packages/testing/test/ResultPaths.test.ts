import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createRequire } from "node:module"
import { download } from "./cloudFetch.js"
import { connect, query, rawThrift, rowSetType } from "./driver.js"
import { stats, withEmulator } from "./emulator.js"
import { everyTypeQuery, everyTypeRows, expectedRows, seedEveryType } from "./everyType.js"

/** The driver's own LZ4 (lz4-napi), to read what the emulator compressed. */
const lz4: { decode(data: Buffer): Buffer } = createRequire(import.meta.url)("@databricks/sql/dist/utils/lz4.js")
  .default()
const lz4Magic = "04224d18"

/**
 * Small batches, a small CloudFetch threshold and small files, so 3000 rows take every path. The statement
 * settles within the direct-results wait, so the first page comes with ExecuteStatement.
 */
const paths: Emulator.Options = {
  warehouse: {
    maxBatchRows: 256,
    cloudFetchThreshold: 64 * 1024,
    cloudFetchFileBytes: 32 * 1024,
    cloudFetchLinksPerFetch: 3,
    directResultsWait: "10 seconds"
  }
}

const rowCounts = (results: any): Array<number> =>
  (results.arrowBatches ?? []).map((batch: any) => batch.rowCount.toNumber())

describe("result paths, through the real driver, with the same rows on each", () => {
  it.scopedLive(
    "every type and NULLs arrive identical over inline Arrow (one and several batches), LZ4 and CloudFetch",
    () =>
      Effect.gen(function*() {
        yield* seedEveryType
        const { client } = yield* connect({ preserveBigNumericPrecision: false })
        const expected = expectedRows("arrow")
        const inline = { useCloudFetch: false, useLZ4Compression: false }

        // One batch per page: pages of 200 rows are smaller than a batch (256 rows).
        assert.deepStrictEqual(yield* query(client, everyTypeQuery, { ...inline, maxRows: 200 }), expected)
        // Several batches per page: one page of 3000 rows in batches of 256.
        assert.deepStrictEqual(yield* query(client, everyTypeQuery, inline), expected)
        // LZ4: the driver asks for it when it does not ask for CloudFetch (ThriftSessionBackend.executeStatement).
        assert.deepStrictEqual(yield* query(client, everyTypeQuery, { useCloudFetch: false }), expected)
        const inlineOnly = yield* stats
        assert.strictEqual(inlineOnly.cloudFetch.links, 0)

        // CloudFetch, the driver's default: the result is larger than the threshold.
        assert.deepStrictEqual(yield* query(client, everyTypeQuery), expected)
        // ...and with pages of 1000 rows asked for (links are not bounded by maxRows).
        assert.deepStrictEqual(yield* query(client, everyTypeQuery, { maxRows: 1000 }), expected)
        const fetched = yield* stats
        assert.isAbove(fetched.cloudFetch.links, 6)
        assert.strictEqual(fetched.cloudFetch.downloads, fetched.cloudFetch.links)
        assert.strictEqual(fetched.cloudFetch.stored, 0)
        assert.strictEqual(fetched.openOperations, 0)

        // A small result stays inline even when the client could download it.
        const before = (yield* stats).cloudFetch.links
        assert.deepStrictEqual(
          yield* query(client, "SELECT * FROM every_type ORDER BY id LIMIT 20"),
          expected.slice(0, 20)
        )
        assert.strictEqual((yield* stats).cloudFetch.links, before)
      }).pipe(Effect.provide(withEmulator(paths))),
    120_000
  )

  it.scopedLive(
    "every type and NULLs over COLUMN_BASED_SET (DATE and TIMESTAMP as the warehouse's text)",
    () =>
      Effect.gen(function*() {
        yield* seedEveryType
        const { client } = yield* connect()
        assert.deepStrictEqual(yield* query(client, everyTypeQuery), expectedRows("columns"))
        assert.deepStrictEqual(yield* query(client, everyTypeQuery, { maxRows: 700 }), expectedRows("columns"))
        assert.strictEqual((yield* stats).cloudFetch.links, 0)
      }).pipe(Effect.provide(withEmulator({ warehouse: { resultFormat: "columns" } }))),
    60_000
  )

  it.scopedLive("inline Arrow pages: several batches within maxRows, startRowOffset and rowCount right, maxBytes honoured", () =>
    Effect.gen(function*() {
      yield* seedEveryType
      const { client } = yield* connect()
      const raw = yield* rawThrift(client)
      const executed = yield* Effect.promise(() => raw.execute(everyTypeQuery, { maxRows: 1000 }))
      const metadata = executed.directResults.resultSetMetadata
      assert.strictEqual(metadata.resultFormat, rowSetType.ARROW_BASED_SET)
      assert.strictEqual(metadata.lz4Compressed, false)
      const first = executed.directResults.resultSet
      assert.strictEqual(first.results.startRowOffset.toNumber(), 0)
      assert.deepStrictEqual(rowCounts(first.results), [256, 256, 256, 232])
      assert.strictEqual(first.hasMoreRows, true)

      const handle = executed.operationHandle
      const second = yield* Effect.promise(() => raw.fetch(handle, 1000))
      assert.strictEqual(second.results.startRowOffset.toNumber(), 1000)
      assert.deepStrictEqual(rowCounts(second.results), [256, 256, 256, 232])
      // TFetchResultsReq.maxBytes: a byte budget smaller than one batch still gets one batch.
      const budgeted = yield* Effect.promise(() => raw.fetch(handle, 1000, 1))
      assert.strictEqual(budgeted.results.startRowOffset.toNumber(), 2000)
      assert.deepStrictEqual(rowCounts(budgeted.results), [256])
      const rest = yield* Effect.promise(() => raw.fetch(handle, 100_000))
      assert.strictEqual(rest.results.startRowOffset.toNumber(), 2256)
      assert.deepStrictEqual(rowCounts(rest.results), [256, 256, 232])
      assert.strictEqual(rest.hasMoreRows, false)
      yield* Effect.promise(() => raw.close())
    }).pipe(Effect.provide(withEmulator(paths))))

  it.scopedLive("LZ4: each inline batch is an LZ4 frame of the same Arrow bytes, and the metadata says so", () =>
    Effect.gen(function*() {
      yield* seedEveryType
      const { client } = yield* connect()
      const raw = yield* rawThrift(client)
      const plain = yield* Effect.promise(() => raw.execute(everyTypeQuery))
      const compressed = yield* Effect.promise(() => raw.execute(everyTypeQuery, { lz4: true }))
      assert.strictEqual(compressed.directResults.resultSetMetadata.lz4Compressed, true)
      assert.strictEqual(compressed.directResults.resultSetMetadata.resultFormat, rowSetType.ARROW_BASED_SET)
      const plainBatches = plain.directResults.resultSet.results.arrowBatches
      const lz4Batches = compressed.directResults.resultSet.results.arrowBatches
      assert.strictEqual(lz4Batches.length, Math.ceil(everyTypeRows / 256))
      let saved = 0
      lz4Batches.forEach((batch: any, i: number) => {
        assert.strictEqual(batch.batch.subarray(0, 4).toString("hex"), lz4Magic)
        assert.isTrue(lz4.decode(batch.batch).equals(plainBatches[i].batch))
        assert.strictEqual(batch.rowCount.toNumber(), plainBatches[i].rowCount.toNumber())
        saved += plainBatches[i].batch.length - batch.batch.length
      })
      assert.isAbove(saved, 0)
      yield* Effect.promise(() => raw.close())
    }).pipe(Effect.provide(withEmulator(paths))))

  it.scopedLive("CloudFetch: URL_BASED_SET with a few links per page, each an Arrow stream the link itself unlocks", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* seedEveryType
      const { client } = yield* connect()
      const raw = yield* rawThrift(client)
      const executed = yield* Effect.promise(() => raw.execute(everyTypeQuery, { download: true }))
      const metadata = executed.directResults.resultSetMetadata
      assert.strictEqual(metadata.resultFormat, rowSetType.URL_BASED_SET)
      assert.strictEqual(metadata.lz4Compressed, false)
      assert.isTrue(Buffer.isBuffer(metadata.arrowSchema))

      const links: Array<any> = [...executed.directResults.resultSet.results.resultLinks]
      assert.strictEqual(links.length, 3)
      let hasMore = executed.directResults.resultSet.hasMoreRows
      while (hasMore) {
        const page = yield* Effect.promise(() => raw.fetch(executed.operationHandle, 100_000))
        assert.isAtMost(page.results.resultLinks.length, 3)
        assert.strictEqual(
          page.results.startRowOffset.toNumber(),
          page.results.resultLinks[0].startRowOffset.toNumber()
        )
        links.push(...page.results.resultLinks)
        hasMore = page.hasMoreRows
      }
      // The links tile the result: each starts where the previous ended, and they add up to every row.
      let offset = 0
      for (const link of links) {
        assert.strictEqual(link.startRowOffset.toNumber(), offset)
        offset += link.rowCount.toNumber()
      }
      assert.strictEqual(offset, everyTypeRows)
      // Presigned-style links expire: the Databricks SDK documents "a short expiration time (<= 15 minutes)"
      // for external links (sql.ExternalLink.expiration), which is the emulator's default.
      const now = Date.now()
      for (const link of links) {
        assert.isTrue(link.fileLink.startsWith(`${emulator.host}/__cloudfetch/`))
        assert.isAtLeast(link.expiryTime.toNumber(), now + 14 * 60_000)
        assert.isAtMost(link.expiryTime.toNumber(), now + 15 * 60_000)
      }

      // No bearer token: the link is the credential. The file is an Arrow IPC stream of bytesNum bytes.
      const file = yield* download(links[0].fileLink)
      assert.strictEqual(file.status, 200)
      assert.strictEqual(file.body.length, links[0].bytesNum.toNumber())
      assert.strictEqual(file.body.subarray(0, 4).toString("hex"), "ffffffff")
      assert.strictEqual(file.body.subarray(-8).toString("hex"), "ffffffff00000000")
      // As object storage serves an object until its presigned URL expires, a file downloads again (a retry after a
      // cut download); it is freed when its statement or session is closed.
      const again = yield* download(links[0].fileLink)
      assert.strictEqual(again.status, 200)
      assert.isTrue(again.body.equals(file.body))
      const guessed = yield* download(`${emulator.host}/__cloudfetch/not-a-link`)
      assert.strictEqual(guessed.status, 404)

      const counters = (yield* stats).cloudFetch
      assert.strictEqual(counters.links, links.length)
      assert.strictEqual(counters.downloads, 2)
      assert.strictEqual(counters.bytes, 2 * file.body.length)
      assert.strictEqual(counters.stored, links.length)
      yield* Effect.promise(() => raw.close())
      const closed = yield* download(links[0].fileLink)
      assert.strictEqual(closed.status, 404)
      assert.include(closed.body.toString(), "<Code>NoSuchKey</Code>")
      assert.strictEqual((yield* stats).cloudFetch.stored, 0)
    }).pipe(Effect.provide(withEmulator(paths))))

  it.scopedLive("CloudFetch with LZ4 (as clients that ask for both get it): each file is one LZ4 frame", () =>
    Effect.gen(function*() {
      yield* seedEveryType
      const { client } = yield* connect()
      const raw = yield* rawThrift(client)
      const executed = yield* Effect.promise(() =>
        raw.execute(everyTypeQuery, { download: true, lz4: true, maxBytesPerFile: 16 * 1024 })
      )
      assert.strictEqual(executed.directResults.resultSetMetadata.lz4Compressed, true)
      const [link] = executed.directResults.resultSet.results.resultLinks
      const file = yield* download(link.fileLink)
      assert.strictEqual(file.body.subarray(0, 4).toString("hex"), lz4Magic)
      const arrow = lz4.decode(file.body)
      // bytesNum is the Arrow size before compression: the Python connector compares the decompressed file with
      // it (databricks-sql-python, src/databricks/sql/cloudfetch/downloader.py).
      assert.strictEqual(arrow.length, link.bytesNum.toNumber())
      // The client's maxBytesPerFile caps the file (16 KiB instead of the emulator's 32 KiB), to whole batches.
      assert.isBelow(arrow.length, 32 * 1024)
      yield* Effect.promise(() => raw.close())
    }).pipe(Effect.provide(withEmulator(paths))))
})
