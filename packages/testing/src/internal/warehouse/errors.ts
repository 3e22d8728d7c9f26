/**
 * Errors as a Databricks SQL warehouse reports them (`[ERROR_CLASS] message SQLSTATE: xxxxx`), and the mapping of
 * DuckDB's errors onto them. Classes, SQLSTATEs and message texts follow Databricks' error reference
 * (docs.databricks.com/error-messages/error-classes.html); no DuckDB phrase ("Binder Error", a DuckDB type name,
 * its `memory` database) reaches the client.
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

/** A failure thrown as is (by the dialect or the catalog), so that `fromDuckDB` passes it through. */
export const isSqlFailure = (error: unknown): error is SqlFailure =>
  typeof error === "object" && error !== null && "errorClass" in error && "sqlState" in error && "message" in error

/** DuckDB's type names (in its messages) as Databricks names them. */
const typeNames: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bTIMESTAMP WITH TIME ZONE\b|\bTIMESTAMPTZ\b|\bTIMESTAMP_TZ\b/g, "TIMESTAMP"],
  [/\bTIMESTAMP(?:_S|_MS|_NS)?\b(?! ?_?NTZ)/g, "TIMESTAMP_NTZ"],
  [/\bSTRING_LITERAL\b|\bVARCHAR\b/g, "STRING"],
  [/\bINTEGER_LITERAL\b|\bINTEGER\b|\bINT32\b|\bUSMALLINT\b/g, "INT"],
  [/\bINT64\b|\bUINTEGER\b|\bUINT32\b/g, "BIGINT"],
  [/\bINT16\b|\bUTINYINT\b|\bUINT8\b/g, "SMALLINT"],
  [/\bINT8\b/g, "TINYINT"],
  [/\bU?HUGEINT\b|\bUBIGINT\b|\bU?INT128\b|\bUINT64\b/g, "DECIMAL(38,0)"],
  [/\bBLOB\b/g, "BINARY"],
  [/\bBIGNUM\b/g, "DECIMAL"],
  [/\bBOOL\b/g, "BOOLEAN"],
  [/\bANY\[\]/g, "ARRAY"],
  [/\b([A-Z_]+(?:\(\d+,\s*\d+\))?)\[\]/g, "ARRAY<$1>"]
]

/** A DuckDB text with Databricks type names. */
const databricksTypes = (text: string) => typeNames.reduce((out, [pattern, name]) => out.replace(pattern, name), text)

/**
 * A DuckDB object name as Databricks quotes it: `cat`.`schema`.`name`, with DuckDB's `memory` database (which
 * plays the catalog `main`) named `main`.
 */
const quoted = (raw: string) => {
  const parts = raw.replace(/^"|"$/g, "").split(/"?\."?/).map((part) => part.replace(/^"|"$/g, ""))
  if (parts.length === 3 && parts[0] === "memory") parts[0] = "main"
  return parts.map((part) => `\`${part}\``).join(".")
}

const sqlText = (text: string) => text.replace(/memory\./g, "main.")

export const tableNotFound = (name: string): SqlFailure =>
  failure(
    "TABLE_OR_VIEW_NOT_FOUND",
    "42P01",
    `The table or view ${name} cannot be found. Verify the spelling and correctness of the schema and catalog. ` +
      "If you did not qualify the name with a schema, verify the current_schema() output, or qualify the name " +
      "with the correct schema and catalog. To tolerate the error on drop use DROP VIEW IF EXISTS or DROP TABLE " +
      "IF EXISTS."
  )

export const tableAlreadyExists = (name: string): SqlFailure =>
  failure(
    "TABLE_OR_VIEW_ALREADY_EXISTS",
    "42P07",
    `Cannot create table or view ${name} because it already exists. Choose a different name, drop or replace the ` +
      "existing object, or add the IF NOT EXISTS clause to tolerate pre-existing objects."
  )

/** An unknown column; `candidates` are the names Databricks suggests (`Did you mean one of the following?`). */
export const unresolvedColumn = (name: string, candidates: ReadonlyArray<string>): SqlFailure =>
  candidates.length === 0
    ? failure(
      "UNRESOLVED_COLUMN.WITHOUT_SUGGESTION",
      "42703",
      `A column, variable, or function parameter with name \`${name}\` cannot be resolved.`
    )
    : failure(
      "UNRESOLVED_COLUMN.WITH_SUGGESTION",
      "42703",
      `A column, variable, or function parameter with name \`${name}\` cannot be resolved. Did you mean one of the ` +
        `following? [${candidates.map((candidate) => `\`${candidate}\``).join(", ")}].`
    )

export const unresolvedRoutine = (name: string): SqlFailure =>
  failure(
    "UNRESOLVED_ROUTINE",
    "42883",
    `Cannot resolve routine \`${name}\` on search path [\`system\`.\`builtin\`, \`system\`.\`session\`].`
  )

