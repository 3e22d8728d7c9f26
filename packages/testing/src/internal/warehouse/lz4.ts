/**
 * LZ4 frame encoding (the format of the LZ4 frame specification, magic 0x184D2204), in plain TypeScript: the
 * emulator compresses results as a warehouse does when a client says `canDecompressLZ4Result`. Written here rather
 * than taken from a native module so the emulator runs wherever Node runs; clients decode it with their own LZ4
 * (the Node driver with `lz4-napi`), which is what the result-path tests check.
 *
 * Blocks are independent, 64 KiB at most, compressed greedily with a hash of 4-byte sequences (fast, not the best
 * ratio) and stored raw when compression does not pay. No content checksum.
 *
 * @internal
 */

const magic = 0x184d2204
const blockMax = 64 * 1024
/** Version 01, independent blocks; no block or content checksum, no content size. */
const flags = 0b0110_0000
/** Block maximum size 64 KiB. */
const blockDescriptor = 4 << 4
const minMatch = 4
/** The last match must start at least 12 bytes before the end of a block, and the last 5 bytes are literals. */
const matchStartLimit = 12
const lastLiterals = 5
const hashBits = 14

const P1 = 2654435761
const P2 = 2246822519
const P3 = 3266489917
const P4 = 668265263
const P5 = 374761393

const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0

/** xxHash32 of fewer than 16 bytes (all the frame header checksum needs). */
export const xxh32Short = (bytes: Uint8Array, seed = 0): number => {
  if (bytes.length >= 16) throw new Error("xxh32Short takes fewer than 16 bytes")
  let h = (seed + P5 + bytes.length) >>> 0
  let i = 0
  for (; i + 4 <= bytes.length; i += 4) {
    const word = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0
    h = Math.imul(rotl((h + Math.imul(word, P3)) >>> 0, 17), P4) >>> 0
  }
  for (; i < bytes.length; i++) h = Math.imul(rotl((h + Math.imul(bytes[i], P5)) >>> 0, 11), P1) >>> 0
  h = Math.imul(h ^ (h >>> 15), P2) >>> 0
  h = Math.imul(h ^ (h >>> 13), P3) >>> 0
  return (h ^ (h >>> 16)) >>> 0
}

const read32 = (src: Uint8Array, i: number) => src[i] | (src[i + 1] << 8) | (src[i + 2] << 16) | (src[i + 3] << 24)

/** Writes a length's continuation bytes (after the 15 in the token's nibble). */
const writeLength = (out: Uint8Array, at: number, rest: number) => {
  let o = at
  while (rest >= 255) {
    out[o++] = 255
    rest -= 255
  }
  out[o++] = rest
  return o
}

/** Compresses `src[start, end)` as one LZ4 block into `out` at `at`; answers where the block ends. */
const compressBlock = (src: Uint8Array, start: number, end: number, out: Uint8Array, at: number, table: Int32Array) => {
  table.fill(-1)
  let o = at
  let anchor = start
  let i = start
  const matchLimit = end - lastLiterals
  const emit = (literalEnd: number, offset: number, matchLength: number) => {
    const literals = literalEnd - anchor
    const token = o++
    out[token] = (Math.min(literals, 15) << 4) | (offset === 0 ? 0 : Math.min(matchLength - minMatch, 15))
    if (literals >= 15) o = writeLength(out, o, literals - 15)
    out.set(src.subarray(anchor, literalEnd), o)
    o += literals
    if (offset === 0) return
    out[o++] = offset & 0xff
    out[o++] = offset >>> 8
    if (matchLength - minMatch >= 15) o = writeLength(out, o, matchLength - minMatch - 15)
  }
  while (i < end - matchStartLimit) {
    const sequence = read32(src, i)
    const slot = Math.imul(sequence, P1) >>> (32 - hashBits)
    const candidate = table[slot]
    table[slot] = i
    if (candidate >= 0 && i - candidate < 65536 && read32(src, candidate) === sequence) {
      let length = minMatch
      while (i + length < matchLimit && src[candidate + length] === src[i + length]) length++
      emit(i, i - candidate, length)
      i += length
      anchor = i
    } else {
      i++
    }
  }
  emit(end, 0, 0)
  return o
}

const writeU32 = (out: Uint8Array, at: number, value: number) => {
  out[at] = value & 0xff
  out[at + 1] = (value >>> 8) & 0xff
  out[at + 2] = (value >>> 16) & 0xff
  out[at + 3] = (value >>> 24) & 0xff
}

/** `data` as one LZ4 frame. */
export const encodeFrame = (data: Uint8Array): Buffer => {
  const blocks = Math.max(1, Math.ceil(data.length / blockMax))
  // Worst case: every block stored raw with its 4-byte size, plus header (7) and end mark (4).
  const out = new Uint8Array(7 + data.length + blocks * 4 + 4 + blockMax / 255 + 16)
  writeU32(out, 0, magic)
  out[4] = flags
  out[5] = blockDescriptor
  out[6] = (xxh32Short(out.subarray(4, 6)) >>> 8) & 0xff
  let o = 7
  const table = new Int32Array(1 << hashBits)
  const scratch = new Uint8Array(blockMax + blockMax / 255 + 16)
  for (let start = 0; start < data.length; start += blockMax) {
    const end = Math.min(data.length, start + blockMax)
    const size = compressBlock(data, start, end, scratch, 0, table)
    if (size < end - start) {
      writeU32(out, o, size)
      out.set(scratch.subarray(0, size), o + 4)
      o += 4 + size
    } else {
      // Not worth it: the block travels raw (the size's high bit says so).
      writeU32(out, o, ((end - start) | 0x80000000) >>> 0)
      out.set(data.subarray(start, end), o + 4)
      o += 4 + end - start
    }
  }
  writeU32(out, o, 0)
  o += 4
  return Buffer.from(out.buffer, out.byteOffset, o)
}
