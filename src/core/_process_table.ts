/**
 * The process-wide table of live regions. Each thread's registry holds its
 * own buffers, but a Worker ended by `terminate()` (or Deno's `self.close()`)
 * runs no code of ours: without this table its locked pages would stay
 * mapped until the process ends, out of every other thread's reach.
 *
 * Every thread's secmem finds the same table in native memory (see
 * `sharedTable` in ffi/linux_threads.ts) and enters into it, for each region
 * and pool arena it maps, where it lies and which thread owns it:
 *
 * ```text
 * header: 64 bytes of int32 words
 * | held | entries top | reclaimed | quarantined | quarantined pages | 0 ... |
 *   mappings held by the process, then counts for stats()
 *
 * entries: 65,536 of 48 bytes, one per region or arena (3 MiB in all)
 * byte 0      8       12       16      24      32        40             48
 * | owner     | flags | unused | base  | data  | total   | data length |
 *   int64       int32            int64   int64   float64   float64
 *
 * owner: one 64-bit word, changed by compare-and-swap only
 * | bit 63 | bits 62..41        | bits 40..0                             |
 * | sign   | thread id (< 2^22) | its start time, clock ticks since boot |
 *   sign 0: held by that thread; sign 1 (the word negated): being reclaimed
 *   by that thread; the whole word 0: free
 * flags: 1 the fields are written; 8 the data pages are wiped and given back
 * ```
 *
 * A thread is named by its id and when it started: Linux never hands out
 * an id of 2^22 or more (pid_max's ceiling), and 2^41 ticks of 1/100 s are
 * seven centuries of uptime, so the pair fits in 63 bits and the sign is
 * left for a reclaimer's mark. A thread counts as ended only when its
 * /proc/self/task entry is gone, or shows another start time; any doubt
 * (/proc unreadable) keeps its entries. While a thread lives its id is
 * its own and its start time does not change, so no live thread is ever
 * judged ended: its word cannot be taken for a dead one's. An entry is
 * taken by a swap from the word that was judged, which fails if the entry
 * was freed and taken again meanwhile. The one inexactness runs the safe
 * way: a new thread given an ended one's id in the very tick the ended one
 * started (ids are handed out in turn, round the whole id space) would
 * keep the ended one's entries until it ends too. Every copy of secmem
 * loaded in one thread names it with the same word.
 *
 * Any thread that allocates past the lock or map limit, purges, or exits,
 * and a Worker at its first buffer, reclaims the entries of threads that
 * have ended: it wipes their data pages, gives them back, and keeps the
 * range reserved and inaccessible for good (quarantine). It never unmaps
 * them: whether a view over them reached a thread still running
 * (`postMessage` with a transfer list) cannot be known once their thread is
 * gone, and a range that is never unmapped never holds another secret under
 * such a view. Given back as a reservation with the guard pages' own flags,
 * a quarantined range merges into one mapping with its neighbours: it costs
 * address space, not mappings. Asking (`stats()`) never reclaims.
 *
 * A reclaimer marks the entry it works on with its own owner word, negated,
 * and the entry's flags say when the wipe is done: if it is itself ended
 * half way, the next reclaimer takes the mark over and finishes the work.
 *
 * The process's first thread (thread id = process id) enters nothing, and
 * maps the table only when it purges, asks for stats, reaches a limit or
 * exits: that thread ending ends the process (on Linux, a first thread that
 * leaves alone stays a zombie, its /proc entry and start time unchanged, so
 * it would never be judged ended either), and no other thread ever
 * reclaims its buffers. So the main thread of Deno, Bun and Node, which is
 * the process's first thread, pays nothing for the table at its first
 * secret; a Worker runs in a thread of its own and does.
 *
 * The table also holds the process's count of mappings held, which the
 * map-count headroom (`_map_limit.ts`) must see across threads (the first
 * thread adds its own once it has the table), and the counts of ranges
 * quarantined for ended threads.
 *
 * The layout is shared by every copy of secmem in the process: a change to
 * it must change `NAME`, so that copies of different versions keep tables
 * of their own. Where no table can be had (off Linux, an old kernel), each
 * thread sees only its own buffers and `reach()` says so.
 *
 * @module
 */

