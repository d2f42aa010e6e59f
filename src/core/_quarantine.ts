/**
 * Keeping wiped pages reserved and inaccessible for good, for ranges a view
 * may still point into.
 *
 * @module
 */

import type { NativeMemory } from "./_native.ts";

/**
 * The pages are given back and the range stays reserved, inaccessible (on
 * Linux, one mapping with its guard pages). Elsewhere fresh unlocked,
 * unbacked pages replace the wiped ones (the lock and the
 * RAM go with the old ones), then nothing may touch them. A view still out
 * there faults instead of reading whatever would have been mapped there next.
 */
export function quarantine(
  memory: NativeMemory,
  address: bigint,
  length: number,
): void {
  if (memory.decommit !== undefined) {
    memory.decommit(address, length);
    return;
  }
  try {
    memory.commit(address, length, false);
  } finally {
    memory.protect(address, length, "noaccess");
  }
}
