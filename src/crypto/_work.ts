/**
 * Guarded work areas for the crypto wing. Every piece of working state of
 * a hash, MAC, KDF or cipher (hash chaining values, message schedules,
 * ChaCha20 state and keystream, Poly1305 accumulator and key) is a typed
 * view over one of these areas, never an array of the JS heap: a moving
 * collector cannot copy what is not in its heap, and the area is wiped and
 * unmapped when the operation ends, on every path.
 *
 * Numbers are kept small: words are read through `Int32Array` views and
 * added in 16-bit halves (`add32`), because V8's interpreter boxes any
 * number outside the 32-bit small-integer range on its heap, where it
 * would be a copy of a secret word (the forensic test looks for those).
 * What stays out of reach: values the JIT keeps in registers or spills to
 * the machine stack while a round runs.
 *
 * @module
 */

import { SecretBuffer, type SecretBufferOptions } from "../secret_buffer.ts";
import { SecretMemoryError } from "../core/errors.ts";

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Runs `fn` over a fresh guarded area of `size` bytes, open for writing
 * and page-aligned (so 32-bit views fit), then wipes and unmaps it.
 * `options` carry the caller's lock and backend choices. `fn` is library
 * code only: no view it opens is handed to the caller.
 */
export function withWork<T>(
  size: number,
  fn: (area: Uint8Array) => T,
  options?: SecretBufferOptions,
): T {
  if (!littleEndian) {
    // The word views read bytes in machine order; no supported platform
    // is big-endian, so refuse rather than compute a wrong answer.
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      "Cannot run secmem's crypto on a big-endian machine",
    );
  }
  const work = SecretBuffer.alloc(size, { ...options, placement: "start" });
  try {
    return work.write(fn);
  } finally {
    work.destroy();
  }
}

/**
 * 32-bit words over `count * 4` bytes of `area` from byte `at`, signed: a
 * read gives an int32, which V8 keeps as a small integer (unboxed) where a
 * uint32 above 2^31 would be boxed on its heap by the interpreter.
 */
export function words(
  area: Uint8Array,
  at: number,
  count: number,
): Int32Array {
  return new Int32Array(area.buffer, area.byteOffset + at, count);
}

/** Bytes over `length` bytes of `area` from byte `at`, without a copy. */
export function bytes(
  area: Uint8Array,
  at: number,
  length: number,
): Uint8Array {
  return new Uint8Array(area.buffer, area.byteOffset + at, length);
}

/**
 * a + b mod 2^32 for int32 `a` and `b`, computed in 16-bit halves so no
 * intermediate leaves the small-integer range: `(a + b) | 0` would make an
 * interpreter tier box the 33-bit sum on its heap, and a sum such as the
 * last addition of a hash or a keystream block is a secret word.
 */
export function add32(a: number, b: number): number {
  const low = (a & 0xffff) + (b & 0xffff);
  return ((a >> 16) + (b >> 16) + (low >> 16)) << 16 | low & 0xffff;
}
