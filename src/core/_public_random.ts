/**
 * Randomness for public values: nonces, salts, ids, which are sent or
 * stored in the clear. (Secret randomness goes from the OS straight into
 * guarded pages: `SecretBuffer.random`.)
 *
 * It comes from the OS generator through the native layer, a page at a
 * time, and is served from a buffer on the heap. Not from the runtime's
 * `crypto.getRandomValues`:
 * - Node builds Web Crypto at the first read of `crypto`, 6 to 7 ms of
 *   every importer's start-up (bench/RESULTS.md, "Start-up");
 * - read at call time, a generator replaced by other code could repeat a
 *   nonce, which gives away the keystream; taken at load, the main entry
 *   would have to pay for it, since an entry imported later is too late.
 *
 * @module
 */

import type { NativeMemory } from "../../ffi/contract.ts";
import { Bytes, detachBuffer, lengthOf } from "./_intrinsics.ts";
import { native } from "./_native.ts";

/**
 * This thread's unserved random bytes: `pool[next]` up to `size`. The
 * size is kept here, not read through the prototype's `length` getter: a
 * getter replaced by other code that answered more would serve the zeros
 * past the end, the same nonce each time, and for good once `next` had
 * passed the true length.
 */
let pool = new Bytes(0);
let size = 0;
let next = 0;

/**
 * Fills `view` (a plain array the caller made) with random bytes from the
 * OS and returns it. Each byte is served once and zeroed in the pool: a
 * value that ends up in a secret (a test's control needle) is not kept
 * twice.
 */
export function publicRandom<T extends Uint8Array>(view: T): T {
  // The length through the intrinsic getter: an own `length` property or
  // a replaced prototype getter must not leave bytes unfilled.
  const length = lengthOf(view);
  for (let i = 0; i < length; i++) {
    if (next >= size) refill(native());
    view[i] = pool[next];
    pool[next++] = 0;
  }
  return view;
}

/**
 * One page from the OS generator into the pool, through a mapping made
 * and released here: nothing is left mapped between refills, so a Worker
 * that ends leaks nothing.
 */
function refill(memory: NativeMemory): void {
  const length = memory.pageSize;
  const address = memory.reserve(length);
  try {
    memory.commit(address, length, false);
    memory.fillRandom(address, length);
    const buffer = memory.view(address, length);
    const page = new Bytes(buffer);
    const fresh = size === length ? pool : new Bytes(length);
    for (let i = 0; i < length; i++) fresh[i] = page[i];
    detachBuffer(buffer);
    pool = fresh;
    size = length;
    next = 0;
  } finally {
    memory.release(address, length);
  }
}
