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
    if (operation !== undefined && operation !== null && typeof operation === "object" && divisor in operation) {
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
  guardDivisors(parsed.ast)
  const generated = generate(parsed.ast, Dialect.Databricks)
  return generated.success && generated.sql !== undefined ? generated.sql.join(";\n") : undefined
}
