/**
 * How a finished statement's rows travel to the client, as a SQL warehouse sends them:
 *
 * - `COLUMN_BASED_SET`: Thrift columns (metadata RPCs, clients that cannot read Arrow, `resultFormat: "columns"`).
 * - `ARROW_BASED_SET`: inline Arrow IPC record batches, several per FetchResults (up to `maxBatchRows` rows each,
 *   within the client's `maxRows` and a byte budget per fetch), each an LZ4 frame when the client said
 *   `canDecompressLZ4Result`.
 * - `URL_BASED_SET` (CloudFetch): when the client said `canDownloadResult` and the result is larger than
 *   `cloudFetchThreshold` bytes of Arrow, links to result files (an Arrow IPC stream each, the schema first, up to
 *   `cloudFetchFileBytes`) that the emulator serves itself; a few links per FetchResults.
 *
 * To choose between inline and CloudFetch, rows are read ahead (up to the threshold) before the metadata is
 * answered, as a warehouse knows its result's size when it answers; they are delivered first.
 *
 * @internal
 */
import type { DuckDBValue } from "@duckdb/node-api"
import type * as Arrow from "apache-arrow"
import type { CloudFetch } from "./cloudFetch.js"
import * as Columns from "./columns.js"
import type { Operation, Session } from "./engine.js"
import * as Lz4 from "./lz4.js"
import { Int64, types } from "./thrift.js"

/** The newest protocol version the emulator speaks; a session uses the lower of this and the client's. */
export const protocolVersion: number = types.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8

export interface DeliveryOptions {
  readonly resultFormat: "arrow" | "columns"
  /** Rows per Arrow record batch. */
  readonly maxBatchRows: number
  /** Bytes of inline Arrow per FetchResults (the client's `maxBytes` lowers it): at least one batch is sent. */
  readonly maxBytesPerFetch: number
  /** A result with more Arrow bytes than this travels by CloudFetch, when the client can download. */
  readonly cloudFetchThreshold: number
  /** Bytes of Arrow per result file (the client's `maxBytesPerFile` lowers it): at least one batch per file. */
  readonly cloudFetchFileBytes: number
  /** Links per FetchResults answer. */
  readonly cloudFetchLinksPerFetch: number
}

/** How one operation's results travel, fixed when it is submitted. */
export interface Delivery {
  readonly format: "arrow" | "columns"
  readonly flags: Columns.ArrowFlags
  /** The client can decompress LZ4 frames (`canDecompressLZ4Result`). */
  readonly lz4: boolean
  /** The client can download result files (`canDownloadResult`). */
  readonly download: boolean
  /** The client's `maxBytesPerFile`, if it sent one. */
  readonly maxBytesPerFile: number | undefined
}

const numberOf = (value: unknown): number | undefined =>
  value === undefined || value === null
    ? undefined
    : typeof value === "number"
    ? value
    : (value as { toNumber(): number }).toNumber()

/** What the client of an ExecuteStatement asked for, within what the emulator is set to send. */
export const deliveryFor = (request: any, _session: Session, options: DeliveryOptions): Delivery => {
  const native = request.useArrowNativeTypes ?? {}
  const arrow = options.resultFormat === "arrow" && request.canReadArrowResult === true
  return {
    format: arrow ? "arrow" : "columns",
    flags: {
      timestampAsArrow: native.timestampAsArrow === true,
      decimalAsArrow: native.decimalAsArrow === true,
      complexTypesAsArrow: native.complexTypesAsArrow === true
    },
    lz4: arrow && request.canDecompressLZ4Result === true,
    download: arrow && request.canDownloadResult === true,
    maxBytesPerFile: numberOf(request.maxBytesPerFile)
  }
}

/** Metadata RPCs carry no result options: their rows travel as a COLUMN_BASED_SET. */
export const metadataDelivery = (_session: Session, _options: DeliveryOptions): Delivery => ({
  format: "columns",
  flags: { timestampAsArrow: false, decimalAsArrow: false, complexTypesAsArrow: false },
  lz4: false,
  download: false,
  maxBytesPerFile: undefined
})

const ok = { statusCode: types.TStatusCode.SUCCESS_STATUS }

/** The end of an Arrow IPC stream: continuation marker, then a zero length. */
const endOfStream = Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])