import type { NativeMemory } from "./_native.ts";
import { quarantine } from "./_quarantine.ts";
import {
  append,
  Atomic,
  BigInt64s,
  ceil,
  entryStack,
  Float64s,
  Int32s,
  isSafeInteger,
  keep,
  lookUp,
  Maps,
  popEntry,
  pushEntry,
} from "./_intrinsics.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;

const NAME = "secmem-regions-v3";

// Header, in int32 words.
const HELD = 0;
const ENTRIES_TOP = 1;
const RECLAIMED = 2;
const QUARANTINED = 3;
const QUARANTINED_PAGES = 4;
const HEADER_BYTES = 64;

const ENTRIES = 65536;
const ENTRY_BYTES = 48;
const TABLE_BYTES = HEADER_BYTES + ENTRIES * ENTRY_BYTES;

/** The entry's fields are written: a reclaimer may act on them. */
const READY = 1;
/** A reclaimer wiped the data pages and gave them back. */
const WIPED = 8;

/** Owner words: thread id above the start time's bits. */
const TICK_BITS = 41n;
const TICK_MASK = (1n << TICK_BITS) - 1n;
const TID_LIMIT = 1 << 22;

interface Table {
  /** Header and flags. */
  readonly words: Int32Array;
  /** Owner words, bases and data addresses. */
  readonly slots: BigInt64Array;
  readonly lengths: Float64Array;
  readonly pageSize: number;
  /** This thread's owner word. */
  readonly self: bigint;
}

/** undefined: not looked for yet; null: none to be had. */
let table: Table | null | undefined;
/** This thread is the process's first (see the module); undefined: not asked. */
let firstThread: boolean | undefined;
/** Whether this thread (this copy of secmem in it) reclaimed at first use. */
let reclaimedAtFirstUse = false;
/** Mappings held, while there is no table. */
let localHeld = 0;
/** Entries this thread gave back: most likely still free. */
const freed = entryStack();
let cursor = 0;
/** Regions left out after the table was found full (a scan costs 65,536 tries). */
let skipWhileFull = 0;

/** Index in `slots` (and `lengths`) of an entry's owner word. */
const slotAt = (entry: number): number =>
  (HEADER_BYTES + entry * ENTRY_BYTES) >> 3;
/** Index in `words` of an entry's flags. */
const flagsAt = (entry: number): number => (slotAt(entry) + 1) << 1;

/** The owner word of thread `tid` started at `ticks`; undefined out of range. */
function ownerWord(tid: number, ticks: number): bigint | undefined {
  if (!isSafeInteger(tid) || tid <= 0 || tid >= TID_LIMIT) {
    return undefined;
  }
  if (!isSafeInteger(ticks) || ticks < 0 || ticks > Number(TICK_MASK)) {
    return undefined;
  }
  return (BigInt(tid) << TICK_BITS) | BigInt(ticks);
}

/**
 * Maps the table (once per thread) and names this thread in it; with
 * `existingOnly`, only where another thread made it (null otherwise, and
 * looked for again next time). Reclaims nothing: a query may join, only
 * the callers that reclaim wipe.
 */
