import type { Emulator } from "@effect-databricks/testing"
import { HttpClient, HttpClientRequest } from "@effect/platform"
import { Effect } from "effect"

/** Every non-empty result by CloudFetch, in files of a few batches, three links per page. */
export const cloudFetch: Emulator.Options = {
  warehouse: {
    maxBatchRows: 256,
    cloudFetchThreshold: 0,
    cloudFetchFileBytes: 32 * 1024,
    cloudFetchLinksPerFetch: 3,
    directResultsWait: "10 seconds"
  }
}

/** Downloads a CloudFetch link as the driver would (a plain GET), whatever its status. */
export const download = (url: string, headers: Record<string, string> = {}) =>
  Effect.gen(function*() {
    const client = yield* HttpClient.HttpClient
    const response = yield* client.execute(HttpClientRequest.get(url).pipe(HttpClientRequest.setHeaders(headers)))
    return {
      status: response.status,
      contentType: response.headers["content-type"],
      body: Buffer.from(yield* response.arrayBuffer)
    }
  }).pipe(Effect.scoped, Effect.orDie)
