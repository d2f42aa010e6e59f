/**
 * Headroom under `vm.max_map_count`. Every guarded buffer costs the process
 * a few mappings; at the kernel's limit mmap fails, and the runtime itself
 * (V8's heap, a JIT page, a thread stack) then dies on its next mapping.
 * So secmem refuses with `MAP_LIMIT` while the runtime still has room.
 *
 * The real count (lines of /proc/self/maps) is costly to read, so it is read
 * only when our own count of the mappings we hold crosses a threshold, and
 * the next threshold is set from what is left: a check every few thousand
 * allocations far from the limit, every few dozen near it.
 *
 * @module
 */

import type { NativeMemory } from "./_native.ts";
import { SecretMemoryError } from "./errors.ts";
import { floor, max } from "./_intrinsics.ts";
import {
  heldMappings,
  joinTable,
  mappingHeld,
  mappingReleased,
  reclaimEnded,
} from "./_process_table.ts";

/** Mappings one guarded buffer may add to the process (guard, data, guard). */
const MAPS_PER_REGION = 3;
/**
 * Below this many held regions the limit is never looked at. Low enough
 * that a thread which cannot see the process-wide count (reach "thread")
 * still looks at the real one early: many such Workers together could
 * otherwise reach the limit before any of them looked.
 */
const FIRST_CHECK = 512;
/** The runtime's share: at least this many mappings stay free for it. */
const MIN_HEADROOM = 4096;

let nextCheck = FIRST_CHECK;
let limit: number | undefined;
/** The layer `limit` was read through (tests swap in a fake one). */
let readThrough: NativeMemory | undefined;

export { heldMappings, mappingHeld, mappingReleased };

/**
 * Throws `MAP_LIMIT` before one more mapping would leave the runtime too
 * little room under `vm.max_map_count`. Costs a comparison, except when our
 * count crosses the next threshold.
 */
export function checkMapHeadroom(memory: NativeMemory): void {
  // Held by the whole process: Workers map from the same address space.
  const held = heldMappings();
  if (memory !== readThrough) {
    readThrough = memory;
    limit = undefined;
    nextCheck = FIRST_CHECK;
  }
  if (held < nextCheck) return;
  // The main thread maps the table only now (it enters no buffers), and
  // from now on adds its mappings to the count that Workers see.
  joinTable(memory);
  const read = memory.procText?.bind(memory);
  if (read === undefined) {
    nextCheck = Infinity;
    return;
  }
  limit ??= readLimit(read);
  if (limit === Infinity) {
    nextCheck = Infinity;
    return;
  }
  const headroom = max(MIN_HEADROOM, floor(limit / 8));
  let count = countMappings(read);
  let room = limit - headroom - count;
  // Workers that ended without destroying their buffers may hold the room.
  if (room < MAPS_PER_REGION && reclaimEnded(memory) > 0) {
    count = countMappings(read);
    room = limit - headroom - count;
  }
  if (room < MAPS_PER_REGION) {
    // Look again soon: buffers destroyed since may have made room.
    nextCheck = heldMappings();
    throw new SecretMemoryError(
      "MAP_LIMIT",
      `Cannot map another guarded buffer: the process holds ${count} memory mappings` +
        ` and vm.max_map_count is ${limit}; secmem keeps ${headroom} free for the runtime.` +
        " Put many small secrets in one SecretPool (one mapping per arena, not per secret)," +
        " destroy buffers you no longer need, or raise vm.max_map_count (sysctl)",
    );
  }
  nextCheck = heldMappings() +
    max(16, floor(room / (2 * MAPS_PER_REGION)));
}

/** vm.max_map_count; `Infinity` when it cannot be read. */
function readLimit(read: (path: string) => string): number {
  try {
    const value = Number.parseInt(read("/proc/sys/vm/max_map_count"), 10);
    return Number.isSafeInteger(value) && value > 0 ? value : Infinity;
  } catch {
    return Infinity;
  }
}

/** The lines of /proc/self/maps, one a mapping; 0 when unreadable. */
function countMappings(read: (path: string) => string): number {
  let text: string;
  try {
    text = read("/proc/self/maps");
  } catch {
    return 0;
  }
  let lines = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) {
    lines++;
  }
  return lines;
}