function join(memory: NativeMemory, existingOnly = false): Table | null {
  if (table !== undefined) return table;
  table = null;
  const { sharedTable, threadId, threadTicks } = memory;
  if (
    sharedTable === undefined || threadId === undefined ||
    threadTicks === undefined
  ) return null;
  try {
    const length = ceil(TABLE_BYTES / memory.pageSize) * memory.pageSize;
    // Only looking: the map is read before this thread's own start (one
    // /proc read, not two, while there is no table).
    const found = existingOnly ? sharedTable(NAME, length, true) : undefined;
    if (existingOnly && found === undefined) {
      // None made yet: it may be, by the next Worker to enter a buffer.
      table = undefined;
      return null;
    }
    const tid = threadId();
    // Threads are told ended by their /proc/self/task entry; if this one
    // cannot read its own (no /proc, or one of another PID namespace),
    // that judgement would be wrong for every thread.
    const ticks = tid > 0 ? threadTicks(tid) : null;
    const self = ticks === null ? undefined : ownerWord(tid, ticks);
    if (self === undefined) return null;
    const address = found ?? sharedTable(NAME, length);
    if (address === undefined) return null;
    const buffer = memory.view(address, length);
    table = {
      words: new Int32s(buffer),
      slots: new BigInt64s(buffer),
      lengths: new Float64s(buffer),
      pageSize: memory.pageSize,
      self,
    };
    // The mappings this thread counted before it had the table.
    if (localHeld !== 0) Atomic.add(table.words, HELD, localHeld);
    localHeld = 0;
    return table;
  } catch {
    // No table: each thread keeps to its own buffers, as reach() reports.
    return null;
  }
}

/**
 * The table for a thread about to enter its first buffer, which first
 * reclaims what ended threads left: a program that starts Worker after
 * Worker wipes their leftovers as it goes.
 */
function joinAndReclaim(memory: NativeMemory): Table | null {
  const shared = join(memory);
  if (shared !== null && !reclaimedAtFirstUse) {
    reclaimedAtFirstUse = true;
    sweepEnded(memory, shared);
  }
  return shared;
}

/** Whether this is the process's first thread, which enters nothing. */
function isFirstThread(memory: NativeMemory): boolean {
  if (firstThread !== undefined) return firstThread;
  firstThread = false;
  const { threadId, processId } = memory;
  if (threadId === undefined || processId === undefined) return false;
  try {
    const tid = threadId();
    firstThread = tid > 0 && tid === processId();
  } catch {
    // Unknown: enter the buffers, as any thread's.
  }
  return firstThread;
}

/**
 * Maps the table without reclaiming anything, so that `reach()` and the
 * counts of other threads' buffers are known (`stats()`), or so that the
 * first thread adds its mappings to the process's count (the map limit).
 */
export function joinTable(memory: NativeMemory): void {
  join(memory);
}

function raiseTop(words: Int32Array, at: number, value: number): void {
  for (;;) {
    const top = Atomic.load(words, at);
    if (top >= value) return;
    if (Atomic.compareExchange(words, at, top, value) === top) return;
  }
}

/** A free entry, taken for `owner`; -1 when every entry is taken. */
function takeFreeEntry(shared: Table): number {
  const { words, slots, self } = shared;
  for (let entry = popEntry(freed); entry >= 0; entry = popEntry(freed)) {
    if (Atomic.compareExchange(slots, slotAt(entry), 0n, self) === 0n) {
      return entry;
    }
  }
  for (let tried = 0; tried < ENTRIES; tried++) {
    const entry = cursor;
    cursor = cursor + 1 === ENTRIES ? 0 : cursor + 1;
    if (Atomic.compareExchange(slots, slotAt(entry), 0n, self) === 0n) {
      raiseTop(words, ENTRIES_TOP, entry + 1);
      return entry;
    }
  }
  return -1;
}

/**
 * Enters a region or arena just reserved, before any secret is written
 * into it. Returns its entry, or -1 when it is not entered: no table, no
 * room, or the process's first thread (see the module).
 */
export function recordRegion(
  memory: NativeMemory,
  base: bigint,
  total: number,
  data: bigint,
  dataLength: number,
): number {
  if (isFirstThread(memory)) return -1;
  const shared = joinAndReclaim(memory);
  if (shared === null) return -1;
  if (skipWhileFull > 0) {
    skipWhileFull--;
    return -1;
  }
  const entry = takeFreeEntry(shared);
  if (entry < 0) {
    // Only past 65,536 live regions (a raised vm.max_map_count): these go
    // unrecorded, reached by their own thread only, until entries free up.
    skipWhileFull = 1024;
    return -1;
  }
  const { words, slots, lengths } = shared;
  const at = slotAt(entry);
  slots[at + 2] = base;
  slots[at + 3] = data;
  lengths[at + 4] = total;
  lengths[at + 5] = dataLength;
  // A reclaimer acts on an entry only once its owner has ended, and a
  // thread's end publishes every write it made: plain stores suffice.
  words[flagsAt(entry)] = READY;
  return entry;
}

