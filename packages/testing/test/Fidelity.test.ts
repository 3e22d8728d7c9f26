import { type DBSQLClient, thrift } from "@databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Arrow from "apache-arrow"
import { Effect, TestClock } from "effect"
import { cloudFetch, download } from "./cloudFetch.js"
import { connect, query, queryPromise, rejection } from "./driver.js"
import { stats, withEmulator } from "./emulator.js"
import { everyTypeQuery, everyTypeRows, seedEveryType } from "./everyType.js"

/**
 * What a client sees of the emulator where a warehouse's behaviour is subtle: a failed statement's handle, errors
 * raised while rows are sent, tables a principal may not see, DECIMAL map keys, and CloudFetch links (their expiry
 * under a TestClock, downloading a file again, freeing files when their statement closes).
 */

const T = thrift.TCLIService_types
/** Direct results however busy the machine is (the raw tests read them). */
const patient: Emulator.Options = { warehouse: { directResultsWait: "10 seconds" } }

/** The driver's own Thrift client on a session of its own: every RPC as the driver sends it. */
const thriftSession = (client: DBSQLClient) =>
  Effect.promise(async () => {
    const driver = await (client as any).getDriver()
    const { sessionHandle } = await driver.openSession({
      client_protocol: T.TProtocolVersion.SPARK_CLI_SERVICE_PROTOCOL_V8
    })
    return {
      driver,
      sessionHandle,
      execute: (
        statement: string,
        options: { readonly maxRows?: number; readonly download?: boolean } = {}
      ): Promise<any> =>
        driver.executeStatement({
          sessionHandle,
          statement,
          runAsync: true,
          canReadArrowResult: true,
          canDownloadResult: options.download ?? false,
          useArrowNativeTypes: { timestampAsArrow: true, decimalAsArrow: true, complexTypesAsArrow: true },
          getDirectResults: { maxRows: options.maxRows ?? 100_000 }
        }),
      fetch: (operationHandle: unknown, maxRows = 100_000): Promise<any> =>
        driver.fetchResults({ operationHandle, orientation: T.TFetchOrientation.FETCH_NEXT, maxRows }),
      metadata: (operationHandle: unknown): Promise<any> => driver.getResultSetMetadata({ operationHandle }),
      status: (operationHandle: unknown): Promise<any> => driver.getOperationStatus({ operationHandle }),
      closeOperation: (operationHandle: unknown): Promise<any> => driver.closeOperation({ operationHandle }),
      close: (): Promise<any> => driver.closeSession({ sessionHandle })
    }
  })

/** Every status message the emulator answered, to check none says "Invalid OperationHandle". */
const messages = (...responses: ReadonlyArray<any>) =>
  responses.flatMap((response) => [response?.status?.errorMessage, response?.errorMessage]).filter(Boolean)

