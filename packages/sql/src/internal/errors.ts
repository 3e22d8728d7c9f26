import type {
  AuthenticationError,
  ConfigurationError,
  NetworkError,
  PermissionError,
  RateLimitError,
  ServerError,
  TimeoutError
} from "@effect-databricks/auth/DatabricksError"
import type { ParameterError, QueryError, ResultDecodeError, ResultExpiredError, WarehouseError } from "../SqlError.js"

/**
 * Everything a SqlClient call can fail with. `ResultDecodeError`: a value the warehouse sent that the client cannot
 * represent (a DATE beyond JavaScript's range), or, from `querySchema`, a row that does not match the schema.
 * `ResultExpiredError`: a CloudFetch result file whose link expired before it was downloaded.
 */
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
  | ResultDecodeError
  | ResultExpiredError

/**
 * `error` with `note` added to its message, same tag and fields: what the client knows about the statement
 * when the error reaches the caller (it ran; rows may be missing), which the classified error cannot know.
 */
export const withNote = <E extends SqlClientError>(error: E, note: string): E => {
  const Tagged = error.constructor as new(props: object) => E
  return new Tagged({ ...error, message: `${error.message}; ${note}` })
}
