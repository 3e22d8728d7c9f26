/**
 * What the `SqlParam` constructors could not accept, recorded for the binder.
 *
 * @internal
 */
/**
 * What the `SqlParam` constructors could not accept. The constructors never throw (a bad argument is found
 * where the value is bound, as a `ParameterError` from `query`/`execute`/`stream`), so a constructor that was
 * given something unusable records why here, and the binder reports it. A WeakMap, not a field: the public
 * shape stays `{ _tag, type, value }` and nothing can forge or erase the record. A copy of such a value (a
 * spread, a value from another copy of this module) still fails: its `value` is text no type accepts.
 */
const problems = new WeakMap<object, string>()

/** The `value` of a typed parameter its constructor could not make: not a date, a time, a number or hex. */
export const unusable = "(unusable)"

/** Records why `typed` cannot be bound. */
export const refuse = <A extends object>(typed: A, problem: string): A => {
  problems.set(typed, problem)
  return typed
}

/** Why a constructor refused `u`, if it did. */
export const problemOf = (u: object): string | undefined => problems.get(u)

/** What `u` is, for a message, without showing it (it may hold anything) and without ever throwing. */
export const describe = (u: unknown): string => {
  try {
    if (u === null) return "null"
    if (u === undefined) return "undefined"
    if (Array.isArray(u)) return "an array"
    const type = typeof u
    if (type !== "object") return type === "undefined" ? "undefined" : `a ${type}`
    const tag = Object.prototype.toString.call(u).slice(8, -1)
    return tag === "Object" ? "an object" : `an object (${tag})`
  } catch {
    return "an unreadable value"
  }
}
