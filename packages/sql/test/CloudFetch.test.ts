import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, Effect, Stream } from "effect"
import { realPause, statements, stats, withClient, withEmulator } from "./utils.js"

const client = SqlClient.SqlClient
const addFault = (fault: Emulator.Fault) => Effect.flatMap(Emulator.Emulator, (e) => e.faults.add(fault))

/**
 * Large results as real warehouses deliver them: CloudFetch, links to result files in cloud storage that the
 * driver downloads (`URL_BASED_SET`), and LZ4-compressed inline Arrow when CloudFetch is off. The emulator's
 * thresholds are tiny here, so a few thousand rows take either path.
 */

/** Every non-empty result by CloudFetch, in files of 32 KiB (a few Arrow batches), three links per page. */
const viaLinks: Emulator.Options = {
  warehouse: { maxBatchRows: 256, cloudFetchThreshold: 0, cloudFetchFileBytes: 32 * 1024, cloudFetchLinksPerFetch: 3 }
}
/** The same batches, inline (the default threshold, 4 MiB, is far above these results). */
const inline: Emulator.Options = { warehouse: { maxBatchRows: 256 } }

/** 24,000 BIGINTs in files of 1000 rows (8 KB of values each): 24 links. */
const smallFiles: Emulator.Options = {
  warehouse: { maxBatchRows: 1_000, cloudFetchThreshold: 0, cloudFetchFileBytes: 8 * 1024 }
}

const rows = 6_000
/** Several types, NULLs included, in a stable order. */
const everyType = `SELECT id,
  CAST(id AS INT) AS i,
  id * 1.5 AS d,
  CAST(id AS DECIMAL(18, 2)) / 4 AS dec,
  concat('row ', CAST(id AS STRING)) AS s,
  date_add(DATE '2024-01-01', CAST(id % 1000 AS INT)) AS day,
  TIMESTAMP '2024-01-01 00:00:00' + make_interval(0, 0, 0, 0, 0, 0, id) AS at,
  id % 2 = 0 AS even,
  CASE WHEN id % 7 = 0 THEN NULL ELSE id END AS sometimes,
  array(id, id + 1) AS pair
  FROM range(${rows}) ORDER BY id`

const readAll = (options: Emulator.Options, clientOptions?: Partial<SqlClient.Options>) =>
  withClient(
    Effect.gen(function*() {
      const c = yield* client
      const queried = yield* c.query(everyType)
      const streamed = Chunk.toReadonlyArray(
        yield* Stream.runCollect(c.stream(everyType, undefined, { chunkSize: 700 }))
      )
      return { queried, streamed, cloudFetch: (yield* stats).cloudFetch }
    }),
    clientOptions
  ).pipe(Effect.provide(withEmulator(options)))

describe("SqlClient over CloudFetch", () => {
  it.scopedLive("query and stream give the same rows through links as inline", () =>
    Effect.gen(function*() {
      const expected = yield* readAll(inline)
      assert.strictEqual(expected.cloudFetch.links, 0, "the inline run used no links")
      assert.strictEqual(expected.queried.length, rows)
      assert.deepStrictEqual(expected.streamed, expected.queried)
      const linked = yield* readAll(viaLinks)
      assert.isAbove(linked.cloudFetch.links, 10, "the result came as links")
      assert.strictEqual(linked.cloudFetch.downloads, linked.cloudFetch.links, "every link was downloaded once")
      assert.strictEqual(linked.cloudFetch.stored, 0)
      assert.deepStrictEqual(linked.queried, expected.queried)
      assert.deepStrictEqual(linked.streamed, expected.queried)
    }), 120_000)

  // The driver asks for LZ4 only when it does not ask for CloudFetch (2.1, thrift-backend/ThriftSessionBackend.js:
  // `canDecompressLZ4Result` is set only when `canDownloadResult !== true`).
  it.scopedLive(
    "with CloudFetch off, the same rows come inline (LZ4-compressed) even above the threshold",
    () =>
      Effect.gen(function*() {
        const expected = yield* readAll(inline)
        const lz4 = yield* readAll(viaLinks, { cloudFetch: { enabled: false } })
        assert.strictEqual(lz4.cloudFetch.links, 0, "no links were handed out")
        assert.deepStrictEqual(lz4.queried, expected.queried)
        assert.deepStrictEqual(lz4.streamed, expected.queried)
      }),
    120_000
  )

  // Each slow download holds its link's rows back by `delayMs`; links downloaded `n` at a time take about
  // links / n times as long. The driver's default is 10 at once (2.1, DBSQLClient.js: cloudFetchConcurrentDownloads).
  it.scopedLive(
    "downloads run cloudFetch.concurrentDownloads at a time: the cap shows in the wall time",
    () =>
      Effect.gen(function*() {
        const timed = (concurrentDownloads: number) =>
          withClient(
            Effect.gen(function*() {
              const c = yield* client
              yield* addFault({ target: "cloudFetch", delayMs: 200, count: 1_000 })
              const started = Date.now()
              const result = yield* c.query("SELECT id FROM range(24000)")
              assert.strictEqual(result.length, 24_000)
              return { millis: Date.now() - started, links: (yield* stats).cloudFetch.links }
            }),
            { cloudFetch: { concurrentDownloads } }
          ).pipe(Effect.provide(withEmulator(smallFiles)))
        const one = yield* timed(1)
        const six = yield* timed(6)
        assert.isAtLeast(one.links, 10)
        // One at a time: every download's delay in a row.
        assert.isAtLeast(one.millis, one.links * 200)
        // Six at a time: well under half of that (about a sixth).
        assert.isBelow(six.millis, (one.links * 200) / 2)
      }),
    120_000
  )

  it.scopedLive("the default cap is 2: no more than 2 downloads of a statement at once", () =>
    Effect.gen(function*() {
      const millis = yield* withClient(
        Effect.gen(function*() {
          const c = yield* client
          yield* addFault({ target: "cloudFetch", delayMs: 200, count: 1_000 })
          const started = Date.now()
          yield* c.query("SELECT id FROM range(24000)")
          const links = (yield* stats).cloudFetch.links
          assert.isAtLeast(links, 10)
          return { millis: Date.now() - started, links }
        })
      ).pipe(Effect.provide(withEmulator(smallFiles)))
      assert.isAtLeast(millis.millis, Math.floor(millis.links / 2) * 200)
    }), 120_000)
})

