/**
 * Unity Catalog on DuckDB: catalogs are DuckDB databases, schemas are DuckDB schemas. The catalog plans every
 * statement: it answers the ones about itself (`SHOW`, `DESCRIBE`, `USE`, `SET`) and the driver's metadata RPCs,
 * and hands the rest, translated, to DuckDB.
 *
 * @internal
 */
import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api"
import type { Column } from "./columns.js"
import * as Dialect from "./dialect.js"
import type { Session } from "./engine.js"
import * as Errors from "./errors.js"

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
  readonly rpc:
    | "GetCatalogs"
    | "GetSchemas"
    | "GetTables"
    | "GetTableTypes"
    | "GetColumns"
    | "GetTypeInfo"
    | "GetFunctions"
    | "GetPrimaryKeys"
    | "GetCrossReference"
  readonly request: any
}

const quote = (name: string) => `"${name.replace(/"/g, "\"\"")}"`
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`

/**
 * A catalog's DuckDB database. Unity Catalog's default catalog `main` is DuckDB's default database
 * ("main" is reserved in DuckDB; the dialect turns `main.s.t` into its name); any other catalog is an attached
 * in-memory database of that name.
 */
const database = (catalog: string) => catalog === "main" ? Dialect.mainDatabase : quote(catalog)

export class Catalog {
  private constructor(private readonly admin: DuckDBConnection) {}

  static async open(admin: DuckDBConnection): Promise<Catalog> {
    await admin.run(`CREATE SCHEMA IF NOT EXISTS ${database("main")}."default"`)
    await admin.run(`USE ${database("main")}."default"`)
    return new Catalog(admin)
  }

  /** Prepares a new session's connection: its catalog and schema, and the functions that answer per session. */
  async openSession(session: Session): Promise<void> {
    const { catalog, connection, principal, schema } = session
    if (catalog !== "main") await connection.run(`ATTACH IF NOT EXISTS ':memory:' AS ${database(catalog)}`)
    await connection.run(`CREATE SCHEMA IF NOT EXISTS ${database(catalog)}.${quote(schema)}`)
    await connection.run(`USE ${database(catalog)}.${quote(schema)}`)
    // current_user() and current_catalog() answer as Databricks does, per session.
    await connection.run(`CREATE OR REPLACE TEMP MACRO current_user() AS ${literal(principal.userName)}`)
    await connection.run(`CREATE OR REPLACE TEMP MACRO current_catalog() AS ${literal(catalog)}`)
  }

  /** What to do with a statement of the session. */
  async plan(_session: Session, sql: string): Promise<Plan> {
    const translated = Dialect.translate(sql)
    return "failure" in translated
      ? { _tag: "Fail", failure: translated.failure }
      : { _tag: "Run", sql: translated.sql, before: translated.before }
  }

  /** The answer to a metadata RPC. */
  async metadata(_session: Session, request: MetadataRequest): Promise<Plan> {
    return {
      _tag: "Fail",
      failure: Errors.failure("UNSUPPORTED_FEATURE", "0A000", `${request.rpc} is not supported by the emulator.`)
    }
  }

  /** The administrator's connection (seeding runs there), kept for the catalog's own bookkeeping. */
  get adminConnection(): DuckDBConnection {
    return this.admin
  }
}
