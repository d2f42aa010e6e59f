/**
 * Every live region, so that all of them can be wiped at once: at process
 * exit, on an interrupt, by `purge()`, or one by one when their owner is
 * garbage-collected without `destroy()`.
 *
 * @module
 */

import { native } from "./_native.ts";
import { type Region, unmapRegion } from "./_region.ts";
import { mappingHeld } from "./_map_limit.ts";
import {
  append,
  countOf,
  enlist,
  isMember,
  membersOf,
  strike,
} from "./_intrinsics.ts";
import {
  joinTable,
  otherThreadEntries,
  quarantinedFromEnded,
  reach,
  reclaimedEntries,
  reclaimEnded,
} from "./_process_table.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;

const live = new Set<Region>();

const totals = {
  userBytes: 0,
  mappedBytes: 0,
  lockedBytes: 0,
  secretmemBuffers: 0,
  unlockedBuffers: 0,
  unlockedBytes: 0,
  quarantinedBuffers: 0,
  quarantinedBytes: 0,
};

/**
 * Counts a range wiped and kept reserved and inaccessible for good, because
 * a view over it escaped (see `quarantine` in `_region.ts`). Internal.
 */
export function noteQuarantined(bytes: number): void {
  totals.quarantinedBuffers++;
  totals.quarantinedBytes += bytes;
}

// Holds the region, never its owner, so the owner can be collected; the
// region holds the user ArrayBuffer, so views a caller kept are detached.
const finalizer = new FinalizationRegistry<Region>((region) => {
  if (isMember(live, region)) retireQuietly(region);
});

let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  native().onExit(cleanUpAndPurge);
}

// At exit and on an interrupt: put back what must be (a terminal's
// settings), then wipe.
function cleanUpAndPurge(): void {
  runCleanups();
  purge();
}

// Restorations that must happen however the process ends (a prompt's
// terminal settings): run before the wipe at exit and on an interrupt.
const cleanups = new Set<() => void>();

/**
 * Runs `cleanup` if the process exits or is interrupted before the
 * returned function is called (which drops it). Internal.
 */
export function beforeExit(cleanup: () => void): () => void {
  installExitHook();
  enlist(cleanups, cleanup);
  return () => strike(cleanups, cleanup);
}

function runCleanups(): void {
  const pending = membersOf(cleanups);
  for (let i = 0; i < pending.length; i++) {
    const cleanup = pending[i];
    strike(cleanups, cleanup);
    try {
      cleanup();
    } catch {
      // The wipe that follows must still run.
    }
  }
}

/** More memory that `purge()` and the exit wipe must reach (the pool's). */
const purgeHooks: (() => PurgeResult)[] = [];

/**
 * Adds `hook` to what `purge()`, the exit wipe and `catchInterrupt` run,
 * for allocators that keep their own mappings (`SecretPool`'s arenas).
 */
export function addPurgeHook(hook: () => PurgeResult): void {
  installExitHook();
  append(purgeHooks, hook);
}

/** Starts tracking `region`, owned by `owner`. */
export function track(owner: object, region: Region): void {
  installExitHook();
  // By the intrinsic (see enlist): a buffer kept out of `live` would be
  // missed by purge() and the exit wipe.
  enlist(live, region);
  mappingHeld();
  finalizer.register(owner, region, region);
  count(region, 1);
}

// What a region adds to the totals while it lives (and takes back after).
function count(region: Region, sign: 1 | -1): void {
  const { size, total, dataLength } = region.layout;
  totals.userBytes += sign * size;
  totals.mappedBytes += sign * total;
  if (region.locked) totals.lockedBytes += sign * dataLength;
  else {
    totals.unlockedBuffers += sign;
    totals.unlockedBytes += sign * dataLength;
  }
  if (region.backend === "secretmem") totals.secretmemBuffers += sign;
}

/**
 * Stops tracking `region` and destroys it (see `unmapRegion`).
 * Returns whether its canary was intact.
 */
