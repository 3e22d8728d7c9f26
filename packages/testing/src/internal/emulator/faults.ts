import type { Fault } from "./fault.js"
import * as Random from "./random.js"

interface Active {
  readonly fault: Fault
  remaining: number
  readonly roll: (() => number) | undefined
}

/**
 * The injected faults, in the order they were added. A fault without
 * `probability` applies to the next `count` (default 1) matching requests;
 * with one, each matching request rolls a seeded die, up to `count` hits.
 */
export class Faults {
  private active: Array<Active> = []

  add(fault: Fault): void {
    const probabilistic = fault.probability !== undefined
    this.active.push({
      fault,
      remaining: fault.count ?? (probabilistic ? Infinity : 1),
      roll: probabilistic ? Random.seeded(fault.seed ?? Math.floor(Math.random() * 2 ** 32)) : undefined
    })
  }

  clear(): void {
    this.active = []
  }

  list(): ReadonlyArray<Fault> {
    return this.active.map((entry) => entry.fault)
  }

  /** The fault this request gets, if any, counting it against the fault's budget. */
  take(target: string): Fault | undefined {
    for (const entry of this.active) {
      if (entry.fault.target !== "*" && entry.fault.target !== target) continue
      if (entry.roll !== undefined && entry.roll() >= entry.fault.probability!) continue
      entry.remaining -= 1
      if (entry.remaining <= 0) this.active = this.active.filter((other) => other !== entry)
      return entry.fault
    }
    return undefined
  }
}
