/**
 * Comparison whose time does not depend on where two inputs differ.
 *
 * @module
 */

import { checkBytes } from "./_validate.ts";
import { lengthOf } from "./_intrinsics.ts";

/**
 * Compares two byte arrays in time that depends only on their length.
 *
 * Lengths are not treated as secret: arrays of different lengths return
 * `false` at once. JavaScript engines give no formal guarantee that a JIT
 * will not shortcut the loop; it accumulates differences with XOR and OR and
 * never branches on the bytes, which current engines compile without early
 * exits.
 *
 * Each byte is read once. On memory another thread writes (a
 * SharedArrayBuffer), `true` means every byte read matched, but the reads
 * may span that thread's writes: compare a copy made first (for example
 * with `SecretBuffer.from`), and use that copy.
 *
 * @param a The first array.
 * @param b The second array.
 * @returns Whether the arrays hold the same bytes.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` when either is not a
 * `Uint8Array`.
 *
 * @example Compare two arrays
 * ```ts
 * import { timingSafeEqual } from "@secmem/secmem";
 *
 * const equal = timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]));
 * if (!equal) throw new Error("expected equal");
 * ```
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  // Strings or plain arrays would compare as equal (their XOR is 0): refuse.
  checkBytes(a, "the first array");
  checkBytes(b, "the second array");
  // The engine's lengths, read once: an own `length` property must not
  // make two arrays look alike.
  const length = lengthOf(a);
  if (length !== lengthOf(b)) return false;
  let difference = 0;
  for (let i = 0; i < length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}