/**
 * Takes a region's entry out, after its pages are wiped and before they
 * are unmapped or quarantined (a reclaimer must never act on a range that
 * may already belong to someone else).
 */
export function forgetRegion(entry: number, base: bigint): void {
  if (entry < 0 || table === undefined || table === null) return;
  const { words, slots, self } = table;
  const at = slotAt(entry);
  // A region this thread inherited across fork() is in its parent's table.
  if (slots[at] !== self || slots[at + 2] !== base) return;
  words[flagsAt(entry)] = 0;
  // Atomic: other threads take free entries by compare-and-swap.
  Atomic.store(slots, at, 0n);
  pushEntry(freed, entry);
}

/**
 * Wipes and quarantines every region and arena whose thread has ended
 * (this thread maps the table first if it has not). Returns how many it
 * reclaimed. Never throws: a range it cannot handle stays marked with this
 * thread, and is tried again by another thread once this one has ended.
 */
export function reclaimEnded(memory: NativeMemory): number {
  // A table no thread has made holds nothing to reclaim: the main thread
  // (which enters nothing) does not make one at exit or on purge().
  const shared = join(memory, isFirstThread(memory));
  return shared === null ? 0 : sweepEnded(memory, shared);
}

/** One pass over the entries, taking those of ended threads. */
function sweepEnded(memory: NativeMemory, shared: Table): number {
  const { threadTicks } = memory;
  if (threadTicks === undefined) return 0;
  const { words, slots, lengths, self } = shared;
  // One /proc read per owner, not per entry. By the intrinsics: a replaced
  // `Map.prototype.get` answering "alive" would leave an ended thread's
  // secrets out of purge(), and "ended" would wipe a live thread's.
  const verdicts = new Maps<bigint, boolean>();
  const hasEnded = (owner: bigint): boolean => {
    let ended = lookUp(verdicts, owner);
    if (ended === undefined) {
      let now: number | null;
      try {
        now = threadTicks(Number(owner >> TICK_BITS));
      } catch {
        now = -1;
      }
      // -1: cannot be told, so the buffers are kept.
      ended = now === null || (now >= 0 && BigInt(now) !== (owner & TICK_MASK));
      keep(verdicts, owner, ended);
    }
    return ended;
  };
  let reclaimed = 0;
  const top = Atomic.load(words, ENTRIES_TOP);
  for (let entry = 0; entry < top; entry++) {
    const at = slotAt(entry);
    const seen = Atomic.load(slots, at);
    // Free, ours, or marked by us in a pass that failed (another thread
    // retries it once we have ended).
    if (seen === 0n || seen === self || seen === -self) continue;
    if (!hasEnded(seen < 0n ? -seen : seen)) continue;
    if (Atomic.compareExchange(slots, at, seen, -self) !== seen) continue;
    const flags = Atomic.load(words, flagsAt(entry));
    // Taken but never published (the thread ended between the two steps,
    // before any secret was written): only the entry is given back.
    if ((flags & READY) !== 0) {
      if (!wipeAndQuarantine(memory, shared, entry)) continue;
      reclaimed++;
      Atomic.add(words, RECLAIMED, 1);
      Atomic.add(words, QUARANTINED, 1);
      Atomic.add(words, QUARANTINED_PAGES, lengths[at + 4] / shared.pageSize);
    }
    Atomic.store(words, flagsAt(entry), 0);
    Atomic.store(slots, at, 0n);
  }
  return reclaimed;
}

