/**
 * Encoding of DuckDB values the way a Databricks SQL warehouse serialises them: the Thrift type of each column
 * (`TTypeDesc`), Arrow IPC schemas and record batches (with the client's `useArrowNativeTypes` flags), and the
 * columns of a COLUMN_BASED_SET.
 *
 * Sources: Spark's Thrift server (`SparkExecuteStatementOperation.toTTypeId`, `RowSetUtils.toTColumn`,
 * `HiveResult.toHiveString`), Spark's `ArrowUtils.toArrowType`, and the @databricks/sql driver's
 * `ArrowResultConverter` and `result/utils` (what it expects of each type).
 *
 * @internal
 */
import {
  type DuckDBArrayType,
  DuckDBBlobValue,
  DuckDBDateValue,
  type DuckDBDecimalType,
  DuckDBDecimalValue,
  DuckDBIntervalValue,
  type DuckDBListType,
  type DuckDBMapType,
  DuckDBMapValue,
  type DuckDBStructType,
  DuckDBStructValue,
  DuckDBTimestampMillisecondsValue,
  DuckDBTimestampNanosecondsValue,
  DuckDBTimestampSecondsValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBType,
  DuckDBTypeId,
  type DuckDBValue
} from "@duckdb/node-api"
import * as Arrow from "apache-arrow"
import * as Errors from "./errors.js"
import { Int64, types } from "./thrift.js"

/** What the client asked for in `useArrowNativeTypes`; anything not native travels as a string. */
export interface ArrowFlags {
  readonly timestampAsArrow: boolean
  readonly decimalAsArrow: boolean
  readonly complexTypesAsArrow: boolean
}

export interface Column {
  readonly name: string
  readonly type: DuckDBType
}

const T = types.TTypeId

/**
 * DuckDB's unsigned UBIGINT and UHUGEINT have no Databricks type: they travel as
 * `decimal(38,0)` (a value beyond 38 digits is an overflow), never wrapped into 64 bits. HUGEINT is what DuckDB
 * makes of an integer `sum` (where a warehouse answers `bigint`), so it travels as a BIGINT, and a value beyond
 * 64 bits is the overflow a warehouse raises (`[ARITHMETIC_OVERFLOW] long overflow`).
 */
const isWideInteger = (id: DuckDBTypeId) => id === DuckDBTypeId.UBIGINT || id === DuckDBTypeId.UHUGEINT

const isTimestamp = (id: DuckDBTypeId) =>
  id === DuckDBTypeId.TIMESTAMP || id === DuckDBTypeId.TIMESTAMP_TZ || id === DuckDBTypeId.TIMESTAMP_S ||
  id === DuckDBTypeId.TIMESTAMP_MS || id === DuckDBTypeId.TIMESTAMP_NS

const isComplex = (id: DuckDBTypeId) =>
  id === DuckDBTypeId.LIST || id === DuckDBTypeId.ARRAY || id === DuckDBTypeId.MAP || id === DuckDBTypeId.STRUCT

/** Precision and scale of a DECIMAL, or of a wide integer as `decimal(38,0)`. */
const decimalShape = (type: DuckDBType) =>
  type.typeId === DuckDBTypeId.DECIMAL
    ? { precision: (type as DuckDBDecimalType).width, scale: (type as DuckDBDecimalType).scale }
    : { precision: 38, scale: 0 }

/**
 * The Thrift type id Databricks reports for a DuckDB type. As Spark's `toTTypeId`, TIMESTAMP and TIMESTAMP_NTZ
 * both report TIMESTAMP_TYPE. Intervals report STRING_TYPE: so does a real warehouse for `interval day` and
 * `interval month` columns when the client asks intervals as strings (the driver's compatibility fixtures,
 * `tests/fixtures/compatibility/thrift_schema.ts`, recorded from a warehouse; Spark's own server would say
 * INTERVAL_DAY_TIME_TYPE / INTERVAL_YEAR_MONTH_TYPE, and the driver reads all three the same way).
 */
