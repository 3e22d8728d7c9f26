// Type-checked by `pnpm check` (docs/tsconfig.json). One `catchTag` per tagged error, as docs/errors.md shows them.
// Each handler only handles its own tag: the other errors stay in the type, for the caller.
import { ViewerMiddleware, WorkspaceClient, WorkspaceHost } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator, LoopbackCertificate } from "@effect-databricks/testing"
import { HttpApi, HttpApiClient, HttpApiEndpoint, HttpApiGroup } from "@effect/platform"
import { Console, Duration, Effect, Option, Schema, Stream } from "effect"

// #region setup
// `run`: a query through the SqlClient service, which the examples below share.
const run = (statement: string) => Effect.flatMap(SqlClient.SqlClient, (sql) => sql.query(statement))
// #endregion

// #region authentication
// On Connect, code 215 is the viewer's expired session; anything else, the hint says what to fix.
export const greeting = WorkspaceClient.currentUser.pipe(
  Effect.map((me) => `Hello, ${me.displayName}`),
  Effect.catchTag("AuthenticationError", (error) =>
    Effect.succeed(
      error.connectCode === 215
        ? "Your Posit Connect session has expired: reload the page"
        : `Could not sign in to Databricks: ${error.hint ?? error.message}`
    ))
)
// #endregion

// #region permission
// Show the viewer that they lack a grant, rather than an error page.
export const revenue = run("SELECT sum(amount) AS total FROM finance.revenue").pipe(
  Effect.map(Option.some),
  Effect.catchTag("PermissionError", (error) => Effect.as(Effect.logWarning(error.message), Option.none()))
)
// #endregion

// #region rate-limit
// The client already waited within its policy; what reaches you is a limit it would not wait out.
export const countOrLater = run("SELECT count(*) AS n FROM main.sales.orders").pipe(
  Effect.catchTag("RateLimitError", (error) =>
    Effect.fail(
      `The warehouse is busy: try again in ${
        Option.match(error.retryAfter, { onNone: () => "a minute", onSome: Duration.format })
      }`
    ))
)
// #endregion

// #region server
// A 5xx that is not a starting warehouse: report it with its status.
export const serverFailure = run("SELECT 1 AS one").pipe(
  Effect.catchTag("ServerError", (error) => Effect.fail(`Databricks failed (HTTP ${error.status}): ${error.message}`))
)
// #endregion

// #region network
// A lost answer to `execute` is never sent twice: look whether the row is there before trying again.
export const insertOnce = (id: number) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) =>
      sql.execute("INSERT INTO main.sales.orders (id) VALUES (:id)", { id }).pipe(
        Effect.asVoid,
        Effect.catchTag("NetworkError", (error) =>
          Effect.flatMap(
            sql.query("SELECT 1 FROM main.sales.orders WHERE id = :id", { id }),
            (rows) => rows.length > 0 ? Effect.void : Effect.fail(error)
          ))
      )
  )
// #endregion

// #region timeout
// `operation` names what ran out of time; `timeout` is the deadline, when there was one.
export const slowReport = run("SELECT * FROM main.sales.yearly_report").pipe(
  Effect.catchTag("TimeoutError", (error) =>
    Effect.fail(
      `${error.operation} took longer than ${
        error.timeout === undefined ? "its deadline" : Duration.format(error.timeout)
      }: make the query cheaper or raise the timeout`
    ))
)
// #endregion

// #region configuration
// At start-up: `setting` names the variable or option to fix.
export const host = WorkspaceHost.make(process.env.DATABRICKS_HOST ?? "", { setting: "DATABRICKS_HOST" }).pipe(
  Effect.catchTag(
    "ConfigurationError",
    (error) =>
      Effect.zipRight(Console.error(`${error.setting}: ${error.message}\n${error.hint ?? ""}`), Effect.fail(error))
  )
)
// #endregion

// #region api
// Any other 4xx from a REST call: `status`, and Databricks' `errorCode` when it sent one.
export const warehouseState = (id: string) =>
  Effect.flatMap(
    WorkspaceClient.WorkspaceClient,
    (client) =>
      client.http.get(`/api/2.0/sql/warehouses/${encodeURIComponent(id)}`).pipe(
        Effect.flatMap((response) => response.json),
        Effect.map(Option.some),
        Effect.catchTag("ApiError", (error) =>
          error.status === 404 || error.errorCode === "RESOURCE_DOES_NOT_EXIST"
            ? Effect.succeed(Option.none())
            : Effect.fail(error))
      )
  )
