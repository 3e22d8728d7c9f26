/**
 * Our own rewrite layer around the transpiler: each rule fixes one thing it gets wrong or cannot know (and each has
 * its test in Dialect.test.ts). `before` rules work on the Databricks text, `after` rules on the DuckDB text.
 *
 * @internal
 */
import {
  isSymbol,
  isWord,
  matching,
  nameOf,
  nextSignificant,
  previousSignificant,
  significant,
  type Token
} from "./lexer.js"

/** The DuckDB database that plays Unity Catalog's default catalog `main` ("main" is reserved in DuckDB). */
export const mainDatabase = "memory"

const word = (text: string): Token => ({ kind: "word", text })
const symbol = (text: string): Token => ({ kind: "symbol", text })
const space: Token = { kind: "space", text: " " }

// ---------------------------------------------------------------------------------------------------------------
// Before the transpiler (Databricks text)
// ---------------------------------------------------------------------------------------------------------------

/**
 * `INSERT OVERWRITE [TABLE] t …` → `INSERT INTO t …`, and the table's name, to empty it first (DuckDB has no
 * `INSERT OVERWRITE`; the transpiler passes it through).
 */
export const insertOverwrite = (
  tokens: Array<Token>
): { readonly tokens: Array<Token>; readonly table: string } | undefined => {
  const insert = nextSignificant(tokens, -1)
  const overwrite = nextSignificant(tokens, insert)
  if (!isWord(tokens[insert], "INSERT") || !isWord(tokens[overwrite], "OVERWRITE")) return undefined
  let at = nextSignificant(tokens, overwrite)
  const out = tokens.slice()
  out[overwrite] = word("INTO")
  if (isWord(tokens[at], "TABLE")) {
    out[at] = { kind: "space", text: "" }
    at = nextSignificant(tokens, at)
  }
  let end = at
  while (end < tokens.length && (tokens[end].kind === "word" || tokens[end].kind === "quoted")) {
    const dot = nextSignificant(tokens, end)
    if (!isSymbol(tokens[dot], ".")) break
    end = nextSignificant(tokens, dot)
  }
  const table = tokens.slice(at, end + 1).filter(significant).map((token) => token.text).join("")
  return { tokens: out, table }
}

/**
 * `try_cast(x AS t)` → `try(cast(x AS t))`: the transpiler turns every cast into `TRY_CAST` (Spark's non-ANSI
 * cast), and `after` turns them all back into raising casts; `try(…)` keeps the one cast that may fail quietly.
 */
export const tryCast = (tokens: Array<Token>): Array<Token> => {
  const out: Array<Token> = []
  const closers = new Set<number>()
  for (let i = 0; i < tokens.length; i++) {
    const open = nextSignificant(tokens, i)
    if (isWord(tokens[i], "TRY_CAST") && isSymbol(tokens[open], "(") && !isSymbol(tokens[i - 1], ".")) {
      closers.add(matching(tokens, open))
      out.push(word("try"), symbol("("), word("cast"))
    } else {
      out.push(tokens[i])
      if (closers.has(i)) out.push(symbol(")"))
    }
  }
  return out
}

/**
 * `'\xAB'` keeps its backslash for DuckDB, whose cast of a string to BLOB reads `\xAB` as a byte (the transpiler
 * would make the character U+00AB of it, which is two bytes in UTF-8).
 */
export const hexEscapes = (tokens: Array<Token>): Array<Token> =>
  tokens.map((token) =>
    token.kind === "string" && token.text.includes("\\x")
      ? { kind: "string", text: token.text.replace(/(\\\\)|\\x/g, (all, pair) => pair ?? "\\\\x") }
      : token
  )

/**
 * `TIMESTAMP_NTZ '…'` (a typed literal the transpiler cannot parse) → `CAST('…' AS TIMESTAMP_NTZ)`, which it can;
 * `TIMESTAMP '…'` likewise, so that it is an instant (TIMESTAMPTZ) as a cast to TIMESTAMP is (the transpiler
 * makes the literal DuckDB's TIMESTAMP, a wall-clock time).
 */
