/**
 * Interactive transactions as a Databricks SQL warehouse runs them, per session, on the session's DuckDB connection
 * (SQL reference: BEGIN TRANSACTION, COMMIT, ROLLBACK; "Transaction modes"):
 *
 * - `BEGIN { TRANSACTION | WORK }` opens one; another inside it is `TRANSACTION_NOT_SUPPORTED.NESTED_TRANSACTION`.
 * - Inside one, only queries, INSERT, UPDATE, DELETE, MERGE and DESCRIBE TABLE run; anything else is
 *   `TRANSACTION_NOT_SUPPORTED.COMMAND`.
 * - A failed statement aborts it: every statement but ROLLBACK is then
 *   `TRANSACTION_ROLLBACK_REQUIRED_AFTER_ABORT.PREVIOUS_QUERY_FAILURE`. DuckDB aborts only on some errors (not on a
 *   binder error, nor on a failure the emulator answers itself), so the session keeps its own state.
 * - `COMMIT [TRANSACTION | WORK]` with none open is `NO_ACTIVE_TRANSACTION`; `ROLLBACK [TRANSACTION | WORK]` with
 *   none open is not an error.
 *
 * DuckDB's other spellings (`BEGIN`, `START TRANSACTION`, `END`, `ABORT`, `SAVEPOINT`) are not Databricks SQL: they
 * are syntax errors here, and never reach DuckDB, whose transaction would then differ from the session's.
 *
 * @internal
 */
import type { Plan } from "./catalog.js"
import * as Dialect from "./dialect.js"
import { isSymbol, isWord, significant, type Token, tokenize } from "./dialect/lexer.js"
import type { Session } from "./engine.js"
import * as Errors from "./errors.js"

/** A session's transaction: none (`undefined`), open, or aborted by a failed statement until ROLLBACK. */
export type State = "open" | "aborted"

/**
 * The statements that may change a transaction, by their first word (after comments): the only ones looked at
 * while none is open, so that every other statement costs one anchored test.
 */
const control =
  /^\s*(?:(?:--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)\s*)*(?:BEGIN|START|COMMIT|ROLLBACK|END|ABORT|SAVEPOINT)\b/i

const nothing: Plan = { _tag: "Rows", columns: [], data: [] }
const fail = (failure: Errors.SqlFailure): Plan => ({ _tag: "Fail", failure })

/** Statements allowed in a transaction, by their first word; DESCRIBE only for a table. */
const allowed = ["SELECT", "WITH", "VALUES", "FROM", "TABLE", "INSERT", "UPDATE", "DELETE", "MERGE"]
const notTable = ["QUERY", "CATALOG", "SCHEMA", "DATABASE", "FUNCTION", "HISTORY", "DETAIL", "VOLUME", "SELECT", "WITH"]

/** Words that end a command's name in `TRANSACTION_NOT_SUPPORTED.COMMAND` (`CREATE TABLE`, `SHOW SCHEMAS`). */
const objectKinds = new Set([
  "TABLE",
  "TABLES",
  "VIEW",
  "VIEWS",
  "SCHEMA",
  "SCHEMAS",
  "DATABASE",
  "DATABASES",
  "CATALOG",
  "CATALOGS",
  "FUNCTION",
  "FUNCTIONS",
  "VOLUME",
  "COLUMNS",
  "TBLPROPERTIES",
  "QUERY"
])

/** The statement's significant tokens, without trailing semicolons. */
const words = (sql: string): Array<Token> => {
  const tokens = tokenize(sql, "databricks").filter(significant)
  while (tokens.length > 0 && isSymbol(tokens[tokens.length - 1], ";")) tokens.pop()
  return tokens
}

const syntaxError = (near: Token | undefined) => fail(Errors.parseSyntaxError(near?.text))

type Control = "begin" | "commit" | "rollback"

/** What a control statement is, or its syntax error; `undefined` for a statement that is none (`BEGIN ATOMIC`). */
const parse = (tokens: ReadonlyArray<Token>): Control | Plan | undefined => {
  const [first, second, third] = tokens
  if (isWord(first, "BEGIN")) {
    // `BEGIN` alone opens a compound statement in Databricks SQL, which needs its `END`.
    if (second === undefined) return syntaxError(undefined)
    if (!isWord(second, "TRANSACTION", "WORK")) return undefined
    return third === undefined ? "begin" : syntaxError(third)
  }
  if (isWord(first, "COMMIT", "ROLLBACK")) {
    const rest = isWord(second, "TRANSACTION", "WORK") ? third : second
    if (rest !== undefined) return syntaxError(rest)
    return isWord(first, "COMMIT") ? "commit" : "rollback"
  }
  return syntaxError(first)
}

/** The leading words naming a statement Databricks refuses in a transaction (`CREATE TABLE`, `USE`). */
const commandName = (tokens: ReadonlyArray<Token>): string => {
  const name: Array<string> = []
  for (const token of tokens.slice(0, 5)) {
    if (token.kind !== "word") break
    name.push(token.text.toUpperCase())
    if (objectKinds.has(name[name.length - 1])) return name.join(" ")
  }
  return name[0] ?? tokens[0]?.text ?? ""
}

const isAllowed = (tokens: ReadonlyArray<Token>): boolean => {
  const [first, second] = tokens
  if (isSymbol(first, "(") || isWord(first, ...allowed)) return true
  return isWord(first, "DESC", "DESCRIBE") && !isWord(second, ...notTable)
}

/**
 * What a statement means for the session's transaction: a plan that answers it (BEGIN, COMMIT, ROLLBACK, or a
 * refusal), or `undefined` when it runs as usual.
 */
export const plan = async (session: Session, sql: string): Promise<Plan | undefined> => {
  const isControl = control.test(sql)
  if (session.transaction === undefined && !isControl) return undefined
  const tokens = words(sql)
  const statement = isControl ? parse(tokens) : undefined
  if (statement !== undefined && typeof statement !== "string") return statement
  if (statement === "rollback") {
    if (session.transaction !== undefined) {
      // After a failed COMMIT DuckDB has already ended its transaction: nothing is left to roll back.
      await session.connection.run("ROLLBACK").catch(() => undefined)
      session.transaction = undefined
    }
    return nothing
  }
  if (session.transaction === "aborted") return fail(Errors.rollbackRequired())
  switch (statement) {
    case "begin": {
      if (session.transaction === "open") return fail(Errors.nestedTransaction())
      await session.connection.run("BEGIN TRANSACTION")
      session.transaction = "open"
      return nothing
    }
    case "commit": {
      if (session.transaction === undefined) return fail(Errors.noActiveTransaction())
      try {
        await session.connection.run("COMMIT")
        session.transaction = undefined
        return nothing
      } catch (error) {
        // A failed COMMIT aborts the transaction: ROLLBACK before anything else (SQL reference, COMMIT).
        session.transaction = "aborted"
        return fail(Errors.fromDuckDB(error))
      }
    }
  }
  // A statement that does not parse is the parser's error, as on a warehouse (the translation answers it).
  if (session.transaction === undefined || isAllowed(tokens) || !Dialect.isStatementKeyword(tokens[0])) {
    return undefined
  }
  return fail(Errors.commandInTransaction(commandName(tokens)))
}

/** A statement of the session failed: its open transaction is aborted. */
export const failed = (session: Session): void => {
  if (session.transaction === "open") session.transaction = "aborted"
}
