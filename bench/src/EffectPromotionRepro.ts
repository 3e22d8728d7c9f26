/**
 * A reproduction, without any driver, of why an Effect `Stream` read with `Stream.runForEachChunk` (or
 * `runForEach`, or anything that runs an effect per chunk through `Channel.fromEffect`) sends every chunk to
 * V8's old generation, when the same rows read by a plain loop die young.
 *
 *   node --import tsx bench/src/EffectPromotionRepro.ts [BATCHES]
 *
 * V8's parser pretenures a function literal assigned straight to a property (`o.p = () => x`): it is allocated
 * in the old generation, on the guess that it is a method. Effect 3 builds some primitives that way for every
 * operation, notably `Channel.fromEffect` (`op.effect = () => effect`, which `Sink.forEachChunk` calls with the
 * caller's effect for each chunk) and `Effect.async` (`effect.effect_instruction_i0 = (resume) => ...`). The
 * closure dies at once, but it stays in the old generation until the next mark-compact, and until then the
 * scavenger treats its fields as roots (old-to-new remembered set): its context, hence the caller's effect,
 * hence the chunk it captured, survive every scavenge and are promoted. The batches here are a stand-in for a
 * database driver's fetched rows: 10,000 small objects, allocated among about 10 MB of decoding garbage, after
 * real I/O (a `setImmediate`).
 *
 * Prints, per reader, the peak growth of the old generation and the major GCs, as JSON lines; then the V8
 * behaviour itself: whether a closure assigned to a property is born in the young generation.
 */
import { Chunk, Effect, Option, Stream } from "effect"
import * as V8 from "node:v8"
import * as Vm from "node:vm"

const batches = Number(process.argv[2] ?? 100)
const rowsPerBatch = 10_000

V8.setFlagsFromString("--expose-gc")
V8.setFlagsFromString("--allow-natives-syntax")
const gc = Vm.runInNewContext("gc") as (options?: { readonly type: "minor" | "major" }) => void

const inYoungGeneration = new Function("o", "return %InYoungGeneration(o)") as (o: unknown) => boolean

const oldSpace = () =>
  V8.getHeapSpaceStatistics().find((space) => space.space_name === "old_space")?.space_used_size ?? 0

let made = 0
/**
 * One batch after real I/O (a `setImmediate`), after one scavenge, as a driver's decoding garbage triggers about
 * one per batch. An object is promoted when it survives two scavenges: a batch that something still reaches
 * one batch later is.
 */
const produce = (): Promise<Array<{ readonly id: bigint }>> =>
  new Promise<void>((resolve) => setImmediate(resolve)).then(() => {
    gc({ type: "minor" })
    const batch: Array<{ readonly id: bigint }> = []
    for (let i = 0; i < rowsPerBatch; i++) batch.push({ id: BigInt(made * rowsPerBatch + i) + 2n ** 64n })
    made++
    return batch
  })

type Reader = (onBatch: () => void) => Promise<number>

const readers: Record<string, Reader> = {
  // A plain loop, in callbacks so that no suspended async function keeps the last batch in its registers.
  "plain loop": (onBatch) => {
    let n = 0
    const next = (left: number): Promise<number> =>
      left === 0 ? Promise.resolve(n) : produce().then((batch) => {
        onBatch()
        for (const _ of batch) n++
        return next(left - 1)
      })
    return next(batches)
  },
  // Each batch awaited through its own fiber: `Effect.async`'s pretenured closure reaches the fiber, whose exit
  // holds the batch.
  "await Effect.runPromise(Effect.promise(produce))": (onBatch) => {
    let n = 0
    const next = (left: number): Promise<number> =>
      left === 0 ? Promise.resolve(n) : Effect.runPromise(Effect.promise(produce)).then((batch) => {
        onBatch()
        for (const _ of batch) n++
        return next(left - 1)
      })
    return next(batches)
  },
  // The same batches as an Effect Stream, read without an effect per chunk.
  "Stream.runDrain(Stream.mapChunks)": (onBatch) => {
    let n = 0
    return Effect.runPromise(Stream.runDrain(Stream.mapChunks(stream(), (chunk) => {
      onBatch()
      for (const _ of chunk) n++
      return chunk
    }))).then(() => n)
  },
  // The same Stream, read with an effect per chunk: every chunk is promoted.
  "Stream.runForEachChunk": (onBatch) => {
    let n = 0
    return Effect.runPromise(Stream.runForEachChunk(stream(), (chunk) =>
      Effect.sync(() => {
        onBatch()
        for (const _ of chunk) n++
      }))).then(() => n)
  }
}

const stream = () => {
  let left = batches
  return Stream.repeatEffectChunkOption(
    Effect.suspend(() =>
      left-- > 0 ? Effect.map(Effect.promise(produce), Chunk.unsafeFromArray) : Effect.fail(Option.none())
    )
  )
}

const majors = { count: 0 }
const { PerformanceObserver } = await import("node:perf_hooks")
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    if ((entry as { readonly detail?: { readonly kind?: number } }).detail?.kind === 4) majors.count++
  }
}).observe({ entryTypes: ["gc"] })

for (const [name, read] of Object.entries(readers)) {
  gc()
  const base = oldSpace()
  let peak = base
  majors.count = 0
  const started = performance.now()
  const rows = await read(() => void (peak = Math.max(peak, oldSpace())))
  gc({ type: "minor" })
  gc({ type: "minor" })
  peak = Math.max(peak, oldSpace())
  const seconds = (performance.now() - started) / 1000
  await new Promise((resolve) => setTimeout(resolve, 50))
  process.stdout.write(
    `${
      JSON.stringify({
        reader: name,
        rows,
        rowsPerSecond: Math.round(rows / seconds),
        peakOldSpaceGrowthMb: Math.round((peak - base) / 2 ** 20 * 10) / 10,
        majorGcs: majors.count
      })
    }\n`
  )
}

// The V8 behaviour underneath: a closure assigned straight to a property is born old.
const holder: { f?: () => number } = {}
holder.f = () => 1
const bound = () => 1
process.stdout.write(
  `${
    JSON.stringify({
      "o.f = () => 1, closure in the young generation": inYoungGeneration(holder.f),
      "const g = () => 1, closure in the young generation": inYoungGeneration(bound)
    })
  }\n`
)
