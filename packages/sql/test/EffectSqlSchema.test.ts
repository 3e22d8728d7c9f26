import { SqlError as OurErrors } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import * as Model from "@effect/sql/Model"
import { SqlError } from "@effect/sql/SqlError"
import * as SqlResolver from "@effect/sql/SqlResolver"
import * as SqlSchema from "@effect/sql/SqlSchema"
import { assert, describe, it } from "@effect/vitest"
import { Cause, DateTime, Effect, Exit, Option, Schema } from "effect"
import { sqlClient, texts, withSql } from "./EffectSqlUtils.js"
import { withEmulator } from "./utils.js"

const Person = Schema.Struct({ id: Schema.Number, name: Schema.String, score: Schema.BigIntFromSelf })

const seed = Effect.flatMap(Emulator.Emulator, (emulator) =>
  emulator.sql(
    "CREATE TABLE people (id INT, name STRING, score BIGINT); " +
      "INSERT INTO people SELECT i, 'p' || i, i * 10 FROM range(1, 11) AS r(i)"
  ))

class Account extends Model.Class<Account>("Account")({
  id: Schema.Number,
  owner: Schema.String,
  balance: Schema.BigIntFromSelf,
  createdAt: Model.DateTimeInsertFromDate
}) {}

describe("@effect/sql on Databricks: SqlSchema, SqlResolver and Model", () => {
  it.scopedLive("SqlSchema.findAll, findOne, single and void", () =>
    Effect.gen(function*() {
      yield* seed
      const result = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        const above = SqlSchema.findAll({
          Request: Schema.Number,
          Result: Person,
          execute: (min) => sql`SELECT id, name, score FROM people WHERE score > ${min} ORDER BY id`
        })
        const byName = SqlSchema.findOne({
          Request: Schema.String,
          Result: Person,
          execute: (name) => sql`SELECT id, name, score FROM people WHERE name = ${name}`
        })
        const count = SqlSchema.single({
          Request: Schema.Void,
          Result: Schema.Struct({ n: Schema.BigIntFromSelf }),
          execute: () => sql`SELECT count(*) AS n FROM people`
        })
        const remove = SqlSchema.void({
          Request: Schema.Number,
          execute: (id) => sql`DELETE FROM people WHERE id = ${id}`
        })
        const all = yield* above(80)
        const found = yield* byName("p3")
        const none = yield* byName("nobody")
        yield* remove(1)
        const n = yield* count(undefined)
        const noSuch = yield* Effect.flip(
          SqlSchema.single({
            Request: Schema.Void,
            Result: Person,
            execute: () => sql`SELECT id, name, score FROM people WHERE false`
          })(undefined)
        )
        return { all, found, none, n, noSuch }
      }))
      assert.deepStrictEqual(result.all, [{ id: 9, name: "p9", score: 90n }, { id: 10, name: "p10", score: 100n }])
      assert.deepStrictEqual(result.found, Option.some({ id: 3, name: "p3", score: 30n }))
      assert.deepStrictEqual(result.none, Option.none())
      assert.deepStrictEqual(result.n, { n: 9n })
      assert.isTrue(Cause.isNoSuchElementException(result.noSuch))
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("SqlResolver batches N lookups into one statement, and N inserts into one", () =>
    Effect.gen(function*() {
      yield* seed
      const result = yield* withSql(Effect.gen(function*() {
        const sql = yield* sqlClient
        const byId = yield* SqlResolver.findById("PersonById", {
          Id: Schema.Number,
          Result: Person,
          ResultId: (person) => person.id,
          execute: (ids) => sql`SELECT /* by id */ id, name, score FROM people WHERE ${sql.in("id", ids)}`
        })
        const insert = yield* SqlResolver.void("InsertPerson", {
          Request: Person,
          execute: (people) => sql`INSERT INTO people ${sql.insert(people)}`
        })
        const found = yield* Effect.forEach([2, 4, 6, 8, 99], (id) => byId.execute(id), { batching: true })
        yield* Effect.forEach(
          [11, 12, 13].map((id) => ({ id, name: `new${id}`, score: BigInt(id) })),
          (person) => insert.execute(person),
          { batching: true }
        )
        const inserted = yield* sql`SELECT id FROM people WHERE id > 10 ORDER BY id`
        return { found, inserted }
      }))
      assert.deepStrictEqual(result.found, [
        Option.some({ id: 2, name: "p2", score: 20n }),
        Option.some({ id: 4, name: "p4", score: 40n }),
        Option.some({ id: 6, name: "p6", score: 60n }),
        Option.some({ id: 8, name: "p8", score: 80n }),
        Option.none()
      ])
      assert.deepStrictEqual(result.inserted, [{ id: 11 }, { id: 12 }, { id: 13 }])
      const lookups = yield* texts("/* by id */")
      assert.strictEqual(lookups.length, 1, "five lookups, one statement")
      assert.include(lookups[0], "WHERE `id` IN (?,?,?,?,?)")
      const inserts = yield* texts("INSERT INTO people (")
      assert.deepStrictEqual(inserts, ["INSERT INTO people (`id`,`name`,`score`) VALUES (?,?,?),(?,?,?),(?,?,?)"])
    }).pipe(Effect.provide(withEmulator())))

  it.scopedLive("Model.makeRepository: insertVoid, findById, updateVoid and delete work; insert (RETURNING) is refused", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      yield* emulator.sql("CREATE TABLE accounts (id INT, owner STRING, balance BIGINT, createdAt TIMESTAMP)")
      const result = yield* withSql(Effect.gen(function*() {
        const repo = yield* Model.makeRepository(Account, {
          tableName: "accounts",
          spanPrefix: "Accounts",
          idColumn: "id"
        })
        yield* repo.insertVoid(Account.insert.make({ id: 1, owner: "ada", balance: 100n }))
        const inserted = yield* repo.findById(1)
        yield* repo.updateVoid(Account.update.make({ id: 1, owner: "ada lovelace", balance: 150n }))
        const updated = yield* repo.findById(1)
        const withReturning = yield* Effect.exit(repo.insert(Account.insert.make({ id: 2, owner: "bob", balance: 1n })))
        yield* repo.delete(1)
        const deleted = yield* repo.findById(1)
        return { inserted, updated, withReturning, deleted }
      }))
      const inserted = Option.getOrThrow(result.inserted)
      assert.instanceOf(inserted, Account)
      assert.strictEqual(inserted.owner, "ada")
      assert.strictEqual(inserted.balance, 100n)
      assert.isTrue(DateTime.isDateTime(inserted.createdAt))
      const updated = Option.getOrThrow(result.updated)
      assert.deepStrictEqual([updated.owner, updated.balance], ["ada lovelace", 150n])
      assert.deepStrictEqual(result.deleted, Option.none())
      // makeRepository turns every failure into a defect (Effect.orDie); the defect is our SqlError, raised before
      // anything was sent. (`update` writes "returning *" into its SQL text itself: a real warehouse rejects it
      // with PARSE_SYNTAX_ERROR, while the emulator, on DuckDB, accepts it, so it is not tested here.)
      const exit = result.withReturning
      assert.isTrue(Exit.isFailure(exit))
      const defect = Exit.isFailure(exit) ? Option.getOrThrow(Cause.dieOption(exit.cause)) : undefined
      assert.instanceOf(defect, SqlError)
      assert.instanceOf((defect as SqlError).cause, OurErrors.QueryError)
      assert.include(((defect as SqlError).cause as OurErrors.QueryError).message, "no RETURNING clause")
      assert.deepStrictEqual(yield* texts("RETURNING"), [], "nothing with RETURNING was sent")
      assert.strictEqual((yield* texts("insert into `accounts`")).length, 1, "only insertVoid's INSERT was sent")
    }).pipe(Effect.provide(withEmulator())))
})
