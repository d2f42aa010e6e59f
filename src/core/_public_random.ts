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
import { detachBuffer, lengthOf } from "./_intrinsics.ts";
import { native } from "./_native.ts";

/** This thread's unserved random bytes: `pool[next]` to the end. */
let pool = new Uint8Array(0);
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
    if (next === pool.length) refill(native());
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
  const size = memory.pageSize;
  const address = memory.reserve(size);
  try {
    memory.commit(address, size, false);
    memory.fillRandom(address, size);
    const buffer = memory.view(address, size);
    const page = new Uint8Array(buffer);
    const fresh = pool.length === size ? pool : new Uint8Array(size);
    for (let i = 0; i < size; i++) fresh[i] = page[i];
    detachBuffer(buffer);
    pool = fresh;
    next = 0;
  } finally {
    memory.release(address, size);
  }
}
