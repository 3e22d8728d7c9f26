import {
  type DuckDBArrayType,
  DuckDBBlobValue,
  DuckDBDateValue,
  type DuckDBDecimalType,
  DuckDBDecimalValue,
  type DuckDBListType,
  DuckDBListValue,
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

/** The Thrift type id Databricks reports for a DuckDB type. */
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
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return T.BIGINT_TYPE
    case DuckDBTypeId.FLOAT:
      return T.FLOAT_TYPE
    case DuckDBTypeId.DOUBLE:
      return T.DOUBLE_TYPE
    case DuckDBTypeId.DECIMAL:
      return T.DECIMAL_TYPE
    case DuckDBTypeId.BLOB:
      return T.BINARY_TYPE
    case DuckDBTypeId.DATE:
      return T.DATE_TYPE
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_TZ:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return T.TIMESTAMP_TYPE
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
      return T.STRING_TYPE
  }
}

/** `TTypeDesc` with the DECIMAL precision and scale qualifiers Databricks sends. */
export const typeDesc = (type: DuckDBType) => {
  const id = thriftTypeId(type)
  if (type.typeId !== DuckDBTypeId.DECIMAL) return { types: [{ primitiveEntry: { type: id } }] }
  const decimal = type as DuckDBDecimalType
  return {
    types: [{
      primitiveEntry: {
        type: id,
        typeQualifiers: {
          qualifiers: { precision: { i32Value: decimal.width }, scale: { i32Value: decimal.scale } }
        }
      }
    }]
  }
}

const isTimestamp = (id: DuckDBTypeId) =>
  id === DuckDBTypeId.TIMESTAMP || id === DuckDBTypeId.TIMESTAMP_TZ || id === DuckDBTypeId.TIMESTAMP_S ||
  id === DuckDBTypeId.TIMESTAMP_MS || id === DuckDBTypeId.TIMESTAMP_NS

const isComplex = (id: DuckDBTypeId) =>
  id === DuckDBTypeId.LIST || id === DuckDBTypeId.ARRAY || id === DuckDBTypeId.MAP || id === DuckDBTypeId.STRUCT

