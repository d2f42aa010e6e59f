/**
 * Guarded work areas for the crypto wing. Every piece of working state of
 * a hash, MAC, KDF or cipher (hash chaining values, message schedules,
 * ChaCha20 state and keystream, Poly1305 accumulator and key) is a typed
 * view over one of these areas, never an array of the JS heap: a moving
 * collector cannot copy what is not in its heap.
 *
 * An area is a 2048-byte slot of a pool private to this module and thread
 * that rests readwrite: its pages are locked, left out of core dumps,
 * wiped on fork and fenced by guard pages, but taking it and opening it
 * make no system call. It holds nothing between calls (every call wipes
 * what it used before it returns, on every path), which is what lets it
 * stay open. Areas form a stack: a call that starts while another is
 * running (the Enclave's work calling the cipher core, or a caller's
 * getter calling back into the crypto entry) takes the next area, never
 * the one in use.
 *
 * The curve work of `./keys` (Ed25519's, about 6 KiB) outgrows a pool
 * slot, so a second stack serves work up to `LARGE_AREA_SIZE`: one guarded
 * region per depth, mapped once, opened readwrite once and kept, under the
 * same rules (locked, out of dumps, wiped on fork, fenced, entered in the
 * process table so that a Worker ended mid-call is wiped by another
 * thread, wiped after every call). Like the pool's scratch arenas it is
 * not counted in `stats()`, and `purge()` and the exit wipe unmap it
 * without counting it. Only larger work, or work with the caller's own
 * buffer options, gets a mapping of its own that is wiped and unmapped
 * after.
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
import {
  bufferOf,
  byteOffsetOf,
  Bytes,
  fillRange,
  Maps,
  putAt,
  subarrayOf,
  Uint32s,
} from "../core/_intrinsics.ts";
import { markScratch, SecretPool, type SecretSlot } from "../pool/pool.ts";
import { native } from "../core/_native.ts";
import { CANARY_SIZE, layoutFor } from "../core/_layout.ts";
import {
  mapRegion,
  type Region,
  setProtection,
  unmapRegion,
} from "../core/_region.ts";
import { addPurgeHook } from "../core/_registry.ts";
import { mappingHeld } from "../core/_map_limit.ts";
import { defaultLock } from "../core/_policy.ts";

const littleEndian = new Bytes(new Uint32s([1]).buffer)[0] === 1;

/** Bytes of one shared area: the largest pool slot. */
export const AREA_SIZE = 2048;

/**
 * Bytes of one large area: two 4 KiB pages less the canary, room for the
 * largest curve work (Ed25519 verify, 6,216 bytes) with some to spare.
 */
export const LARGE_AREA_SIZE = 8192 - CANARY_SIZE;

/**
 * One shared area and what the hot paths built over it (hash states,
 * cipher parts: views, not secrets), kept so that a call allocates none.
 */
export interface Area {
  /** All `AREA_SIZE` bytes; zero whenever no call is running. */
  readonly bytes: Uint8Array;
  /** Objects built over `bytes`, by the key of whoever built them. */
  readonly kits: Map<object, unknown>;
}

interface Held extends Area {
  readonly slot: SecretSlot;
}

let pool: SecretPool | undefined;
const stack: (Held | undefined)[] = [];
let depth = 0;

function refuseBigEndian(): void {
  // The word views read bytes in machine order; no supported platform is
  // big-endian, so refuse rather than compute a wrong answer.
  throw new SecretMemoryError(
    "UNSUPPORTED_PLATFORM",
    "Cannot run secmem's crypto on a big-endian machine",
  );
}

/** The area for `level`, taken again if `purge()` wiped the last one. */
function areaAt(level: number): Held {
  const held = stack[level];
  if (held !== undefined && held.slot.state !== "destroyed") return held;
  if (pool === undefined) {
    pool = new SecretPool({ rest: "readwrite" });
    markScratch(pool);
  }
  const slot = pool.alloc(AREA_SIZE);
  const fresh: Held = { slot, bytes: slot.view, kits: new Maps() };
  // As an own element: a setter planted on Array.prototype would be
  // handed the area (its view reads every key the crypto core loads).
  putAt(stack, level, fresh);
  return fresh;
}

/** A large area: its region stays mapped and readwrite between calls. */
interface Large {
  readonly region: Region;
  readonly bytes: Uint8Array;
  /** False once `purge()` (or the exit wipe) unmapped it. */
  live: boolean;
}

const large: (Large | undefined)[] = [];
let largeDepth = 0;
let largeHookAdded = false;

/** Unmaps every large area (wiped first); counted as no secret. */
function purgeLarge(): { destroyed: number; corrupted: number } {
  const memory = native();
  for (let level = 0; level < large.length; level++) {
    const held = large[level];
    if (held === undefined) continue;
    putAt(large, level, undefined);
    held.live = false;
    try {
      // Wipes every data byte and detaches the views, so a call still
      // running reads an empty buffer, never memory mapped again later.
      unmapRegion(memory, held.region);
    } catch {
      // Carry on: the other areas must still be wiped.
    }
  }
  return { destroyed: 0, corrupted: 0 };
}