export function retire(region: Region): boolean {
  finalizer.unregister(region);
  strike(live, region);
  count(region, -1);
  try {
    return unmapRegion(native(), region);
  } finally {
    if (region.escaped) noteQuarantined(region.layout.total);
  }
}

function retireQuietly(region: Region): boolean {
  try {
    return retire(region);
  } catch {
    // At exit or in a finalizer there is no caller to tell; carry on so
    // that the remaining regions are still wiped.
    return false;
  }
}

/**
 * Wipes what ended threads left (see `_process_table.ts`). Never throws:
 * where the native layer cannot load there is nothing of ours to reclaim.
 */
function reclaimLeftovers(): number {
  try {
    return reclaimEnded(native());
  } catch {
    return 0;
  }
}

/** What `purge()` did. */
export interface PurgeResult {
  /** Buffers wiped and unmapped. */
  destroyed: number;
  /** Of those, how many had a corrupted canary. */
  corrupted: number;
}

/**
 * Wipes and unmaps every live buffer, and every `SecretPool`'s arenas
 * (each live slot counts as one buffer). Their handles then behave as
 * destroyed. Errors are collected, not thrown, so every buffer is reached.
 *
 * The buffers of this thread, that is: a Worker's own buffers are its to
 * purge. Those left by Workers that have ended (by `terminate()` too) are
 * wiped as well, where threads share a table (Linux); each region or
 * arena of theirs counts as one.
 *
 * @returns How many buffers were destroyed, and how many of them had a
 * corrupted canary.
 *
 * @example Wipe everything before a risky operation
 * ```ts
 * import { purge, SecretBuffer } from "@secmem/secmem";
 *
 * const key = SecretBuffer.random(32);
 * const { destroyed } = purge();
 * if (destroyed < 1 || key.state !== "destroyed") throw new Error("not purged");
 * ```
 */
export function purge(): PurgeResult {
  const result: PurgeResult = { destroyed: reclaimLeftovers(), corrupted: 0 };
  // By index over a snapshot taken by the intrinsic: a replaced iterator
  // must not leave a buffer out (see membersOf).
  const regions = membersOf(live);
  for (let i = 0; i < regions.length; i++) {
    result.destroyed++;
    if (!retireQuietly(regions[i])) result.corrupted++;
  }
  for (let i = 0; i < purgeHooks.length; i++) {
    const hook = purgeHooks[i];
    try {
      const more = hook();
      result.destroyed += more.destroyed;
      result.corrupted += more.corrupted;
    } catch {
      // As above: the remaining memory must still be reached.
    }
  }
  return result;
}

/** The data ranges of this thread's live regions. */
export function liveRanges(): [bigint, bigint][] {
  const regions = membersOf(live);
  const ranges: [bigint, bigint][] = [];
  for (let i = 0; i < regions.length; i++) {
    const { dataAddress, layout } = regions[i];
    // Own elements: a setter planted on Array.prototype at this index
    // would drop the range, and findCopies would scan that secret's pages.
    append(ranges, [dataAddress, dataAddress + BigInt(layout.dataLength)]);
  }
  return ranges;
}

/** Whether `region` is still live (not retired by destroy, purge or GC). */
export function isLive(region: Region): boolean {
  return isMember(live, region);
}

