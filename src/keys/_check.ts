/**
 * Argument checks shared by the curve functions: the crypto entry's
 * `checkInput` (intrinsic getters, so a Proxy or an own `length` cannot
 * lie) plus an exact length.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { checkInput } from "../crypto/_input.ts";
import { Bytes } from "../core/_intrinsics.ts";

/**
 * Throws INVALID_ARGUMENT unless `value` is a real Uint8Array of `length`
 * bytes (any length when `length` is -1), naming the argument; returns the
 * length read once.
 */
export function checkLength(
  what: string,
  value: unknown,
  length: number,
): number {
  const input = checkInput(value, what);
  if (length >= 0 && input.length !== length) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use ${what}: expected ${length} bytes, got ${input.length}`,
    );
  }
  return input.length;
}

const apply = Reflect.apply;
const bufferOf = Object.getOwnPropertyDescriptor(
  Object.getPrototypeOf(Uint8Array.prototype),
  "buffer",
)!.get!;
const sharedByteLength = typeof SharedArrayBuffer === "function"
  ? Object.getOwnPropertyDescriptor(SharedArrayBuffer.prototype, "byteLength")
    ?.get
  : undefined;

/**
 * `bytes` itself, or a private copy of its first `length` bytes when they
 * live in a SharedArrayBuffer. Signing reads the message twice (for the
 * nonce, then for the challenge); another thread that changed it in
 * between would get two signatures with one nonce and different
 * challenges, from which the secret scalar follows. The message is public,
 * so the copy may live on the heap.
 */
export function unshared(bytes: Uint8Array, length: number): Uint8Array {
  if (sharedByteLength === undefined) return bytes;
  try {
    apply(sharedByteLength, apply(bufferOf, bytes, []), []);
  } catch {
    return bytes; // Not a SharedArrayBuffer: nothing else can write it now.
  }
  const copy = new Bytes(length);
  for (let i = 0; i < length; i++) copy[i] = bytes[i];
  return copy;
}
