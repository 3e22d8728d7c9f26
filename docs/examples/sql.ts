// Type-checked by `pnpm check`. Query, stream and execute with SqlClient, handling its tagged errors.
import { AuthConfig } from "@effect-databricks/auth"
import { SqlClient, SqlParam } from "@effect-databricks/sql"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { Console, Effect, Layer, Schema, Stream } from "effect"

// DATABRICKS_HOST and DATABRICKS_HTTP_PATH; credentials however AuthConfig resolves them.
const Live = SqlClient.layerConfig({ userAgentEntry: "Acme_Dashboards/1.4.0", catalog: "samples", schema: "nyctaxi" })
  .pipe(
    Layer.provide(AuthConfig.layer()),
    Layer.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
  )

const Trip = Schema.Struct({ pickup_zip: Schema.Number, fare_amount: Schema.Number })

export const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient

  // Named parameters; values are bound, never spliced into the SQL.
  const trips = yield* sql.querySchema(Trip)(
    "SELECT pickup_zip, fare_amount FROM trips WHERE fare_amount > :min AND tpep_pickup_datetime >= :since LIMIT 10",
    { min: 20, since: SqlParam.timestamp(new Date("2016-02-01T00:00:00Z")) }
  )
  yield* Console.log(`${trips.length} expensive trips`)

  // Streams keep memory bounded; leaving early closes the statement.
  const total = yield* sql.stream("SELECT fare_amount FROM trips").pipe(
    Stream.runFold(0, (sum, row) => sum + Number(row.fare_amount))
  )
  yield* Console.log(`fares: ${total.toFixed(2)}`)

  // execute is not idempotent by default: a lost answer is never sent twice.
  const { affectedRows } = yield* sql.execute("INSERT INTO main.default.audit VALUES (:at)", { at: new Date() })
  yield* Console.log(`inserted ${affectedRows} row(s)`)
}).pipe(
  Effect.catchTags({
    QueryError: (error) => Console.error(`[${error.errorClass}] SQLSTATE ${error.sqlState}: ${error.message}`),
    WarehouseError: (error) => Console.error(`warehouse ${error.reason}: ${error.message}`),
    PermissionError: (error) => Console.error(`not allowed: ${error.message}`),
    ParameterError: (error) => Console.error(`${error.parameter}: ${error.message}`)
  }),
  Effect.provide(Live)
)
