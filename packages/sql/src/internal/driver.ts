/**
 * The `@databricks/sql` driver as the client uses it: how it connects (retries off, logs through Effect),
 * and the few places where its own behaviour is patched or worked around, each with why.
 *
 * @internal
 */
import { DBSQLClient, thrift } from "@databricks/sql"
import * as Redaction from "@effect-databricks/auth/Redaction"
import type * as TokenSource from "@effect-databricks/auth/TokenSource"
import { toDriverAuthentication } from "@effect-databricks/auth/TokenSource"
import type * as WorkspaceHost from "@effect-databricks/auth/WorkspaceHost"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as LogLevel from "effect/LogLevel"
import * as Runtime from "effect/Runtime"

/** This library's name and version, first in the user agent. */
export const libraryAgent = "effect-databricks/0.1.0"

/**
 * The driver's log lines, through Effect's Logger (its own default logger can exit the process).
 * It logs several debug lines per RPC: a line below the runtime's minimum level is dropped here,
 * before a fiber is forked for it, as the Logger would drop it anyway. A line that is kept goes
 * through `Redaction.redact` with the tokens handed to the driver: it may quote a server's answer
 * or a request's header.
 */
const logger = (runtime: Runtime.Runtime<never>, secrets: Iterable<Redaction.Secret>) => {
  const minimum = FiberRefs.getOrDefault(runtime.fiberRefs, FiberRef.currentMinimumLogLevel)
  const levelOf = (level: string) =>
    level === "error"
      ? LogLevel.Error
      : level === "warn"
      ? LogLevel.Warning
      : level === "info"
      ? LogLevel.Debug
      : LogLevel.Trace
  return {
    log: (level: string, message: string) => {
      const logLevel = levelOf(level)
      if (LogLevel.lessThan(logLevel, minimum)) return
      const text = Redaction.redact(message, { secrets })
      Runtime.runFork(runtime)(Effect.logWithLevel(logLevel, `@databricks/sql: ${text}`))
    }
  }
}

export interface ConnectOptions {
  readonly host: WorkspaceHost.WorkspaceHost
  readonly httpPath: string
  readonly caCert: string | Uint8Array | undefined
  readonly userAgentEntry: string | undefined
  readonly source: TokenSource.TokenSource
  /** The tokens handed to the driver lately, removed from its log lines. */
  readonly secrets: Iterable<Redaction.Secret>
  readonly runtime: Runtime.Runtime<never>
  readonly socketTimeoutMs: number
  readonly telemetry: boolean
  /** CloudFetch result files downloaded at once per statement (`cloudFetchConcurrentDownloads`). */
  readonly concurrentDownloads: number
}

/**
 * A driver client that asks the TokenSource on every RPC and does not retry
 * by itself (RetryPolicy decides). `connect` does no network I/O.
 */
export const connect = async (options: ConnectOptions): Promise<DBSQLClient> => {
  const client = new DBSQLClient({ logger: logger(options.runtime, options.secrets) as never })
  await client.connect({
    host: options.host.hostname,
    port: options.host.port,
    path: options.httpPath,
    authType: "custom",
    provider: toDriverAuthentication(options.source, { runtime: options.runtime }),
    ...(options.caCert === undefined ? {} : { customCaCert: Buffer.from(options.caCert) }),
    userAgentEntry: options.userAgentEntry === undefined ? libraryAgent : `${libraryAgent} ${options.userAgentEntry}`,
    telemetryEnabled: options.telemetry,
    preserveBigNumericPrecision: true,
    retryMaxAttempts: 1,
    retriesTimeout: 1,
    retryDelayMin: 1,
    retryDelayMax: 1,
    socketTimeout: options.socketTimeoutMs
  } as never)
  // Not a connect option in 2.1 (`ConnectionOptions` has no such field), while `CloudFetchResultHandler.fetchNext`
  // reads `context.getConfig().cloudFetchConcurrentDownloads` on every fetch; `getConfig()` is the live config.
  const config = client.getConfig() as { cloudFetchConcurrentDownloads: number }
  config.cloudFetchConcurrentDownloads = options.concurrentDownloads
  return client
}

/** The driver's session, as `openSession` gives it. */
export type Session = Awaited<ReturnType<DBSQLClient["openSession"]>>
/** The driver's operation, as `executeStatement` gives it. */
export type Operation = Awaited<ReturnType<Session["executeStatement"]>>

/**
 * A session's close, safe to try again. The driver's `close()` marks the session closed even when
 * CloseSession failed, so a second `close()` would send nothing and the session would stay open on
 * the warehouse; once the driver has marked it, a try goes to the session's Thrift backend instead.
 */
export const sessionClose = (session: Session): () => Promise<unknown> => {
  const internals = session as unknown as { readonly isOpen: boolean; readonly backend: Closeable }
  return () => internals.isOpen ? session.close() : internals.backend.close()
}

/**
 * CloseOperation for an operation the driver already counts as finished with: after a cancel it
 * sends nothing, which would leave the operation open on the warehouse until its session closes.
 */
export const operationBackendClose = (operation: Operation): () => Promise<unknown> => {
  const backend = (operation as unknown as { readonly backend: Closeable }).backend
  return () => backend.close()
}

/**
 * Takes an operation out of its session's list, which the driver closes again when the session closes:
 * a list that kept every operation whose cancel or close failed would grow for the session's life, and
 * its first stale entry would make closing the session fail before CloseSession is sent.
 */
