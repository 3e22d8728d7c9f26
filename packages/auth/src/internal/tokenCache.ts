import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as SynchronizedRef from "effect/SynchronizedRef"

import * as AuthMetrics from "../AuthMetrics.js"
import { AuthenticationError } from "../DatabricksError.js"
import * as Redaction from "../Redaction.js"
import type { AccessToken, IssuedToken, MakeOptions, TokenSource } from "../TokenSource.js"
import * as Expiry from "./expiry.js"
import * as OptionChecks from "./options.js"
import * as TokenValue from "./tokenValue.js"

/** Databricks rejects a token that expires within 30 s, so refreshing later than this is never useful. */
export const minimumRefreshAhead = Duration.seconds(60)
const defaultRefreshAhead = Duration.minutes(5)
/** A token is not served when less than this is left (the SDKs use 40 s against the backend's 30 s). */
const usableMargin = 40_000

interface Cached {
  readonly token: AccessToken
  /** From here on, serve the token but start one background refresh. */
  readonly refreshAt: number
  /** From here on, the token is not served: callers wait for a new one. */
  readonly unusableAt: number
}

interface State {
  readonly cached: Cached | undefined
  readonly flight: Deferred.Deferred<AccessToken, AuthenticationError> | undefined
  readonly failures: number
  readonly nextAttemptAt: number
}

type Decision =
  | { readonly _tag: "Serve"; readonly token: AccessToken }
  | { readonly _tag: "Await"; readonly flight: Deferred.Deferred<AccessToken, AuthenticationError> }

const initial: State = { cached: undefined, flight: undefined, failures: 0, nextAttemptAt: 0 }

