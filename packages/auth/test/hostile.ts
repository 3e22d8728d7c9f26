/**
 * What every hostile-input test checks: a run bounded in real time with its log lines captured, and a failure
 * that is exactly the expected tagged error and shows no secret anywhere.
 */
import { assert } from "@effect/vitest"
import { Cause, Effect, Exit, Logger, LogLevel, Option } from "effect"
import * as Util from "node:util"

export interface Outcome<A> {
  readonly exit: Exit.Exit<A, unknown>
  readonly lines: ReadonlyArray<string>
}

/** Runs `effect` with every log line captured, bounded in real time: a hang fails the case. */
export const runCase = <A, E, R>(effect: Effect.Effect<A, E, R>): Effect.Effect<Outcome<A>, never, R> =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const capture = Logger.make(({ annotations, cause, message }) => {
      lines.push(Util.inspect({ message, annotations: [...annotations] }, { depth: 10 }), Cause.pretty(cause))
    })
    const exit = yield* effect.pipe(
      Effect.scoped,
      Effect.timeoutFail({ duration: "10 seconds", onTimeout: () => new Error("hang: no answer within 10 seconds") }),
      Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
      Logger.withMinimumLogLevel(LogLevel.All),
      Effect.exit
    )
    return { exit, lines }
  })

/** The forms in which a secret could leak: as is, URL/form-encoded, and inside HTTP Basic. */
export const leakForms = (secret: string): ReadonlyArray<string> => [
  secret,
  encodeURIComponent(secret),
  new URLSearchParams({ v: secret }).toString().slice(2),
  Buffer.from(secret).toString("base64")
]

export type Failure =
  & { readonly _tag: string; readonly message: string; readonly hint?: string | undefined }
  & Record<
    string,
    unknown
  >

/**
 * The case failed with `tag` (no defect, no hang), and no secret shows in the error's renderings or the logs.
 * Every secret used here carries the marker "zq9", so even a part of one is found.
 */
export const expectFailure = <A>(
  outcome: Outcome<A>,
  tag: string,
  secrets: ReadonlyArray<string>
): Failure => {
  const { exit, lines } = outcome
  assert.isTrue(Exit.isFailure(exit), `expected ${tag}, got success`)
  if (Exit.isSuccess(exit)) throw new Error("unreachable")
  assert.isFalse(Cause.isDie(exit.cause), `died:\n${Cause.pretty(exit.cause)}`)
  const error = Option.getOrThrow(Cause.failureOption(exit.cause)) as Failure
  assert.strictEqual(error._tag, tag, `expected ${tag}:\n${Cause.pretty(exit.cause)}`)
  const shown = [
    String(error),
    JSON.stringify(error),
    Util.inspect(error, { depth: 10 }),
    Cause.pretty(exit.cause),
    ...lines
  ]
  for (const text of shown) {
    for (const secret of secrets) {
      for (const form of leakForms(secret)) assert.notInclude(text, form, "a secret was shown")
      assert.notInclude(text, "zq9", "a part of a secret was shown")
    }
  }
  return error
}