describe("a failed statement's handle", () => {
  // The Node driver reads a failure from the direct results' operationStatus (ThriftOperationBackend.waitUntilReady
  // throws OperationStateError with it) and closes the statement with CloseOperation unless the direct results
  // carried a closeOperation (ThriftOperationBackend.close). databricks-sql-python checks each part of the direct
  // results for an error status (thrift_backend.py, _check_direct_results_for_error), then the state
  // (_wait_until_command_done); the Go driver closes the operation unless DirectResults.CloseOperation was sent
  // (connection.go, ExecContext). So a failed statement stays open, answering its own error, until it is closed.
  it.scopedLive("answers its own error to every call, and closes cleanly, through the driver", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const outcome = yield* Effect.promise(async () => {
        const session = await client.openSession()
        const operation = await session.executeStatement("SELECT 1 / 0 AS x")
        const fetched = await operation.fetchAll().then(() => undefined, (error: any) => error)
        const schema = await operation.getSchema().then(() => undefined, (error: any) => error)
        const closed = await operation.close().then(() => "closed", (error: any) => String(error?.message))
        await session.close()
        return { fetched, schema, closed }
      })
      assert.strictEqual(outcome.fetched?.errorCode, "ERROR")
      assert.match(String(outcome.fetched?.message), /^\[DIVIDE_BY_ZERO\] .* SQLSTATE: 22012$/s)
      assert.strictEqual(outcome.fetched?.response?.sqlState, "22012")
      assert.match(String(outcome.schema?.message), /^\[DIVIDE_BY_ZERO\]/)
      assert.strictEqual(outcome.closed, "closed")
      const after = yield* stats
      assert.strictEqual(after.rpc.CloseOperation, 1)
      assert.strictEqual(after.openOperations, 0)
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("answers its own error to GetResultSetMetadata and FetchResults until CloseOperation", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const raw = yield* thriftSession(client)
      const answers = yield* Effect.promise(async () => {
        const executed = await raw.execute("SELECT 1 / 0 AS x")
        const handle = executed.operationHandle
        const metadata = await raw.metadata(handle)
        const fetched = await raw.fetch(handle)
        const status = await raw.status(handle)
        const closed = await raw.closeOperation(handle)
        const afterClose = await raw.status(handle)
        return { executed, metadata, fetched, status, closed, afterClose }
      })
      const direct = answers.executed.directResults
      assert.strictEqual(direct.operationStatus.operationState, T.TOperationState.ERROR_STATE)
      assert.strictEqual(direct.operationStatus.sqlState, "22012")
      assert.isNull(direct.closeOperation)
      for (const answer of [answers.metadata, answers.fetched]) {
        assert.strictEqual(answer.status.statusCode, T.TStatusCode.ERROR_STATUS)
        assert.strictEqual(answer.status.errorMessage, direct.operationStatus.errorMessage)
        assert.strictEqual(answer.status.sqlState, "22012")
      }
      assert.strictEqual(answers.status.operationState, T.TOperationState.ERROR_STATE)
      assert.strictEqual(answers.closed.status.statusCode, T.TStatusCode.SUCCESS_STATUS)
      assert.notMatch(
        messages(answers.executed, answers.metadata, answers.fetched, answers.status, answers.closed).join("\n"),
        /Invalid OperationHandle/
      )
      // Once closed, the handle is gone, as for any closed statement.
      assert.strictEqual(answers.afterClose.status.statusCode, T.TStatusCode.INVALID_HANDLE_STATUS)
      yield* Effect.promise(() => raw.close())
    }).pipe(Effect.provide(withEmulator(patient))))

  it.scopedLive("a statement failing after the direct results wait answers the same, through the driver", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const outcome = yield* Effect.promise(async () => {
        const session = await client.openSession()
        const operation = await session.executeStatement("SELECT 1 / 0 AS x /* emulator:sleep=400 */")
        const fetched = await operation.fetchAll().then(() => undefined, (error: any) => error)
        const closed = await operation.close().then(() => "closed", (error: any) => String(error?.message))
        await session.close()
        return { fetched, closed }
      })
      assert.strictEqual(outcome.fetched?.response?.sqlState, "22012")
      assert.strictEqual(outcome.closed, "closed")
      assert.strictEqual((yield* stats).openOperations, 0)
    }).pipe(Effect.provide(withEmulator())))
})

describe("a value that cannot be sent", () => {
  const tooWide = "340282366920938463463374607431768211455::UHUGEINT"

  it.scopedLive("fails the statement with its error class and SQLSTATE, through the driver", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const error = (yield* rejection(() => queryPromise(client, `SELECT ${tooWide} AS u`))) as any
      assert.match(String(error?.message), /^\[NUMERIC_VALUE_OUT_OF_RANGE\.WITH_SUGGESTION\] .* SQLSTATE: 22003$/s)
      assert.strictEqual(error?.response?.sqlState, "22003")
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("on a later page: FetchResults answers the error with its SQLSTATE, and so does the handle", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const raw = yield* thriftSession(client)
      const answers = yield* Effect.promise(async () => {
        const executed = await raw.execute(`SELECT * FROM (VALUES (1::UHUGEINT), (${tooWide})) AS t(u)`, { maxRows: 1 })
        const handle = executed.operationHandle
        const fetched = await raw.fetch(handle, 1)
        const status = await raw.status(handle)
        const again = await raw.fetch(handle, 1)
        const closed = await raw.closeOperation(handle)
        return { executed, fetched, status, again, closed }
      })
      assert.strictEqual(answers.executed.directResults.resultSet.hasMoreRows, true)
      assert.strictEqual(answers.fetched.status.statusCode, T.TStatusCode.ERROR_STATUS)
      assert.match(answers.fetched.status.errorMessage, /^\[NUMERIC_VALUE_OUT_OF_RANGE\.WITH_SUGGESTION\]/)
      assert.strictEqual(answers.fetched.status.sqlState, "22003")
      assert.strictEqual(answers.status.operationState, T.TOperationState.ERROR_STATE)
      assert.strictEqual(answers.status.sqlState, "22003")
      assert.strictEqual(answers.again.status.sqlState, "22003")
      assert.strictEqual(answers.closed.status.statusCode, T.TStatusCode.SUCCESS_STATUS)
      yield* Effect.promise(() => raw.close())
    }).pipe(Effect.provide(withEmulator(patient))))
})

