/**
 * `a[0]`: Databricks counts array elements from 0 and raises INVALID_ARRAY_INDEX (22003) out of bounds
 * (functions/bracketsign.html); DuckDB counts from 1 and answers NULL. The same brackets look up a map's key, and
 * which one a value is shows only when it runs. So, before the transpiler, `x[n]` with an integer literal `n`
 * becomes `emulator_subscript(x, n)`, which `emulatorCalls.ts` writes as a test of the value's JSON form. Other
 * indexes (`m['k']`, `a[i]`) stay DuckDB's.
 *
 * @internal
 */
import { prefix } from "./databricksCalls.js"
import { isSymbol, join, nextSignificant, previousSignificant, type Token, tokenize } from "./lexer.js"

/** The index of the `(` or `[` that `close` closes (or -1). */
const opening = (tokens: ReadonlyArray<Token>, close: number): number => {
  let depth = 0
  for (let i = close; i >= 0; i--) {
    const token = tokens[i]
    if (isSymbol(token, ")") || isSymbol(token, "]")) depth++
    else if ((isSymbol(token, "(") || isSymbol(token, "[")) && --depth === 0) return i
  }
  return -1
}

const isName = (token: Token | undefined) => token !== undefined && (token.kind === "word" || token.kind === "quoted")

/** The first token of the expression that ends at `end` (a name, a call, a parenthesis, a subscript, dotted). */
const expressionStart = (tokens: ReadonlyArray<Token>, end: number): number => {
  let at = end
  for (;;) {
    if (isSymbol(tokens[at], ")") || isSymbol(tokens[at], "]")) {
      const open = opening(tokens, at)
      if (open < 0) return -1
      const before = previousSignificant(tokens, open)
      at = isSymbol(tokens[open], "[") || isName(tokens[before]) ? Math.max(before, 0) : open
      if (isSymbol(tokens[open], "(") && !isName(tokens[before])) return open
      if (isSymbol(tokens[open], "[")) continue
    } else if (!isName(tokens[at])) return -1
    const dot = previousSignificant(tokens, at)
    if (!isSymbol(tokens[dot], ".")) return at
    at = previousSignificant(tokens, dot)
  }
}

/** The rule (Databricks text): each `x[n]` with an integer literal index, innermost first. */
export const subscripts = (input: Array<Token>): Array<Token> => {
  let tokens = input
  for (let guard = 0; guard < 100; guard++) {
    let done = true
    for (let i = 0; i < tokens.length; i++) {
      if (!isSymbol(tokens[i], "[")) continue
      const index = nextSignificant(tokens, i)
      const close = nextSignificant(tokens, index)
      const end = previousSignificant(tokens, i)
      if (tokens[index]?.kind !== "number" || !/^\d+$/.test(tokens[index].text) || !isSymbol(tokens[close], "]")) {
        continue
      }
      if (!(isName(tokens[end]) || isSymbol(tokens[end], ")") || isSymbol(tokens[end], "]"))) continue
      const start = expressionStart(tokens, end)
      if (start < 0) continue
      const call = `${prefix}subscript(${join(tokens.slice(start, end + 1))}, ${tokens[index].text})`
      tokens = [...tokens.slice(0, start), ...tokenize(call, "databricks"), ...tokens.slice(close + 1)]
      done = false
      break
    }
    if (done) return tokens
  }
  return tokens
}
