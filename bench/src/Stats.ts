/** Order statistics for the bench's samples. */

/** The value below which `p` (0–1) of the samples fall, by nearest rank. */
export const percentile = (samples: ReadonlyArray<number>, p: number): number => {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]
}

export const median = (samples: ReadonlyArray<number>): number => percentile(samples, 0.5)
