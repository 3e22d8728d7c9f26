import type {
  AuthenticationError,
  ConfigurationError,
  NetworkError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError
} from "@effect-databricks/auth/DatabricksError"
import type { ParameterError, QueryError, WarehouseError } from "../SqlError.js"

/** Everything a SqlClient call can fail with (querySchema adds ResultDecodeError). */
export type SqlClientError =
  | AuthenticationError
  | PermissionError
  | RateLimitError
  | NetworkError
  | TimeoutError
  | ConfigurationError
  | ServerError
  | WarehouseError
  | QueryError
  | ParameterError
