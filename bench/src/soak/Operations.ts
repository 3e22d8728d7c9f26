/**
 * The soak's mixed operations. Each checks its answer: a wrong answer is a defect, as bad as a crash.
 * An INSERT writes a new id each time, so a duplicate row can only come from a statement sent twice.
 */
import type { WorkspaceClient } from "@effect-databricks/auth"
import type { SqlClient } from "@effect-databricks/sql"
import { Effect, type Redacted, Schema, Stream } from "effect"

export interface Clients {
  readonly sql: SqlClient.SqlClient
  readonly viewers: SqlClient.Viewers
  readonly workspace: WorkspaceClient.WorkspaceClient
  /** Connect user-session tokens and who they belong to. */
  readonly viewerTokens: ReadonlyArray<{ readonly token: Redacted.Redacted<string>; readonly userName: string }>
  /** The service principal's display name, as SCIM Me answers it. */
  readonly displayName: string
}

/** The operations a worker picks from, with their weights. */
export type Kind =
  | "query"
  | "querySchema"
  | "stream"
  | "streamEarlyExit"
  | "insert"
  | "cancelledQuery"
  | "viewerQuery"
  | "currentUser"

export const weights: ReadonlyArray<readonly [Kind, number]> = [
  ["query", 25],
  ["querySchema", 10],
  ["stream", 8],
  ["streamEarlyExit", 8],
  ["insert", 20],
  ["cancelledQuery", 6],
  ["viewerQuery", 15],
  ["currentUser", 8]
]

const check = (ok: boolean, what: string) => ok ? Effect.void : Effect.dieMessage(`wrong answer: ${what}`)

const Numbered = Schema.Struct({ n: Schema.Number, label: Schema.String })

export const table = "soak_writes"

/** Runs one operation; `n` makes its values unique. Answers "interrupted" when the caller gave up on it. */
export const run = (clients: Clients, kind: Kind, n: number): Effect.Effect<"ok" | "interrupted", unknown> => {
  const { sql } = clients
  switch (kind) {
    case "query":
      return Effect.flatMap(
        sql.query("SELECT :n AS n", { n }),
        (rows) => check(rows.length === 1 && rows[0].n === n, `SELECT ${n}`)
      ).pipe(Effect.as("ok" as const))
    case "querySchema":
      return Effect.flatMap(
        sql.querySchema(Numbered)("SELECT :n AS n, :label AS label", { n, label: `soak-${n}` }),
        (rows) => check(rows[0]?.n === n && rows[0]?.label === `soak-${n}`, "querySchema")
      ).pipe(Effect.as("ok" as const))
    case "stream":
      return sql.stream("SELECT id AS i FROM range(30000)", undefined, { chunkSize: 5_000 }).pipe(
        Stream.runFold({ count: 0, sum: 0 }, (acc, row) => ({ count: acc.count + 1, sum: acc.sum + Number(row.i) })),
        Effect.flatMap((acc) => check(acc.count === 30_000 && acc.sum === 449_985_000, "stream of 30000 rows")),
        Effect.as("ok" as const)
      )
    case "streamEarlyExit":
      return sql.stream("SELECT id AS i FROM range(200000)", undefined, { chunkSize: 1_000 }).pipe(
        Stream.take(50),
        Stream.runCount,
        Effect.flatMap((count) => check(count === 50, "first 50 rows")),
        Effect.as("ok" as const)
      )
    case "insert":
      // The id is in the text too, so the emulator's statement log tells the INSERTs apart.
      return sql.execute(`INSERT INTO ${table} VALUES (${n}, :who)`, { who: "soak" }).pipe(
        Effect.as("ok" as const)
      )
    case "cancelledQuery":
      // The caller gives up after 150 ms on a 2 s statement: it must be cancelled and closed, not leaked.
      return sql.query("SELECT 1 AS one /* emulator:sleep=2000 */").pipe(
        Effect.timeoutOption("150 millis"),
        Effect.map((result) => result._tag === "None" ? "interrupted" as const : "ok" as const)
      )
    case "viewerQuery": {
      const viewer = clients.viewerTokens[n % clients.viewerTokens.length]
      return Effect.scoped(
        Effect.flatMap(clients.viewers.forViewer(viewer.token), (client) => client.query("SELECT current_user() AS me"))
      ).pipe(
        Effect.flatMap((rows) => check(rows[0]?.me === viewer.userName, `current_user() of ${viewer.userName}`)),
        Effect.as("ok" as const)
      )
    }
    case "currentUser":
      return Effect.flatMap(
        clients.workspace.currentUser,
        (me) => check(me.displayName === clients.displayName, "SCIM Me")
      ).pipe(Effect.as("ok" as const))
  }
}