const thriftTypeId = (type: DuckDBType): number => {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return T.BOOLEAN_TYPE
    case DuckDBTypeId.TINYINT:
      return T.TINYINT_TYPE
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return T.SMALLINT_TYPE
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return T.INT_TYPE
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.HUGEINT:
      return T.BIGINT_TYPE
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.DECIMAL:
      return T.DECIMAL_TYPE
    case DuckDBTypeId.FLOAT:
      return T.FLOAT_TYPE
    case DuckDBTypeId.DOUBLE:
      return T.DOUBLE_TYPE
    case DuckDBTypeId.BLOB:
      return T.BINARY_TYPE
    case DuckDBTypeId.DATE:
      return T.DATE_TYPE
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return T.ARRAY_TYPE
    case DuckDBTypeId.MAP:
      return T.MAP_TYPE
    case DuckDBTypeId.STRUCT:
      return T.STRUCT_TYPE
    case DuckDBTypeId.SQLNULL:
      return T.NULL_TYPE
    default:
      return isTimestamp(type.typeId) ? T.TIMESTAMP_TYPE : T.STRING_TYPE
  }
}

/** `TTypeDesc` with the DECIMAL precision and scale qualifiers Databricks sends. */
export const typeDesc = (type: DuckDBType) => {
  const id = thriftTypeId(type)
  if (id !== T.DECIMAL_TYPE) return { types: [{ primitiveEntry: { type: id } }] }
  const { precision, scale } = decimalShape(type)
  return {
    types: [{
      primitiveEntry: {
        type: id,
        typeQualifiers: { qualifiers: { precision: { i32Value: precision }, scale: { i32Value: scale } } }
      }
    }]
  }
}

/**
 * The Arrow type of a column or of a nested field, as Spark's `ArrowUtils.toArrowType` maps Databricks types:
 * DECIMAL(p, s) → Decimal128(p, s), TIMESTAMP → Timestamp(µs, session time zone), TIMESTAMP_NTZ → Timestamp(µs)
 * without a zone, FLOAT → Float32, ARRAY/MAP/STRUCT → List/Map/Struct of the same mapping. What the client did not
 * ask to receive natively travels as a string; the driver always asks intervals as strings
 * (`intervalTypesAsArrow: false`).
 */
export const arrowType = (type: DuckDBType, flags: ArrowFlags): Arrow.DataType => {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return new Arrow.Bool()
    case DuckDBTypeId.TINYINT:
      return new Arrow.Int8()
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return new Arrow.Int16()
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return new Arrow.Int32()
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.HUGEINT:
      return new Arrow.Int64()
    case DuckDBTypeId.FLOAT:
      return new Arrow.Float32()
    case DuckDBTypeId.DOUBLE:
      return new Arrow.Float64()
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
    case DuckDBTypeId.DECIMAL: {
      const { precision, scale } = decimalShape(type)
      return flags.decimalAsArrow ? new Arrow.Decimal(scale, precision, 128) : new Arrow.Utf8()
    }
    case DuckDBTypeId.BLOB:
      return new Arrow.Binary()
    case DuckDBTypeId.DATE:
      return new Arrow.DateDay()
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      if (!flags.complexTypesAsArrow) return new Arrow.Utf8()
      const element = (type as DuckDBListType | DuckDBArrayType).valueType
      return new Arrow.List(new Arrow.Field("element", arrowType(element, flags), true))
    }
    case DuckDBTypeId.MAP: {
      if (!flags.complexTypesAsArrow) return new Arrow.Utf8()
      const map = type as DuckDBMapType
      const entries: Array<Arrow.Field<any>> = [
        new Arrow.Field("key", arrowType(map.keyType, flags), false),
        new Arrow.Field("value", arrowType(map.valueType, flags), true)
      ]
      return new Arrow.Map_(new Arrow.Field("entries", new Arrow.Struct(entries), false) as Arrow.Field<any>)
    }
    case DuckDBTypeId.STRUCT: {
      if (!flags.complexTypesAsArrow) return new Arrow.Utf8()
      const struct = type as DuckDBStructType
      return new Arrow.Struct(
        struct.entryNames.map((name, i) => new Arrow.Field(name, arrowType(struct.entryTypes[i], flags), true))
      )
    }
    default:
      if (isTimestamp(type.typeId) && flags.timestampAsArrow) {
        // An instant carries the session time zone (always UTC here); a wall-clock time (NTZ) carries none.
        return new Arrow.TimestampMicrosecond(type.typeId === DuckDBTypeId.TIMESTAMP_TZ ? "Etc/UTC" : null)
      }
      return new Arrow.Utf8()
  }
}

