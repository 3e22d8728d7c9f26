import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Sql from "@effect/sql/SqlClient"
import { Effect, Layer } from "effect"
import * as EffectSql from "../src/internal/effectSql.js"
import { stats, withClient } from "./utils.js"

/** `@effect/sql`'s client over the SqlClient in the context, as the layers build it. */
const effectSqlLayer = Layer.effect(
  Sql.SqlClient,
  Effect.gen(function*() {
    const client = yield* SqlClient.SqlClient
    const emulator = yield* Emulator.Emulator
    const url = new URL(emulator.host)
    return yield* EffectSql.make(client as EffectSql.Reservable, {
      hostname: url.hostname,
      port: Number(url.port || 443)
    })
  })
).pipe(Layer.provide(Reactivity.layer))

/**
 * Runs `body` with both clients on the emulator's warehouse, then checks that nothing was left open
 * (0 sessions, 0 operations).
 */
export const withSql = <A, E, R>(body: Effect.Effect<A, E, R>, options?: Partial<SqlClient.Options>) =>
  withClient(Effect.provide(body, effectSqlLayer), options)

/** The text of every statement the warehouse ran that contains `marker`. */
export const texts = (marker: string) =>
  Effect.map(stats, (s) => s.statements.filter((t) => t.text.includes(marker)).map((t) => t.text))

export const sqlClient = Sql.SqlClient
