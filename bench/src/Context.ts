/** What every row of the bench gets: the emulator, its connection details, and helpers to count on it. */
import { LocalM2M, Pat } from "@effect-databricks/auth"
import { SqlClient } from "@effect-databricks/sql"
import { Emulator } from "@effect-databricks/testing"
import { Context, Effect, Layer } from "effect"

export interface Bench {
  readonly emulator: Emulator.Emulator
  readonly info: Emulator.ConnectionInfo
  /** Smaller counts, for a check that the bench runs (not for figures). */
  readonly quick: boolean
}

export const Bench = Context.GenericTag<Bench>("bench/Bench")

/** One line of the printed table. */
export interface Row {
  readonly name: string
  readonly raw: string
  readonly client: string
  readonly ratio: string
  readonly goal: string
  /** Whether the goal is met; undefined for rows without one. */
  readonly met?: boolean | undefined
}

const sum = (counts: Readonly<Record<string, number>>) => Object.values(counts).reduce((a, b) => a + b, 0)

/** Token requests of every grant type so far. */
export const tokenRequests = (stats: Emulator.Stats) => sum(stats.tokenRequests)

/** Warehouse RPCs of every kind so far. */
export const rpcs = (stats: Emulator.Stats) => sum(stats.rpc)

/** Runs `effect` and answers what `count` grew by on the emulator meanwhile. */
export const counted = <A, E, R>(count: (stats: Emulator.Stats) => number, effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const { emulator } = yield* Bench
    const before = count(yield* emulator.stats)
    const value = yield* effect
    return { value, delta: count(yield* emulator.stats) - before }
  })

/** A SqlClient on the emulator's warehouse, default options unless given, with a PAT or the service principal. */
export const clientLayer = (
  emulator: Emulator.Emulator,
  credential: "pat" | "m2m",
  options?: Partial<SqlClient.Options>
) =>
  SqlClient.layer({ host: emulator.host, httpPath: emulator.httpPath, caCert: emulator.caCertPem, ...options }).pipe(
    Layer.provide(
      credential === "pat"
        ? Pat.layer({ token: emulator.pat })
        : LocalM2M.layer({
          host: emulator.host,
          clientId: emulator.servicePrincipal.clientId,
          clientSecret: emulator.servicePrincipal.clientSecret
        })
    ),
    Layer.provide(Emulator.httpClient),
    Layer.provide(Layer.succeed(Emulator.Emulator, emulator))
  )

/** Formats a count or a ratio for the table. */
export const fmt = (value: number, digits = 0) =>
  Number.isFinite(value) ? value.toLocaleString("en-US", { maximumFractionDigits: digits }) : "n/a"

export const times = (n: number) => Array.from({ length: n }, (_, i) => i)
