/**
 * How a finished statement's rows travel to the client: the result metadata and each FetchResults page, inline as
 * Arrow IPC batches or as a COLUMN_BASED_SET.
 *
 * @internal
 */
import type * as Arrow from "apache-arrow"
import * as Columns from "./columns.js"
import type { Operation, Session } from "./engine.js"
import { Int64, types } from "./thrift.js"

/** The newest protocol version the emulator speaks; a session uses the lower of this and the client's. */
export const protocolVersion: number = types.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8

export interface DeliveryOptions {
  readonly resultFormat: "arrow" | "columns"
}

/** How one operation's results travel, fixed when it is submitted. */
export interface Delivery {
  readonly format: "arrow" | "columns"
  readonly flags: Columns.ArrowFlags
}

/** What the client of an ExecuteStatement asked for, within what the emulator is set to send. */
export const deliveryFor = (request: any, _session: Session, options: DeliveryOptions): Delivery => {
  const native = request.useArrowNativeTypes ?? {}
  return {
    format: options.resultFormat === "arrow" && request.canReadArrowResult === true ? "arrow" : "columns",
    flags: {
      timestampAsArrow: native.timestampAsArrow === true,
      decimalAsArrow: native.decimalAsArrow === true,
      complexTypesAsArrow: native.complexTypesAsArrow === true
    }
  }
}

/** Metadata RPCs carry no result options: their rows travel as a COLUMN_BASED_SET. */
export const metadataDelivery = (_session: Session, _options: DeliveryOptions): Delivery => ({
  format: "columns",
  flags: { timestampAsArrow: false, decimalAsArrow: false, complexTypesAsArrow: false }
})

const ok = { statusCode: types.TStatusCode.SUCCESS_STATUS }

interface Tracked {
  readonly delivery: Delivery
  schema?: { readonly arrow: Arrow.Schema; readonly bytes: Buffer } | undefined
}

/** The result delivery of every operation the service answers. */
export const make = () => {
  const tracked = new WeakMap<Operation, Tracked>()

  const schemaFor = (operation: Operation, entry: Tracked) => {
    if (entry.schema === undefined && operation.cursor !== undefined) {
      const arrow = Columns.arrowSchema(operation.cursor.columns, entry.delivery.flags)
      entry.schema = { arrow, bytes: Columns.schemaBytes(arrow) }
    }
    return entry.schema
  }

  const metadataResponse = (operation: Operation) => {
    const entry = tracked.get(operation)!
    const columns = operation.cursor?.columns ?? []
    const arrow = entry.delivery.format === "arrow"
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
      resultFormat: arrow ? types.TSparkRowSetType.ARROW_BASED_SET : types.TSparkRowSetType.COLUMN_BASED_SET,
      lz4Compressed: false,
      ...(arrow && operation.cursor !== undefined ? { arrowSchema: schemaFor(operation, entry)!.bytes } : {})
    }
  }

  const fetchResponse = async (operation: Operation, maxRows: number) => {
    const cursor = operation.cursor
    const entry = tracked.get(operation)!
    if (cursor === undefined) {
      return { status: ok, hasMoreRows: false, results: { startRowOffset: new Int64(0), rows: [], columns: [] } }
    }
    const offset = cursor.fetched
    const { data, hasMore } = await operation.session.lock.run(() => cursor.take(Math.max(1, maxRows)))
    const rowCount = data[0]?.length ?? 0
    if (entry.delivery.format === "arrow") {
      const schema = schemaFor(operation, entry)!
      const arrowBatches = rowCount === 0 ? [] : [{
        batch: Columns.batchBytes(schema.arrow, schema.bytes, cursor.columns, data, entry.delivery.flags),
        rowCount: new Int64(rowCount)
      }]
      return {
        status: ok,
        hasMoreRows: hasMore,
        results: { startRowOffset: new Int64(offset), rows: [], arrowBatches }
      }
    }
    return {
      status: ok,
      hasMoreRows: hasMore,
      results: {
        startRowOffset: new Int64(offset),
        rows: [],
        columns: cursor.columns.map((column, i) => Columns.thriftColumn(data[i], column))
      }
    }
  }

  return {
    track: (operation: Operation, delivery: Delivery) => tracked.set(operation, { delivery }),
    metadataResponse,
    fetchResponse
  }
}
