/**
 * The emulator's errors, in a module of their own so that its internals can fail with them without importing
 * `Emulator` (which imports the internals).
 *
 * @since 0.2.0
 */
import * as Data from "effect/Data"

/**
 * The emulator could not start (a port in use, for example).
 *
 * @since 0.1.0
 * @category errors
 */
export class EmulatorError extends Data.TaggedError("EmulatorError")<{
  readonly message: string
  readonly cause?: unknown
}> {}

/**
 * SQL given to `Emulator.sql` (seeding data) failed; the message is
 * formatted as the warehouse formats errors.
 *
 * @since 0.1.0
 * @category errors
 */
export class SqlSeedError extends Data.TaggedError("SqlSeedError")<{ readonly message: string }> {}
