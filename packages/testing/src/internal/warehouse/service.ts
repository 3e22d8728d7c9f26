import type * as Arrow from "apache-arrow"
import type { Principal } from "../../Emulator.js"
import * as Columns from "./columns.js"
import { type Engine, handleKey, type Operation, type Session } from "./engine.js"
import * as Sql from "./sql.js"
import { Int64, types } from "./thrift.js"

/** Who is calling, read by the handlers while the Processor runs them (it calls them synchronously). */
export interface CallContext {
  readonly principal: Principal
  /** Set when the call touches a session of another principal: the endpoint answers 403. */
  forbidden: boolean
}

export interface ServiceOptions {
  readonly resultFormat: "arrow" | "columns"
  /** How long ExecuteStatement waits for the statement before answering without direct results. */
  readonly directResultsWaitMs: number
  readonly sleep: (millis: number) => Promise<void>
}

type Callback = (error: unknown, response?: unknown) => void

const S = types.TStatusCode
const OS = types.TOperationState
const ok = { statusCode: S.SUCCESS_STATUS }

const stateCode: Record<string, number> = {
  PENDING: OS.PENDING_STATE,
  RUNNING: OS.RUNNING_STATE,
  FINISHED: OS.FINISHED_STATE,
  ERROR: OS.ERROR_STATE,
  CANCELED: OS.CANCELED_STATE,
  CLOSED: OS.CLOSED_STATE
}

const int64 = (value: unknown, fallback: number) =>
  value === undefined || value === null
    ? fallback
    : typeof value === "number"
    ? value
    : (value as { toNumber(): number }).toNumber()

/** How one operation's results travel, fixed when it is submitted. */
interface Delivery {
  readonly format: "arrow" | "columns"
  readonly flags: Columns.ArrowFlags
  schema?: { readonly arrow: Arrow.Schema; readonly bytes: Buffer } | undefined
}

