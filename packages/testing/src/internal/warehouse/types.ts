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
