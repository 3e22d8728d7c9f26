// Type-checked by `pnpm check`. Tuning the retry policy of SqlClient.
import { Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Layer } from "effect"

export const Patient = SqlClient.layer({
  host: "https://adb-1234567890.12.azuredatabricks.net",
  httpPath: "/sql/1.0/warehouses/abc123",
  // Wait for a serverless warehouse to start: smaller first steps, more of them, a longer overall budget.
  retry: { base: "500 millis", maxDelay: "30 seconds", maxAttempts: 10, budget: "15 minutes" }
}).pipe(Layer.provide(Pat.layerConfig()))
