import { type DuckDBConnection, DuckDBInstance, type DuckDBValue } from "@duckdb/node-api"
import * as Crypto from "node:crypto"
import type * as Emulator from "../../Emulator.js"
import type { Principal } from "../../Emulator.js"
import { Catalog, type MetadataRequest, type Plan } from "./catalog.js"
import type { Column } from "./columns.js"
import * as Dialect from "./dialect.js"
import * as Errors from "./errors.js"
import type * as Parameters from "./parameters.js"
import * as Transactions from "./transactions.js"

export type State = Emulator.StatementLog["state"] | "CLOSED"

export interface Handle {
  readonly guid: Buffer
  readonly secret: Buffer
}

const newHandle = (): Handle => ({
  guid: Buffer.from(Crypto.randomUUID().replace(/-/g, ""), "hex"),
  secret: Buffer.from(Crypto.randomBytes(16))
})

export const handleKey = (guid: Buffer | Uint8Array | undefined | null) =>
  guid === undefined || guid === null ? "" : Buffer.from(guid).toString("hex")

export const uuidOf = (guid: Buffer) => {
  const hex = guid.toString("hex")
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

/** One query at a time per DuckDB connection: everything on a session goes through its lock. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve()
  run<A>(work: () => Promise<A>): Promise<A> {
    const result = this.tail.then(work, work)
    this.tail = result.catch(() => undefined)
    return result
  }
}

/** Where a cursor's rows come from: the next chunk (as columns), or `undefined` at the end. */
export type ChunkSource = () => Promise<Array<Array<DuckDBValue>> | undefined>

/** A source of rows already in memory (an answer computed by the emulator itself), as one chunk. */
export const inMemory = (data: Array<Array<DuckDBValue>>): ChunkSource => {
  let done = false
  return async () => {
    if (done || data.length === 0 || data[0].length === 0) return undefined
    done = true
    return data
  }
}

/** Rows of a result, read chunk by chunk (from DuckDB, or from memory) as the client fetches them. */
export class Cursor {
  private buffered: Array<Array<DuckDBValue>> | undefined
  private offset = 0
  private exhausted = false
  fetched = 0

  constructor(private readonly next: ChunkSource, readonly columns: ReadonlyArray<Column>) {}

  private async fill(): Promise<boolean> {
    while (!this.exhausted && (this.buffered === undefined || this.offset >= this.buffered[0].length)) {
      const chunk = await this.next()
      if (chunk === undefined || chunk.length === 0 || chunk[0].length === 0) {
        this.exhausted = true
        this.buffered = undefined
      } else {
        this.buffered = chunk
        this.offset = 0
      }
    }
    return this.buffered !== undefined && this.offset < this.buffered[0].length
  }

  /** Up to `maxRows` rows (as columns), and whether more remain. */
  async take(maxRows: number): Promise<{ readonly data: Array<Array<DuckDBValue>>; readonly hasMore: boolean }> {
    const data: Array<Array<DuckDBValue>> = this.columns.map(() => [])
    let taken = 0
    while (taken < maxRows && (await this.fill())) {
      const buffered = this.buffered!
      const count = Math.min(maxRows - taken, buffered[0].length - this.offset)
      for (let c = 0; c < data.length; c++) {
        const source = buffered[c]
        const target = data[c]
        for (let r = this.offset; r < this.offset + count; r++) target.push(source[r])
      }
      this.offset += count
      taken += count
    }
    this.fetched += taken
    return { data, hasMore: await this.fill() }
  }

  /** Reads every remaining row now, so the connection can run another statement. */
  async materialize(): Promise<void> {
    if (this.exhausted) return
    const rest: Array<Array<DuckDBValue>> = this.columns.map(() => [])
    while (await this.fill()) {
      const buffered = this.buffered!
      for (let c = 0; c < rest.length; c++) rest[c].push(...buffered[c].slice(this.offset))
      this.offset = buffered[0].length
    }
    this.buffered = rest
    this.offset = 0
    this.exhausted = true
  }
}

export interface Operation {
  readonly id: string
  readonly handle: Handle
  readonly session: Session
  readonly sql: string
  state: State
  /** This statement's entry in the statement log, which keeps its outcome after it is closed. */
  readonly log: StatementLog
  failure: Errors.SqlFailure | undefined
  cursor: Cursor | undefined
  readonly started: number
  completed: number | undefined
  /** Settles when the statement stops running (finished, failed or cancelled). */
  readonly done: Promise<void>
  readonly abort: AbortController
}

export interface Session {
  readonly id: string
  readonly handle: Handle
  readonly principal: Principal
  readonly connection: DuckDBConnection
  /** The current catalog and schema (`USE CATALOG`, `USE SCHEMA` change them). */
  catalog: string
  schema: string
  /** `SET key = value` of this session, as `SET` lists them. */
  readonly settings: Map<string, string>
  /** The session's interactive transaction (`BEGIN TRANSACTION`), if one is open. */
  transaction: Transactions.State | undefined
  /** The protocol version agreed at OpenSession: the lower of the client's and the emulator's. */
  readonly protocolVersion: number
  readonly operations: Map<string, Operation>
  readonly lock: Lock
  readonly openedAt: number
}

/** Who seeds data through `Emulator.sql`: never a principal a client can authenticate as. */
const administrator: Principal = {
  id: "emulator-administrator",
  kind: "service-principal",
  userName: "emulator-administrator",
  displayName: "Emulator administrator"
}

const newSession = (
  principal: Principal,
  connection: DuckDBConnection,
  options: {
    readonly catalog: string
    readonly schema: string
    readonly protocolVersion: number
    readonly openedAt: number
  }
): Session => {
  const handle = newHandle()
  return {
    id: handleKey(handle.guid),
    handle,
    principal,
    connection,
    catalog: options.catalog,
    schema: options.schema,
    settings: new Map(),
    transaction: undefined,
    protocolVersion: options.protocolVersion,
    operations: new Map(),
    lock: new Lock(),
    openedAt: options.openedAt
  }
}

/** A value of an answer the emulator computed, as `getRowObjectsJS` gives DuckDB's. */
const plainValue = (value: DuckDBValue): unknown => value === null || typeof value !== "object" ? value : String(value)

/** The public entry, with its `state` kept up to date as the statement runs. */
export type StatementLog = Omit<Emulator.StatementLog, "state"> & { state: Emulator.StatementLog["state"] }

/** Moves a statement to a state, and records it in the statement log. */
const setState = (operation: Operation, state: StatementLog["state"]) => {
  operation.state = state
  operation.log.state = state
}

export interface EngineOptions {
  /** Sleeps on the emulator's clock; rejects when the signal aborts. */
  readonly sleep: (millis: number, signal: AbortSignal) => Promise<void>
  readonly now: () => number
  /** Extra run time for every statement (the sleep hint adds to it). */
  readonly statementDelayMs: number
}

/** The emulated warehouse's engine: one DuckDB database, a connection per session. */
export class Engine {
  readonly sessions = new Map<string, Session>()
  readonly statements: Array<StatementLog> = []

  private constructor(
    private readonly instance: DuckDBInstance,
    /** The administrator's session (seeding): planned by the catalog like any other, in `main.default`. */
    private readonly admin: Session,
    readonly catalog: Catalog,
    private readonly options: EngineOptions
  ) {}

  static async open(options: EngineOptions): Promise<Engine> {
    await Dialect.ready()
    const instance = await DuckDBInstance.create(":memory:")
    const connection = await instance.connect()
    const catalog = await Catalog.open(connection)
    const admin = newSession(administrator, connection, {
      catalog: "main",
      schema: "default",
      protocolVersion: 0,
      openedAt: options.now()
    })
    await catalog.openSession(admin)
    return new Engine(instance, admin, catalog, options)
  }

  /**
   * Runs SQL as the emulator's administrator (for seeding), statement by statement, as a session would (so
   * `CREATE SCHEMA main.s` and `CREATE TABLE ... COMMENT` mean what they mean on a warehouse); answers the last
   * statement's rows as plain objects.
   */
  adminSql(sql: string): Promise<Array<Record<string, unknown>>> {
    return this.admin.lock.run(async () => {
      let rows: Array<Record<string, unknown>> = []
      for (const statement of Dialect.statements(sql)) {
        const plan = await this.catalog.plan(this.admin, statement)
        if (plan._tag === "Fail") throw plan.failure
        if (plan._tag === "Rows") {
          rows = (plan.data[0] ?? []).map((_, row) =>
            Object.fromEntries(plan.columns.map((column, i) => [column.name, plainValue(plan.data[i][row])]))
          )
          continue
        }
        for (const before of plan.before ?? []) await this.admin.connection.run(before)
        const reader = await this.admin.connection.runAndReadAll(plan.sql)
        rows = reader.getRowObjectsJS() as Array<Record<string, unknown>>
      }
      return rows
    })
  }

  /** Makes every statement of `principal` that reads `table` fail with `[INSUFFICIENT_PERMISSIONS]`. */
  deny(principal: string, table: string) {
    this.catalog.deny(principal, table)
  }

  async openSession(
    principal: Principal,
    options: { readonly catalog: string; readonly schema: string; readonly protocolVersion: number }
  ): Promise<Session> {
    const connection = await this.instance.connect()
    const session = newSession(principal, connection, { ...options, openedAt: this.options.now() })
    try {
      await this.catalog.openSession(session)
    } catch (error) {
      connection.closeSync()
      throw error
    }
    this.sessions.set(session.id, session)
    return session
  }

  /** Runs a statement: planned by the catalog (which answers SHOW, DESCRIBE, USE, SET itself), run by DuckDB. */
  execute(session: Session, sql: string, parameters: Parameters.Bound | undefined): Operation {
    return this.start(session, sql, parameters, () => this.catalog.plan(session, sql))
  }

  /** Runs one of the driver's metadata RPCs (`GetCatalogs`, `GetColumns`, ...) as an operation with a result. */
  executeMetadata(session: Session, request: MetadataRequest): Operation {
    return this.start(session, `/* ${request.rpc} */`, undefined, () => this.catalog.metadata(session, request))
  }

  private start(
    session: Session,
    sql: string,
    parameters: Parameters.Bound | undefined,
    plan: () => Promise<Plan>
  ): Operation {
    const handle = newHandle()
    const abort = new AbortController()
    const log: StatementLog = {
      text: sql,
      principal: session.principal.userName,
      sessionId: uuidOf(session.handle.guid),
      state: "PENDING"
    }
    const operation: Operation = {
      id: handleKey(handle.guid),
      handle,
      session,
      sql,
      state: "PENDING",
      log,
      failure: undefined,
      cursor: undefined,
      started: this.options.now(),
      completed: undefined,
      abort,
      done: Promise.resolve()
    }
    session.operations.set(operation.id, operation)
    this.statements.push(log)
    ;(operation as { done: Promise<void> }).done = this.run(operation, parameters, plan)
    return operation
  }

  private async run(
    operation: Operation,
    parameters: Parameters.Bound | undefined,
    makePlan: () => Promise<Plan>
  ): Promise<void> {
    const { session } = operation
    try {
      await session.lock.run(async () => {
        if (operation.state !== "PENDING") return
        // Another statement's unread rows would be lost when the connection runs this one.
        for (const other of session.operations.values()) {
          if (other !== operation && other.cursor !== undefined) await other.cursor.materialize()
        }
        setState(operation, "RUNNING")
        const delay = (Dialect.sleepHint(operation.sql) ?? 0) + this.options.statementDelayMs
        if (delay > 0) await this.options.sleep(delay, operation.abort.signal)
        const plan = await makePlan()
        if (plan._tag === "Fail") {
          operation.failure = plan.failure
          setState(operation, "ERROR")
          return
        }
        if (plan._tag === "Rows") {
          operation.cursor = plan.columns.length === 0 ? undefined : new Cursor(inMemory(plan.data), plan.columns)
          setState(operation, "FINISHED")
          return
        }
        if (this.catalog.hasDenials(session.principal.userName)) {
          const tables = session.connection.getTableNames(Dialect.withoutParameters(plan.sql), false)
          const hit = tables.find((table) => this.catalog.isDenied(session.principal.userName, table))
          if (hit !== undefined) {
            operation.failure = Errors.insufficientPermissions(session.principal.userName, hit)
            setState(operation, "ERROR")
            return
          }
        }
        const onAbort = () => session.connection.interrupt()
        operation.abort.signal.addEventListener("abort", onAbort)
        try {
          for (const statement of plan.before ?? []) await session.connection.run(statement)
          const result = await session.connection.stream(plan.sql, parameters?.values, parameters?.types as never)
          if (operation.abort.signal.aborted) return
          const names = result.columnNames()
          const columnTypes = result.columnTypes()
          // DuckDB reports a DML count as "Count"; Databricks calls it num_affected_rows.
          const columns = names.map((name, i) => ({
            name: names.length === 1 && name === "Count" ? "num_affected_rows" : name,
            type: columnTypes[i]
          }))
          const next: ChunkSource = async () => {
            const chunk = await result.fetchChunk()
            return chunk === null || chunk.rowCount === 0 ? undefined : chunk.getColumns() as Array<Array<DuckDBValue>>
          }
          operation.cursor = columns.length === 0 ? undefined : new Cursor(next, columns)
          setState(operation, "FINISHED")
        } finally {
          operation.abort.signal.removeEventListener("abort", onAbort)
        }
      })
    } catch (error) {
      if (operation.abort.signal.aborted) {
        if (operation.state !== "CLOSED") setState(operation, "CANCELED")
      } else {
        operation.failure = Errors.fromDuckDB(error)
        setState(operation, "ERROR")
      }
    } finally {
      operation.completed = this.options.now()
      // A failed statement aborts the session's transaction until ROLLBACK (SQL reference, ROLLBACK).
      if (operation.state === "ERROR") Transactions.failed(session)
    }
  }

  cancel(operation: Operation) {
    if (operation.state === "PENDING" || operation.state === "RUNNING") {
      setState(operation, "CANCELED")
      operation.abort.abort()
    }
  }

  /** A finished statement whose rows cannot be sent after all: it failed, with this error. */
  fail(operation: Operation, failure: Errors.SqlFailure) {
    if (operation.state === "CLOSED") return
    operation.failure = failure
    operation.cursor = undefined
    setState(operation, "ERROR")
  }

  closeOperation(operation: Operation) {
    this.cancel(operation)
    operation.state = "CLOSED"
    operation.cursor = undefined
    operation.session.operations.delete(operation.id)
  }

  /**
   * Forgets the session at once; its DuckDB connection is closed behind the statement still running or
   * being read on it (now interrupted), since closing a connection under a running query crashes the
   * process. Settles once the connection is closed.
   */
  closeSession(session: Session): Promise<void> {
    for (const operation of session.operations.values()) this.closeOperation(operation)
    this.sessions.delete(session.id)
    return session.lock.run(async () => session.connection.closeSync()).catch(() => undefined)
  }

  /** Forgets every session (a warehouse restart): their handles become invalid. */
  expireSessions(): Promise<void> {
    return Promise.all([...this.sessions.values()].map((session) => this.closeSession(session))).then(() => undefined)
  }

  get openOperations(): number {
    let count = 0
    for (const session of this.sessions.values()) count += session.operations.size
    return count
  }

  /** Closes every session's connection first: the instance must outlive them. */
  async close(): Promise<void> {
    await this.expireSessions()
    this.admin.connection.closeSync()
    this.instance.closeSync()
  }
}