/** `token` is the text the parser stopped at, or `undefined` at the end of the statement. */
export const parseSyntaxError = (token: string | undefined): SqlFailure =>
  failure(
    "PARSE_SYNTAX_ERROR",
    "42601",
    `Syntax error at or near ${token === undefined ? "end of input" : `'${token}'`}.`
  )

export const divideByZero = (): SqlFailure =>
  failure(
    "DIVIDE_BY_ZERO",
    "22012",
    "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set " +
      "\"ansi_mode\" to \"false\" to bypass this error."
  )

/** `kind` is Spark's word for the type that overflowed: `integer`, `long`, ... */
export const arithmeticOverflow = (kind: string, tryFunction = "try_add"): SqlFailure =>
  failure(
    "ARITHMETIC_OVERFLOW",
    "22003",
    `${kind} overflow. Use '${tryFunction}' to tolerate overflow and return NULL instead. If necessary set ` +
      "\"ansi_mode\" to \"false\" to bypass this error."
  )

/** A value with no `decimal(precision, scale)` form. */
export const numericOutOfRange = (value: string, precision: number, scale: number): SqlFailure =>
  failure(
    "NUMERIC_VALUE_OUT_OF_RANGE.WITH_SUGGESTION",
    "22003",
    `${value} cannot be represented as Decimal(${precision}, ${scale}). If necessary set "ansi_mode" to "false" ` +
      "to bypass this error, and return NULL instead."
  )

export const castInvalidInput = (value: string, from: string, to: string): SqlFailure =>
  failure(
    "CAST_INVALID_INPUT",
    "22018",
    `The value ${value} of the type "${from}" cannot be cast to "${to}" because it is malformed. Correct the value ` +
      "as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL " +
      "instead."
  )

export const castOverflow = (value: string, from: string, to: string): SqlFailure =>
  failure(
    "CAST_OVERFLOW",
    "22003",
    `The value ${value} of the type "${from}" cannot be cast to "${to}" due to an overflow. Use \`try_cast\` to ` +
      "tolerate overflow and return NULL instead."
  )

/**
 * Interactive transactions (SQL reference: BEGIN TRANSACTION, COMMIT, ROLLBACK; error conditions
 * TRANSACTION_NOT_SUPPORTED and TRANSACTION_ROLLBACK_REQUIRED_AFTER_ABORT). A class with sub-classes words its
 * message as Spark does: the class's text, then the sub-class's.
 */
export const nestedTransaction = (): SqlFailure =>
  failure(
    "TRANSACTION_NOT_SUPPORTED.NESTED_TRANSACTION",
    "0A000",
    "Failed to execute the statement. Nested transactions are not supported."
  )

/** A statement other than a query, DML or DESCRIBE TABLE inside a transaction; `command` is its leading words. */
export const commandInTransaction = (command: string): SqlFailure =>
  failure(
    "TRANSACTION_NOT_SUPPORTED.COMMAND",
    "0A000",
    `Failed to execute the statement. Command ${command} is not supported in a transaction. Only SELECT / INSERT / ` +
      "MERGE / UPDATE / DELETE / DESCRIBE TABLE are supported."
  )

/** Any statement but ROLLBACK after a statement of the transaction failed. */
export const rollbackRequired = (): SqlFailure =>
  failure(
    "TRANSACTION_ROLLBACK_REQUIRED_AFTER_ABORT.PREVIOUS_QUERY_FAILURE",
    "40000",
    "The current transaction has been aborted. Please run ROLLBACK TRANSACTION before continuing. Abort reason: " +
      "The previous query in the transaction failed."
  )

/**
 * COMMIT with no transaction open. The class is documented (SQL reference, COMMIT); its SQLSTATE and text are not:
 * 25000 is the SQL standard's "invalid transaction state".
 */
export const noActiveTransaction = (): SqlFailure =>
  failure("NO_ACTIVE_TRANSACTION", "25000", "There is no active transaction to commit.")

