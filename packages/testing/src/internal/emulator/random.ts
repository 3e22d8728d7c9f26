import * as Crypto from "node:crypto"

/** Random hex with a recognisable prefix, like Databricks' `dapi…` PATs and `dose…` OAuth secrets. */
export const secret = (prefix: string, bytes = 16): string => `${prefix}${Crypto.randomBytes(bytes).toString("hex")}`

export const uuid = (): string => Crypto.randomUUID()

/** Constant-time string comparison, so the emulator does not teach clients timing leaks. */
export const safeEqual = (a: string, b: string): boolean => {
  const left = Buffer.from(a)
  const right = Buffer.from(b)
  return left.length === right.length && Crypto.timingSafeEqual(left, right)
}

/** A small seeded generator (mulberry32), so probabilistic faults replay the same way for a seed. */
export const seeded = (seed: number): () => number => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** A 16-digit numeric id, the shape Databricks uses for users and service principals. */
export const numericId = (): string => String(1_000_000_000_000_000 + Crypto.randomInt(0, 2 ** 47))
