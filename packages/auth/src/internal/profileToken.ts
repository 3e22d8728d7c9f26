/**
 * A bearer token kept in a `.databrickscfg` profile (`token = …`) by something that rewrites the file: Posit
 * Workbench keeps its managed Databricks OAuth token in the `workbench` profile of the file that
 * `DATABRICKS_CONFIG_FILE` names and refreshes it there while the session is active.
 *
 * The file is read again whenever a new token is needed: when the cached one comes near its expiry (a JWT's
 * `exp`, as `TokenSource.make` schedules it) and after the server refused it (`invalidate`). An opaque token
 * (a PAT) has no expiry and is read again only after a refusal. The Databricks SDKs read the file once, when
 * their `Config` is built (posit-sdk-py's `WorkbenchStrategy` keeps `Config(profile="workbench").token` for
 * the life of the process), so a long-running process there keeps a token Workbench has since replaced.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { AuthenticationError } from "../DatabricksError.js"
import * as TokenSource from "../TokenSource.js"
import * as Jwt from "./jwt.js"
import * as Profile from "./profile.js"
import * as TokenValue from "./tokenValue.js"

export interface Options {
  /** The config file, as resolved (`DATABRICKS_CONFIG_FILE` or `~/.databrickscfg`). */
  readonly file: string
  readonly profile: string
  readonly authType: string
  /** Said when the file's token has expired: who is expected to replace it. */
  readonly staleHint?: string | undefined
}

/** A token with less than this left is not served (as `TokenSource.make`: the backend refuses within 30 s). */
const usableMarginMs = 40_000

const failure = (message: string, hint: string) => new AuthenticationError({ message, hint })

/** One read of the profile's token, checked as any configured token is. */
export const read = (options: Options): Effect.Effect<Redacted.Redacted<string>, AuthenticationError> =>
  Effect.gen(function*() {
    const where = `profile ${options.profile} of ${options.file}`
    const file = yield* Profile.load(options.file).pipe(
      Effect.mapError((error) => failure(error.message, error.hint ?? "Check the Databricks config file"))
    )
    if (file === undefined) {
      return yield* Effect.fail(
        failure(
          `The Databricks config file ${options.file} no longer exists (the token of ${where} was read from it)`,
          options.staleHint ?? "Restore the file, or point DATABRICKS_CONFIG_FILE at the one that holds the profile"
        )
      )
    }
    const keys = Profile.select(file, { name: options.profile, from: "the resolved profile" })
    if (Either.isLeft(keys) || keys.right === undefined) {
      return yield* Effect.fail(failure(`The ${where} is gone`, options.staleHint ?? "Restore the profile"))
    }
    const raw = keys.right.keys.get("token")?.trim() ?? ""
    if (raw === "") {
      return yield* Effect.fail(failure(`The ${where} has no token any more`, options.staleHint ?? "Restore it"))
    }
    const problem = TokenValue.problem(raw)
    if (problem !== undefined) {
      return yield* Effect.fail(failure(`The token in ${where} ${problem}`, "Write the token alone on its line"))
    }
    // A token that has already expired in the file is not sent: the server would only refuse it.
    const exp = Jwt.expirySeconds(raw)
    const now = yield* Clock.currentTimeMillis
    if (Option.isSome(exp) && exp.value * 1000 - usableMarginMs <= now) {
      return yield* Effect.fail(
        failure(
          `The token in ${where} expired at ${
            new Date(Math.max(0, Math.min(exp.value * 1000, 8.64e15))).toISOString()
          } and the file has not been refreshed`,
          options.staleHint ?? "Replace the token in the profile"
        )
      )
    }
    return Redacted.make(raw)
  })

/** A `TokenSource` that reads the profile's token again whenever it needs a new one. */
export const make = (options: Options): Effect.Effect<TokenSource.TokenSource, never, Scope.Scope> =>
  TokenSource.make(Effect.map(read(options), (value) => ({ value })), { authType: options.authType })