export const forgetOperation = (operation: Operation): void => {
  ;(operation as unknown as { readonly onClose?: (() => void) | undefined }).onClose?.()
}

/**
 * The result's metadata (GetResultSetMetadata), asked afresh on every call. The driver shares one pending
 * request among its callers (`ThriftOperationBackend.metadataPromise`, cleared only when it settles), and one
 * that an empty HTTP 200 left pending forever would be awaited by every retry instead of sent again. The
 * client calls this one at a time: a pending request is one it gave up on.
 */
export const resultSchema = (operation: Operation): () => ReturnType<Operation["getSchema"]> => {
  const backend = (operation as unknown as { readonly backend?: { metadataPromise?: unknown } }).backend
  return () => {
    if (backend !== undefined) backend.metadataPromise = undefined
    return operation.getSchema()
  }
}

/** Arrow's mark on the BigNum views its Decimal getter returns (apache-arrow `util/bn.js`: `Symbol.for('isArrowBigNum')`). */
const isArrowBigNum = Symbol.for("isArrowBigNum")
/** `Type.Decimal` in Arrow's type enum (apache-arrow `enum.js`, `Schema.fbs`). */
const arrowDecimal = 7
const patched = Symbol.for("effect-databricks/sql/exactDecimals")

/**
 * The exact text of an Arrow Decimal value from its raw words: a two's complement integer in little-endian
 * 32-bit words (Arrow `Schema.fbs`, `Decimal`: "Exact decimal value represented as an integer value in two's
 * complement"), scaled by 10^-scale.
 */
export const decimalText = (words: Uint32Array, scale: number): string => {
  let bits = 0n
  for (let i = words.length - 1; i >= 0; i--) bits = (bits << 32n) | BigInt(words[i])
  const unscaled = BigInt.asIntN(words.length * 32, bits)
  if (scale <= 0) return (unscaled * 10n ** BigInt(-scale)).toString()
  const negative = unscaled < 0n
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, "0")
  const point = digits.length - scale
  return `${negative ? "-" : ""}${digits.slice(0, point)}.${digits.slice(point)}`
}

/**
 * Thrift type ids that can hold a Decimal: DECIMAL itself and the complex types that can nest one
 * (`TTypeId` in the driver's `thrift/TCLIService_types.js`).
 */
const mayHoldDecimal = new Set([15, 10, 11, 12, 13])

const hasDecimalColumn = (schema: unknown): boolean =>
  Array.isArray(schema) &&
  schema.some((column) => mayHoldDecimal.has(column?.typeDesc?.types?.[0]?.primitiveEntry?.type))

interface ArrowConverter {
  [patched]?: true
  /** The result's Thrift columns (`getSchemaColumns(schema)` in the driver's constructor). */
  readonly schema?: unknown
  convertArrowTypes: (this: ArrowConverter, value: unknown, valueType?: unknown, ...rest: Array<unknown>) => unknown
}

/**
 * Reads an operation's Arrow DECIMAL values exactly. With `preserveBigNumericPrecision` the driver (2.1.0,
 * `result/ArrowResultConverter.js`) turns a Decimal into `bigNumDecimalToString(bigNumToBigInt(value), scale)`,
 * but apache-arrow 13's `bigNumToBigInt` gives a 128-bit value as a decimal *string*, and for a negative one
 * `bigNumDecimalToString` negates it with unary minus: a JS number, so `-213264.232598209232` came back as
 * `-213264.232598209200` (17 significant digits). The operation's own converter (not the driver's class, which
 * other clients in the process share) reads Decimals from their raw words instead, at any depth (the driver's
 * recursion goes through `this.convertArrowTypes`); everything else is left to the driver.
 */
export const exactDecimals = (operation: Operation): void => {
  const backend = (operation as unknown as { readonly backend?: { getResultHandler?: () => Promise<unknown> } })
    .backend
  const resultHandler = backend?.getResultHandler
  if (backend === undefined || typeof resultHandler !== "function") return
  backend.getResultHandler = () =>
    resultHandler.call(backend).then((handler) => {
      const converter = (handler as { readonly source?: ArrowConverter } | null | undefined)?.source
      if (converter === undefined || typeof converter.convertArrowTypes !== "function" || converter[patched]) {
        return handler
      }
      // Only a result that can hold a Decimal pays for the check on every value (streams of other types
      // ran 20% slower with it).
      if (!hasDecimalColumn(converter.schema)) return handler
      const convert = converter.convertArrowTypes
      converter.convertArrowTypes = function(value, valueType, ...rest) {
        if (
          typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[isArrowBigNum] === true &&
          (valueType as { readonly typeId?: unknown } | undefined)?.typeId === arrowDecimal
        ) {
          const view = value as Uint32Array
          return decimalText(
            new Uint32Array(view.buffer, view.byteOffset, view.byteLength / 4),
            (valueType as { readonly scale: number }).scale
          )
        }
        return convert.call(this, value, valueType, ...rest)
      }
      converter[patched] = true
      return handler
    })
}

interface Closeable {
  readonly close: () => Promise<unknown>
}

const { TOperationState } = thrift.TCLIService_types

/** True while a statement is still queued or running, by its GetOperationStatus state. */
export const isRunning = (state: number | undefined): boolean =>
  state === TOperationState.INITIALIZED_STATE ||
  state === TOperationState.PENDING_STATE ||
  state === TOperationState.RUNNING_STATE
