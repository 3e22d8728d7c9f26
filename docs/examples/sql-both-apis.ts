// Type-checked by `pnpm check`, run on the emulator by docs/test/sql-both-apis.test.ts. The same query with
// SqlClient and with @effect/sql's `sql` template: both come from SqlClient.layer, on one pool of sessions.
import { SqlClient } from "@effect-databricks/sql"
import { SqlClient as Sql } from "@effect/sql"
import { Effect } from "effect"

// SqlClient: the SQL text and its parameters apart, named (:name) or ordinal (?).
export const withSqlClient = Effect.gen(function*() {
  const client = yield* SqlClient.SqlClient
  return yield* client.query(
    "SELECT id, name FROM people WHERE id IN (:a, :b) AND active = :active ORDER BY id",
    { a: 1, b: 2, active: true }
  )
})

// @effect/sql: the values sit in the template and are bound as parameters, never spliced.
export const withTemplate = Effect.gen(function*() {
  const sql = yield* Sql.SqlClient
  return yield* sql`SELECT id, name FROM people WHERE ${sql.in("id", [1, 2])} AND active = ${true} ORDER BY id`
})

// Rows built from parts: one INSERT for all of them (a write: never sent twice after a lost answer).
export const addPeople = (
  people: ReadonlyArray<{ readonly id: number; readonly name: string; readonly active: boolean }>
) => Effect.flatMap(Sql.SqlClient, (sql) => sql`INSERT INTO people ${sql.insert(people)}`)
