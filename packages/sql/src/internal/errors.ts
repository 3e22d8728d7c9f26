/**
 * What the client adds to an error on its way to the caller.
 *
 * @internal
 */
import type { SqlClientError } from "../SqlError.js"

export type { SqlClientError } from "../SqlError.js"

/**
 * `error` with `note` added to its message, same tag and fields: what the client knows about the statement
 * when the error reaches the caller (it ran; rows may be missing), which the classified error cannot know.
 */
export const withNote = <E extends SqlClientError>(error: E, note: string): E => {
  const Tagged = error.constructor as new(props: object) => E
  return new Tagged({ ...error, message: `${error.message}; ${note}` })
}
