/**
 * Unity Catalog on DuckDB: catalogs are DuckDB databases, schemas are DuckDB schemas. The catalog plans every
 * statement: it answers the ones about itself (`SHOW`, `DESCRIBE`, `USE`, `SET`) and the driver's metadata RPCs,
 * and hands the rest, translated, to DuckDB.
 *
 * @internal
 */
import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api"
import * as Commands from "./catalog/commands.js"
import * as InformationSchema from "./catalog/informationSchema.js"
import * as Metadata from "./catalog/metadata.js"
import * as Names from "./catalog/names.js"
import * as Objects from "./catalog/objects.js"
import * as SessionPlace from "./catalog/session.js"
import type { Column } from "./columns.js"
import * as Dialect from "./dialect.js"
import type { Session } from "./engine.js"
import * as Errors from "./errors.js"
import * as Transactions from "./transactions.js"

/** What the engine does with a statement. */
export type Plan =
  /**
   * Run this (translated) SQL on the session's DuckDB connection, after the statements in `before` (run without
   * parameters, for a Databricks statement that takes more than one in DuckDB, such as `INSERT OVERWRITE`).
   */
  | { readonly _tag: "Run"; readonly sql: string; readonly before?: ReadonlyArray<string> | undefined }
  /** Answer with these rows, computed by the emulator (column-major: `data[column][row]`). */
  | { readonly _tag: "Rows"; readonly columns: ReadonlyArray<Column>; readonly data: Array<Array<DuckDBValue>> }
  /** Fail as Databricks would. */
  | { readonly _tag: "Fail"; readonly failure: Errors.SqlFailure }

/** The driver's metadata RPCs, with their Thrift request (`TGetCatalogsReq`, `TGetColumnsReq`, ...). */
export interface MetadataRequest {
  readonly rpc: Metadata.Rpc
  readonly request: any
}

/** The catalogs every warehouse has: `main` (DuckDB's own database), `hive_metastore` and `samples`. */
const builtInCatalogs = ["hive_metastore", "samples"]

export class Catalog {
  /** What `CREATE TABLE` said that DuckDB does not keep (comments, properties, partitioning, provider). */
  private readonly recorded = new Objects.Recorded()
  /** Tables each principal may not read (`Emulator.deny`), by their last name part, lower case. */
  private readonly denied = new Map<string, Set<string>>()

  private constructor(private readonly admin: DuckDBConnection) {}

  static async open(admin: DuckDBConnection): Promise<Catalog> {
    for (const catalog of builtInCatalogs) {
      await admin.run(`ATTACH IF NOT EXISTS ':memory:' AS ${Names.database(catalog)}`)
    }
    // Every catalog but `samples` starts with a `default` schema (Databricks' `samples` has only its data sets).
    for (const catalog of ["main", "hive_metastore"]) {
      await admin.run(`CREATE SCHEMA IF NOT EXISTS ${Names.database(catalog)}."default"`)
    }
    await admin.run(`USE ${Names.database("main")}."default"`)
    return new Catalog(admin)
  }

  /** Prepares a new session's connection: its catalog and schema, and the functions that answer per session. */
  async openSession(session: Session): Promise<void> {
    const { catalog, connection, principal, schema } = session
    if (!(await Objects.catalogExists(connection, catalog))) {
      await connection.run(`ATTACH IF NOT EXISTS ':memory:' AS ${Names.database(catalog)}`)
    }
    await connection.run(`CREATE SCHEMA IF NOT EXISTS ${Names.database(catalog)}.${Names.quote(schema)}`)
    // current_user() answers as Databricks does, per session; USE keeps current_catalog() and current_schema().
    await connection.run(`CREATE OR REPLACE TEMP MACRO current_user() AS ${Names.literal(principal.userName)}`)
    await SessionPlace.use(session, catalog, schema)
  }

  /** What to do with a statement of the session: the catalog answers the ones about itself, DuckDB the rest. */
  async plan(session: Session, sql: string): Promise<Plan> {
    const transaction = await Transactions.plan(session, sql)
    if (transaction !== undefined) return transaction
    const context = this.context(session)
    const answer = await Commands.command(context, sql)
    if (answer !== undefined) return answer
    const information = InformationSchema.rewrite(sql, session.catalog)
    const translated = Dialect.translate(information?.sql ?? sql)
    if ("failure" in translated) return { _tag: "Fail", failure: translated.failure }
    if (information === undefined) return { _tag: "Run", sql: translated.sql, before: translated.before }
    for (const [catalog] of information.used) {
      if (!(await Objects.catalogExists(session.connection, catalog))) {
        return { _tag: "Fail", failure: Errors.noSuchCatalog(catalog) }
      }
    }
    const fill = await InformationSchema.fill(context, information.used)
    return { _tag: "Run", sql: translated.sql, before: [...fill, ...(translated.before ?? [])] }
  }

  /** The answer to a metadata RPC. */
  metadata(session: Session, request: MetadataRequest): Promise<Plan> {
    return Metadata.answer(this.context(session), request.rpc, request.request)
  }

  /** What the catalog's own answers know of a session: its place, the recorded clauses, its denials. */
  private context(session: Session): Commands.Context {
    return {
      session,
      recorded: this.recorded,
      denied: (table) => this.isDenied(session.principal.userName, table)
    }
  }

  deny(principal: string, table: string) {
    const tables = this.denied.get(principal) ?? new Set()
    tables.add(table.toLowerCase().split(".").at(-1)!)
    this.denied.set(principal, tables)
  }

  hasDenials(principal: string): boolean {
    return this.denied.has(principal)
  }

  /** Whether `principal` may not read `table` (a name in any form: `t`, `s.t`, `c.s.t`). */
  isDenied(principal: string, table: string): boolean {
    return this.denied.get(principal)?.has(table.toLowerCase().split(".").at(-1)!) ?? false
  }

  /** The administrator's connection (seeding runs there), kept for the catalog's own bookkeeping. */
  get adminConnection(): DuckDBConnection {
    return this.admin
  }
}