/**
 * Wipes one range of an ended thread and gives its pages back, which
 * leaves it quarantined (see the module). Marked in the entry once done, so
 * that if this thread is ended half way the next reclaimer does it again
 * (the range is still ours: nothing unmaps it) and never twice after.
 * False when it could not be done (the entry then stays marked with this
 * thread).
 */
function wipeAndQuarantine(
  memory: NativeMemory,
  shared: Table,
  entry: number,
): boolean {
  const { words, slots, lengths } = shared;
  const at = slotAt(entry);
  if ((Atomic.load(words, flagsAt(entry)) & WIPED) !== 0) return true;
  try {
    const data = slots[at + 3];
    const dataLength = lengths[at + 5];
    memory.protect(data, dataLength, "readwrite");
    memory.wipe(data, dataLength);
    quarantine(memory, data, dataLength);
    Atomic.or(words, flagsAt(entry), WIPED);
    return true;
  } catch {
    return false;
  }
}

// Changes to the process-wide count are gathered here and written in
// batches: one atomic operation per allocation would cost more than the
// count is worth. Other threads may miss up to BATCH of ours; the real count
// is read from /proc/self/maps before anything is refused.
const BATCH = 64;
let pendingHeld = 0;

function adjustHeld(delta: 1 | -1): void {
  if (!table) {
    localHeld += delta;
    return;
  }
  pendingHeld += delta;
  if (pendingHeld >= BATCH || pendingHeld <= -BATCH) {
    Atomic.add(table.words, HELD, pendingHeld);
    pendingHeld = 0;
  }
}

/** Counts one more region or arena held (quarantined ones included). */
export function mappingHeld(): void {
  adjustHeld(1);
}

/** Counts one region or arena given back to the OS. */
export function mappingReleased(): void {
  adjustHeld(-1);
}

/** Regions and arenas held by the process (this thread's, until it has the table). */
export function heldMappings(): number {
  return table ? Atomic.load(table.words, HELD) + pendingHeld : localHeld;
}

/** How far this thread's secmem sees: every thread's buffers, or its own. */
export function reach(): "process" | "thread" {
  return table ? "process" : "thread";
}

/** Buffers and arenas live in other threads of the process (Workers). */
export function otherThreadEntries(): number {
  if (!table) return 0;
  const { words, slots, self } = table;
  let count = 0;
  const top = Atomic.load(words, ENTRIES_TOP);
  for (let entry = 0; entry < top; entry++) {
    const owner = Atomic.load(slots, slotAt(entry));
    if (owner > 0n && owner !== self && (words[flagsAt(entry)] & READY) !== 0) {
      count++;
    }
  }
  return count;
}

/** Regions and arenas of ended threads reclaimed since the process began. */
export function reclaimedEntries(): number {
  return table ? Atomic.load(table.words, RECLAIMED) : 0;
}

/** Ranges of ended threads quarantined by any thread, and their bytes. */
export function quarantinedFromEnded(): { buffers: number; bytes: number } {
  if (!table) return { buffers: 0, bytes: 0 };
  return {
    buffers: Atomic.load(table.words, QUARANTINED),
    bytes: Atomic.load(table.words, QUARANTINED_PAGES) * table.pageSize,
  };
}

/**
 * The data ranges of every region and arena entered by any thread, for a
 * scan that must not look inside guarded memory. Empty without a table.
 */
export function guardedRanges(): [bigint, bigint][] {
  if (!table) return [];
  const { words, slots, lengths } = table;
  const ranges: [bigint, bigint][] = [];
  const top = Atomic.load(words, ENTRIES_TOP);
  for (let entry = 0; entry < top; entry++) {
    const at = slotAt(entry);
    if (
      Atomic.load(slots, at) === 0n || (words[flagsAt(entry)] & READY) === 0
    ) continue;
    const data = slots[at + 3];
    append(ranges, [data, data + BigInt(lengths[at + 5])]);
  }
  return ranges;
}