/** @internal */
export const make = <R>(
  fetch: Effect.Effect<IssuedToken, AuthenticationError, R>,
  options: MakeOptions
): Effect.Effect<TokenSource, never, Scope.Scope | R> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const context = yield* Effect.context<R>()
    // Options from untyped code are checked: a value that is not a duration (or an infinite backoff, which
    // would stop every later fetch) falls back to the default with a warning; `make` itself never fails.
    const given: Partial<MakeOptions> = typeof options === "object" && options !== null ? options : {}
    const authType = typeof given.authType === "string" ? given.authType : "custom"
    const refreshAhead = Duration.toMillis(
      Duration.max(
        yield* OptionChecks.durationOr(given.refreshAhead, "TokenSource.make refreshAhead", defaultRefreshAhead),
        minimumRefreshAhead
      )
    )
    const backoffGiven: unknown = given.failureBackoff
    const backoffOptions = typeof backoffGiven === "object" && backoffGiven !== null
      ? backoffGiven as NonNullable<MakeOptions["failureBackoff"]>
      : {}
    if (backoffGiven !== undefined && backoffOptions !== backoffGiven) {
      yield* Effect.logWarning("TokenSource.make failureBackoff is not an object; using the default backoff")
    }
    const backoffInitial = Duration.toMillis(
      yield* OptionChecks.durationOr(
        backoffOptions.initial,
        "TokenSource.make failureBackoff.initial",
        Duration.millis(500),
        { finite: true }
      )
    )
    const backoffMax = Duration.toMillis(
      yield* OptionChecks.durationOr(
        backoffOptions.max,
        "TokenSource.make failureBackoff.max",
        Duration.seconds(10),
        { finite: true }
      )
    )
    const backoff = (failures: number) => Math.min(backoffInitial * 2 ** (failures - 1), backoffMax)
    const state = yield* SynchronizedRef.make(initial)
    // Background fetches run in this scope; once it is closed nothing could complete them.
    const closed = yield* Ref.make(false)
    yield* Effect.addFinalizer(() => Ref.set(closed, true))
    const usedAfterClose = Effect.dieMessage(
      `The ${authType} TokenSource was used after the scope (layer) that created it was closed`
    )

    const resolve = (issued: IssuedToken, now: number): Either.Either<Cached, AuthenticationError> =>
      Either.gen(function*() {
        const value = yield* TokenValue.issued(issued.value, `The issuer of the ${authType} token source`)
        const expiry = yield* Expiry.resolve({
          expiresAt: issued.expiresAt,
          expiresIn: issued.expiresIn,
          token: Redacted.value(value)
        }, now)
        if (Option.isNone(expiry)) {
          return { token: { value, expiresAt: Option.none() }, refreshAt: Infinity, unusableAt: Infinity }
        }
        const expiresAt = DateTime.toEpochMillis(expiry.value)
        const lifetime = expiresAt - now
        // Short-lived tokens keep a quarter of their lifetime as the margin. One whose whole
        // lifetime is within `refreshAhead` is refreshed at half-life instead of on every call.
        const unusableAt = expiresAt - Math.min(usableMargin, Math.max(lifetime, 0) / 4)
        const ahead = expiresAt - refreshAhead
        const refreshAt = Math.min(ahead > now ? ahead : now + lifetime / 2, unusableAt)
        return { token: { value, expiresAt: expiry }, refreshAt, unusableAt }
      })

    // No secret can be in these: they are our own words. The defect itself is logged (redacted), not kept,
    // because its text is foreign (a driver's or platform's message may quote a header).
    const unexpected = new AuthenticationError({
      message: `The ${authType} token source failed unexpectedly while fetching a token`,
      hint:
        "This is a bug in the credential's token fetch (see the log line \"token fetch died\"), not a refused credential; the next call tries again"
    })
    const interrupted = new AuthenticationError({
      message:
        `The ${authType} token source stopped while fetching a token: the scope (layer) that created it was closed`,
      hint: "Use a TokenSource only while the layer that created it is open"
    })

    // A typed failure is passed on as it is; a defect or an interruption inside the fetch becomes
    // `unexpected`, so waiters always get an AuthenticationError (never a defect, never a hang).
    const typedFailureOption = (cause: Cause.Cause<unknown>) =>
      Option.filter(
        Cause.failureOption(cause),
        (error): error is AuthenticationError =>
          typeof error === "object" && error !== null && (error as { _tag?: unknown })._tag === "AuthenticationError"
      )
    const typedFailure = (cause: Cause.Cause<unknown>) => Option.getOrElse(typedFailureOption(cause), () => unexpected)

    /** Ends a flight that failed: its waiters get the failure, and the next call may fetch after a backoff. */
    const fail = (deferred: Deferred.Deferred<AccessToken, AuthenticationError>, cause: Cause.Cause<unknown>) =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        yield* SynchronizedRef.update(state, (s) => ({
          ...s,
          flight: s.flight === deferred ? undefined : s.flight,
          failures: s.failures + 1,
          nextAttemptAt: now + backoff(s.failures + 1)
        }))
        const failure = typedFailureOption(cause)
        if (Option.isSome(failure)) {
          yield* Effect.logWarning("token request failed", Cause.fail(failure.value))
        } else {
          yield* Effect.logError(`token fetch died: ${Redaction.redact(Cause.pretty(cause))}`)
        }
        yield* Deferred.fail(deferred, Option.getOrElse(failure, () => unexpected))
      })

    // Tagged once per source, both tags in one array: the registry finds a metric's state by that array.
    const fetches = (outcome: string) =>
      Metric.taggedWithLabels(AuthMetrics.tokenFetches, [
        MetricLabel.make("auth_type", authType),
        MetricLabel.make("outcome", outcome)
      ])
    const fetchSucceeded = fetches("success")
    const fetchFailed = fetches("failure")

    /**
     * One request to the issuer and the check of its answer, as the span `TokenSource.fetch` (a child of the
     * call that needed the token: the flight's fiber is forked from it) and one count in `tokenFetches`. The
     * span fails with our own error only (`unexpected` for a defect): a defect's text is foreign and may quote
     * a header, so its cause goes to `onFailure` (which logs it redacted), never to the span.
     */
    const fetchOnce = (onFailure: (cause: Cause.Cause<unknown>) => void) =>
      Effect.gen(function*() {
        const issued = yield* Effect.provide(fetch, context)
        const now = yield* Clock.currentTimeMillis
        const cached = yield* resolve(issued, now)
        return { cached, now }
      }).pipe(
        Effect.catchAllCause((cause) => {
          onFailure(cause)
          const error = typedFailure(cause)
          return Effect.zipRight(
            Effect.annotateCurrentSpan("error.type", error._tag),
            Effect.fail(error)
          )
        }),
        Effect.onExit((exit) => Metric.increment(Exit.isSuccess(exit) ? fetchSucceeded : fetchFailed)),
        Effect.withSpan("TokenSource.fetch", {
          attributes: { "databricks.auth_type": authType },
          captureStackTrace: false
        })
      )

    const runFlight = (deferred: Deferred.Deferred<AccessToken, AuthenticationError>, notBefore: number) =>
      Effect.gen(function*() {
        const start = yield* Clock.currentTimeMillis
        if (notBefore > start) {
          yield* Effect.logDebug(`waiting ${notBefore - start} ms before the next token request after a failure`)
          yield* Effect.sleep(notBefore - start)
        }
        let failure: Cause.Cause<unknown> | undefined
        const fetched = yield* Effect.either(fetchOnce((cause) => (failure = cause)))
        if (Either.isLeft(fetched)) return yield* fail(deferred, failure ?? Cause.fail(fetched.left))
        const { cached, now } = fetched.right
        if (cached.unusableAt <= now) {
          yield* Effect.logWarning("the issuer returned a token that has already expired; check the clock")
        }
        yield* SynchronizedRef.set(state, { ...initial, cached })
        yield* Effect.logDebug("token obtained").pipe(
          Effect.annotateLogs(
            "expiresAt",
            Option.match(cached.token.expiresAt, {
              onNone: () => "never",
              onSome: DateTime.formatIso
            })
          )
        )
        return yield* Deferred.succeed(deferred, cached.token)
      }).pipe(
        // Anything that goes wrong in our own code after the fetch still ends the flight.
        Effect.catchAllCause((cause) => fail(deferred, cause)),
        Effect.onInterrupt(() =>
          Effect.zipRight(
            SynchronizedRef.update(state, (s) => s.flight === deferred ? { ...s, flight: undefined } : s),
            Deferred.fail(deferred, interrupted)
          )
        ),
        Effect.annotateLogs("authType", authType),
        Effect.forkIn(scope),
        // A fiber forked into a scope that is closing is interrupted before it runs a single step, so
        // the handlers above never run: the observer makes sure no waiter is left on the Deferred.
        Effect.tap((fiber) =>
          Effect.sync(() =>
            fiber.addObserver((fiberExit) => {
              if (Exit.isFailure(fiberExit)) Deferred.unsafeDone(deferred, Exit.fail(interrupted))
            })
          )
        )
      )

    const startFlight = (s: State, notBefore: number) =>
      Deferred.make<AccessToken, AuthenticationError>().pipe(
        Effect.tap((deferred) => runFlight(deferred, notBefore)),
        Effect.map((flight) => [flight, { ...s, flight }] as const)
      )

    const decide = (s: State, now: number): Effect.Effect<readonly [Decision, State]> => {
      const cached = s.cached
      if (cached !== undefined && now < cached.unusableAt) {
        const serve: Decision = { _tag: "Serve", token: cached.token }
        if (now >= cached.refreshAt && s.flight === undefined && now >= s.nextAttemptAt) {
          // Inside the refresh window: one background refresh, nobody waits.
          return Effect.map(startFlight(s, 0), ([, next]) => [serve, next] as const)
        }
        return Effect.succeed([serve, s] as const)
      }
      if (s.flight !== undefined) return Effect.succeed([{ _tag: "Await", flight: s.flight }, s] as const)
      return Effect.map(startFlight(s, s.nextAttemptAt), ([flight, next]) => [{ _tag: "Await", flight }, next] as const)
    }

    const token: Effect.Effect<AccessToken, AuthenticationError> = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      const current = yield* SynchronizedRef.get(state)
      if (current.cached !== undefined && now < current.cached.refreshAt) return current.cached.token
      if (yield* Ref.get(closed)) return yield* usedAfterClose
      const decision = yield* SynchronizedRef.modifyEffect(state, (s) => decide(s, now))
      return decision._tag === "Serve" ? decision.token : yield* Deferred.await(decision.flight)
    })

    // A flight already under way keeps going: it was started for a newer token anyway.
    const invalidate = SynchronizedRef.update(state, (s) => ({ ...s, cached: undefined }))

    return { authType, token, invalidate }
  })
