import type { SqlParam } from "@effect-databricks/sql"
import { SqlClient } from "@effect-databricks/sql"
import { SqlClient as Sql } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { assert } from "@effect/vitest"
import { Effect, Stream } from "effect"

/**
 * The calls a fault test makes, with ordinal parameters only: the `sql` template compiles `?` placeholders, never
 * named `:x` ones.
 */
export interface Calls {
  readonly query: (
    sql: string,
    params?: ReadonlyArray<SqlParam.Value>
  ) => Effect.Effect<ReadonlyArray<SqlClient.Row>, SqlClient.SqlClientError>
  readonly execute: (
    sql: string,
    params?: ReadonlyArray<SqlParam.Value>
  ) => Effect.Effect<SqlClient.ExecuteResult, SqlClient.SqlClientError>
  readonly stream: (sql: string) => Stream.Stream<SqlClient.Row, SqlClient.SqlClientError>
}

/** One of the two APIs `SqlClient.layer` provides, as the same `Calls`. */
export interface Api {
  /** Appended to the describes' titles: our API keeps its tests' names. */
  readonly suffix: string
  readonly kind: "SqlClient" | "@effect/sql"
  readonly client: Effect.Effect<Calls, never, SqlClient.SqlClient | Sql.SqlClient>
}

/**
 * The template's failure back as our tagged error, after checking it has the documented shape: an `@effect/sql`
 * `SqlError` whose `cause` is our error and whose message names its tag. A failure of another shape fails the test.
 */
const cause = (error: SqlError): SqlClient.SqlClientError => {
  assert.instanceOf(error, SqlError)
  const ours = error.cause as SqlClient.SqlClientError
  assert.isString(ours?._tag, "the SqlError's cause is not our tagged error")
  assert.strictEqual(error.message, `Failed to execute statement (${ours._tag})`)
  return ours
}

/**
 * `@effect/sql`'s `sql` template as `Calls`: every call is `sql.unsafe(text, params)`, so the template decides,
 * from the text, whether it is a read (our `query`, sent again after a lost answer) or not (our `execute`, never
 * sent twice). `execute` reads the statement's raw result, which is our `ExecuteResult` for a write, and the rows
 * (with no count) for a read.
 */
const template = (sql: Sql.SqlClient): Calls => ({
  query: (text, params) => Effect.mapError(sql.unsafe<SqlClient.Row>(text, params), cause),
  execute: (text, params) =>
    Effect.mapError(sql.unsafe(text, params).raw as Effect.Effect<SqlClient.ExecuteResult, SqlError>, cause),
  stream: (text) => Stream.mapError(sql.unsafe<SqlClient.Row>(text).stream, cause)
})

/** Our `SqlClient`, and the `sql` template over it: the fault matrix runs through both. */
export const apis: ReadonlyArray<Api> = [
  { suffix: "", kind: "SqlClient", client: SqlClient.SqlClient },
  { suffix: " through @effect/sql's sql template", kind: "@effect/sql", client: Effect.map(Sql.SqlClient, template) }
]