/** Counts of live buffers and the memory they hold. */
export interface MemoryStats {
  /** Buffers alive now. */
  liveBuffers: number;
  /** Bytes the callers asked for, summed. */
  userBytes: number;
  /** Bytes of address space mapped, guard pages included. */
  mappedBytes: number;
  /** Bytes locked in RAM. */
  lockedBytes: number;
  /** Of the live buffers, how many are backed by memfd_secret(2) pages. */
  secretmemBuffers: number;
  /**
   * Of the live buffers, how many hold unlocked pages (`lock:
   * "best-effort"` when the lock limit refused): those may be swapped out.
   */
  unlockedBuffers: number;
  /** Bytes of data pages of those buffers, which are not locked in RAM. */
  unlockedBytes: number;
  /**
   * Buffers and pool arenas destroyed after a view over them escaped (its
   * ArrayBuffer transferred away, or lent to outside code that kept it):
   * wiped, unlocked, and kept reserved and inaccessible until the process
   * ends, so that no later secret lands under that view. Includes, for the
   * whole process, every range of an ended thread that was reclaimed.
   */
  quarantinedBuffers: number;
  /** Address space those quarantined ranges keep reserved. */
  quarantinedBytes: number;
  /**
   * How far this thread's secmem sees. `"process"` (Linux): every thread
   * enters its buffers in one table, so the buffers of a Worker that ended
   * without destroying them (`terminate()`, Deno's `self.close()`) are
   * wiped by the next thread that allocates past the lock or map limit,
   * calls `purge()`, or exits, and by a new Worker at its first buffer. `"thread"` (elsewhere, or when
   * the kernel cannot share the table): each thread reaches its own
   * buffers only, and a Worker's stay until the process ends.
   */
  reach: "process" | "thread";
  /**
   * Buffers and pool arenas live in Workers other than this thread; 0 when
   * `reach` is `"thread"`. The main thread's are not counted: its buffers
   * never need another thread to wipe them (its end ends the process), so
   * they are kept out of the process-wide table.
   */
  otherThreadBuffers: number;
  /**
   * Buffers and pool arenas of ended threads that were wiped since the
   * process started, their pages given back and their ranges quarantined
   * (a view over them may have been transferred to a thread still
   * running; see `quarantinedBuffers`).
   */
  reclaimedBuffers: number;
}

/**
 * Counts of what secmem holds right now.
 *
 * @returns Live buffers, their user bytes, mapped bytes and locked bytes,
 * and the buffers and bytes left unlocked.
 *
 * @example Check that nothing is left
 * ```ts
 * import { SecretBuffer, stats } from "@secmem/secmem";
 *
 * const before = stats().liveBuffers;
 * SecretBuffer.alloc(16).destroy();
 * if (stats().liveBuffers !== before) throw new Error("leaked");
 * ```
 */
export function stats(): MemoryStats {
  // Looks at the process table, and wipes nothing: a query must not change
  // what is in memory (purge() and the limits reclaim).
  try {
    joinTable(native());
  } catch {
    // No native layer: this thread's counts only (reach "thread").
  }
  const ended = quarantinedFromEnded();
  return {
    liveBuffers: countOf(live),
    ...totals,
    quarantinedBuffers: totals.quarantinedBuffers + ended.buffers,
    quarantinedBytes: totals.quarantinedBytes + ended.bytes,
    reach: reach(),
    otherThreadBuffers: otherThreadEntries(),
    reclaimedBuffers: reclaimedEntries(),
  };
}

let interruptsCaught = false;

/**
 * Wipes every live buffer when the process receives SIGINT, SIGTERM or
 * SIGHUP (the terminal closed), then exits with 128 + the signal number
 * (130, 143 or 129), as a shell would report.
 * Opt-in, because it replaces the runtime's default handling of those
 * signals. Calling it again does nothing.
 *
 * @example Install once at start-up
 * ```ts
 * import { catchInterrupt } from "@secmem/secmem";
 *
 * catchInterrupt();
 * ```
 */
export function catchInterrupt(): void {
  if (interruptsCaught) return;
  interruptsCaught = true;
  const memory = native();
  const codes = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  // By index: a replaced array iterator must not leave a signal uncaught.
  for (let i = 0; i < signals.length; i++) {
    const signal = signals[i];
    try {
      memory.onSignal(signal, () => {
        cleanUpAndPurge();
        memory.exit(codes[signal]);
      });
    } catch (error) {
      // Windows has no SIGHUP (Deno refuses to listen for it there).
      if (signal !== "SIGHUP") throw error;
    }
  }
}