export const makeHandler = (engine: Engine, options: ServiceOptions, current: () => CallContext) => {
  const deliveries = new WeakMap<Operation, Delivery>()

  const invalid = (what: string) => ({ statusCode: S.INVALID_HANDLE_STATUS, errorMessage: `Invalid ${what}` })
  const failed = (message: string, sqlState?: string) => ({
    statusCode: S.ERROR_STATUS,
    errorMessage: message,
    ...(sqlState === undefined ? {} : { sqlState })
  })

  /** The session of a handle, if it exists and belongs to the caller. */
  const sessionOf = (handle: any, context: CallContext): Session | "invalid" | "forbidden" => {
    const session = engine.sessions.get(handleKey(handle?.sessionId?.guid))
    if (session === undefined) return "invalid"
    if (session.principal.id !== context.principal.id) return "forbidden"
    return session
  }

  const operationOf = (handle: any, context: CallContext): Operation | "invalid" | "forbidden" => {
    const key = handleKey(handle?.operationId?.guid)
    for (const session of engine.sessions.values()) {
      const operation = session.operations.get(key)
      if (operation !== undefined) return session.principal.id === context.principal.id ? operation : "forbidden"
    }
    return "invalid"
  }

  const statusResponse = (operation: Operation) => ({
    status: ok,
    operationState: stateCode[operation.state],
    hasResultSet: operation.state === "FINISHED" ? operation.cursor !== undefined : true,
    operationStarted: new Int64(operation.started),
    ...(operation.completed === undefined ? {} : { operationCompleted: new Int64(operation.completed) }),
    ...(operation.failure === undefined ? {} : {
      errorMessage: operation.failure.message,
      displayMessage: operation.failure.message,
      sqlState: operation.failure.sqlState
    })
  })

  const schemaFor = (operation: Operation, delivery: Delivery) => {
    if (delivery.schema === undefined && operation.cursor !== undefined) {
      const arrow = Columns.arrowSchema(operation.cursor.columns, delivery.flags)
      delivery.schema = { arrow, bytes: Columns.schemaBytes(arrow) }
    }
    return delivery.schema
  }

  const metadataResponse = (operation: Operation) => {
    const delivery = deliveries.get(operation)!
    const columns = operation.cursor?.columns ?? []
    const arrow = delivery.format === "arrow"
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
      ...(arrow && operation.cursor !== undefined ? { arrowSchema: schemaFor(operation, delivery)!.bytes } : {})
    }
  }

  const fetchResponse = async (operation: Operation, maxRows: number) => {
    const cursor = operation.cursor
    const delivery = deliveries.get(operation)!
    if (cursor === undefined) {
      return { status: ok, hasMoreRows: false, results: { startRowOffset: new Int64(0), rows: [], columns: [] } }
    }
    const offset = cursor.fetched
    const { data, hasMore } = await operation.session.lock.run(() => cursor.take(Math.max(1, maxRows)))
    const rowCount = data[0]?.length ?? 0
    if (delivery.format === "arrow") {
      const schema = schemaFor(operation, delivery)!
      const arrowBatches = rowCount === 0 ? [] : [{
        batch: Columns.batchBytes(schema.arrow, schema.bytes, cursor.columns, data, delivery.flags),
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

  /** Runs an async handler body, turning an unexpected failure into an error status. */
  const respond = (callback: Callback, work: () => Promise<unknown>) => {
    work().then(
      (response) => callback(null, response),
      (error) => callback(null, { status: failed(Sql.fromDuckDB(error).message) })
    )
  }

  const guard = <A>(context: CallContext, found: A | "invalid" | "forbidden", what: string, callback: Callback) => {
    if (found === "forbidden") {
      context.forbidden = true
      callback(null, { status: invalid(what) })
      return undefined
    }
    if (found === "invalid") {
      callback(null, { status: invalid(what) })
      return undefined
    }
    return found
  }

  const handler: Record<string, (request: any, callback: Callback) => void> = {
    OpenSession(request, callback) {
      const context = current()
      respond(callback, async () => {
        const namespace = request.initialNamespace ?? {}
        const session = await engine.openSession(
          context.principal,
          namespace.catalogName || "main",
          namespace.schemaName || "default"
        )
        return {
          status: ok,
          serverProtocolVersion: types.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8,
          sessionHandle: { sessionId: session.handle },
          configuration: {}
        }
      })
    },

    CloseSession(request, callback) {
      const context = current()
      const session = guard(context, sessionOf(request.sessionHandle, context), "SessionHandle", callback)
      if (session === undefined) return
      void engine.closeSession(session)
      callback(null, { status: ok })
    },

    ExecuteStatement(request, callback) {
      const context = current()
      const session = guard(context, sessionOf(request.sessionHandle, context), "SessionHandle", callback)
      if (session === undefined) return
      respond(callback, async () => {
        const native = request.useArrowNativeTypes ?? {}
        const delivery: Delivery = {
          format: options.resultFormat === "arrow" && request.canReadArrowResult === true ? "arrow" : "columns",
          flags: {
            timestampAsArrow: native.timestampAsArrow === true,
            decimalAsArrow: native.decimalAsArrow === true,
            complexTypesAsArrow: native.complexTypesAsArrow === true
          }
        }
        const operation = engine.execute(session, String(request.statement ?? ""), Sql.bind(request.parameters))
        deliveries.set(operation, delivery)
        await Promise.race([operation.done, options.sleep(options.directResultsWaitMs)])
        const settled = operation.state !== "PENDING" && operation.state !== "RUNNING"
        const operationHandle = {
          operationId: operation.handle,
          operationType: types.TOperationType.EXECUTE_STATEMENT,
          hasResultSet: settled && operation.state === "FINISHED" ? operation.cursor !== undefined : true
        }
        if (request.getDirectResults === undefined || request.getDirectResults === null || !settled) {
          return { status: ok, operationHandle }
        }
        const directResults: Record<string, unknown> = { operationStatus: statusResponse(operation) }
        let finished = operation.state !== "FINISHED"
        if (operation.state === "FINISHED" && operation.cursor !== undefined) {
          directResults.resultSetMetadata = metadataResponse(operation)
          const first = await fetchResponse(operation, int64(request.getDirectResults.maxRows, 100_000))
          directResults.resultSet = first
          finished = !first.hasMoreRows
        } else if (operation.state === "FINISHED") {
          directResults.resultSetMetadata = metadataResponse(operation)
          finished = true
        }
        // All rows delivered (or nothing to deliver): close it now, as Databricks does.
        if (finished) {
          directResults.closeOperation = { status: ok }
          engine.closeOperation(operation)
        }
        return { status: ok, operationHandle, directResults }
      })
    },

    GetOperationStatus(request, callback) {
      const context = current()
      const operation = guard(context, operationOf(request.operationHandle, context), "OperationHandle", callback)
      if (operation === undefined) return
      callback(null, statusResponse(operation))
    },

    GetResultSetMetadata(request, callback) {
      const context = current()
      const operation = guard(context, operationOf(request.operationHandle, context), "OperationHandle", callback)
      if (operation === undefined) return
      if (operation.state !== "FINISHED") {
        return callback(null, { status: failed(`The operation is ${operation.state}, not FINISHED`) })
      }
      callback(null, metadataResponse(operation))
    },

    FetchResults(request, callback) {
      const context = current()
      const operation = guard(context, operationOf(request.operationHandle, context), "OperationHandle", callback)
      if (operation === undefined) return
      if (operation.state !== "FINISHED") {
        return callback(null, {
          status: failed(`The operation is ${operation.state}, not FINISHED`),
          hasMoreRows: false
        })
      }
      respond(callback, () => fetchResponse(operation, int64(request.maxRows, 100_000)))
    },

    CancelOperation(request, callback) {
      const context = current()
      const operation = guard(context, operationOf(request.operationHandle, context), "OperationHandle", callback)
      if (operation === undefined) return
      engine.cancel(operation)
      callback(null, { status: ok })
    },

    CloseOperation(request, callback) {
      const context = current()
      const operation = guard(context, operationOf(request.operationHandle, context), "OperationHandle", callback)
      if (operation === undefined) return
      engine.closeOperation(operation)
      callback(null, { status: ok })
    },

    GetInfo(request, callback) {
      const context = current()
      const session = guard(context, sessionOf(request.sessionHandle, context), "SessionHandle", callback)
      if (session === undefined) return
      const info: Record<number, string> = {
        [types.TGetInfoType.CLI_DBMS_NAME]: "Databricks SQL (effect-databricks emulator)",
        [types.TGetInfoType.CLI_DBMS_VER]: "emulator",
        [types.TGetInfoType.CLI_SERVER_NAME]: "effect-databricks emulator"
      }
      callback(null, { status: ok, infoValue: { stringValue: info[request.infoType] ?? "" } })
    }
  }

  // Every other RPC of the service answers with a clear error instead of crashing the processor.
  return new Proxy(handler, {
    get: (target, name) =>
      typeof name === "string" && !(name in target)
        ? (_request: unknown, callback: Callback) =>
          callback(null, { status: failed(`${name} is not supported by the emulator`) })
        : target[name as string]
  })
}
