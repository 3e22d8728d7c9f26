import type { Principal } from "../../Emulator.js"
import type { MetadataRequest } from "./catalog.js"
import type { CloudFetch } from "./cloudFetch.js"
import { type Engine, handleKey, type Operation, type Session } from "./engine.js"
import * as Errors from "./errors.js"
import * as Parameters from "./parameters.js"
import * as Results from "./results.js"
import { Int64, types } from "./thrift.js"

/** Who is calling, read by the handlers while the Processor runs them (it calls them synchronously). */
export interface CallContext {
  readonly principal: Principal
  /** Set when the call touches a session of another principal: the endpoint answers 403. */
  forbidden: boolean
}

export interface ServiceOptions extends Results.DeliveryOptions {
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

const optionalInt64 = (value: unknown) => value === undefined || value === null ? undefined : int64(value, 0)

const OT = types.TOperationType
const metadataRpcs: ReadonlyArray<readonly [MetadataRequest["rpc"], number]> = [
  ["GetCatalogs", OT.GET_CATALOGS],
  ["GetSchemas", OT.GET_SCHEMAS],
  ["GetTables", OT.GET_TABLES],
  ["GetTableTypes", OT.GET_TABLE_TYPES],
  ["GetColumns", OT.GET_COLUMNS],
  ["GetTypeInfo", OT.GET_TYPE_INFO],
  ["GetFunctions", OT.GET_FUNCTIONS],
  ["GetPrimaryKeys", OT.UNKNOWN],
  ["GetCrossReference", OT.UNKNOWN]
]

export const makeHandler = (
  engine: Engine,
  options: ServiceOptions,
  current: () => CallContext,
  cloudFetch: CloudFetch
) => {
  const results = Results.make(options, cloudFetch)

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

  /** A failed statement's own error, as the status of any later call on its handle. */
  const failedWith = (failure: Errors.SqlFailure) => failed(failure.message, failure.sqlState)

  /** Runs an async handler body, turning a failure into an error status with its SQLSTATE. */
  const respond = (callback: Callback, work: () => Promise<unknown>) => {
    work().then(
      (response) => callback(null, response),
      (error) => callback(null, { status: failedWith(Errors.fromDuckDB(error)) })
    )
  }

  /**
   * Reads a page of a finished statement. A value that cannot be sent (columns.ts refuses it with its error
   * class) fails the statement itself: later calls on the handle answer that error, as for any failed statement.
   */
  const page = async <A>(operation: Operation, read: () => Promise<A>): Promise<A> => {
    try {
      return await read()
    } catch (error) {
      const failure = Errors.fromDuckDB(error)
      engine.fail(operation, failure)
      throw failure
    }
  }

  /**
   * The answer to GetResultSetMetadata or FetchResults on a statement that is not FINISHED: a failed one answers its
   * own error (message and SQLSTATE), as its GetOperationStatus does.
   */
  const notFinished = (operation: Operation) =>
    operation.failure !== undefined
      ? failedWith(operation.failure)
      : failed(`The operation is ${operation.state}, not FINISHED`)

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

  /**
   * Answers a submitted statement as Databricks does: with its handle, and when it settles within
   * `directResultsWait` and the client asked for them, with direct results (status, metadata, first page, and the
   * close when that page is every row).
   */
  const submit = async (request: any, operation: Operation, delivery: Results.Delivery, operationType: number) => {
    results.track(operation, delivery)
    await Promise.race([operation.done, options.sleep(options.directResultsWaitMs)])
    const settled = operation.state !== "PENDING" && operation.state !== "RUNNING"
    const operationHandle = {
      operationId: operation.handle,
      operationType,
      hasResultSet: settled && operation.state === "FINISHED" ? operation.cursor !== undefined : true
    }
    if (request.getDirectResults === undefined || request.getDirectResults === null || !settled) {
      return { status: ok, operationHandle }
    }
    if (operation.state !== "FINISHED") {
      // A failed (or cancelled) statement stays open: its handle answers its own error until the client closes it.
      // Clients close it themselves when the direct results carry no closeOperation (the Node driver's
      // ThriftOperationBackend.close sends CloseOperation unless directResults.closeOperation was given; the Go
      // driver's ExecContext does the same), and read the error from operationStatus (the Node driver's
      // waitUntilReady throws OperationStateError with it; databricks-sql-python's
      // _wait_until_command_done raises on ERROR_STATE).
      return { status: ok, operationHandle, directResults: { operationStatus: statusResponse(operation) } }
    }
    let directResults: Record<string, unknown>
    let finished = true
    try {
      const resultSetMetadata = await page(operation, () => results.metadataResponse(operation))
      directResults = { operationStatus: statusResponse(operation), resultSetMetadata }
      if (operation.cursor !== undefined) {
        const first = await page(operation, () =>
          results.fetchResponse(
            operation,
            int64(request.getDirectResults.maxRows, 100_000),
            optionalInt64(request.getDirectResults.maxBytes)
          ))
        directResults.resultSet = first
        finished = !first.hasMoreRows
      }
    } catch {
      // The first page could not be sent: the statement failed, and says so as any failed statement does.
      return { status: ok, operationHandle, directResults: { operationStatus: statusResponse(operation) } }
    }
    // All rows delivered (or nothing to deliver): close it now, as Databricks does. Its result files stay: the
    // client has yet to download the links it was just given (they last until they expire or the session closes).
    if (finished) {
      directResults.closeOperation = { status: ok }
      engine.closeOperation(operation)
    }
    return { status: ok, operationHandle, directResults }
  }

  /** Closes a statement at the client's request and frees its result files (its links then answer 404). */
  const closeOperation = (operation: Operation) => {
    engine.closeOperation(operation)
    cloudFetch.release({ operation: operation.id })
  }

  /** The caller's session named by the request, or `undefined` once the callback has answered why not. */
  const sessionFor = (request: any, callback: Callback) => {
    const context = current()
    return guard(context, sessionOf(request.sessionHandle, context), "SessionHandle", callback)
  }

  const handler: Record<string, (request: any, callback: Callback) => void> = {
    OpenSession(request, callback) {
      const context = current()
      respond(callback, async () => {
        const namespace = request.initialNamespace ?? {}
        // The lower of the client's version and ours, as a Thrift server negotiates (TCLIService.thrift,
        // TOpenSessionResp.serverProtocolVersion); the driver then uses only what that version has.
        // Drivers send the version as `client_protocol_i64` (the i32 `client_protocol` keeps its old default).
        const client = request.client_protocol_i64 !== undefined && request.client_protocol_i64 !== null
          ? int64(request.client_protocol_i64, Results.protocolVersion)
          : int64(request.client_protocol, Results.protocolVersion)
        const protocolVersion = Math.min(client, Results.protocolVersion)
        const session = await engine.openSession(context.principal, {
          catalog: namespace.catalogName || "main",
          schema: namespace.schemaName || "default",
          protocolVersion
        })
        return {
          status: ok,
          serverProtocolVersion: protocolVersion,
          sessionHandle: { sessionId: session.handle },
          configuration: {}
        }
      })
    },

    CloseSession(request, callback) {
      const session = sessionFor(request, callback)
      if (session === undefined) return
      cloudFetch.release({ session: session.id })
      void engine.closeSession(session)
      callback(null, { status: ok })
    },

    ExecuteStatement(request, callback) {
      const session = sessionFor(request, callback)
      if (session === undefined) return
      respond(callback, () =>
        submit(
          request,
          engine.execute(session, String(request.statement ?? ""), Parameters.bind(request.parameters)),
          Results.deliveryFor(request, session, options),
          types.TOperationType.EXECUTE_STATEMENT
        ))
    },

    ...Object.fromEntries(metadataRpcs.map(([rpc, operationType]) => [
      rpc,
      (request: any, callback: Callback) => {
        const session = sessionFor(request, callback)
        if (session === undefined) return
        respond(callback, () =>
          submit(
            request,
            engine.executeMetadata(session, { rpc, request }),
            Results.metadataDelivery(session, options),
            operationType
          ))
      }
    ])),

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
      if (operation.state !== "FINISHED") return callback(null, { status: notFinished(operation) })
      respond(callback, () => page(operation, () => results.metadataResponse(operation)))
    },

    FetchResults(request, callback) {
      const context = current()
      const operation = guard(context, operationOf(request.operationHandle, context), "OperationHandle", callback)
      if (operation === undefined) return
      if (operation.state !== "FINISHED") return callback(null, { status: notFinished(operation), hasMoreRows: false })
      respond(callback, () =>
        page(
          operation,
          () => results.fetchResponse(operation, int64(request.maxRows, 100_000), optionalInt64(request.maxBytes))
        ))
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
      closeOperation(operation)
      callback(null, { status: ok })
    },

    GetInfo(request, callback) {
      const session = sessionFor(request, callback)
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
