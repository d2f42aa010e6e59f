/**
 * Copies between guarded buffers with memcpy through FFI: the bytes go
 * from one set of locked pages to another and never through the heap.
 *
 * @module
 */

import { native } from "../core/_native.ts";
import { checkInteger, describe } from "../core/_validate.ts";
import { SecretMemoryError } from "../core/errors.ts";
import type {
  GuardedSecret,
  SecretBufferOptions,
  SecretMaker,
} from "../core/_secret.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;

/**
 * A new buffer holding bytes `start` to `end` of `source` (see
 * `SecretBuffer.prototype.slice`). `source` is left as it was.
 */
export function sliceSecret<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  source: GuardedSecret,
  start = 0,
  end: number = source.size,
  options?: SecretBufferOptions,
): S {
  const size = source.size;
  const from = checkInteger(start, "start", 0, size);
  const to = checkInteger(end, "end", 0, size);
  if (to < from) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot slice from ${from} to ${to}: end must not be before start`,
    );
  }
  // Touch the source first so that a destroyed one fails before mapping.
  const sourceAddress = source.address;
  const copy = maker.alloc(to - from, options);
  try {
    if (to > from) {
      // Both scopes are only for the memcpy: no view reaches the caller.
      source.read(() =>
        copy.write(() =>
          native().copy(copy.address, sourceAddress + BigInt(from), to - from)
        )
      );
    }
    return copy;
  } catch (error) {
    copy.destroy();
    throw error;
  }
}

/**
 * Copies all of `source` into `target` at `offset` (see
 * `SecretBuffer.prototype.copyTo`); returns the count copied.
 */
export function copySecret<S extends GuardedSecret>(
  maker: SecretMaker<S>,
  source: S,
  target: S,
  offset = 0,
): number {
  if (!maker.is(target)) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot copy into ${describe(target)}: expected a SecretBuffer`,
    );
  }
  const at = checkInteger(offset, "offset", 0, target.size);
  if (source.size > target.size - at) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot copy ${source.size} bytes into ${
        target.size - at
      } bytes of room: use a larger target or a smaller slice`,
    );
  }
  if (source.size === 0) return 0;
  if (source === target) {
    // memcpy of a range onto itself at offset 0 is the only case allowed
    // by the size check, and it changes nothing.
    return source.size;
  }
  source.read(() =>
    target.write(() =>
      native().copy(target.address + BigInt(at), source.address, source.size)
    )
  );
  return source.size;
}
