import { DBSQLClient, thrift } from "@databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { Effect, Redacted } from "effect"

/** The driver's logs stay quiet (and never install its process-exiting default logger). */
const quiet = { log: () => undefined }

export interface Connection {
  readonly client: DBSQLClient
  /** The bearer token the driver sends; change it to switch identity mid-session. */
  token: string
}

/**
 * The real, unmodified @databricks/sql driver pointed at the emulator, with fast retries
 * (so fault tests do not wait the driver's default seconds), closed with the scope.
 */
export const connect = (options?: {
  readonly token?: Redacted.Redacted<string> | string
  readonly preserveBigNumericPrecision?: boolean
  readonly socketTimeout?: number
}) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const url = new URL(emulator.host)
    const initial = options?.token ?? emulator.pat
    const connection: Connection = {
      client: new DBSQLClient({ logger: quiet as never }),
      token: typeof initial === "string" ? initial : Redacted.value(initial)
    }
    yield* Effect.acquireRelease(
      Effect.promise(() =>
        connection.client.connect({
          host: url.hostname,
          port: Number(url.port),
          path: emulator.httpPath,
          authType: "custom",
          provider: { authenticate: async () => ({ Authorization: `Bearer ${connection.token}` }) },
          customCaCert: Buffer.from(emulator.caCertPem),
          telemetryEnabled: false,
          retryMaxAttempts: 3,
          retryDelayMin: 10,
          retryDelayMax: 50,
          preserveBigNumericPrecision: options?.preserveBigNumericPrecision ?? false,
          ...(options?.socketTimeout === undefined ? {} : { socketTimeout: options.socketTimeout })
        } as never)
      ),
      () => Effect.promise(() => connection.client.close().catch(() => undefined))
    )
    return connection
  })

/** Opens a session of the real driver on a fresh connection, closed with the scope. */
export const openSession = Effect.gen(function*() {
  const { client } = yield* connect()
  return yield* Effect.acquireRelease(
    Effect.promise(() => client.openSession()),
    (session) => Effect.promise(() => session.close().catch(() => undefined))
  )
})

/** A promise's rejection as a value (the driver's errors are not always Errors). */
export const rejection = <A>(promise: () => Promise<A>) =>
  Effect.promise(() => promise().then(() => undefined as unknown, (error: unknown) => error))

/** Opens a session, runs a statement and returns all rows, closing what it opened. */
export const query = (client: DBSQLClient, sql: string, options?: Record<string, unknown>) =>
  Effect.promise(() => queryPromise(client, sql, options))

/** `query` as a plain promise, so the driver's own rejection reaches the caller. */
export const queryPromise = async (client: DBSQLClient, sql: string, options?: Record<string, unknown>) => {
  const session = await client.openSession()
  try {
    const operation = await session.executeStatement(sql, options as never)
    try {
      return await operation.fetchAll()
    } finally {
      await operation.close()
    }
  } finally {
    await session.close()
  }
}

const T = thrift.TCLIService_types

/** What the raw ExecuteStatement asks for: the result capabilities a client announces. */
export interface RawFlags {
  readonly download?: boolean
  readonly lz4?: boolean
  readonly maxRows?: number
  readonly maxBytes?: number
  readonly maxBytesPerFile?: number
}

/**
 * The driver's own Thrift client on a session of its own, for what the driver's API hides (result formats,
 * batches, links): the requests are the driver's generated Thrift, as it sends them, with chosen flags.
 */
export const rawThrift = (client: DBSQLClient) =>
  Effect.promise(async () => {
    const driver = await (client as any).getDriver()
    const opened = await driver.openSession({ client_protocol: T.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8 })
    const sessionHandle = opened.sessionHandle
    return {
      execute: (statement: string, flags: RawFlags = {}): Promise<any> =>
        driver.executeStatement({
          sessionHandle,
          statement,
          runAsync: true,
          canReadArrowResult: true,
          canDownloadResult: flags.download ?? false,
          canDecompressLZ4Result: flags.lz4 ?? false,
          useArrowNativeTypes: { timestampAsArrow: true, decimalAsArrow: true, complexTypesAsArrow: true },
          getDirectResults: {
            maxRows: flags.maxRows ?? 100_000,
            ...(flags.maxBytes === undefined ? {} : { maxBytes: flags.maxBytes })
          },
          ...(flags.maxBytesPerFile === undefined ? {} : { maxBytesPerFile: flags.maxBytesPerFile })
        }),
      fetch: (operationHandle: unknown, maxRows: number, maxBytes?: number): Promise<any> =>
        driver.fetchResults({
          operationHandle,
          orientation: T.TFetchOrientation.FETCH_NEXT,
          maxRows,
          ...(maxBytes === undefined ? {} : { maxBytes })
        }),
      close: (): Promise<unknown> => driver.closeSession({ sessionHandle })
    }
  })

/** Result set types, by name. */
export const rowSetType = T.TSparkRowSetType
