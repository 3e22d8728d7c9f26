/**
 * Generated hostile input through the auth package's public constructors, against the Emulator. Every run
 * must end in success or one of our tagged errors: never a defect, never a hang, and never a secret in
 * `String`, `JSON.stringify` or `util.inspect` of the error, nor in any log line.
 *
 * Every secret the generator makes starts with a unique marker (`s3cretN_`), so a secret printed even in
 * part (its first line, its first characters) is found by looking for the marker.
 */
import {
  AuthConfig,
  LocalM2M,
  Pat,
  TokenEnv,
  TokenSource,
  WorkspaceClient,
  WorkspaceHost
} from "@effect-databricks/auth"
import { Emulator } from "@effect-databricks/testing"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Effect, Exit, FastCheck as fc, Layer, Option, Redacted } from "effect"
import * as Util from "node:util"
import { type Outcome, runCase } from "./hostile.js"
import { withEnv } from "./utils.js"

const seed = 20261129

/** Our tagged errors: anything else that fails a run is a bug. */
const tags = new Set([
  "AuthenticationError",
  "PermissionError",
  "RateLimitError",
  "ServerError",
  "NetworkError",
  "TimeoutError",
  "ConfigurationError"
])

/** Strings that have broken credential libraries: line breaks, control characters, lone surrogates, prototype keys, URL tricks. */
const nasty = fc.constantFrom(
  "",
  " ",
  "\n",
  "a\r\nb",
  "tok\nen",
  "\u0000",
  "\u007f",
  "\uD800",
  "é",
  "😀",
  "__proto__",
  "constructor",
  "toString",
  "Bearer x",
  "@127.0.0.1:9/x",
  "//127.0.0.1:9/x",
  "https://u:p@h",
  "1e20",
  "x".repeat(20_000)
)
const hostileString = fc.oneof(
  nasty,
  fc.string(),
  fc.fullUnicodeString(),
  fc.tuple(fc.string(), nasty, fc.string()).map(([a, b, c]) => `${a}${b}${c}`)
)
const hostileValue = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.anything() },
  { weight: 1, arbitrary: fc.constantFrom(undefined, null, 0, Number.NaN, 1e20, -1, true, [], {}) }
)

let counter = 0
/** A secret with a unique marker in front of hostile text. */
const secretOf = (rest: unknown) => `s3cret${++counter}_${typeof rest === "string" ? rest : String(rest)}`
const markerOf = (secret: string) => secret.slice(0, secret.indexOf("_") + 1)

/** Everything that can show a failure to a person or a log pipeline. */
const renderings = (exit: Exit.Exit<unknown, unknown>): ReadonlyArray<string> => {
  if (Exit.isSuccess(exit)) return []
  const failures = [...Cause.failures(exit.cause)] as Array<any>
  return [
    Cause.pretty(exit.cause),
    ...failures.flatMap((error) => [String(error), JSON.stringify(error), Util.inspect(error, { depth: 10 })])
  ]
}

const check = (name: string, input: unknown, outcome: Outcome<unknown>, secrets: ReadonlyArray<string>) => {
  const { exit, lines } = outcome
  const shown = Util.inspect(input, { depth: 3, maxStringLength: 200 })
  if (Exit.isFailure(exit)) {
    assert.isFalse(Cause.isDie(exit.cause), `${name}(${shown}) died:\n${Cause.pretty(exit.cause)}`)
    const failure = Option.getOrUndefined(Cause.failureOption(exit.cause)) as { _tag?: string } | undefined
    assert.isTrue(
      failure !== undefined && tags.has(failure._tag ?? ""),
      `${name}(${shown}) failed with something untyped:\n${Cause.pretty(exit.cause)}`
    )
  }
  for (const text of [...renderings(exit), ...lines]) {
    for (const secret of secrets) {
      assert.notInclude(text, markerOf(secret), `${name}(${shown}) showed a secret`)
    }
  }
}

/**
 * A WorkspaceClient call with the given credential: the token goes into a real HTTP header. The credential
 * is built inside the effect, so a constructor that throws is caught as a defect of the case.
 */
const callWorkspace = (credential: () => Layer.Layer<TokenSource.TokenSource, unknown, any>) =>
  Effect.gen(function*() {
    const emulator = yield* Emulator.Emulator
    const layer = WorkspaceClient.layer({ host: emulator.host, retry: { times: 0 } }).pipe(
      Layer.provideMerge(Layer.suspend(credential)),
      Layer.provide(Emulator.httpClient)
    )
    return yield* Effect.provide(
      WorkspaceClient.currentUser,
      layer as Layer.Layer<WorkspaceClient.WorkspaceClient, unknown>
    )
  })

