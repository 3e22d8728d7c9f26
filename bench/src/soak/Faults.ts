/**
 * The soak's fault generator: every few hundred milliseconds, one random fault on a random endpoint
 * or RPC (an error status, a reset before or after the server acts, a delay, an empty 200), and now and
 * then the warehouse starting or forgetting every session. Seeded, so a run can be repeated.
 */
import { Emulator } from "@effect-databricks/testing"
import { Duration, Effect, Random } from "effect"

// Every endpoint and RPC the emulator can fault (RPC names are the warehouse's PascalCase Thrift calls).
// The authorize endpoint is a browser's, not a client's; "*" and "warehouse" are not single endpoints.
const named = Emulator.FaultTarget.literals.filter((t) => t !== "*" && t !== "warehouse" && t !== "authorize")
const isRpc = (target: string) => /^[A-Z]/.test(target)
const endpoints = named.filter((target) => !isRpc(target))
const rpcs = named.filter(isRpc)
const statuses = [429, 500, 502, 503, 504] as const

const pick = <A>(values: ReadonlyArray<A>) => Effect.map(Random.nextIntBetween(0, values.length), (i) => values[i])

/** Every target the generator picks from: the endpoints, the RPCs and the warehouse itself. */
export const targets: ReadonlyArray<string> = [...endpoints, ...rpcs, "warehouse"]

/**
 * One random fault on one of `only` (default: every target), none on a `busy` one; undefined when the
 * roll falls on busy targets only. The warehouse is never busy, and keeps its share of the faults.
 */
export const randomFault = (only: ReadonlySet<string> = new Set(targets), busy: ReadonlySet<string> = new Set()) =>
  Effect.gen(function*() {
    const warehouse = only.has("warehouse")
    const allowed = named.filter((target) => only.has(target))
    const chosen = allowed.filter((target) => !busy.has(target))
    const roll = yield* Random.nextIntBetween(0, 100)
    if (warehouse && (roll < 8 || allowed.length === 0)) {
      return roll % 2 === 0
        ? { target: "warehouse", startingMs: yield* Random.nextIntBetween(500, 3_000) } as const
        : { target: "warehouse", expireSessions: true } as const
    }
    if (chosen.length === 0) return undefined
    const preferEndpoint = roll < 30 && chosen.some((target) => !isRpc(target))
    const preferred = chosen.filter((target) => isRpc(target) !== preferEndpoint)
    const target = yield* pick(preferred.length > 0 ? preferred : chosen)
    const count = yield* Random.nextIntBetween(1, 4)
    const kind = yield* Random.nextIntBetween(0, 10)
    if (kind < 5) {
      const status = yield* pick(statuses)
      return {
        target,
        count,
        status,
        ...(status === 429 ? { headers: { "Retry-After": "1" } } : {})
      } satisfies Emulator.Fault
    }
    if (kind < 7) {
      // A session opened under a lost answer has a handle no client ever saw, so no client can close it
      // (the warehouse expires it): it would count as a leak that is nobody's. Resets before still happen.
      const after = target !== "OpenSession" && (yield* Random.nextBoolean)
      return { target, count, reset: after ? "after" : "before" } as const
    }
    if (kind < 9) return { target, count, delayMs: yield* Random.nextIntBetween(200, 2_500) } as const
    return { target, count, emptyBody: true } as const
  })

/**
 * Adds a random fault every `every` until interrupted; answers how many it added, by target. A target
 * whose last fault is still waiting for a request gets no other: faults on a call made rarely (CloseSession)
 * would pile up into dozens of failures in a row for the next one, which no outage looks like and no
 * bounded retry survives.
 */
export const generate = (
  emulator: Emulator.Emulator,
  every: Duration.DurationInput,
  only: ReadonlySet<string>,
  added: Map<string, number>
) =>
  Effect.gen(function*() {
    while (true) {
      yield* Effect.sleep(Duration.times(Duration.decode(every), 0.5 + (yield* Random.next)))
      const pending = new Set<string>((yield* emulator.faults.list).map((fault) => fault.target))
      const fault = yield* randomFault(only, pending)
      if (fault === undefined) continue
      yield* emulator.faults.add(fault)
      added.set(fault.target, (added.get(fault.target) ?? 0) + 1)
    }
  })
