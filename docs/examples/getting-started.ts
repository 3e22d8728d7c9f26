// Type-checked by `pnpm check`, run by docs/test/getting-started.test.ts. A first query, on the emulator.
import { Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { Console, Effect, Layer } from "effect"

// The emulator plays the workspace: a loopback host with a SQL warehouse, its own certificate and a PAT.
const Databricks = Layer.unwrapEffect(
  Effect.map(
    Emulator.Emulator,
    (emulator) =>
      SqlClient.layer({ host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem }).pipe(
        Layer.provide(Pat.layer({ token: emulator.pat }))
      )
  )
).pipe(Layer.provide(Emulator.layer({ samples: true })))

export const program = Effect.gen(function*() {
  const sql = yield* SqlClient.SqlClient
  // The three zip codes whose trips over $10 took the most in fares, highest first.
  const rows = yield* sql.query(
    "SELECT pickup_zip, count(*) AS trips, round(sum(fare_amount), 2) AS fares FROM samples.nyctaxi.trips WHERE fare_amount > :min GROUP BY pickup_zip ORDER BY fares DESC LIMIT 3",
    { min: 10 }
  )
  for (const row of rows) yield* Console.log(`${row.pickup_zip}: ${row.trips} trips, $${row.fares} in fares`)
  return rows
}).pipe(Effect.provide(Databricks))
