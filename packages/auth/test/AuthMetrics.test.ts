import { AuthMetrics, DatabricksError, TokenSource } from "@effect-databricks/auth"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, Metric, Redacted, Ref, TestClock, Tracer } from "effect"

/** Every span opened under `effect`, read back once it ran. */
const recordingSpans = Effect.map(Effect.tracer, (base) => {
  const spans: Array<Tracer.Span> = []
  const tracer = Tracer.make({
    context: base.context,
    span: (...args) => {
      const span = base.span(...args)
      spans.push(span)
      return span
    }
  })
  return { spans, tracer }
})

/** Each test has an auth type of its own: metrics are global, and tests run concurrently. */
const fetches = (authType: string, outcome: "success" | "failure") =>
  Metric.value(
    AuthMetrics.tokenFetches.pipe(Metric.tagged("auth_type", authType), Metric.tagged("outcome", outcome))
  ).pipe(Effect.map((state) => state.count))

const refused = new DatabricksError.AuthenticationError({
  message: "The token endpoint refused the client",
  oauthError: "invalid_client"
})

describe("AuthMetrics and the TokenSource.fetch span", () => {
  it.scoped("a failed then a successful fetch: one count per outcome, two child spans of the caller's span", () =>
    Effect.gen(function*() {
      const authType = "metrics-test-outcomes"
      const calls = yield* Ref.make(0)
      const issued: TokenSource.IssuedToken = { value: Redacted.make("tok-1"), expiresIn: "1 hour" }
      const fetch = Effect.flatMap(
        Ref.getAndUpdate(calls, (n) => n + 1),
        (n) => n === 0 ? Effect.fail(refused) : Effect.succeed(issued)
      )
      const { spans, tracer } = yield* recordingSpans
      const source = yield* TokenSource.make(fetch, { authType })
      const first = yield* Effect.flip(source.token).pipe(Effect.withSpan("caller"), Effect.withTracer(tracer))
      assert.strictEqual(first._tag, "AuthenticationError")
      assert.strictEqual(first.oauthError, "invalid_client")
      // The next fetch waits out the failure backoff (500 ms) on the clock.
      yield* TestClock.adjust("1 second")
      const token = yield* source.token.pipe(Effect.withSpan("caller"), Effect.withTracer(tracer))
      assert.strictEqual(Redacted.value(token.value), "tok-1")

      assert.strictEqual(yield* fetches(authType, "failure"), 1)
      assert.strictEqual(yield* fetches(authType, "success"), 1)
      const callers = spans.filter((span) => span.name === "caller")
      const fetched = spans.filter((span) => span.name === "TokenSource.fetch")
      assert.strictEqual(fetched.length, 2)
      fetched.forEach((span, i) => {
        assert.strictEqual(span.attributes.get("databricks.auth_type"), authType)
        assert.strictEqual(span.parent._tag === "Some" && span.parent.value.spanId, callers[i]!.spanId)
        assert.strictEqual(span.status._tag, "Ended")
      })
      const [failed, succeeded] = fetched.map((span) => span.status._tag === "Ended" ? span.status.exit : undefined)
      assert.isTrue(failed !== undefined && Exit.isFailure(failed), "the failed fetch's span ends in failure")
      assert.strictEqual(fetched[0]!.attributes.get("error.type"), "AuthenticationError")
      assert.isTrue(succeeded !== undefined && Exit.isSuccess(succeeded))
      assert.isFalse(fetched[1]!.attributes.has("error.type"))
    }))

  it.scoped("a fetch that dies: the span fails with our own words, never the defect's text", () =>
    Effect.gen(function*() {
      const authType = "metrics-test-defect"
      const { spans, tracer } = yield* recordingSpans
      const source = yield* TokenSource.make(
        Effect.die(new Error("socket closed; request was: Authorization: Bearer dapi-leaked-0123456789abcdef")),
        { authType }
      )
      const error = yield* Effect.flip(source.token).pipe(Effect.withSpan("caller"), Effect.withTracer(tracer))
      assert.strictEqual(error._tag, "AuthenticationError")
      assert.strictEqual(yield* fetches(authType, "failure"), 1)
      const fetched = spans.find((span) => span.name === "TokenSource.fetch")
      assert.isDefined(fetched)
      assert.strictEqual(fetched!.attributes.get("error.type"), "AuthenticationError")
      const exit = fetched!.status._tag === "Ended" ? fetched!.status.exit : Exit.void
      assert.isTrue(Exit.isFailure(exit))
      const recorded = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      assert.include(recorded, "failed unexpectedly")
      assert.notInclude(recorded, "dapi-leaked")
      assert.notInclude(JSON.stringify([...fetched!.attributes]), "dapi-leaked")
    }))
})
