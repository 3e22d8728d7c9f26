/**
 * The driver's TSparkParameters bound as typed DuckDB values (never spliced into the SQL).
 *
 * @internal
 */
import {
  BIGINT,
  BOOLEAN,
  DATE,
  DECIMAL,
  DOUBLE,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBTimestampValue,
  type DuckDBType,
  type DuckDBValue,
  INTEGER,
  TIMESTAMP,
  VARCHAR
} from "@duckdb/node-api"

export interface SparkParameter {
  readonly name?: string | null
  readonly type?: string | null
  readonly value?: { readonly stringValue?: string | null } | null
}

export interface Bound {
  readonly values: Array<DuckDBValue> | Record<string, DuckDBValue>
  readonly types: Array<DuckDBType | undefined> | Record<string, DuckDBType | undefined>
}

const microsOf = (text: string) => {
  const millis = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text.replace(" ", "T")}Z`)
  const fraction = /\.(\d+)/.exec(text)?.[1] ?? ""
  const extraMicros = fraction.length > 3 ? Number(fraction.slice(3, 6).padEnd(3, "0")) : 0
  return BigInt(millis) * 1000n + BigInt(extraMicros)
}

/** One TSparkParameter as a DuckDB value and type, from the string the driver sends. */
const bindOne = (parameter: SparkParameter): readonly [DuckDBValue, DuckDBType | undefined] => {
  const text = parameter.value?.stringValue
  const type = (parameter.type ?? "STRING").toUpperCase()
  if (text === undefined || text === null || type === "VOID") return [null, undefined]
  // `DECIMAL(p,s)`: the type official clients send for a decimal (databricks-sql-python, parameters/native.py,
  // DecimalParameter._cast_expr); the warehouse casts the text to it.
  const sized = /^DECIMAL\((\d+), ?(\d+)\)$/.exec(type)
  if (sized !== null) {
    const [precision, scale] = [Number(sized[1]), Number(sized[2])]
    const [whole, fraction = ""] = text.replace(/^\+/, "").split(".")
    const digits = BigInt(`${whole}${fraction.slice(0, scale).padEnd(scale, "0")}`)
    return [new DuckDBDecimalValue(digits, precision, scale), DECIMAL(precision, scale)]
  }
  switch (type) {
    case "INTEGER":
    case "INT":
    case "SMALLINT":
    case "TINYINT":
      return [Number(text), INTEGER]
    case "BIGINT":
      return [BigInt(text), BIGINT]
    case "DOUBLE":
    case "FLOAT":
      return [Number(text), DOUBLE]
    case "BOOLEAN":
      return [text.toUpperCase() === "TRUE", BOOLEAN]
    case "DATE": {
      const days = Math.floor(Date.parse(`${text.slice(0, 10)}T00:00:00Z`) / 86_400_000)
      return [new DuckDBDateValue(days), DATE]
    }
    case "TIMESTAMP":
    case "TIMESTAMP_NTZ":
    case "TIMESTAMP_LTZ":
      return [new DuckDBTimestampValue(microsOf(text)), TIMESTAMP]
    case "DECIMAL": {
      const [whole, fraction = ""] = text.replace(/^\+/, "").split(".")
      const scale = Math.min(fraction.length, 37)
      return [new DuckDBDecimalValue(BigInt(`${whole}${fraction.slice(0, scale)}`), 38, scale), DECIMAL(38, scale)]
    }
    default:
      return [text, VARCHAR]
  }
}

/** Named parameters bind by name, ordinal ones by position. */
export const bind = (parameters: ReadonlyArray<SparkParameter> | null | undefined): Bound | undefined => {
  if (parameters === undefined || parameters === null || parameters.length === 0) return undefined
  if (parameters.every((p) => p.name !== undefined && p.name !== null && p.name !== "")) {
    const values: Record<string, DuckDBValue> = {}
    const types: Record<string, DuckDBType | undefined> = {}
    for (const parameter of parameters) {
      const [value, type] = bindOne(parameter)
      values[parameter.name!] = value
      types[parameter.name!] = type
    }
    return { values, types }
  }
  const bound = parameters.map(bindOne)
  return { values: bound.map(([value]) => value), types: bound.map(([, type]) => type) }
}
