// Type-checked by `pnpm check`; docs/test/orders.test.ts is how to test it. An app's own SQL code: it needs a
// SqlClient, and does not care which credential or which warehouse is behind it.
import { SqlClient } from "@effect-databricks/sql"
import { Effect, Schema } from "effect"

const Total = Schema.Struct({ customer: Schema.String, total: Schema.BigDecimalFromNumber })

/** The customers who spent the most, biggest first. */
export const topCustomers = (limit: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    sql.querySchema(Total)(
      "SELECT customer, CAST(sum(amount) AS DOUBLE) AS total FROM orders GROUP BY customer ORDER BY total DESC LIMIT :limit",
      { limit }
    ))
