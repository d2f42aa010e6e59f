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
import {
  heldMappings,
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

export { heldMappings, mappingHeld, mappingReleased };

/**
 * Throws `MAP_LIMIT` before one more mapping would leave the runtime too
 * little room under `vm.max_map_count`. Costs a comparison, except when our
 * count crosses the next threshold.
 */
export function checkMapHeadroom(memory: NativeMemory): void {
  // Held by the whole process: Workers map from the same address space.
  const held = heldMappings();
  if (held < nextCheck) return;
  if (memory.os !== "linux") {
    nextCheck = Infinity;
    return;
  }
  limit ??= readNumber(memory, "/proc/sys/vm/max_map_count") ?? Infinity;
  if (limit === Infinity) {
    nextCheck = Infinity;
    return;
  }
  const headroom = Math.max(MIN_HEADROOM, Math.floor(limit / 8));
  let count = countLines(memory, "/proc/self/maps");
  let room = limit - headroom - count;
  // Workers that ended without destroying their buffers may hold the room.
  if (room < MAPS_PER_REGION && reclaimEnded(memory) > 0) {
    count = countLines(memory, "/proc/self/maps");
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
    Math.max(16, Math.floor(room / (2 * MAPS_PER_REGION)));
}

const SCRATCH = 65536;

/** Reads a small procfs file through scratch pages; calls `each` per chunk. */
function readProc(
  memory: NativeMemory,
  path: string,
  each: (bytes: Uint8Array, count: number) => void,
): boolean {
  let fd: number;
  try {
    fd = memory.openRead(path);
  } catch {
    return false;
  }
  let base: bigint | undefined;
  let view: ArrayBuffer | undefined;
  try {
    base = memory.reserve(SCRATCH);
    memory.commit(base, SCRATCH, false);
    view = memory.view(base, SCRATCH);
    const bytes = new Uint8Array(view);
    for (;;) {
      const count = memory.readInto(fd, base, SCRATCH);
      if (count <= 0) break;
      each(bytes, count);
    }
    return true;
  } catch {
    return false;
  } finally {
    if (view !== undefined) view.transfer(0);
    if (base !== undefined) memory.release(base, SCRATCH);
    memory.close(fd);
  }
}

function countLines(memory: NativeMemory, path: string): number {
  let lines = 0;
  readProc(memory, path, (bytes, count) => {
    for (let i = 0; i < count; i++) if (bytes[i] === 10) lines++;
  });
  return lines;
}

function readNumber(memory: NativeMemory, path: string): number | undefined {
  let value = 0;
  let digits = 0;
  let done = false;
  const ok = readProc(memory, path, (bytes, count) => {
    for (let i = 0; i < count && !done; i++) {
      const byte = bytes[i];
      if (byte >= 48 && byte <= 57) {
        value = value * 10 + byte - 48;
        digits++;
      } else done = true;
    }
  });
  return ok && digits > 0 ? value : undefined;
}