/** Runs a statement in its own session: its rows, or its error. */
const attempt = (client: DBSQLClient, sql: string) =>
  Effect.promise(() =>
    client.openSession().then(async (session) => {
      try {
        const operation = await session.executeStatement(sql)
        try {
          return { rows: (await operation.fetchAll()) as Array<Record<string, unknown>> }
        } finally {
          await operation.close().catch(() => undefined)
        }
      } catch (error: any) {
        return { error: { message: String(error?.message), sqlState: error?.response?.sqlState as unknown } }
      } finally {
        await session.close()
      }
    })
  )

const listing = (client: DBSQLClient, rpc: "getTables" | "getColumns") =>
  Effect.promise(async () => {
    const session = await client.openSession()
    const operation = await session[rpc]({ catalogName: "main", schemaName: "default", tableName: "%" })
    const rows = (await operation.fetchAll()) as Array<Record<string, unknown>>
    await operation.close()
    await session.close()
    return rows
  })

describe("a table the principal may not read", () => {
  // Unity Catalog: the information schema filters "results to include only the objects you have Unity Catalog
  // privileges to access" (SQL reference, "Information schema", docs.databricks.com/sql/language-manual/
  // sql-ref-information-schema.html); the emulator leaves a denied table out of every listing, and naming it
  // (DESCRIBE, SHOW) is INSUFFICIENT_PERMISSIONS (42501), as reading it is.
  it.scopedLive("DESCRIBE and SHOW fail as SELECT does; listings leave it out", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE secrets (x INT) COMMENT 'hidden' TBLPROPERTIES ('k' = 'v')")
      yield* emulator.sql("CREATE TABLE open_data (y INT)")
      yield* emulator.deny(emulator.user, "secrets")
      const { client } = yield* connect()
      for (
        const sql of [
          "SELECT * FROM secrets",
          "DESCRIBE secrets",
          "DESCRIBE TABLE EXTENDED main.default.secrets",
          "SHOW COLUMNS IN secrets",
          "SHOW CREATE TABLE secrets",
          "SHOW TBLPROPERTIES secrets",
          "DESCRIBE QUERY SELECT x FROM secrets"
        ]
      ) {
        const outcome = yield* attempt(client, sql)
        assert.match(String(outcome.error?.message), /^\[INSUFFICIENT_PERMISSIONS\] .* SQLSTATE: 42501$/s, sql)
        assert.strictEqual(outcome.error?.sqlState, "42501", sql)
      }
      const names = (rows: ReadonlyArray<Record<string, unknown>>, column: string) =>
        rows.map((row) => String(row[column]))
      const shown = yield* attempt(client, "SHOW TABLES")
      assert.deepStrictEqual(names(shown.rows!, "tableName"), ["open_data"])
      const schemaTables = yield* attempt(
        client,
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'default' ORDER BY table_name"
      )
      assert.deepStrictEqual(names(schemaTables.rows!, "table_name"), ["open_data"])
      const schemaColumns = yield* attempt(
        client,
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'default'"
      )
      assert.deepStrictEqual(names(schemaColumns.rows!, "table_name"), ["open_data"])
      assert.deepStrictEqual(names(yield* listing(client, "getTables"), "TABLE_NAME"), ["open_data"])
      assert.deepStrictEqual(names(yield* listing(client, "getColumns"), "TABLE_NAME"), ["open_data"])
      // The administrator (seeding) still sees it.
      assert.deepStrictEqual(yield* emulator.sql("SHOW COLUMNS IN secrets"), [{ col_name: "x" }])
    }).pipe(Effect.provide(withEmulator())), { timeout: 60_000 })
})