/** The Arrow type of a column. Nested values use plain types (decimals as doubles, timestamps as strings). */
export const arrowType = (type: DuckDBType, flags: ArrowFlags, nested = false): Arrow.DataType => {
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
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.HUGEINT:
    case DuckDBTypeId.UHUGEINT:
      return new Arrow.Int64()
    case DuckDBTypeId.FLOAT:
      return new Arrow.Float32()
    case DuckDBTypeId.DOUBLE:
      return new Arrow.Float64()
    case DuckDBTypeId.DECIMAL: {
      const decimal = type as DuckDBDecimalType
      if (nested) return new Arrow.Float64()
      // A warehouse asked for `decimalAsArrow` sends Decimal128(p, s), otherwise the value cast to a string:
      // Spark's `ArrowUtils.toArrowType` maps `DecimalType.Fixed(p, s)` to `ArrowType.Decimal(p, s, 128)`, and
      // databricks-sql-python (`_use_arrow_native_decimals`, default true) documents "Databricks runtime will
      // return native Arrow types for decimals instead of Arrow strings".
      return flags.decimalAsArrow ? new Arrow.Decimal(decimal.scale, decimal.width, 128) : new Arrow.Utf8()
    }
    case DuckDBTypeId.BLOB:
      return new Arrow.Binary()
    case DuckDBTypeId.DATE:
      return new Arrow.DateDay()
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY: {
      if (!flags.complexTypesAsArrow && !nested) return new Arrow.Utf8()
      const element = (type as DuckDBListType | DuckDBArrayType).valueType
      return new Arrow.List(new Arrow.Field("element", arrowType(element, flags, true), true))
    }
    case DuckDBTypeId.MAP: {
      if (!flags.complexTypesAsArrow && !nested) return new Arrow.Utf8()
      const map = type as DuckDBMapType
      const entries: Array<Arrow.Field<any>> = [
        new Arrow.Field("key", arrowType(map.keyType, flags, true), false),
        new Arrow.Field("value", arrowType(map.valueType, flags, true), true)
      ]
      return new Arrow.Map_(new Arrow.Field("entries", new Arrow.Struct(entries), false) as Arrow.Field<any>)
    }
    case DuckDBTypeId.STRUCT: {
      if (!flags.complexTypesAsArrow && !nested) return new Arrow.Utf8()
      const struct = type as DuckDBStructType
      return new Arrow.Struct(
        struct.entryNames.map((name, i) => new Arrow.Field(name, arrowType(struct.entryTypes[i], flags, true), true))
      )
    }
    default:
      if (isTimestamp(type.typeId) && flags.timestampAsArrow && !nested) {
        return new Arrow.TimestampMicrosecond("Etc/UTC")
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

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** `2024-01-02 03:04:05.123456`, the way Databricks prints timestamps as strings. */
const timestampText = (value: DuckDBValue) => {
  const us = micros(value)
  const date = new Date(Number(us / 1000n))
  const fraction = ((us % 1_000_000n) + 1_000_000n) % 1_000_000n
  return `${date.getUTCFullYear()}-${pad(date.getUTCMonth() + 1)}-${pad(date.getUTCDate())} ${
    pad(date.getUTCHours())
  }:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())}${
    fraction === 0n ? "" : `.${String(fraction).padStart(6, "0")}`
  }`
}

const decimalText = (value: DuckDBDecimalValue) => {
  const negative = value.value < 0n
  const digits = (negative ? -value.value : value.value).toString().padStart(value.scale + 1, "0")
  const point = digits.length - value.scale
  return `${negative ? "-" : ""}${digits.slice(0, point)}${value.scale > 0 ? `.${digits.slice(point)}` : ""}`
}

/** A DuckDB value as the plain JS value an Arrow builder (or JSON) takes. */
export const plain = (value: DuckDBValue, type: DuckDBType, forJson = false): unknown => {
  if (value === null || value === undefined) return null
  if (value instanceof DuckDBDecimalValue) return forJson ? decimalText(value) : Number(decimalText(value))
  if (value instanceof DuckDBDateValue) return forJson ? String(value) : new Date(value.days * 86_400_000)
  if (isTimestamp(type.typeId)) return timestampText(value)
  if (value instanceof DuckDBBlobValue) return forJson ? Buffer.from(value.bytes).toString("base64") : value.bytes
  if (value instanceof DuckDBListValue || (typeof value === "object" && "items" in value)) {
    const element = (type as DuckDBListType).valueType
    return (value as DuckDBListValue).items.map((item) => plain(item, element, forJson))
  }
  if (value instanceof DuckDBMapValue) {
    const map = type as DuckDBMapType
    const entries = value.entries.map((entry) =>
      [plain(entry.key, map.keyType, forJson), plain(entry.value, map.valueType, forJson)] as const
    )
    return forJson ? Object.fromEntries(entries.map(([k, v]) => [String(k), v])) : new Map(entries)
  }
  if (value instanceof DuckDBStructValue) {
    const struct = type as DuckDBStructType
    return Object.fromEntries(
      struct.entryNames.map((name, i) => [name, plain(value.entries[name] ?? null, struct.entryTypes[i], forJson)])
    )
  }
  if (typeof value === "bigint") return forJson ? value.toString() : value
  if (typeof value === "object") return String(value)
  return value
}

const validity = (values: ReadonlyArray<DuckDBValue>) => {
  let nullCount = 0
  const bitmap = new Uint8Array(Math.ceil(values.length / 8))
  values.forEach((value, i) => {
    if (value === null) nullCount++
    else bitmap[i >> 3] |= 1 << (i & 7)
  })
  return { nullCount, nullBitmap: bitmap }
}

const int64 = (value: DuckDBValue): bigint =>
  typeof value === "bigint" ? BigInt.asIntN(64, value) : typeof value === "number" ? BigInt(value) : 0n

/** One column of a batch as an Arrow vector. */
export const arrowVector = (values: ReadonlyArray<DuckDBValue>, column: Column, flags: ArrowFlags): Arrow.Vector => {
  const type = arrowType(column.type, flags)
  const length = values.length
  if (Arrow.DataType.isInt(type) && type.bitWidth === 64) {
    return Arrow.makeVector(
      Arrow.makeData({ type, length, ...validity(values), data: BigInt64Array.from(values, int64) })
    )
  }
  if (Arrow.DataType.isTimestamp(type)) {
    const data = BigInt64Array.from(values, (value) => value === null ? 0n : micros(value))
    return Arrow.makeVector(Arrow.makeData({ type, length, ...validity(values), data }))
  }
  if (Arrow.DataType.isDate(type)) {
    const data = Int32Array.from(values, (value) => value instanceof DuckDBDateValue ? value.days : 0)
    return Arrow.makeVector(Arrow.makeData({ type, length, ...validity(values), data }))
  }
  if (Arrow.DataType.isDecimal(type)) {
    // 128-bit two's complement, little-endian 32-bit words (Arrow `Schema.fbs`, `Decimal`: "an integer value in
    // two's complement", in the schema's endianness, little-endian here as on every warehouse host).
    const data = new Uint32Array(length * 4)
    values.forEach((value, i) => {
      let unscaled = BigInt.asUintN(128, value instanceof DuckDBDecimalValue ? value.value : 0n)
      for (let word = 0; word < 4; word++) {
        data[i * 4 + word] = Number(unscaled & 0xffffffffn)
        unscaled >>= 32n
      }
    })
    return Arrow.makeVector(Arrow.makeData({ type, length, ...validity(values), data }))
  }
  if (Arrow.DataType.isUtf8(type)) {
    const strings = values.map((value) => {
      if (value === null) return null
      if (isComplex(column.type.typeId)) return JSON.stringify(plain(value, column.type, true))
      if (value instanceof DuckDBDecimalValue) return decimalText(value)
      if (isTimestamp(column.type.typeId)) return timestampText(value)
      return String(plain(value, column.type, true))
    })
    return Arrow.vectorFromArray(strings, type)
  }
  return Arrow.vectorFromArray(values.map((value) => plain(value, column.type)), type)
}

/** A record batch of the given columns, as an IPC message without the schema. */
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

/** One record batch as IPC bytes, framed to follow `schemaBytes` in a stream. */
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
    if (value === null) bits[i >> 3] |= 1 << (i & 7)
  })
  return bits
}