describe("public constructors under generated hostile input", () => {
  it.scoped("token constructors: a typed error or success, no defect, hang or secret", () =>
    Effect.gen(function*() {
      const samples = fc.sample(hostileValue, { numRuns: 60, seed })
      for (const sample of samples) {
        const secret = secretOf(sample)
        const raw = typeof sample === "string" ? secret : sample
        for (
          const [name, credential] of [
            ["Pat.layer", () => Pat.layer({ token: Redacted.make(secret) })],
            ["Pat.layer (untyped)", () => Pat.layer({ token: raw } as any)],
            ["TokenEnv.layer", () => TokenEnv.layer({ token: Redacted.make(secret) })],
            ["TokenSource.layerStatic", () => TokenSource.layerStatic(Redacted.make(secret))]
          ] as const
        ) {
          check(name, sample, yield* runCase(callWorkspace(credential)), [secret])
        }
      }
    }).pipe(Effect.provide(Emulator.layer())), { timeout: 240_000 })

  it.scoped(
    "LocalM2M: hostile client ids and secrets against the emulator's token endpoint",
    () =>
      Effect.gen(function*() {
        const emulator = yield* Emulator.Emulator
        const samples = fc.sample(fc.tuple(hostileValue, hostileValue), { numRuns: 40, seed: seed + 1 })
        for (const [id, rest] of samples) {
          const secret = secretOf(rest)
          const credential = () =>
            LocalM2M.layer({
              host: emulator.host,
              clientId: id as string,
              clientSecret: Redacted.make(secret),
              retry: { times: 0 }
            })
          check("LocalM2M.layer", { id, rest }, yield* runCase(callWorkspace(credential)), [secret])
        }
      }).pipe(Effect.provide(Emulator.layer())),
    { timeout: 240_000 }
  )

  it.effect("WorkspaceHost.make: hostile hosts, with a password in user info never shown", () =>
    Effect.gen(function*() {
      const samples = fc.sample(fc.tuple(hostileValue, hostileString), { numRuns: 300, seed: seed + 2 })
      for (const [host, rest] of samples) {
        const password = secretOf(rest.replace(/[@/\s]/g, ""))
        for (const input of [host, `https://user:${password}@${String(host)}`]) {
          const outcome = yield* runCase(Effect.suspend(() => WorkspaceHost.make(input as string)))
          check("WorkspaceHost.make", input, outcome, [password])
        }
      }
    }))

  it.scoped("AuthConfig: hostile environments resolve to a typed error or a credential", () =>
    Effect.gen(function*() {
      const emulator = yield* Emulator.Emulator
      const names = [
        "DATABRICKS_AUTH_TYPE",
        "APP_AUTH_TYPE",
        "DATABRICKS_CONFIG_PROFILE",
        "DATABRICKS_CLIENT_ID",
        "DATABRICKS_TOKEN",
        "DATABRICKS_CLIENT_SECRET",
        "DATABRICKS_ACCESS_TOKEN"
      ] as const
      const samples = fc.sample(
        fc.record(Object.fromEntries(names.map((name) => [name, fc.option(hostileString, { nil: undefined })]))),
        { numRuns: 60, seed: seed + 3 }
      )
      for (const sample of samples) {
        const secrets: Array<string> = []
        const env: Record<string, string> = {
          // Always the emulator: a generated host could name a machine on the network.
          DATABRICKS_HOST: emulator.host,
          DATABRICKS_CONFIG_FILE: "/nonexistent/databrickscfg",
          // Never a real CLI: a generated auth type may pick the CLI method.
          DATABRICKS_CLI_PATH: "/nonexistent/databricks"
        }
        for (const [name, value] of Object.entries(sample)) {
          if (value === undefined) continue
          const secretName = /TOKEN|SECRET/.test(name)
          env[name] = secretName ? secretOf(value) : value as string
          if (secretName) secrets.push(env[name])
        }
        const outcome = yield* runCase(
          callWorkspace(() => AuthConfig.layer({ m2m: { retry: { times: 0 } } })).pipe(Effect.provide(withEnv(env)))
        )
        check("AuthConfig.layer", env, outcome, secrets)
      }
    }).pipe(Effect.provide(Emulator.layer())), { timeout: 240_000 })
})
