/**
 * Databricks' names for the types of DuckDB results, as `DESCRIBE`, `SHOW COLUMNS`, the metadata RPCs and the
 * result metadata report them (`string`, `bigint`, `decimal(10,2)`, `array<string>`, `struct<a:int,b:string>`).
 *
 * @internal
 */
import {
  type DuckDBArrayType,
  type DuckDBDecimalType,
  type DuckDBListType,
  type DuckDBMapType,
  type DuckDBStructType,
  type DuckDBType,
  DuckDBTypeId
} from "@duckdb/node-api"

/** The Databricks SQL type name of a DuckDB type, lower case as `DESCRIBE` prints it. */
export const typeName = (type: DuckDBType): string => {
  switch (type.typeId) {
    case DuckDBTypeId.BOOLEAN:
      return "boolean"
    case DuckDBTypeId.TINYINT:
      return "tinyint"
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.UTINYINT:
      return "smallint"
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.USMALLINT:
      return "int"
    case DuckDBTypeId.BIGINT:
    case DuckDBTypeId.UINTEGER:
    case DuckDBTypeId.HUGEINT: // DuckDB's integer `sum`; a warehouse says bigint
      return "bigint"
    case DuckDBTypeId.UBIGINT:
    case DuckDBTypeId.UHUGEINT:
      return "decimal(38,0)"
    case DuckDBTypeId.FLOAT:
      return "float"
    case DuckDBTypeId.DOUBLE:
      return "double"
    case DuckDBTypeId.DECIMAL: {
      const decimal = type as DuckDBDecimalType
      return `decimal(${decimal.width},${decimal.scale})`
    }
    case DuckDBTypeId.BLOB:
      return "binary"
    case DuckDBTypeId.DATE:
      return "date"
    case DuckDBTypeId.TIMESTAMP_TZ:
      return "timestamp"
    case DuckDBTypeId.TIMESTAMP:
    case DuckDBTypeId.TIMESTAMP_S:
    case DuckDBTypeId.TIMESTAMP_MS:
    case DuckDBTypeId.TIMESTAMP_NS:
      return "timestamp_ntz"
    case DuckDBTypeId.INTERVAL:
      return "interval day to second"
    case DuckDBTypeId.LIST:
    case DuckDBTypeId.ARRAY:
      return `array<${typeName((type as DuckDBListType | DuckDBArrayType).valueType)}>`
    case DuckDBTypeId.MAP: {
      const map = type as DuckDBMapType
      return `map<${typeName(map.keyType)},${typeName(map.valueType)}>`
    }
    case DuckDBTypeId.STRUCT: {
      const struct = type as DuckDBStructType
      return `struct<${struct.entryNames.map((name, i) => `${name}:${typeName(struct.entryTypes[i])}`).join(",")}>`
    }
    case DuckDBTypeId.SQLNULL:
      return "void"
    default:
      return "string"
  }
}

/**
 * The Databricks name of an interval column, guessed from one of its values: DuckDB has a single INTERVAL type, a
 * warehouse types an interval by the fields of its literal (`INTERVAL '1' DAY` is `interval day`, `INTERVAL '1'
 * MONTH` is `interval month`, `INTERVAL '1 02:03:04' DAY TO SECOND` is `interval day to second`). A value of whole
 * months names `interval month` (whole years `interval year`), of whole days `interval day`, anything else
 * `interval day to second`; `typeName` says `interval day to second` when no value is at hand.
 */
export const intervalTypeName = (
  value: { readonly months: number; readonly days: number; readonly micros: bigint }
) => {
  if (value.days === 0 && value.micros === 0n && value.months !== 0) {
    return value.months % 12 === 0 ? "interval year" : "interval month"
  }
  if (value.months === 0 && value.micros === 0n) return "interval day"
  return "interval day to second"
}