describe("SqlClient over CloudFetch, faults", () => {
  // Storage refuses an expired presigned link with 403; the driver neither retries it nor asks for fresh links
  // (2.1, result/CloudFetchResultHandler.js, downloadLink: `CloudFetch HTTP error ${status} ${statusText}`).
  it.scopedLive(
    "a link refused as expired before any row was delivered: query runs the statement again, once",
    () =>
      Effect.gen(function*() {
        const result = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            yield* addFault({ target: "cloudFetch", status: 403 })
            return yield* c.query(`${everyType} /* expired-once */`)
          })
        )
        assert.strictEqual(result.length, rows)
        assert.deepStrictEqual(result.map((row) => row.id), Array.from({ length: rows }, (_, i) => BigInt(i)))
        assert.deepStrictEqual(yield* statements("expired-once"), ["FINISHED", "FINISHED"], "run twice")
        assert.strictEqual((yield* stats).cloudFetch.expired, 1)
      }).pipe(Effect.provide(withEmulator(viaLinks))),
    60_000
  )

  it.scopedLive(
    "links that expire again: a ResultExpiredError, not a loop; a non-idempotent execute runs once",
    () =>
      Effect.gen(function*() {
        const [again, once] = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            yield* addFault({ target: "cloudFetch", status: 403, count: 1_000 })
            const again = yield* Effect.flip(c.query(`${everyType} /* expired-always */`))
            const once = yield* Effect.flip(c.execute(`${everyType} /* expired-execute */`))
            return [again, once] as const
          })
        )
        assert.strictEqual(again._tag, "ResultExpiredError")
        assert.match(again.message, /expired/)
        assert.notMatch(again.message, /CloudFetch HTTP error/)
        assert.strictEqual(again._tag === "ResultExpiredError" && again.rowsDelivered, 0)
        assert.deepStrictEqual(yield* statements("expired-always"), ["FINISHED", "FINISHED"], "run twice, no more")
        assert.strictEqual(once._tag, "ResultExpiredError")
        assert.deepStrictEqual(yield* statements("expired-execute"), ["FINISHED"], "execute is not run again")
      }).pipe(Effect.provide(withEmulator(viaLinks))),
    60_000
  )

  it.scopedLive(
    "a link that expires mid-stream: a ResultExpiredError saying how many rows came, never fewer rows",
    () =>
      Effect.gen(function*() {
        const seen: Array<bigint> = []
        const error = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            return yield* c.stream(`${everyType} /* expired-mid */`, undefined, { chunkSize: 500 }).pipe(
              Stream.tap((row) =>
                Effect.gen(function*() {
                  seen.push(row.id as bigint)
                  // After 1500 rows, every link still to be downloaded has expired.
                  if (seen.length === 1_500) yield* addFault({ target: "cloudFetch", status: 403, count: 1_000 })
                })
              ),
              Stream.runDrain,
              Effect.flip
            )
          })
        )
        assert.strictEqual(error._tag, "ResultExpiredError")
        if (error._tag !== "ResultExpiredError") return
        assert.isAtLeast(error.rowsDelivered, 1_500)
        assert.isBelow(error.rowsDelivered, rows)
        assert.strictEqual(error.rowsDelivered, seen.length, "the count is the rows the stream emitted")
        assert.include(error.message, `the stream stopped after ${seen.length} rows`)
        assert.deepStrictEqual(seen, Array.from({ length: seen.length }, (_, i) => BigInt(i)), "no row repeated")
        assert.deepStrictEqual(yield* statements("expired-mid"), ["FINISHED"], "a stream is not run again")
      }).pipe(Effect.provide(withEmulator(viaLinks))),
    60_000
  )

  it.scopedLive("slow downloads within timeouts.rpc: the rows arrive whole", () =>
    Effect.gen(function*() {
      const result = yield* withClient(
        Effect.gen(function*() {
          const c = yield* client
          yield* addFault({ target: "cloudFetch", delayMs: 700, count: 3 })
          return yield* c.query(everyType)
        }),
        { timeouts: { rpc: "3 seconds" } }
      )
      assert.strictEqual(result.length, rows)
      assert.strictEqual((yield* stats).faultsInjected.cloudFetch, 3)
    }).pipe(Effect.provide(withEmulator(viaLinks))), 60_000)

  // node-fetch 2 (the driver's HTTP client) does not notice a body cut short when it has a Content-Length, as
  // storage sends, and the driver sets no body timeout: without a deadline of its own, the fetch waits forever
  // (packages/testing/test/CloudFetch.test.ts shows the raw driver doing so).
  it.scopedLive(
    "a download cut mid-body: a TimeoutError within timeouts.rpc, for query and for stream",
    () =>
      Effect.gen(function*() {
        const [queried, streamed] = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            yield* addFault({ target: "cloudFetch", reset: "during" })
            const started = Date.now()
            const queried = yield* Effect.flip(c.query(everyType))
            const queryMillis = Date.now() - started
            let delivered = 0
            yield* addFault({ target: "cloudFetch", reset: "during" })
            const streamStarted = Date.now()
            const streamed = yield* c.stream(everyType, undefined, { chunkSize: 500 }).pipe(
              Stream.tap(() => Effect.sync(() => delivered++)),
              Stream.runDrain,
              Effect.flip
            )
            return [
              { error: queried, millis: queryMillis },
              { error: streamed, millis: Date.now() - streamStarted, delivered }
            ] as const
          }),
          { timeouts: { rpc: "3 seconds" } }
        )
        for (const { error, millis } of [queried, streamed]) {
          assert.strictEqual(error._tag, "TimeoutError")
          assert.match(error.message, /No rows arrived within 3s \(fetch: a FetchResults, or a result file's/)
          assert.isAtLeast(millis, 2_900)
          assert.isBelow(millis, 10_000, "bounded by timeouts.rpc, not a hang")
        }
        assert.include(streamed.error.message, `the stream stopped after ${streamed.delivered} rows`)
        assert.strictEqual((yield* stats).faultsInjected.cloudFetch, 2)
        // The cut connections are gone; nothing waits on them any more.
        yield* realPause(50)
      }).pipe(Effect.provide(withEmulator(viaLinks))),
    60_000
  )

  // The driver's own retry is off for every call (RetryPolicy decides), and its downloads share that setting
  // (2.1, result/CloudFetchResultHandler.js: `connectionProvider.getRetryPolicy()`): a reset download is not tried
  // again by the driver. Like a lost FetchResults: query runs again from scratch; a stream fails, typed.
  it.scopedLive(
    "a download reset before any byte: query runs again whole; a stream fails typed, with its count",
    () =>
      Effect.gen(function*() {
        const [queried, streamed] = yield* withClient(
          Effect.gen(function*() {
            const c = yield* client
            yield* addFault({ target: "cloudFetch", reset: "before" })
            const queried = yield* c.query(`${everyType} /* reset-query */`)
            let delivered = 0
            const streamed = yield* c.stream(everyType, undefined, { chunkSize: 500 }).pipe(
              Stream.tap(() =>
                Effect.gen(function*() {
                  delivered++
                  if (delivered === 1_000) yield* addFault({ target: "cloudFetch", reset: "before", count: 100 })
                })
              ),
              Stream.runDrain,
              Effect.flip
            )
            return [queried, { error: streamed, delivered }] as const
          })
        )
        assert.strictEqual(queried.length, rows)
        assert.deepStrictEqual(yield* statements("reset-query"), ["FINISHED", "FINISHED"])
        assert.strictEqual(streamed.error._tag, "NetworkError")
        assert.include(streamed.error.message, `the stream stopped after ${streamed.delivered} rows`)
        assert.isBelow(streamed.delivered, rows)
      }).pipe(Effect.provide(withEmulator(viaLinks))),
    60_000
  )

  it.effect("cloudFetch options are checked when the layer is built", () =>
    Effect.gen(function*() {
      for (
        const [cloudFetch, setting] of [
          [{ concurrentDownloads: 0 }, "cloudFetch.concurrentDownloads"],
          [{ concurrentDownloads: 2.5 }, "cloudFetch.concurrentDownloads"],
          [{ enabled: "no" }, "cloudFetch.enabled"],
          ["fast", "cloudFetch"]
        ] as const
      ) {
        const error = yield* Effect.flip(
          withClient(client, { cloudFetch: cloudFetch as never }).pipe(Effect.provide(withEmulator()))
        )
        assert.strictEqual(error._tag, "ConfigurationError")
        assert.strictEqual(error._tag === "ConfigurationError" && error.setting, setting)
      }
    }).pipe(Effect.scoped))
})