// #endregion

// #region warehouse
// Retries ran out while the warehouse started or stayed unavailable.
export const whenReady = run("SELECT 1 AS one").pipe(
  Effect.catchTag("WarehouseError", (error) =>
    Effect.fail(
      error.reason === "Starting"
        ? "The SQL warehouse is still starting: try again in a minute"
        : `The SQL warehouse is unavailable: ${error.message}`
    ))
)
// #endregion

// #region query
// Match the documented error class, never the message.
export const ordersOrEmpty = run("SELECT * FROM main.sales.orders").pipe(
  Effect.catchTag(
    "QueryError",
    (error) => error.errorClass === "TABLE_OR_VIEW_NOT_FOUND" ? Effect.succeed([]) : Effect.fail(error)
  )
)
// #endregion

// #region result-decode
// `row` (0-based) and `column` say which value did not fit the schema.
const Order = Schema.Struct({ id: Schema.Number, placed: Schema.String }) // a DATE comes as "YYYY-MM-DD"
export const orders = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql.querySchema(Order)("SELECT id, placed FROM main.sales.orders")
).pipe(
  Effect.catchTag(
    "ResultDecodeError",
    (error) => Effect.fail(`Row ${error.row}, column ${error.column ?? "?"} does not match Order: ${error.message}`)
  )
)
// #endregion

// #region parameter
// Caught before anything is sent: `parameter` names the value (`:min`, NaN when the input is not a number).
export const above = (input: string) =>
  Effect.flatMap(
    SqlClient.SqlClient,
    (sql) => sql.query("SELECT * FROM main.sales.orders WHERE amount > :min", { min: Number(input) })
  ).pipe(
    Effect.catchTag("ParameterError", (error) => Effect.fail(`Not a number: ${error.message}`))
  )
// #endregion

// #region result-expired
// A stream is never re-run by itself (it would repeat rows): `rowsDelivered` says how far it got.
export const exportAll = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql.stream("SELECT * FROM main.sales.orders").pipe(Stream.runCount)
).pipe(
  Effect.catchTag(
    "ResultExpiredError",
    (error) => Effect.fail(`The export stopped after ${error.rowsDelivered} rows (${error.message}); start it again`)
  )
)
// #endregion

// #region viewer-unauthorized
// An HttpApi with ViewerMiddleware.Authorization: its client gets the 401 as a typed error.
class Reports extends HttpApiGroup.make("reports")
  .add(HttpApiEndpoint.get("me", "/me").addSuccess(Schema.String))
  .middleware(ViewerMiddleware.Authorization)
{}
class Api extends HttpApi.make("reports-api").add(Reports) {}

export const callMe = Effect.gen(function*() {
  const client = yield* HttpApiClient.make(Api, { baseUrl: "http://127.0.0.1:8000" })
  return yield* client.reports.me()
}).pipe(
  Effect.catchTag("ViewerUnauthorized", (error) => Effect.succeed(`Not signed in: ${error.hint ?? error.message}`))
)
// #endregion

// #region emulator
// The emulator's own errors: it could not start (EmulatorError), or seeding SQL failed (SqlSeedError).
export const seeded = Effect.gen(function*() {
  const emulator = yield* Emulator.Emulator
  yield* emulator.sql("CREATE TABLE orders (id INT, placed DATE)")
  return emulator.host
}).pipe(
  Effect.catchTag("SqlSeedError", (error) => Effect.dieMessage(`seed SQL failed: ${error.message}`)),
  Effect.provide(Emulator.layer()),
  Effect.catchTag("EmulatorError", (error) => Effect.dieMessage(`the emulator did not start: ${error.message}`))
)
// #endregion

// #region certificate
export const certificate = LoopbackCertificate.generate({ validForDays: 1 }).pipe(
  Effect.catchTag("CertificateError", (error) => Effect.dieMessage(`no loopback certificate: ${error.message}`))
)
// #endregion