/** The large area for `level`, mapped and opened on first use. */
function largeAt(level: number): Large {
  const held = large[level];
  if (held !== undefined) return held;
  const memory = native();
  if (!largeHookAdded) {
    largeHookAdded = true;
    addPurgeHook(purgeLarge);
  }
  // Placement "start": page-aligned bytes, so every word view fits.
  const region = mapRegion(
    memory,
    layoutFor(LARGE_AREA_SIZE, memory.pageSize, "start"),
    defaultLock(),
  );
  mappingHeld();
  try {
    // Opened once: a call then makes no system call at all.
    setProtection(memory, region, "readwrite");
  } catch (error) {
    unmapRegion(memory, region);
    throw error;
  }
  const fresh: Large = {
    region,
    bytes: new Bytes(region.user),
    live: true,
  };
  putAt(large, level, fresh);
  return fresh;
}

/** Runs `fn` over `size` bytes of the large area of this call's depth. */
function withLarge<T>(size: number, fn: (area: Uint8Array) => T): T {
  const held = largeAt(largeDepth);
  largeDepth++;
  try {
    let result: T;
    try {
      result = fn(subarrayOf(held.bytes, 0, size));
    } catch (error) {
      // Views over a purged area are detached: what failed on them is
      // the purge, not the caller's input.
      if (!held.live) gone();
      throw error;
    }
    if (!held.live) gone();
    return result;
  } finally {
    largeDepth--;
    if (held.live) fillRange(held.bytes, 0);
  }
}

function gone(): never {
  // purge() (from the caller's code, or a signal's handler) wiped the area
  // while the call ran: what was computed over it cannot be trusted.
  throw new SecretMemoryError(
    "DESTROYED",
    "Cannot finish the operation: purge() wiped its work area while it ran; call it again",
  );
}

/**
 * Runs `fn` over the shared area of this call's depth, then wipes it.
 * `fn` is library code only: no view of the area reaches the caller.
 */
export function withArea<T>(fn: (area: Area) => T): T {
  if (!littleEndian) refuseBigEndian();
  const held = areaAt(depth);
  depth++;
  try {
    const result = fn(held);
    if (held.slot.state === "destroyed") gone();
    return result;
  } finally {
    depth--;
    // A purged slot was wiped by purge(), and its view is detached.
    if (held.slot.state !== "destroyed") fillRange(held.bytes, 0);
  }
}

/**
 * Runs `fn` over `size` bytes of guarded memory, open for writing and
 * 8-byte aligned (so 32-bit views fit), then wipes them. Up to
 * `AREA_SIZE` bytes come from the shared area of this depth, up to
 * `LARGE_AREA_SIZE` from the large area of this depth; more, or any
 * `options` (the caller's lock and backend choices), map a buffer that is
 * unmapped after.
 */
export function withWork<T>(
  size: number,
  fn: (area: Uint8Array) => T,
  options?: SecretBufferOptions,
): T {
  if (!littleEndian) refuseBigEndian();
  if (size <= AREA_SIZE && options === undefined) {
    return withArea((area) => fn(subarrayOf(area.bytes, 0, size)));
  }
  if (size <= LARGE_AREA_SIZE && options === undefined) {
    return withLarge(size, fn);
  }
  const work = SecretBuffer.alloc(size, { ...options, placement: "start" });
  try {
    return work.write(fn);
  } finally {
    work.destroy();
  }
}

// Taken at load, with the buffer and offset asked of the engine (see
// `over`): a constructor or a getter replaced later would otherwise be
// handed a work area, or put the key's arithmetic in an array of its own.
const Int32 = Int32Array;
const Uint8 = Uint8Array;

/**
 * A view made by `make` over `area[at ..)`, `count` elements long. The
 * area's buffer and offset come from the getters taken at load, not from
 * `%TypedArray%.prototype` as it is now: a `buffer` getter replaced after
 * import would see the guarded buffer, or answer with one of its own that
 * the key's state, keystream and scalars would then be written to.
 */
export function over<T>(
  make: new (buffer: ArrayBuffer, at: number, count: number) => T,
  area: Uint8Array,
  at: number,
  count: number,
): T {
  return new make(
    bufferOf(area) as ArrayBuffer,
    byteOffsetOf(area) + at,
    count,
  );
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
  return over(Int32, area, at, count);
}

/** Bytes over `length` bytes of `area` from byte `at`, without a copy. */
export function bytes(
  area: Uint8Array,
  at: number,
  length: number,
): Uint8Array {
  return over(Uint8, area, at, length);
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