describe("DECIMAL map keys", () => {
  // Spark's ArrowUtils.toArrowType maps a map's key type like any other field, so a DECIMAL key travels as an Arrow
  // Decimal (unscaled digits, with the field's scale). The Node driver 2.1 turns map keys into strings without the
  // scale (dist/result/ArrowResultConverter.js, convertArrowTypes: "key will be cast to string anyway"), so through
  // it `map(1.0, '2')` reads `{ "10": "2" }` from a warehouse as from the emulator. As text (COLUMN_BASED_SET),
  // Spark writes the key bare (`{1.0:"2"}`, HiveResult.toHiveString), not JSON: the driver answers `{}`, as for any
  // non-string key (its compatibility fixtures README).
  it.scopedLive("travel as Arrow decimals with their scale", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      const raw = yield* thriftSession(client)
      const executed = yield* Effect.promise(() => raw.execute("SELECT map(1.0, '2') AS m"))
      const direct = executed.directResults
      const schema = Arrow.tableFromIPC(direct.resultSetMetadata.arrowSchema).schema
      const entries = (schema.fields[0].type as Arrow.Map_).children[0].type as Arrow.Struct
      const key = entries.children[0].type as Arrow.Decimal
      assert.isTrue(Arrow.DataType.isDecimal(key))
      assert.deepStrictEqual([key.precision, key.scale], [2, 1])
      const batch = Buffer.concat([
        direct.resultSetMetadata.arrowSchema,
        direct.resultSet.results.arrowBatches[0].batch
      ])
      const map = Arrow.tableFromIPC(batch).getChild("m")!.get(0) as Arrow.MapRow<any, any>
      const [[digits, value]] = [...map]
      assert.strictEqual(String(digits), "10")
      assert.strictEqual(value, "2")
      yield* Effect.promise(() => raw.close())
      assert.deepStrictEqual(yield* query(client, "SELECT map(1.0, '2') AS m"), [{ m: { 10: "2" } }])
    }).pipe(Effect.provide(withEmulator(patient))))

  it.scopedLive("are written bare as text, which the driver cannot read", () =>
    Effect.gen(function*() {
      const { client } = yield* connect()
      assert.deepStrictEqual(yield* query(client, "SELECT map(1.0, '2') AS m, map('a', 1.5) AS n"), [{
        m: {},
        n: { a: 1.5 }
      }])
    }).pipe(Effect.provide(withEmulator({ warehouse: { resultFormat: "columns" } }))))
})

