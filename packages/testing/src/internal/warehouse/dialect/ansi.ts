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

/** Does the expression divide decimals (which `keepDecimal` wraps in a cast)? */
const hasDecimalQuotient = (node: any): boolean =>
  Array.isArray(node)
    ? node.some(hasDecimalQuotient)
    : node !== null && typeof node === "object" &&
      ((node.div !== undefined && quotientType(node.div) !== undefined) ||
        Object.keys(node).some((key) => hasDecimalQuotient(node[key])))

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
      if (!hasOperator(expression) && !hasDecimalQuotient(expression)) return expression
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

/** A decimal type (precision, scale) known from the text alone: a decimal literal or a cast to DECIMAL. */
type Decimal = readonly [precision: number, scale: number]

/**
 * The operand's decimal type when the statement says it: `1.50` is DECIMAL(3,2) (an integer literal next to a
 * decimal is DECIMAL of its digits), `CAST(x AS DECIMAL(p,s))` is DECIMAL(p,s); undefined when only the data knows.
 */
const decimalOf = (node: any, integers: boolean): Decimal | undefined => {
  const literal = node?.literal
  if (literal?.literal_type === "number" && typeof literal.value === "string") {
    const value: string = literal.value
    if (/[eEdDfFlLsSyY]/.test(value)) return undefined
    const [whole, fraction = ""] = value.split(".")
    if (!value.includes(".") && !integers) return undefined
    const digits = (whole + fraction).replace(/^0+/, "")
    return [Math.max(digits.length, fraction.length, 1), fraction.length]
  }
  const to = node?.cast?.to
  if (to?.data_type === "decimal") return [to.precision ?? 10, to.scale ?? 0]
  const paren = node?.paren?.this
  return paren === undefined ? undefined : decimalOf(paren, integers)
}

/**
 * Databricks' result type of a decimal division (sql-ref-datatypes.html, decimal: "Arithmetic operators"): scale
 * max(6, s1 + p2 + 1), integer digits p1 - s1 + s2, precision capped at 38 by giving up scale down to 6.
 */
export const decimalQuotient = ([p1, s1]: Decimal, [p2, s2]: Decimal): Decimal => {
  let scale = Math.max(6, s1 + p2 + 1)
  const integral = p1 - s1 + s2
  if (integral + scale <= 38) return [integral + scale, scale]
  scale = Math.max(38 - integral, Math.min(scale, 6))
  return [38, scale]
}

let decimalTemplate: any

/**
 * `a / b` of two decimals stays a DECIMAL, as in Databricks (DuckDB divides decimals as DOUBLEs): the quotient,
 * rounded half up to the result's scale, cast to its type (in place).
 */
const quotientType = (operation: any): Decimal | undefined => {
  const left = decimalOf(operation?.left, true)
  const right = decimalOf(operation?.right, true)
  // Two integers divide as DOUBLEs in Databricks too; a decimal needs to be on one side at least.
  if (left === undefined || right === undefined) return undefined
  if (decimalOf(operation.left, false) === undefined && decimalOf(operation.right, false) === undefined) {
    return undefined
  }
  return decimalQuotient(left, right)
}

const keepDecimal = (node: any, [precision, scale]: Decimal): void => {
  const operation = node.div
  decimalTemplate ??= (parse("SELECT CAST(round(__divisor, 1) AS DECIMAL(1, 1))", Dialect.Databricks) as any).ast[0]
    .select.expressions[0]
  const wrapped = fill(decimalTemplate, { div: operation })
  wrapped.cast.to = { ...wrapped.cast.to, precision, scale }
  wrapped.cast.this.function.args[1].literal.value = String(scale)
  delete node.div
  Object.assign(node, wrapped)
}

/** Guards every divisor in the tree (in place). */
const guardDivisors = (node: any): void => {
  if (Array.isArray(node)) {
    for (const child of node) guardDivisors(child)
    return
  }
  if (node === null || typeof node !== "object") return
  for (const key of Object.keys(node)) guardDivisors(node[key])
  // The quotient's type is read before the divisor is guarded (a guarded divisor is a CASE).
  const quotient = node.div === undefined ? undefined : quotientType(node.div)
  for (const [operator, divisor] of [["div", "right"], ["mod", "right"], ["int_div", "expression"]] as const) {
    const operation = node[operator]
    if (operation !== undefined && guarded(operator, operation) && divisor in operation) {
      operation[divisor] = fill(guard(), operation[divisor])
    }
  }
  if (quotient !== undefined) keepDecimal(node, quotient)
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