type Path = "columns" | "inline" | "cloudFetch"
/** Rows as columns, as the cursor gives them. */
type Rows = Array<Array<DuckDBValue>>

interface Tracked {
  readonly delivery: Delivery
  schema?: { readonly arrow: Arrow.Schema; readonly bytes: Buffer } | undefined
  path?: Promise<Path> | undefined
  /** Rows read ahead to choose the path, delivered before the cursor's. */
  readonly ahead: Array<Rows>
  exhausted: boolean
  /** Rows delivered so far: the next page's `startRowOffset`. */
  delivered: number
}

const rowCount = (rows: Rows) => rows[0]?.length ?? 0

/** The result delivery of every operation the service answers. */
export const make = (options: DeliveryOptions, store: CloudFetch) => {
  const tracked = new WeakMap<Operation, Tracked>()

  const schemaFor = (operation: Operation, entry: Tracked) => {
    if (entry.schema === undefined && operation.cursor !== undefined) {
      const arrow = Columns.arrowSchema(operation.cursor.columns, entry.delivery.flags)
      entry.schema = { arrow, bytes: Columns.schemaBytes(arrow) }
    }
    return entry.schema!
  }

  const hasMore = (entry: Tracked) => entry.ahead.length > 0 || !entry.exhausted

  /** Up to `max` rows: the read-ahead ones first, then the cursor's. */
  const take = async (operation: Operation, entry: Tracked, max: number): Promise<Rows> => {
    const cursor = operation.cursor!
    const first = entry.ahead[0]
    if (first !== undefined) {
      if (rowCount(first) <= max) return entry.ahead.shift()!
      entry.ahead[0] = first.map((column) => column.slice(max))
      return first.map((column) => column.slice(0, max))
    }
    if (entry.exhausted) return cursor.columns.map(() => [])
    const { data, hasMore } = await operation.session.lock.run(() => cursor.take(max))
    entry.exhausted = !hasMore
    return data
  }

  /** One record batch as IPC bytes (no schema, uncompressed). */
  const encode = (operation: Operation, entry: Tracked, rows: Rows) => {
    const schema = schemaFor(operation, entry)
    return Columns.batchBytes(schema.arrow, schema.bytes, operation.cursor!.columns, rows, entry.delivery.flags)
  }

  const choosePath = async (operation: Operation, entry: Tracked): Promise<Path> => {
    if (entry.delivery.format === "columns") return "columns"
    // A statement without rows (DDL) still says Arrow, as the client asked.
    if (!entry.delivery.download || operation.cursor === undefined) return "inline"
    let bytes = 0
    while (bytes <= options.cloudFetchThreshold && !entry.exhausted) {
      const { data, hasMore } = await operation.session.lock.run(() => operation.cursor!.take(options.maxBatchRows))
      entry.exhausted = !hasMore
      if (rowCount(data) === 0) break
      entry.ahead.push(data)
      bytes += encode(operation, entry, data).length
    }
    return bytes > options.cloudFetchThreshold ? "cloudFetch" : "inline"
  }

  const pathOf = (operation: Operation) => {
    const entry = tracked.get(operation)!
    entry.path ??= choosePath(operation, entry)
    return entry.path
  }

  const metadataResponse = async (operation: Operation) => {
    const entry = tracked.get(operation)!
    const path = await pathOf(operation)
    const columns = operation.cursor?.columns ?? []
    const arrow = path !== "columns"
    return {
      status: ok,
      schema: {
        columns: columns.map((column, i) => ({
          columnName: column.name,
          typeDesc: Columns.typeDesc(column.type),
          position: i + 1,
          comment: ""
        }))
      },
      resultFormat: path === "cloudFetch"
        ? types.TSparkRowSetType.URL_BASED_SET
        : arrow
        ? types.TSparkRowSetType.ARROW_BASED_SET
        : types.TSparkRowSetType.COLUMN_BASED_SET,
      lz4Compressed: arrow && entry.delivery.lz4,
      ...(arrow && operation.cursor !== undefined ? { arrowSchema: schemaFor(operation, entry).bytes } : {})
    }
  }

  /** Inline Arrow: batches of up to `maxBatchRows` rows while the page has rows and bytes to spare. */
  const inlinePage = async (operation: Operation, entry: Tracked, maxRows: number, maxBytes: number) => {
    const arrowBatches: Array<{ batch: Buffer; rowCount: InstanceType<typeof Int64> }> = []
    let rows = 0
    let bytes = 0
    while (rows < maxRows && bytes < maxBytes && hasMore(entry)) {
      const data = await take(operation, entry, Math.min(options.maxBatchRows, maxRows - rows))
      const count = rowCount(data)
      if (count === 0) break
      const plain = encode(operation, entry, data)
      const batch = entry.delivery.lz4 ? Lz4.encodeFrame(plain) : plain
      arrowBatches.push({ batch, rowCount: new Int64(count) })
      rows += count
      bytes += batch.length
    }
    return { rows, results: { arrowBatches } }
  }

  /**
   * CloudFetch: up to `cloudFetchLinksPerFetch` files, each an Arrow IPC stream of whole batches. `maxRows` does not
   * bound them: a warehouse answers a FetchResults of 100000 rows with more links than the driver downloads at once
   * (the driver's own e2e test, tests/e2e/cloudfetch.test.ts in databricks-sql-nodejs, expects that).
   */
  const linksPage = async (operation: Operation, entry: Tracked) => {
    const fileBytes = Math.min(options.cloudFetchFileBytes, entry.delivery.maxBytesPerFile ?? Infinity)
    const schema = schemaFor(operation, entry)
    const resultLinks: Array<Record<string, unknown>> = []
    let rows = 0
    while (resultLinks.length < options.cloudFetchLinksPerFetch && hasMore(entry)) {
      const parts = [schema.bytes]
      let size = schema.bytes.length
      let fileRows = 0
      while (size < fileBytes && hasMore(entry)) {
        const data = await take(operation, entry, options.maxBatchRows)
        const count = rowCount(data)
        if (count === 0) break
        const batch = encode(operation, entry, data)
        parts.push(batch)
        size += batch.length
        fileRows += count
      }
      if (fileRows === 0) break
      parts.push(endOfStream)
      const file = Buffer.concat(parts)
      const link = store.publish(entry.delivery.lz4 ? Lz4.encodeFrame(file) : file, {
        operation: operation.id,
        session: operation.session.id
      })
      resultLinks.push({
        fileLink: link.fileLink,
        expiryTime: new Int64(link.expiryTime),
        startRowOffset: new Int64(entry.delivered + rows),
        rowCount: new Int64(fileRows),
        // The Arrow bytes before compression: the Python connector checks the decompressed file against it
        // (databricks-sql-python, src/databricks/sql/cloudfetch/downloader.py).
        bytesNum: new Int64(file.length),
        httpHeaders: {}
      })
      rows += fileRows
    }
    return { rows, results: { resultLinks } }
  }

  const fetchResponse = async (operation: Operation, maxRows: number, maxBytes?: number) => {
    const cursor = operation.cursor
    const entry = tracked.get(operation)!
    if (cursor === undefined) {
      return { status: ok, hasMoreRows: false, results: { startRowOffset: new Int64(0), rows: [], columns: [] } }
    }
    const path = await pathOf(operation)
    const max = Math.max(1, maxRows)
    const offset = entry.delivered
    if (path === "columns") {
      const data = await take(operation, entry, max)
      entry.delivered += rowCount(data)
      return {
        status: ok,
        hasMoreRows: hasMore(entry),
        results: {
          startRowOffset: new Int64(offset),
          rows: [],
          columns: cursor.columns.map((column, i) => Columns.thriftColumn(data[i], column))
        }
      }
    }
    const page = path === "cloudFetch"
      ? await linksPage(operation, entry)
      : await inlinePage(operation, entry, max, Math.min(options.maxBytesPerFetch, maxBytes ?? Infinity))
    entry.delivered += page.rows
    return {
      status: ok,
      hasMoreRows: hasMore(entry),
      results: { startRowOffset: new Int64(offset), rows: [], ...page.results }
    }
  }

  return {
    track: (operation: Operation, delivery: Delivery) =>
      tracked.set(operation, { delivery, ahead: [], exhausted: false, delivered: 0 }),
    metadataResponse,
    fetchResponse
  }
}
