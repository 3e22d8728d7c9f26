/**
 * Errors as a Databricks SQL warehouse reports them (`[ERROR_CLASS] message SQLSTATE: xxxxx`), and the mapping of
 * DuckDB's errors onto them.
 *
 * @internal
 */
/** A SQL failure as Databricks reports it: the error class first, the SQLSTATE last. */
export interface SqlFailure {
  readonly errorClass: string
  readonly sqlState: string
  readonly message: string
}

export const failure = (errorClass: string, sqlState: string, text: string): SqlFailure => ({
  errorClass,
  sqlState,
  message: `[${errorClass}] ${text} SQLSTATE: ${sqlState}`
})

/** Turns a DuckDB error into the Databricks error a real warehouse would give. */
export const fromDuckDB = (error: unknown): SqlFailure => {
  if (isSqlFailure(error)) return error
  const raw = error instanceof Error ? error.message : String(error)
  const first = raw.split("\n")[0].trim()
  let match: RegExpExecArray | null
  if ((match = /Table with name (\S+?) does not exist/i.exec(first)) !== null) {
    return failure(
      "TABLE_OR_VIEW_NOT_FOUND",
      "42P01",
      `The table or view \`${
        match[1]
      }\` cannot be found. Verify the spelling and correctness of the schema and catalog.`
    )
  }
  if ((match = /Table with name "?(\S+?)"? already exists/i.exec(first)) !== null) {
    return failure(
      "TABLE_OR_VIEW_ALREADY_EXISTS",
      "42P07",
      `Cannot create table or view \`${match[1]}\` because it already exists.`
    )
  }
  if ((match = /syntax error at or near "?([^"]*)"?/i.exec(first)) !== null) {
    return failure("PARSE_SYNTAX_ERROR", "42601", `Syntax error at or near '${match[1]}'.`)
  }
  if (/^Parser Error/i.test(first)) {
    return failure("PARSE_SYNTAX_ERROR", "42601", first.replace(/^Parser Error:\s*/i, ""))
  }
  if ((match = /Referenced column "?([^"\s]+)"? not found/i.exec(first)) !== null) {
    return failure(
      "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
      "42703",
      `A column, variable, or function parameter with name \`${match[1]}\` cannot be resolved.`
    )
  }
  if ((match = /(?:Scalar|Table) Function with name (\S+?) does not exist/i.exec(first)) !== null) {
    return failure("UNRESOLVED_ROUTINE", "42883", `Cannot resolve function \`${match[1]}\`.`)
  }
  if (/^Conversion Error/i.test(first)) {
    return failure("CAST_INVALID_INPUT", "22018", first.replace(/^Conversion Error:\s*/i, ""))
  }
  if (/^Out of Range Error/i.test(first)) {
    return failure("NUMERIC_VALUE_OUT_OF_RANGE", "22003", first.replace(/^Out of Range Error:\s*/i, ""))
  }
  if (/^Constraint Error/i.test(first)) {
    return failure("CONSTRAINT_VIOLATION", "23000", first.replace(/^Constraint Error:\s*/i, ""))
  }
  if (/^Binder Error/i.test(first)) {
    return failure("UNRESOLVED_COLUMN.WITHOUT_SUGGESTION", "42703", first.replace(/^Binder Error:\s*/i, ""))
  }
  if (/^Catalog Error/i.test(first)) {
    return failure("TABLE_OR_VIEW_NOT_FOUND", "42P01", first.replace(/^Catalog Error:\s*/i, ""))
  }
  return failure("INTERNAL_ERROR", "XX000", first)
}

export const insufficientPermissions = (principal: string, table: string): SqlFailure =>
  failure(
    "INSUFFICIENT_PERMISSIONS",
    "42501",
    `Insufficient privileges: User ${principal} does not have SELECT on Table \`${table}\`.`
  )

/** A failure thrown as is (by the dialect or the catalog), so that `fromDuckDB` passes it through. */
export const isSqlFailure = (error: unknown): error is SqlFailure =>
  typeof error === "object" && error !== null && "errorClass" in error && "sqlState" in error && "message" in error

/** `USE CATALOG`, `SHOW SCHEMAS IN` ... a catalog that does not exist (Databricks error class NO_SUCH_CATALOG_EXCEPTION). */
export const noSuchCatalog = (catalog: string): SqlFailure =>
  failure(
    "NO_SUCH_CATALOG_EXCEPTION",
    "42704",
    `Catalog '${catalog}' was not found. Please verify the catalog name and then retry the query or command again.`
  )

/** A schema that does not exist (Databricks error class SCHEMA_NOT_FOUND); `schema` is `catalog`.`schema`. */
export const schemaNotFound = (schema: string): SqlFailure =>
  failure(
    "SCHEMA_NOT_FOUND",
    "42704",
    `The schema ${schema} cannot be found. Verify the spelling and correctness of the schema and catalog. ` +
      "If you did not qualify the name with a catalog, verify the current_schema() output, or qualify the name " +
      "with the correct catalog. To tolerate the error on drop use DROP SCHEMA IF EXISTS."
  )

/** `CREATE SCHEMA` of one that exists (Databricks error class SCHEMA_ALREADY_EXISTS). */
export const schemaAlreadyExists = (schema: string): SqlFailure =>
  failure(
    "SCHEMA_ALREADY_EXISTS",
    "42P06",
    `Cannot create schema ${schema} because it already exists. Choose a different name, drop the existing ` +
      "schema, or add the IF NOT EXISTS clause to tolerate pre-existing schema."
  )

/** `CREATE CATALOG` of one that exists (Databricks error class CATALOG_ALREADY_EXISTS). */
export const catalogAlreadyExists = (catalog: string): SqlFailure =>
  failure(
    "CATALOG_ALREADY_EXISTS",
    "42P04",
    `Catalog '${catalog}' already exists. Choose a different name, drop the existing catalog, or add the ` +
      "IF NOT EXISTS clause to tolerate pre-existing catalog."
  )

/** `DROP SCHEMA` of a schema that still has tables, without CASCADE (Databricks error class SCHEMA_NOT_EMPTY). */
export const schemaNotEmpty = (schema: string): SqlFailure =>
  failure(
    "SCHEMA_NOT_EMPTY",
    "2BP01",
    `Cannot drop a schema ${schema} because it contains objects. Use DROP SCHEMA ... CASCADE to drop the ` +
      "schema and all its objects."
  )