const micros = (value: DuckDBValue): bigint => {
  if (value instanceof DuckDBTimestampValue || value instanceof DuckDBTimestampTZValue) return value.micros
  if (value instanceof DuckDBTimestampSecondsValue) return value.seconds * 1_000_000n
  if (value instanceof DuckDBTimestampMillisecondsValue) return value.millis * 1000n
  if (value instanceof DuckDBTimestampNanosecondsValue) return value.nanos / 1000n
  return 0n
}

const pad = (n: number | bigint, width = 2) => String(n).padStart(width, "0")

/**
 * `2024-01-02 03:04:05.12`: Spark's fraction formatter (`TimestampFormatter.getFractionFormatter`, used by
 * `HiveResult`) prints seconds, then the fraction without its trailing zeros, in the session time zone (UTC).
 */
const timestampText = (value: DuckDBValue) => {
  const us = micros(value)
  const fraction = ((us % 1_000_000n) + 1_000_000n) % 1_000_000n
  const date = new Date(Number((us - fraction) / 1000n))
  const digits = fraction === 0n ? "" : `.${pad(fraction, 6).replace(/0+$/, "")}`
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${
    pad(date.getUTCHours())
  }:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${digits}`
}

/** `yyyy-MM-dd`, computed from the day number (DuckDB's own text differs for years before 1000 or BC). */
const dateText = (value: DuckDBDateValue) => {
  const date = new Date(value.days * 86_400_000)
  return `${pad(date.getUTCFullYear(), 4)}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())}`
}

const unscaled = (value: DuckDBValue): bigint =>
  value instanceof DuckDBDecimalValue ? value.value : typeof value === "bigint" ? value : BigInt(Number(value))

const decimalText = (digitsValue: bigint, scale: number) => {
  const negative = digitsValue < 0n
  const digits = (negative ? -digitsValue : digitsValue).toString().padStart(scale + 1, "0")
  const point = digits.length - scale
  return `${negative ? "-" : ""}${digits.slice(0, point)}${scale > 0 ? `.${digits.slice(point)}` : ""}`
}

const limit38 = 10n ** 38n

/** The unscaled value of a DECIMAL or wide integer; beyond `decimal(38,0)` it is Databricks' overflow error. */
const checkedUnscaled = (value: DuckDBValue, type: DuckDBType): bigint => {
  const digits = unscaled(value)
  if (isWideInteger(type.typeId) && (digits >= limit38 || digits <= -limit38)) {
    throw Errors.numericOutOfRange(digits.toString(), 38, 0)
  }
  return digits
}

/**
 * A FLOAT as Spark's Thrift server sends it: `Double.valueOf(float.toString)` (`RowSetUtils.toTColumn`), so
 * `0.1f` arrives as `0.1`, not `0.10000000149011612`: the shortest decimal that reads back as the same float.
 */
const floatValue = (value: number): number => {
  if (!Number.isFinite(value)) return value
  const single = Math.fround(value)
  for (let digits = 1; digits <= 9; digits++) {
    const candidate = Number(single.toPrecision(digits))
    if (Math.fround(candidate) === single) return candidate
  }
  return single
}

/**
 * An interval as Spark's `HiveResult` prints it (`IntervalUtils` HIVE_STYLE): day-time as `D HH:mm:ss.nnnnnnnnn`
 * (`1 02:03:04.000000000`), year-month as `Y-M` (`1-2`). DuckDB has one INTERVAL type; a value of months only is
 * a year-month interval.
 */
const intervalText = (value: DuckDBIntervalValue) => {
  if (value.months !== 0 && value.days === 0 && value.micros === 0n) {
    const negative = value.months < 0
    const months = Math.abs(value.months)
    return `${negative ? "-" : ""}${Math.trunc(months / 12)}-${months % 12}`
  }
  const total = (BigInt(value.months) * 30n + BigInt(value.days)) * 86_400_000_000n + value.micros
  const negative = total < 0n
  const abs = negative ? -total : total
  const days = abs / 86_400_000_000n
  const rest = abs % 86_400_000_000n
  const hours = rest / 3_600_000_000n
  const minutes = (rest / 60_000_000n) % 60n
  const seconds = (rest / 1_000_000n) % 60n
  const nanos = (rest % 1_000_000n) * 1000n
  return `${negative ? "-" : ""}${days} ${pad(hours)}:${pad(minutes)}:${pad(seconds)}.${pad(nanos, 9)}`
}

const itemsOf = (value: DuckDBValue): ReadonlyArray<DuckDBValue> =>
  (value as { items: ReadonlyArray<DuckDBValue> }).items

/**
 * A value inside an ARRAY, MAP or STRUCT as Databricks writes complex values as text (Spark's
 * `HiveResult.toHiveString` with `nested = true`): numbers (DECIMAL too) bare, strings quoted, NULL as `null`,
 * structs as `{"name":value}`, maps as `{key:value}` sorted by their text, arrays as `[a,b]`. Dates, timestamps,
 * intervals, binary values and non-string map keys are written bare, so such a value is not JSON: the driver's
 * compatibility fixtures note it ("date values are not properly serialized in nested structures", "any non-string
 * type used as map key is not properly serialized"), and the driver then returns `{}` or `[]` (`convertJSON`).
 */
const nestedText = (value: DuckDBValue, type: DuckDBType): string => {
  if (value === null || value === undefined) return "null"
  switch (type.typeId) {
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      const element = (type as DuckDBListType | DuckDBArrayType).valueType
      return `[${itemsOf(value).map((item) => nestedText(item, element)).join(",")}]`
    }
    case DuckDBTypeId.MAP: {
      const map = type as DuckDBMapType
      const entries = (value as DuckDBMapValue).entries.map((entry) =>
        `${nestedText(entry.key, map.keyType)}:${nestedText(entry.value, map.valueType)}`
      )
      return `{${entries.sort().join(",")}}`
    }
    case DuckDBTypeId.STRUCT: {
      const struct = type as DuckDBStructType
      const entries = (value as DuckDBStructValue).entries
      return `{${
        struct.entryNames.map((name, i) => `"${name}":${nestedText(entries[name] ?? null, struct.entryTypes[i])}`)
          .join(",")
      }}`
    }
    default: {
      const text = stringOf(value, type) ?? "null"
      // Strings are quoted (Spark quotes without escaping; escaping keeps a string with a quote readable as JSON).
      const isString = thriftTypeId(type) === T.STRING_TYPE && type.typeId !== DuckDBTypeId.INTERVAL
      return isString ? JSON.stringify(text) : text
    }
  }
}

/**
 * A value as the string Databricks sends for a column that is not native (in Arrow) or not typed (in a
 * COLUMN_BASED_SET): `HiveResult.toHiveString` forms (BINARY read as UTF-8, its legacy binary output style).
 */
const stringOf = (value: DuckDBValue, type: DuckDBType): string | null => {
  if (value === null || value === undefined) return null
  if (isComplex(type.typeId)) return nestedText(value, type)
  if (type.typeId === DuckDBTypeId.DECIMAL || isWideInteger(type.typeId)) {
    return decimalText(checkedUnscaled(value, type), decimalShape(type).scale)
  }
  if (isTimestamp(type.typeId)) return timestampText(value)
  if (value instanceof DuckDBDateValue) return dateText(value)
  if (value instanceof DuckDBIntervalValue) return intervalText(value)
  if (value instanceof DuckDBBlobValue) return Buffer.from(value.bytes).toString("utf8")
  if (type.typeId === DuckDBTypeId.FLOAT) return String(floatValue(Number(value)))
  if (type.typeId === DuckDBTypeId.HUGEINT) return String(int64(value))
  return String(value)
}

const validity = (values: ReadonlyArray<DuckDBValue>) => {
  let nullCount = 0
  const bitmap = new Uint8Array(Math.ceil(values.length / 8))
  values.forEach((value, i) => {
    if (value === null || value === undefined) nullCount++
    else bitmap[i >> 3] |= 1 << (i & 7)
  })
  return { nullCount, nullBitmap: bitmap }
}

const int64Min = -(2n ** 63n)
const int64Max = 2n ** 63n - 1n

/** A value of a BIGINT column (HUGEINT too); beyond 64 bits it is Databricks' overflow error, never wrapped. */
const int64 = (value: DuckDBValue): bigint => {
  const n = typeof value === "bigint" ? value : typeof value === "number" ? BigInt(value) : 0n
  if (n < int64Min || n > int64Max) throw Errors.arithmeticOverflow("long")
  return n
}

const offsetsOf = (lengths: ReadonlyArray<number>) => {
  const offsets = new Int32Array(lengths.length + 1)
  lengths.forEach((length, i) => (offsets[i + 1] = offsets[i] + length))
  return offsets
}

/** Values of one DuckDB type as Arrow data of the given Arrow type, nested types included. */
const arrowData = (values: ReadonlyArray<DuckDBValue>, duck: DuckDBType, type: Arrow.DataType): Arrow.Data => {
  const length = values.length
  const base = { length, ...validity(values) }
  const present = (value: DuckDBValue) => value !== null && value !== undefined
  if (Arrow.DataType.isUtf8(type)) {
    return Arrow.vectorFromArray(values.map((value) => stringOf(value, duck)), new Arrow.Utf8()).data[0]
  }
  if (Arrow.DataType.isBool(type)) {
    const data = new Uint8Array(Math.ceil(length / 8))
    values.forEach((value, i) => {
      if (value === true) data[i >> 3] |= 1 << (i & 7)
    })
    return Arrow.makeData({ type, ...base, data })
  }
  if (Arrow.DataType.isInt(type)) {
    const numbers = () => values.map((value) => present(value) ? Number(value) : 0)
    const data = type.bitWidth === 64
      ? BigInt64Array.from(values.map((value) => present(value) ? int64(value) : 0n))
      : type.bitWidth === 8
      ? Int8Array.from(numbers())
      : type.bitWidth === 16
      ? Int16Array.from(numbers())
      : Int32Array.from(numbers())
    return Arrow.makeData({ type, ...base, data } as never)
  }
  if (Arrow.DataType.isFloat(type)) {
    const numbers = values.map((value) => present(value) ? Number(value) : 0)
    const data = type.precision === Arrow.Precision.SINGLE ? Float32Array.from(numbers) : Float64Array.from(numbers)
    return Arrow.makeData({ type, ...base, data } as never)
  }
  if (Arrow.DataType.isDecimal(type)) {
    // 128-bit two's complement, little-endian 32-bit words (Arrow `Schema.fbs`, `Decimal`).
    const data = new Uint32Array(length * 4)
    values.forEach((value, i) => {
      if (!present(value)) return
      let word = BigInt.asUintN(128, checkedUnscaled(value, duck))
      for (let w = 0; w < 4; w++) {
        data[i * 4 + w] = Number(word & 0xffffffffn)
        word >>= 32n
      }
    })
    return Arrow.makeData({ type, ...base, data })
  }
  if (Arrow.DataType.isDate(type)) {
    const data = Int32Array.from(values, (value) => value instanceof DuckDBDateValue ? value.days : 0)
    return Arrow.makeData({ type: type as Arrow.DateDay, ...base, data })
  }
  if (Arrow.DataType.isTimestamp(type)) {
    const data = BigInt64Array.from(values, (value) => present(value) ? micros(value) : 0n)
    return Arrow.makeData({ type, ...base, data } as never)
  }
  if (Arrow.DataType.isBinary(type)) {
    const bytes = values.map((value) => value instanceof DuckDBBlobValue ? value.bytes : new Uint8Array(0))
    const valueOffsets = offsetsOf(bytes.map((b) => b.length))
    const data = new Uint8Array(valueOffsets[length])
    bytes.forEach((b, i) => data.set(b, valueOffsets[i]))
    return Arrow.makeData({ type, ...base, valueOffsets, data })
  }
  if (Arrow.DataType.isList(type)) {
    const element = (duck as DuckDBListType | DuckDBArrayType).valueType
    const lists = values.map((value) => present(value) ? itemsOf(value) : [])
    const child = arrowData(lists.flat(), element, type.children[0].type)
    return Arrow.makeData({ type, ...base, valueOffsets: offsetsOf(lists.map((l) => l.length)), child })
  }
  if (Arrow.DataType.isMap(type)) {
    const map = duck as DuckDBMapType
    const entries = values.map((value) => value instanceof DuckDBMapValue ? value.entries : [])
    const flat = entries.flat()
    const struct = type.children[0].type as Arrow.Struct
    const child = Arrow.makeData({
      type: struct,
      length: flat.length,
      nullCount: 0,
      children: [
        arrowData(flat.map((entry) => entry.key), map.keyType, struct.children[0].type),
        arrowData(flat.map((entry) => entry.value), map.valueType, struct.children[1].type)
      ]
    })
    return Arrow.makeData({ type, ...base, valueOffsets: offsetsOf(entries.map((e) => e.length)), child })
  }
  if (Arrow.DataType.isStruct(type)) {
    const struct = duck as DuckDBStructType
    const children = struct.entryNames.map((name, i) =>
      arrowData(
        values.map((value) => value instanceof DuckDBStructValue ? value.entries[name] ?? null : null),
        struct.entryTypes[i],
        type.children[i].type
      )
    )
    return Arrow.makeData({ type, ...base, children })
  }
  return Arrow.vectorFromArray(values.map((value) => stringOf(value, duck)), new Arrow.Utf8()).data[0]
}

/** One column of a batch as an Arrow vector. */
export const arrowVector = (values: ReadonlyArray<DuckDBValue>, column: Column, flags: ArrowFlags): Arrow.Vector =>
  Arrow.makeVector(arrowData(values, column.type, arrowType(column.type, flags)))

/** The Arrow schema of a result. */
export const arrowSchema = (columns: ReadonlyArray<Column>, flags: ArrowFlags) =>
  new Arrow.Schema(columns.map((column) => new Arrow.Field(column.name, arrowType(column.type, flags), true)))

/** The schema as the IPC bytes `TGetResultSetMetadataResp.arrowSchema` carries (no end-of-stream marker). */
export const schemaBytes = (schema: Arrow.Schema): Buffer => {
  const writer = new Arrow.RecordBatchStreamWriter()
  writer.reset(undefined, schema)
  writer.finish()
  const bytes = Buffer.from(writer.toUint8Array(true))
  return bytes.subarray(0, bytes.length - 8)
}

/**
 * One record batch as IPC bytes, framed to follow `schemaBytes` in a stream. Throws the Databricks failure of a
 * value that has no Databricks form (a wide integer beyond `decimal(38,0)`).
 */
export const batchBytes = (
  schema: Arrow.Schema,
  schemaPrefix: Buffer,
  columns: ReadonlyArray<Column>,
  data: ReadonlyArray<ReadonlyArray<DuckDBValue>>,
  flags: ArrowFlags
): Buffer => {
  const length = data[0]?.length ?? 0
  const children = columns.map((column, i) => arrowVector(data[i], column, flags).data[0])
  const batch = new Arrow.RecordBatch(
    schema,
    Arrow.makeData({ type: new Arrow.Struct(schema.fields), length, nullCount: 0, children })
  )
  const writer = new Arrow.RecordBatchStreamWriter()
  writer.reset(undefined, schema)
  writer.write(batch)
  writer.finish()
  const bytes = Buffer.from(writer.toUint8Array(true))
  return bytes.subarray(schemaPrefix.length, bytes.length - 8)
}

const nullBits = (values: ReadonlyArray<DuckDBValue>) => {
  const bits = Buffer.alloc(Math.ceil(values.length / 8))
  values.forEach((value, i) => {
    if (value === null || value === undefined) bits[i >> 3] |= 1 << (i & 7)
  })
  return bits
}

const toInt64 = (value: bigint) => {
  const buffer = Buffer.alloc(8)
  buffer.writeBigInt64BE(value)
  return new Int64(buffer)
}

/**
 * One column of a COLUMN_BASED_SET, as Spark's `RowSetUtils.toTColumn`: typed values for BOOLEAN, the integers,
 * FLOAT (as a double), DOUBLE and BINARY, strings for every other type; placeholders where the null bit is set.
 */
export const thriftColumn = (values: ReadonlyArray<DuckDBValue>, column: Column) => {
  const nulls = nullBits(values)
  const number = (v: DuckDBValue) => v === null || v === undefined ? 0 : Number(v)
  switch (thriftTypeId(column.type)) {
    case T.BOOLEAN_TYPE:
      return { boolVal: { values: values.map((v) => v === true), nulls } }
    case T.TINYINT_TYPE:
      return { byteVal: { values: values.map(number), nulls } }
    case T.SMALLINT_TYPE:
      return { i16Val: { values: values.map(number), nulls } }
    case T.INT_TYPE:
      return { i32Val: { values: values.map(number), nulls } }
    case T.BIGINT_TYPE:
      return { i64Val: { values: values.map((v) => toInt64(int64(v))), nulls } }
    case T.FLOAT_TYPE:
      return { doubleVal: { values: values.map((v) => floatValue(number(v))), nulls } }
    case T.DOUBLE_TYPE:
      return { doubleVal: { values: values.map(number), nulls } }
    case T.BINARY_TYPE:
      return {
        binaryVal: {
          values: values.map((v) => v instanceof DuckDBBlobValue ? Buffer.from(v.bytes) : Buffer.alloc(0)),
          nulls
        }
      }
    default:
      return { stringVal: { values: values.map((v) => stringOf(v, column.type) ?? ""), nulls } }
  }
}