export const typedLiterals = (tokens: Array<Token>): Array<Token> => {
  const out: Array<Token> = []
  for (let i = 0; i < tokens.length; i++) {
    const literal = nextSignificant(tokens, i)
    if (isWord(tokens[i], "TIMESTAMP", "TIMESTAMP_NTZ", "TIMESTAMP_LTZ") && tokens[literal]?.kind === "string") {
      out.push(word("CAST"), symbol("("), tokens[literal], space, word("AS"), space, tokens[i], symbol(")"))
      i = literal
    } else out.push(tokens[i])
  }
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// After the transpiler (DuckDB text)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Functions the transpiler passes through (or makes) under a name DuckDB does not know: `TRY_CAST` is a raising
 * `CAST` again (ANSI, as on SQL warehouses), `get_json_object` is `json_extract_string`, `sequence` is
 * `generate_series` (both ends included, as Databricks'), `raise_error` is `error`.
 */
const renames: Record<string, string> = {
  TRY_CAST: "CAST",
  GET_JSON_OBJECT: "json_extract_string",
  SEQUENCE: "generate_series",
  RAISE_ERROR: "error"
}

export const functionNames = (tokens: Array<Token>): Array<Token> =>
  tokens.map((token, i) => {
    const renamed = token.kind === "word" ? renames[token.text.toUpperCase()] : undefined
    return renamed !== undefined && isSymbol(tokens[nextSignificant(tokens, i)], "(") &&
        !isSymbol(tokens[previousSignificant(tokens, i)], ".")
      ? word(renamed)
      : token
  })

/** `hex()` is upper case in Databricks (`hex('Spark SQL')` is `537061726B2053514C`); the transpiler adds LOWER. */
export const upperHex = (tokens: Array<Token>): Array<Token> => {
  const out: Array<Token> = []
  for (let i = 0; i < tokens.length; i++) {
    const open = nextSignificant(tokens, i)
    const hex = nextSignificant(tokens, open)
    const hexOpen = nextSignificant(tokens, hex)
    if (
      isWord(tokens[i], "LOWER") && isSymbol(tokens[open], "(") && isWord(tokens[hex], "HEX") &&
      isSymbol(tokens[hexOpen], "(") && nextSignificant(tokens, matching(tokens, hexOpen)) === matching(tokens, open)
    ) {
      const close = matching(tokens, open)
      out.push(...upperHex(tokens.slice(hex, close)))
      i = close
    } else out.push(tokens[i])
  }
  return out
}

/** Types the transpiler names in a way DuckDB does not know: `TIMESTAMPNTZ` (Databricks TIMESTAMP_NTZ) is TIMESTAMP. */
export const typeNames = (tokens: Array<Token>): Array<Token> =>
  tokens.map((token) => isWord(token, "TIMESTAMPNTZ", "TIMESTAMP_NTZ") ? word("TIMESTAMP") : token)

/** `X'0A'` is binary in Databricks; DuckDB reads `x'0A'` as a bit string, so it becomes `unhex('0A')` (a BLOB). */
export const binaryLiterals = (tokens: Array<Token>): Array<Token> => {
  const out: Array<Token> = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (
      isWord(token, "X") && tokens[i + 1]?.kind === "string" && !isSymbol(tokens[previousSignificant(tokens, i)], ".")
    ) {
      out.push(word("unhex"), symbol("("), tokens[i + 1], symbol(")"))
      i++
    } else out.push(token)
  }
  return out
}

/**
 * `range(…)` as a table yields one BIGINT column `id` in Databricks; DuckDB's is called `range`. So the table
 * function becomes `(SELECT range AS id FROM range(…))` (the transpiler already made `range(n)` `range(0, n)`).
 */
export const rangeColumn = (tokens: Array<Token>): Array<Token> => {
  const out: Array<Token> = []
  for (let i = 0; i < tokens.length; i++) {
    const open = nextSignificant(tokens, i)
    const before = tokens[previousSignificant(tokens, i)]
    if (
      isWord(tokens[i], "RANGE") && isSymbol(tokens[open], "(") &&
      (isWord(before, "FROM", "JOIN", "LATERAL") || isSymbol(before, ","))
    ) {
      const close = matching(tokens, open)
      out.push(symbol("("), word("SELECT"), space, word("range"), space, word("AS"), space, word("id"), space)
      out.push(word("FROM"), space, ...tokens.slice(i, close + 1), symbol(")"))
      i = close
    } else out.push(tokens[i])
  }
  return out
}

/** Words that end a join's table reference when no `ON`/`USING` came. */
const afterJoin = [
  "JOIN",
  "INNER",
  "LEFT",
  "RIGHT",
  "FULL",
  "CROSS",
  "NATURAL",
  "SEMI",
  "ANTI",
  "WHERE",
  "GROUP",
  "HAVING",
  "ORDER",
  "LIMIT",
  "OFFSET",
  "QUALIFY",
  "WINDOW",
  "UNION",
  "EXCEPT",
  "INTERSECT",
  "MINUS"
]

/**
 * A join without `ON` or `USING` joins every row with every row in Databricks (an inner join's condition is
 * optional there); DuckDB requires one, so it gets `ON TRUE`.
 */
export const joinWithoutCondition = (tokens: Array<Token>): Array<Token> => {
  const inserts = new Set<number>()
  for (let i = 0; i < tokens.length; i++) {
    if (!isWord(tokens[i], "JOIN")) continue
    let back = previousSignificant(tokens, i)
    while (isWord(tokens[back], "OUTER", "INNER", "LEFT", "RIGHT", "FULL")) back = previousSignificant(tokens, back)
    if (isWord(tokens[back], "CROSS", "NATURAL", "POSITIONAL", "ASOF", "SEMI", "ANTI")) continue
    let j = nextSignificant(tokens, i)
    let end = tokens.length
    while (j < tokens.length) {
      const token = tokens[j]
      if (isWord(token, "ON", "USING")) {
        end = -1
        break
      }
      if (isSymbol(token, "(")) {
        j = nextSignificant(tokens, matching(tokens, j))
        continue
      }
      if (isSymbol(token, ")") || isSymbol(token, ",") || isSymbol(token, ";") || isWord(token, ...afterJoin)) {
        end = j
        break
      }
      j = nextSignificant(tokens, j)
    }
    if (end >= 0) inserts.add(previousSignificant(tokens, end))
  }
  if (inserts.size === 0) return tokens
  const out: Array<Token> = []
  tokens.forEach((token, i) => {
    out.push(token)
    if (inserts.has(i)) out.push(space, word("ON"), space, word("TRUE"))
  })
  return out
}

/** A Databricks interval string of `from TO to` fields as DuckDB's interval text, or undefined. */
const intervalText = (text: string, from: string, to: string): { negative: boolean; text: string } | undefined => {
  const negative = text.trim().startsWith("-")
  const value = text.trim().replace(/^[-+]/, "")
  const clock = (parts: ReadonlyArray<string>) => parts.map((part) => part.padStart(2, "0")).join(":")
  let match: RegExpExecArray | null
  if (from === "YEAR" && to === "MONTH" && (match = /^(\d+)-(\d+)$/.exec(value)) !== null) {
    return { negative, text: `${match[1]} years ${match[2]} months` }
  }
  if (from === "DAY" && (match = /^(\d+) (\d+)(?::(\d+))?(?::(\d+(?:\.\d+)?))?$/.exec(value)) !== null) {
    return { negative, text: `${match[1]} days ${clock([match[2], match[3] ?? "0", match[4] ?? "0"])}` }
  }
  if (from === "HOUR" && (match = /^(\d+):(\d+)(?::(\d+(?:\.\d+)?))?$/.exec(value)) !== null) {
    return { negative, text: clock([match[1], match[2], match[3] ?? "0"]) }
  }
  if (from === "MINUTE" && to === "SECOND" && (match = /^(\d+):(\d+(?:\.\d+)?)$/.exec(value)) !== null) {
    return { negative, text: clock(["0", match[1], match[2]]) }
  }
  return undefined
}

/**
 * `INTERVAL '1-2' YEAR TO MONTH`, `INTERVAL '1 02:03:04' DAY TO SECOND`, …: DuckDB has no `X TO Y` interval
 * literals, but reads the same span from its own interval text (`INTERVAL '1 years 2 months'`).
 */
export const intervalRanges = (tokens: Array<Token>): Array<Token> => {
  const out: Array<Token> = []
  for (let i = 0; i < tokens.length; i++) {
    const literal = nextSignificant(tokens, i)
    const from = nextSignificant(tokens, literal)
    const toKeyword = nextSignificant(tokens, from)
    const to = nextSignificant(tokens, toKeyword)
    const converted = isWord(tokens[i], "INTERVAL") && tokens[literal]?.kind === "string" &&
        isWord(tokens[toKeyword], "TO") && tokens[from]?.kind === "word" && tokens[to]?.kind === "word"
      ? intervalText(tokens[literal].text.slice(1, -1), tokens[from].text.toUpperCase(), tokens[to].text.toUpperCase())
      : undefined
    if (converted === undefined) {
      out.push(tokens[i])
      continue
    }
    const interval = [word("INTERVAL"), space, { kind: "string" as const, text: `'${converted.text}'` }]
    out.push(...(converted.negative ? [symbol("("), symbol("-"), ...interval, symbol(")")] : interval))
    i = to
  }
  return out
}

/** `LIMIT ALL` and `ORDER BY ALL`/`GROUP BY ALL`: the transpiler quotes ALL as if it were a column. */
export const allKeyword = (tokens: Array<Token>): Array<Token> =>
  tokens.map((token, i) =>
    token.kind === "quoted" && token.text.toUpperCase() === "\"ALL\"" &&
      isWord(tokens[previousSignificant(tokens, i)], "LIMIT", "BY")
      ? word("ALL")
      : token
  )

/** `MERGE … WHEN MATCHED THEN UPDATE SET *`: the transpiler drops the SET that DuckDB needs. */
export const mergeUpdateAll = (tokens: Array<Token>): Array<Token> => {
  const out: Array<Token> = []
  tokens.forEach((token, i) => {
    out.push(token)
    if (isWord(token, "UPDATE") && isSymbol(tokens[nextSignificant(tokens, i)], "*")) out.push(space, word("SET"))
  })
  return out
}

/**
 * `UPDATE … SET t.a = …` (and MERGE's): Databricks accepts a qualified target column, DuckDB only its name.
 */
export const qualifiedAssignments = (tokens: Array<Token>): Array<Token> => {
  const drop = new Set<number>()
  const isName = (token: Token | undefined) => token !== undefined && (token.kind === "word" || token.kind === "quoted")
  for (let i = 0; i < tokens.length; i++) {
    const inUpdate = isWord(tokens[previousSignificant(tokens, i)], "UPDATE") ||
      tokens.slice(0, i).some((token) => isWord(token, "UPDATE"))
    if (!isWord(tokens[i], "SET") || !inUpdate) continue
    // Each assignment starts after SET or a top-level comma, and the list ends at a clause keyword.
    let start = nextSignificant(tokens, i)
    let depth = 0
    for (let j = start; j < tokens.length; j = nextSignificant(tokens, j)) {
      const token = tokens[j]
      if (depth === 0 && (isWord(token, "WHEN", "WHERE", "FROM", "RETURNING") || isSymbol(token, ";"))) break
      if (j === start) {
        const dot = nextSignificant(tokens, j)
        const column = nextSignificant(tokens, dot)
        if (
          isName(token) && isSymbol(tokens[dot], ".") && isName(tokens[column]) &&
          isSymbol(tokens[nextSignificant(tokens, column)], "=")
        ) {
          for (let k = j; k < column; k++) drop.add(k)
        }
      }
      if (isSymbol(token, "(")) depth++
      else if (isSymbol(token, ")")) depth--
      else if (depth === 0 && isSymbol(token, ",")) start = nextSignificant(tokens, j)
    }
  }
  return drop.size === 0 ? tokens : tokens.filter((_, k) => !drop.has(k))
}

/**
 * `ALTER TABLE t ADD COLUMNS (a INT, b STRING)` → one `ALTER TABLE t ADD COLUMN …` per column (DuckDB takes one
 * change per statement). Undefined for any other statement.
 */
export const addColumns = (tokens: ReadonlyArray<Token>): ReadonlyArray<string> | undefined => {
  const alter = nextSignificant(tokens, -1)
  const table = nextSignificant(tokens, alter)
  if (!isWord(tokens[alter], "ALTER") || !isWord(tokens[table], "TABLE")) return undefined
  let at = nextSignificant(tokens, table)
  const nameStart = at
  while (at < tokens.length && !isWord(tokens[at], "ADD")) at = nextSignificant(tokens, at)
  const columns = nextSignificant(tokens, at)
  const open = nextSignificant(tokens, columns)
  if (!isWord(tokens[columns], "COLUMNS", "COLUMN") || !isSymbol(tokens[open], "(")) return undefined
  const name = tokens.slice(nameStart, at).map((token) => token.text).join("").trim()
  const close = matching(tokens, open)
  const definitions: Array<string> = [""]
  let depth = 0
  for (let k = open + 1; k < close; k++) {
    const token = tokens[k]
    if (isSymbol(token, "(") || isSymbol(token, "<")) depth++
    if (isSymbol(token, ")") || isSymbol(token, ">")) depth--
    if (depth === 0 && isSymbol(token, ",")) definitions.push("")
    else definitions[definitions.length - 1] += token.text
  }
  return definitions.map((definition) => `ALTER TABLE ${name} ADD COLUMN ${definition.trim()}`)
}

/** `:name` parameters are DuckDB's `$name` (the transpiler keeps the Databricks form); `?` stays. */
export const parameters = (tokens: Array<Token>): Array<Token> =>
  tokens.map((token) =>
    token.kind === "parameter" && token.text.startsWith(":")
      ? { kind: "parameter", text: `$${token.text.slice(1)}` }
      : token
  )

const isIdentifier = (token: Token | undefined) =>
  token !== undefined && (token.kind === "word" || token.kind === "quoted")

/**
 * Three-part names in the catalog `main` (`main.default.t`, quoted or in any case) name `memory.default.t`, the
 * database that plays `main`. Only when the statement uses the name `main` for nothing else: an alias, table or
 * column called `main` (`FROM t AS main`, `default.main`) leaves the statement as written, so `main.s.f` keeps
 * meaning the field `f` of that alias's column `s`.
 */
export const mainCatalog = (tokens: Array<Token>): Array<Token> => {
  const catalogs: Array<number> = []
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]
    if (!isIdentifier(token) || nameOf(token).toLowerCase() !== "main") continue
    const dot1 = nextSignificant(tokens, i)
    const second = nextSignificant(tokens, dot1)
    const dot2 = nextSignificant(tokens, second)
    const third = nextSignificant(tokens, dot2)
    const headsThreeParts = isSymbol(tokens[dot1], ".") && isIdentifier(tokens[second]) &&
      isSymbol(tokens[dot2], ".") && isIdentifier(tokens[third])
    const qualified = isSymbol(tokens[previousSignificant(tokens, i)], ".")
    if (!qualified && headsThreeParts) catalogs.push(i)
    else if (!headsThreeParts) return tokens
  }
  if (catalogs.length === 0) return tokens
  const out = tokens.slice()
  for (const i of catalogs) out[i] = word(mainDatabase)
  return out
}
