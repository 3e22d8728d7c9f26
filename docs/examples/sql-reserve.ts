// Type-checked by `pnpm check`. A session of your own for a scope: USE, SET and temporary views hold across its
// statements, and never reach another caller.
import { SqlClient } from "@effect-databricks/sql"
import { Effect } from "effect"

export const recentOrders = Effect.scoped(
  Effect.gen(function*() {
    const client = yield* SqlClient.SqlClient
    const session = yield* client.reserve
    yield* session.execute("USE main.sales")
    yield* session.execute("CREATE TEMPORARY VIEW recent AS SELECT * FROM orders WHERE day > current_date() - 7")
    return yield* session.query("SELECT count(*) AS n FROM recent")
  })
)