describe("CloudFetch links", () => {
  // The driver refuses a link whose expiryTime is past on its own wall clock (CloudFetchResultHandler:
  // `Date.now() >= link.expiryTime`), so the emulator tells expiry on the wall clock even under a TestClock.
  it.scoped("under a TestClock starting at 0, the driver downloads every link", () =>
    Effect.gen(function*() {
      yield* seedEveryType
      const { client } = yield* connect()
      const rows = yield* query(client, everyTypeQuery)
      assert.strictEqual(rows.length, everyTypeRows)
      const after = yield* stats
      assert.isAbove(after.cloudFetch.downloads, 3)
      assert.strictEqual(after.cloudFetch.expired, 0)
    }).pipe(Effect.provide(withEmulator(cloudFetch))), 60_000)

  it.scoped(
    "a link tells the remaining lifetime on the wall clock; expiry is enforced on the emulator's",
    () =>
      Effect.gen(function*() {
        yield* seedEveryType
        const { client } = yield* connect()
        const raw = yield* thriftSession(client)
        const before = Date.now()
        const executed = yield* Effect.promise(() => raw.execute(everyTypeQuery, { download: true }))
        const [link] = executed.directResults.resultSet.results.resultLinks
        const expiry = link.expiryTime.toNumber()
        // 15 minutes, the default link lifetime.
        assert.isAtLeast(expiry, before + 15 * 60_000)
        assert.isAtMost(expiry, Date.now() + 15 * 60_000)
        yield* TestClock.adjust("14 minutes")
        assert.strictEqual((yield* download(link.fileLink)).status, 200)
        yield* TestClock.adjust("1 minute")
        assert.strictEqual((yield* download(link.fileLink)).status, 403)
        yield* Effect.promise(() => raw.close())
      }).pipe(Effect.provide(withEmulator(cloudFetch))),
    60_000
  )

  // Object storage serves an object for as long as its presigned URL is valid: a client retrying a cut download
  // gets it again. The emulator frees a file when its statement or session is closed.
  it.scopedLive(
    "a file downloads again until its statement is closed, then it is gone (404)",
    () =>
      Effect.gen(function*() {
        yield* seedEveryType
        const { client } = yield* connect()
        const raw = yield* thriftSession(client)
        const executed = yield* Effect.promise(() => raw.execute(everyTypeQuery, { download: true }))
        const direct = executed.directResults
        assert.strictEqual(direct.resultSet.hasMoreRows, true)
        const [link] = direct.resultSet.results.resultLinks
        const first = yield* download(link.fileLink)
        const second = yield* download(link.fileLink)
        assert.strictEqual(first.status, 200)
        assert.strictEqual(second.status, 200)
        assert.isTrue(first.body.equals(second.body))
        assert.strictEqual(first.body.length, link.bytesNum.toNumber())
        assert.strictEqual((yield* stats).cloudFetch.stored, 3)
        const closed = yield* Effect.promise(() => raw.closeOperation(executed.operationHandle))
        assert.strictEqual(closed.status.statusCode, T.TStatusCode.SUCCESS_STATUS)
        const gone = yield* download(link.fileLink)
        assert.strictEqual(gone.status, 404)
        assert.include(gone.body.toString(), "<Code>NoSuchKey</Code>")
        assert.strictEqual((yield* stats).cloudFetch.stored, 0)
        yield* Effect.promise(() => raw.close())
      }).pipe(Effect.provide(withEmulator(cloudFetch))),
    60_000
  )

  it.scopedLive(
    "a result closed within its direct results keeps its files until the session closes",
    () =>
      Effect.gen(function*() {
        const { client } = yield* connect()
        const raw = yield* thriftSession(client)
        const executed = yield* Effect.promise(() => raw.execute("SELECT * FROM range(100)", { download: true }))
        const direct = executed.directResults
        assert.strictEqual(direct.resultSet.hasMoreRows, false)
        assert.isNotNull(direct.closeOperation)
        const [link] = direct.resultSet.results.resultLinks
        assert.strictEqual((yield* download(link.fileLink)).status, 200)
        assert.strictEqual((yield* download(link.fileLink)).status, 200)
        yield* Effect.promise(() => raw.close())
        assert.strictEqual((yield* download(link.fileLink)).status, 404)
        assert.strictEqual((yield* stats).cloudFetch.stored, 0)
      }).pipe(Effect.provide(withEmulator(cloudFetch))),
    60_000
  )
})

describe("closing the emulator", () => {
  // A statement sleeping on the emulator's clock (a TestClock here, which never moves by itself) holds its session's
  // lock; closing the emulator cancels it instead of waiting for the clock.
  it.scoped(
    "does not wait for a statement that sleeps on a TestClock, with its session left open",
    () =>
      Effect.gen(function*() {
        const { client } = yield* connect()
        const session = yield* Effect.promise(() => client.openSession())
        const pending = session.executeStatement("SELECT 1 AS x /* emulator:sleep=600000 */").then(
          () => "answered",
          () => "failed"
        )
        const emulator = yield* Emulator.Emulator
        let running = false
        while (!running) {
          yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 50)))
          running = (yield* emulator.stats).statements.some((statement) => statement.state === "RUNNING")
        }
        return pending
      }).pipe(
        Effect.provide(withEmulator()),
        // The emulator is closed here; the statement's ExecuteStatement is answered (cancelled), not left waiting.
        Effect.flatMap((pending) => Effect.promise(() => pending)),
        Effect.map((outcome) => assert.oneOf(outcome, ["answered", "failed"]))
      ),
    20_000
  )
})
