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
