// Type-checked by `pnpm check`, run on the emulator by docs/test/sql-both-apis.test.ts. A statement of the `sql`
// template fails with @effect/sql's SqlError, whose cause is the tagged error SqlClient would have failed with.
import type { SqlClient } from "@effect-databricks/sql"
import { SqlError } from "@effect-databricks/sql"
import { SqlClient as Sql } from "@effect/sql"
import { Effect } from "effect"

// Map to the cause, then catchTag as with SqlClient.
export const errorClassOf = (table: string) =>
  Effect.flatMap(Sql.SqlClient, (sql) =>
    sql`SELECT * FROM ${sql(table)}`.pipe(
      Effect.as("no error"),
      Effect.mapError((error) => error.cause as SqlClient.SqlClientError),
      Effect.catchTag("QueryError", (error) => Effect.succeed(error.errorClass ?? "unknown"))
    ))

// Or keep SqlError and pick out one kind.
export const rowsOrNone = (table: string) =>
  Effect.flatMap(Sql.SqlClient, (sql) =>
    sql`SELECT * FROM ${sql(table)}`.pipe(
      Effect.catchIf((error) => error.cause instanceof SqlError.PermissionError, () => Effect.succeed([]))
    ))
