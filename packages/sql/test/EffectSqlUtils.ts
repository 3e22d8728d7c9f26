import { SqlClient as Sql } from "@effect/sql"
import { Effect } from "effect"
import { stats, withClient } from "./utils.js"

/**
 * `withClient`: `SqlClient.layer` provides `@effect/sql`'s `SqlClient` too. Runs `body` with both, then checks
 * that nothing was left open (0 sessions, 0 operations).
 */
export const withSql = withClient

/** The text of every statement the warehouse ran that contains `marker`. */
export const texts = (marker: string) =>
  Effect.map(stats, (s) => s.statements.filter((t) => t.text.includes(marker)).map((t) => t.text))

export const sqlClient = Sql.SqlClient
