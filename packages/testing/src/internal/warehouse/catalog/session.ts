/**
 * A session's place in the catalog: its current catalog and schema, set on its DuckDB connection (`USE`) and
 * answered by `current_catalog()`, `current_schema()` and `current_database()`.
 *
 * @internal
 */
import type { Session } from "../engine.js"
import * as Names from "./names.js"
import * as Objects from "./objects.js"

/**
 * Moves the session to a catalog and schema that exist. A catalog without that schema (`samples` has no
 * `default`) still becomes current: DuckDB then resolves one-part names in the catalog's hidden `main` schema,
 * where nothing is.
 */
export const use = async (session: Session, catalog: string, schema: string): Promise<void> => {
  const { connection } = session
  const exists = (await Objects.schemas(connection, catalog)).includes(schema) && schema !== "information_schema"
  await connection.run(
    exists ? `USE ${Names.database(catalog)}.${Names.quote(schema)}` : `USE ${Names.database(catalog)}`
  )
  session.catalog = catalog
  session.schema = schema
  // Databricks' current_database() is a synonym of current_schema() (SQL reference, "current_database").
  await connection.run(`CREATE OR REPLACE TEMP MACRO current_catalog() AS ${Names.literal(catalog)}`)
  await connection.run(`CREATE OR REPLACE TEMP MACRO current_schema() AS ${Names.literal(schema)}`)
  await connection.run(`CREATE OR REPLACE TEMP MACRO current_database() AS ${Names.literal(schema)}`)
}