const toInt64 = (value: bigint) => {
  const buffer = Buffer.alloc(8)
  buffer.writeBigInt64BE(BigInt.asIntN(64, value))
  return new Int64(buffer)
}

/** One column of a COLUMN_BASED_SET: typed values, with placeholders where the null bit is set. */
export const thriftColumn = (values: ReadonlyArray<DuckDBValue>, column: Column) => {
  const nulls = nullBits(values)
  switch (thriftTypeId(column.type)) {
    case T.BOOLEAN_TYPE:
      return { boolVal: { values: values.map((v) => v === true), nulls } }
    case T.TINYINT_TYPE:
      return { byteVal: { values: values.map((v) => Number(v ?? 0)), nulls } }
    case T.SMALLINT_TYPE:
      return { i16Val: { values: values.map((v) => Number(v ?? 0)), nulls } }
    case T.INT_TYPE:
      return { i32Val: { values: values.map((v) => Number(v ?? 0)), nulls } }
    case T.BIGINT_TYPE:
      return { i64Val: { values: values.map((v) => toInt64(int64(v))), nulls } }
    case T.FLOAT_TYPE:
    case T.DOUBLE_TYPE:
      return { doubleVal: { values: values.map((v) => Number(v ?? 0)), nulls } }
    case T.BINARY_TYPE:
      return {
        binaryVal: {
          values: values.map((v) => v instanceof DuckDBBlobValue ? Buffer.from(v.bytes) : Buffer.alloc(0)),
          nulls
        }
      }
    default:
      return {
        stringVal: {
          values: values.map((v) => {
            if (v === null) return ""
            if (isComplex(column.type.typeId)) return JSON.stringify(plain(v, column.type, true))
            if (v instanceof DuckDBDecimalValue) return decimalText(v)
            if (isTimestamp(column.type.typeId)) return timestampText(v)
            return String(plain(v, column.type, true))
          }),
          nulls
        }
      }
  }
}
