/**
 * ANSI arithmetic, as SQL warehouses have it: a division or remainder by zero raises `[DIVIDE_BY_ZERO]` where
 * DuckDB answers NULL. The divisor of every `/`, `%` and `DIV` becomes
 * `CASE WHEN d = 0 THEN raise_error('[DIVIDE_BY_ZERO] …') ELSE d END` in the statement's syntax tree, which the
 * transpiler then writes for DuckDB (`raise_error` becomes DuckDB's `error`). Overflow and invalid casts need no
 * rule: DuckDB raises on them once casts are raising casts.
 *
 * @internal
 */
import { Dialect, generate, parse } from "@polyglot-sql/sdk"
import { isSymbol, isWord, type Token } from "./lexer.js"

/** Databricks' text for the error (error class DIVIDE_BY_ZERO, in its error-conditions reference). */
export const divideByZeroMessage =
  "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. " +
  "If necessary set \"ansi_mode\" to \"false\" to bypass this error. SQLSTATE: 22012"

/** Does the statement have a `/`, `%` or `DIV` operator (outside strings and comments)? */
export const hasDivision = (tokens: ReadonlyArray<Token>): boolean =>
  tokens.some((token) => isSymbol(token, "/") || isSymbol(token, "%") || isWord(token, "DIV"))

let template: unknown

/** The guard around a divisor, parsed once; `__divisor` stands for the divisor. */
const guard = (): unknown => {
  if (template === undefined) {
    const message = divideByZeroMessage.replace(/'/g, "\\'")
    const parsed = parse(
      `SELECT CASE WHEN __divisor = 0 THEN raise_error('${message}') ELSE __divisor END`,
      Dialect.Databricks
    ) as any
    template = parsed.ast[0].select.expressions[0]
  }
  return template
}

const isPlaceholder = (node: any) => node?.column?.name?.name === "__divisor"

/** A copy of `node` with each placeholder replaced by `divisor`. */
const fill = (node: any, divisor: unknown): any => {
  if (isPlaceholder(node)) return divisor
  if (Array.isArray(node)) return node.map((child) => fill(child, divisor))
  if (node !== null && typeof node === "object") {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(node)) out[key] = fill(node[key], divisor)
    return out
  }
  return node
}

let aliasTemplate: any
let selectTemplate: any

/** The expression's Databricks text (`a / b`), as a one-column SELECT the transpiler writes. */
const textOf = (expression: unknown): string | undefined => {
  selectTemplate ??= (parse("SELECT 1", Dialect.Databricks) as any).ast[0]
  const select = { ...selectTemplate, select: { ...selectTemplate.select, expressions: [expression] } }
  const generated = generate([select], Dialect.Databricks)
  return generated.success ? generated.sql?.[0]?.replace(/^SELECT /, "") : undefined
}

const operators = ["div", "mod", "int_div"]

/** The divisor of an operator node (`{ div: { left, right } }`, `{ int_div: { this, expression } }`). */
const divisorOf = (operator: string, operation: any) => operator === "int_div" ? operation.expression : operation.right

/** A divisor that cannot be zero: a number literal other than 0. */
const nonZeroLiteral = (divisor: any) =>
  divisor?.literal?.literal_type === "number" && Number(divisor.literal.value) !== 0 &&
  !Number.isNaN(Number(divisor.literal.value))

/** Whether an operator node's divisor needs the guard. */
const guarded = (operator: string, operation: any) =>
  operation !== null && typeof operation === "object" && !nonZeroLiteral(divisorOf(operator, operation))

const hasOperator = (node: any): boolean =>
  Array.isArray(node)
    ? node.some(hasOperator)
    : node !== null && typeof node === "object" &&
      Object.keys(node).some((key) => (operators.includes(key) && guarded(key, node[key])) || hasOperator(node[key]))

/**
 * A select-list expression with a division and no alias keeps the name Databricks gives it (`(a / b)`), not the
 * long one of its guarded form.
 */
const nameColumns = (node: any): void => {
  if (Array.isArray(node)) {
    for (const child of node) nameColumns(child)
    return
  }
  if (node === null || typeof node !== "object") return
  const expressions = node.select?.expressions
  if (Array.isArray(expressions)) {
    node.select.expressions = expressions.map((expression: any) => {
      if (expression === null || typeof expression !== "object" || "alias" in expression) return expression
      if (!hasOperator(expression)) return expression
      const text = textOf(expression)
      if (text === undefined) return expression
      const binary = operators.some((operator) => operator in expression)
      const name = (binary ? `(${text})` : text).replace(/ DIV /g, " div ").replace(/`((?:[^`]|``)*)`/g, "$1")
      aliasTemplate ??= (parse("SELECT 1 AS `__name`", Dialect.Databricks) as any).ast[0].select.expressions[0]
      return {
        alias: { ...aliasTemplate.alias, this: expression, alias: { ...aliasTemplate.alias.alias, name } }
      }
    })
  }
  for (const key of Object.keys(node)) nameColumns(node[key])
}

/** Guards every divisor in the tree (in place). */
const guardDivisors = (node: any): void => {
  if (Array.isArray(node)) {
    for (const child of node) guardDivisors(child)
    return
  }
  if (node === null || typeof node !== "object") return
  for (const key of Object.keys(node)) guardDivisors(node[key])
  for (const [operator, divisor] of [["div", "right"], ["mod", "right"], ["int_div", "expression"]] as const) {
    const operation = node[operator]
    if (operation !== undefined && guarded(operator, operation) && divisor in operation) {
      operation[divisor] = fill(guard(), operation[divisor])
    }
  }
}

/**
 * The Databricks statement with every divisor guarded, as Databricks text again (for the transpiler); undefined
 * when the transpiler cannot parse it (then the transpiler reports the syntax error itself).
 */
export const raisingDivision = (sql: string): string | undefined => {
  const parsed = parse(sql, Dialect.Databricks) as any
  if (!parsed.success) return undefined
  nameColumns(parsed.ast)
  guardDivisors(parsed.ast)
  const generated = generate(parsed.ast, Dialect.Databricks)
  return generated.success && generated.sql !== undefined ? generated.sql.join(";\n") : undefined
}