/** Spark's word for an overflowing integer type, in `ARITHMETIC_OVERFLOW` messages. */
const overflowKind = (duckType: string) =>
  /INT64|BIGINT|INT128|HUGEINT/i.test(duckType)
    ? "long"
    : /INT32|INTEGER/i.test(duckType)
    ? "integer"
    : /INT16|SMALLINT/i.test(duckType)
    ? "short"
    : /INT8|TINYINT/i.test(duckType)
    ? "byte"
    : "Decimal"

const tryFunctions: Record<string, string> = {
  addition: "try_add",
  subtraction: "try_subtract",
  multiplication: "try_multiply",
  division: "try_divide"
}

/** The argument types of a call DuckDB could not bind, and the arities its candidates take. */
const functionCall = (text: string) => {
  const call = /(?:function call|argument types) ["'](.+?)\(([^)]*)\)["']/.exec(text)
  if (call === null) return undefined
  const args = call[2].trim() === "" ? [] : call[2].split(/,\s*/)
  const arities = [...text.matchAll(/^\s*[^\s(]+\(([^)]*)\)\s*->/gm)].map((m) =>
    m[1].trim() === "" ? 0 : m[1].split(",").length
  )
  return { name: call[1], args: args.map((arg) => databricksTypes(arg)), arities }
}

/** Turns a DuckDB error into the Databricks error a real warehouse would give. */
export const fromDuckDB = (error: unknown): SqlFailure => {
  if (isSqlFailure(error)) return error
  const raw = error instanceof Error ? error.message : String(error)
  // A failure raised on purpose inside DuckDB (a translated statement's `error('[CLASS] ... SQLSTATE: x')`).
  const embedded = /\[([A-Z_.]+)\] (.*?) SQLSTATE: ([0-9A-Z]{5})/s.exec(raw)
  if (embedded !== null) return failure(embedded[1], embedded[3], embedded[2])
  // DuckDB's own transaction errors (the emulator's transaction state normally answers before DuckDB sees these).
  if (/^TransactionContext Error: Current transaction is aborted/.test(raw)) return rollbackRequired()
  if (/^TransactionContext Error: cannot start a transaction within a transaction/.test(raw)) {
    return nestedTransaction()
  }
  if (/^TransactionContext Error: cannot commit - no transaction is active/.test(raw)) return noActiveTransaction()
  const lines = raw.split("\n")
  const first = lines[0].trim()
  const kind = /^([A-Za-z ]+?) Error: /.exec(first)?.[1] ?? ""
  const text = first.replace(/^[A-Za-z ]+? Error:\s*/, "")
  let match: RegExpExecArray | null

  if (kind === "Parser") {
    if (/at end of input/i.test(text)) return parseSyntaxError(undefined)
    if ((match = /at or near "((?:[^"]|"")*)"/i.exec(text)) !== null) return parseSyntaxError(match[1])
    return parseSyntaxError(undefined)
  }
  if ((match = /Table with name (.+?) does not exist/i.exec(text)) !== null) return tableNotFound(quoted(match[1]))
  if ((match = /Table with name (.+?) already exists/i.exec(text)) !== null) return tableAlreadyExists(quoted(match[1]))
  if ((match = /(?:View|Table) with name (.+?) does not exist/i.exec(text)) !== null) {
    return tableNotFound(quoted(match[1]))
  }
  if ((match = /Schema with name (.+?) does not exist/i.exec(text)) !== null) return schemaNotFound(quoted(match[1]))
  if ((match = /No catalog \+ schema named (.+?) found/i.exec(text)) !== null) return schemaNotFound(quoted(match[1]))
  if ((match = /Schema with name (.+?) already exists/i.exec(text)) !== null) {
    return schemaAlreadyExists(quoted(match[1]))
  }
  if ((match = /Catalog "?(.+?)"? does not exist/i.exec(text)) !== null) {
    return noSuchCatalog(match[1] === "memory" ? "main" : match[1])
  }
  if ((match = /Referenced column "((?:[^"]|"")+)" (?:not found|was not found)/i.exec(text)) !== null) {
    const candidates = /Candidate bindings: (.*)/.exec(raw)?.[1] ?? ""
    return unresolvedColumn(match[1], [...candidates.matchAll(/"([^"]+)"/g)].map((m) => m[1].split(".").pop()!))
  }
  if ((match = /does not have a column named "((?:[^"]|"")+)"/i.exec(text)) !== null) {
    const candidates = /Candidate bindings: (.*)/.exec(raw)?.[1] ?? ""
    return unresolvedColumn(match[1], [...candidates.matchAll(/"([^"]+)"/g)].map((m) => m[1].split(".").pop()!))
  }
  if (
    (match = /(?:Scalar|Table|Aggregate|Macro)? ?Function with name "?([^"\s]+?)"? does not exist/i.exec(text)) !== null
  ) {
    return unresolvedRoutine(match[1])
  }
  if (/Could not choose a best candidate function|No function matches/i.test(text)) {
    const call = functionCall(raw)
    if (call !== undefined && call.arities.length > 0 && !call.arities.includes(call.args.length)) {
      // Spark's wrongNumArgsError: one count as is, several as `[2, 3]`.
      const counts = [...new Set(call.arities)].sort((a, b) => a - b)
      const expected = counts.length === 1 ? String(counts[0]) : `[${counts.join(", ")}]`
      return failure(
        "WRONG_NUM_ARGS.WITHOUT_SUGGESTION",
        "42605",
        `The \`${call.name}\` requires ${expected} parameters but the actual number is ${call.args.length}.`
      )
    }
    const name = call?.name ?? "function"
    return failure(
      "DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE",
      "42K09",
      `Cannot resolve "${name}(${call?.args.join(", ") ?? ""})" due to data type mismatch: the input types ` +
        `(${call?.args.map((arg) => `"${arg}"`).join(", ") ?? ""}) are not accepted by \`${name}\`.`
    )
  }
  if ((match = /Could not convert string '((?:[^']|'')*)' to (\S+)/i.exec(text)) !== null) {
    return castInvalidInput(`'${match[1]}'`, "STRING", databricksTypes(match[2]))
  }
  if ((match = /invalid (date|timestamp) field format: "((?:[^"])*)"/i.exec(text)) !== null) {
    return castInvalidInput(`'${match[2]}'`, "STRING", match[1] === "date" ? "DATE" : "TIMESTAMP")
  }
  if (
    (match =
      /Type (\S+) with value (\S+) can't be cast because the value is out of range for the destination type (\S+)/i
        .exec(text)) !== null
  ) {
    return castOverflow(match[2], databricksTypes(match[1]), databricksTypes(match[3]))
  }
  if (
    (match = /(?:Could not cast value|Casting value) "?([^"\s]+)"? to (?:type )?DECIMAL\((\d+),\s*(\d+)\)/i.exec(
      text
    )) !== null
  ) {
    return numericOutOfRange(match[1], Number(match[2]), Number(match[3]))
  }
  if ((match = /(date|timestamp) field value out of range: "((?:[^"])*)"/i.exec(text)) !== null) {
    return castInvalidInput(`'${match[2]}'`, "STRING", match[1].toLowerCase() === "date" ? "DATE" : "TIMESTAMP")
  }
  if ((match = /Unimplemented type for cast \((.+?) -> (.+?)\)/i.exec(text)) !== null) {
    const [from, to] = [databricksTypes(match[1]), databricksTypes(match[2])]
    return failure(
      "DATATYPE_MISMATCH.CAST_WITHOUT_SUGGESTION",
      "42K09",
      `Cannot resolve "CAST(value AS ${to})" due to data type mismatch: cannot cast "${from}" to "${to}".`
    )
  }
  if ((match = /column "((?:[^"]|"")+)" must appear in the GROUP BY clause/i.exec(text)) !== null) {
    return failure(
      "MISSING_AGGREGATION",
      "42803",
      `The non-aggregating expression "${match[1]}" is based on columns which are not participating in the GROUP BY ` +
        "clause. Add the columns or the expression to the GROUP BY, aggregate the expression, or use " +
        `"any_value(${match[1]})" if you do not care which of the values within a group is returned.`
    )
  }
  if ((match = /Ambiguous reference to column name "((?:[^"]|"")+)"(?: \(use: (.*)\))?/i.exec(text)) !== null) {
    const candidates = [...(match[2] ?? "").matchAll(/"([^"]+)"/g)].map((m) => quoted(m[1]))
    return failure(
      "AMBIGUOUS_REFERENCE",
      "42704",
      `Reference \`${match[1]}\` is ambiguous, could be: [${candidates.join(", ")}].`
    )
  }
  if ((match = /Referenced table "((?:[^"]|"")+)" not found/i.exec(text)) !== null) {
    return unresolvedColumn(`${match[1]}\`.\`*`, [])
  }
  if ((match = /does not have a column with name "((?:[^"]|"")+)"/i.exec(text)) !== null) {
    const candidates = /Did you mean: (.*)/.exec(raw)?.[1] ?? ""
    return unresolvedColumn(match[1], [...candidates.matchAll(/"([^"]+)"/g)].map((m) => m[1]))
  }
  if (/WHERE clause cannot contain aggregates/i.test(text)) {
    return failure(
      "INVALID_WHERE_CONDITION",
      "42903",
      "The WHERE condition contains invalid expressions. Rewrite the query to avoid window functions, aggregate " +
        "functions, and generator functions in the WHERE clause."
    )
  }
  if (/GROUP BY clause cannot contain aggregates/i.test(text)) {
    return failure("GROUP_BY_AGGREGATE", "42903", "Aggregate functions are not allowed in GROUP BY.")
  }
  if (/Set operations can only apply to expressions with the same number of result columns/i.test(text)) {
    return failure(
      "NUM_COLUMNS_MISMATCH",
      "42826",
      "UNION can only be performed on inputs with the same number of columns."
    )
  }
  if ((match = /Values were not provided for the following prepared statement parameters: (.+)/i.exec(text)) !== null) {
    const name = match[1].split(",")[0].trim()
    return /^\d+$/.test(name)
      ? failure(
        "UNBOUND_SQL_PARAMETER",
        "42P02",
        `Found the unbound parameter: _${Number(name) - 1}. Please, fix \`args\` and provide a mapping of the ` +
          "parameter to either a SQL literal or collection constructor functions such as `map()`, `array()`, " +
          "`struct()`."
      )
      : failure(
        "UNBOUND_SQL_PARAMETER",
        "42P02",
        `Found the unbound parameter: ${name}. Please, fix \`args\` and provide a mapping of the parameter to ` +
          "either a SQL literal or collection constructor functions such as `map()`, `array()`, `struct()`."
      )
  }
  if ((match = /Overflow in (addition|subtraction|multiplication|division) of (\S+)/i.exec(text)) !== null) {
    return arithmeticOverflow(overflowKind(match[2]), tryFunctions[match[1].toLowerCase()])
  }
  if (/division by zero/i.test(text)) return divideByZero()
  if ((match = /table (\S+) has (\d+) columns but (\d+) values were supplied/i.exec(text)) !== null) {
    const [table, expected, actual] = [quoted(match[1]), Number(match[2]), Number(match[3])]
    return failure(
      `INSERT_COLUMN_ARITY_MISMATCH.${actual < expected ? "NOT_ENOUGH" : "TOO_MANY"}_DATA_COLUMNS`,
      "21S01",
      `Cannot write to ${table}, the reason is ${actual < expected ? "not enough" : "too many"} data columns: ` +
        `the table has ${expected} columns but the data has ${actual}.`
    )
  }
  if ((match = /NOT NULL constraint failed: (\S+)/i.exec(text)) !== null) {
    return failure(
      "DELTA_NOT_NULL_CONSTRAINT_VIOLATED",
      "23502",
      `NOT NULL constraint violated for column: ${match[1].split(".").pop()}.`
    )
  }
  if (kind === "Conversion") return failure("CAST_INVALID_INPUT", "22018", databricksTypes(sqlText(text)))
  if (kind === "Out of Range") return failure("ARITHMETIC_OVERFLOW", "22003", databricksTypes(sqlText(text)))
  if (kind === "Out of Memory") return failure("INTERNAL_ERROR", "XX000", "The warehouse ran out of resources.")
  if (kind === "Not implemented") return failure("UNSUPPORTED_FEATURE", "0A000", databricksTypes(sqlText(text)))
  if (kind === "Binder" || kind === "Catalog") {
    return failure("INVALID_SQL_SYNTAX", "42000", databricksTypes(sqlText(text)))
  }
  return failure("INTERNAL_ERROR", "XX000", databricksTypes(sqlText(text)))
}

export const insufficientPermissions = (principal: string, table: string): SqlFailure =>
  failure(
    "INSUFFICIENT_PERMISSIONS",
    "42501",
    `Insufficient privileges: User ${principal} does not have SELECT on Table \`${table}\`.`
  )

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
