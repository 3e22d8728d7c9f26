import { AuthConfig } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer } from "effect"

// DATABRICKS_HOST, DATABRICKS_HTTP_PATH, and any credential AuthConfig finds (token, OAuth, CLI, profile).
const Databricks = SqlClient.layerConfig().pipe(
  Layer.provide(AuthConfig.layer()),
  Layer.provide(Layer.merge(NodeHttpClient.layerUndici, NodeContext.layer))
)

const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql.query("SELECT current_user() AS me, :n + 1 AS answer", { n: 41 })
  yield* Console.log(rows)
}).pipe(
  Effect.catchTag("QueryError", (error) => Console.error(`[${error.errorClass}] ${error.message}`)),
  Effect.provide(Databricks)
)

NodeRuntime.runMain(program)
