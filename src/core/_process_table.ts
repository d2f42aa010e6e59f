/**
 * The process-wide table of live regions. Each thread's registry holds its
 * own buffers, but a Worker ended by `terminate()` (or Deno's `self.close()`)
 * runs no code of ours: without this table its locked pages would stay
 * mapped until the process ends, out of every other thread's reach.
 *
 * Every thread's secmem finds the same table in native memory (see
 * `sharedTable` in ffi/linux_threads.ts) and writes into it, for each region
 * and pool arena it maps, where it lies and which thread owns it. Any thread
 * that allocates past a limit, purges, asks for stats or exits reclaims the
 * entries of threads that have ended: it wipes their data pages, gives them
 * back, and keeps the range reserved and inaccessible for good (quarantine).
 * It never unmaps them: whether a view over them reached a thread still
 * running (`postMessage` with a transfer list) cannot be known once their
 * thread is gone, and a range that is never unmapped never holds another
 * secret under such a view. Given back as a reservation with the guard
 * pages' own flags, a quarantined range merges into one mapping with its
 * neighbours: it costs address space, not mappings.
 *
 * A thread is known by a record: its id, when it started (so that a newer
 * thread that got the same id is not taken for it) and a generation that
 * changes each time the record is claimed. Entries name their owner by
 * record and generation, never by thread id, so a reclaimer can never take
 * a live thread's entry for a dead one's. Every copy of secmem loaded in one
 * thread shares that thread's record.
 *
 * A reclaimer marks the entry it works on with its own owner value, negated:
 * if it is itself ended half way, the next reclaimer finishes the work (or,
 * once the range was being unmapped, only frees the entry).
 *
 * It also holds the process's count of mappings held, which the map-count
 * headroom (`_map_limit.ts`) must see across threads, and the count of
 * ranges quarantined for ended threads.
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

const NAME = "secmem-regions-v2";

// Header, in int32 words.
const HELD = 0;
const THREADS_TOP = 1;
const ENTRIES_TOP = 2;
const RECLAIMED = 3;
const QUARANTINED = 4;
const QUARANTINED_PAGES = 5;
const HEADER_BYTES = 64;

// One record per thread: int32 [tid, unused, start time, generation].
const THREADS = 1024;
const THREAD_BYTES = 16;
const THREADS_AT = HEADER_BYTES;
/** A record's tid word while it is being claimed or freed. */
const CHANGING = -1;

// One entry per region or arena: int32 [owner, flags], then int64 base at
// byte 16, data at 24, and float64 total at 32, data length at 40.
const ENTRIES = 65536;
const ENTRY_BYTES = 64;
const ENTRIES_AT = THREADS_AT + THREADS * THREAD_BYTES;
const TABLE_BYTES = ENTRIES_AT + ENTRIES * ENTRY_BYTES;

/** The entry's fields are written: a reclaimer may act on them. */
const READY = 1;
/** A reclaimer wiped the data pages and gave them back. */
const WIPED = 8;

/** Owner values: generation * 2048 + record + 1, below 2^31. */
const GENERATIONS = 1 << 20;

/** How many records between two looks for ended threads. */
const RECLAIM_EVERY = 1024;

interface Table {
  readonly words: Int32Array;
  readonly addresses: BigInt64Array;
  readonly lengths: Float64Array;
  readonly pageSize: number;
  /** This thread's record, and the owner value its entries carry. */
  readonly record: number;
  readonly owner: number;
}

/** undefined: not looked for yet; null: none to be had. */
let table: Table | null | undefined;
/** Mappings held, while there is no table. */
let localHeld = 0;
/** Entries this thread gave back: most likely still free. */
const freed: number[] = [];
let cursor = 0;
let recordsSinceReclaim = 0;
/** Records to skip after the table was found full (a scan costs 65,536 tries). */
let skipWhileFull = 0;

const tidAt = (record: number): number => (THREADS_AT >> 2) + record * 4;
const ownerAt = (entry: number): number =>
  (ENTRIES_AT + entry * ENTRY_BYTES) >> 2;
const baseAt = (entry: number): number =>
  ((ENTRIES_AT + entry * ENTRY_BYTES) >> 3) + 2;
const ownerValue = (record: number, generation: number): number =>
  generation * 2048 + record + 1;

function attach(memory: NativeMemory): Table | null {
  if (table !== undefined) return table;
  table = null;
  const { sharedTable, threadId, threadStart } = memory;
  if (
    sharedTable === undefined || threadId === undefined ||
    threadStart === undefined
  ) return null;
  try {
    const tid = threadId();
    const start = tid > 0 ? threadStart(tid) : null;
    // Threads are told ended by their /proc/self/task entry; if this one
    // cannot read its own (no /proc, or one of another PID namespace),
    // that judgement would be wrong for every thread.
    if (start === null || start < 0) return null;
    const length = Math.ceil(TABLE_BYTES / memory.pageSize) * memory.pageSize;
    const address = sharedTable(NAME, length);
    if (address === undefined) return null;
    const buffer = memory.view(address, length);
    const words = new Int32Array(buffer);
    let record = claimRecord(words, tid, start);
    if (record < 0) {
      // Records of ended threads that name no entry are freed here; the
      // others once this thread has a record to reclaim them with.
      freeUnreferencedEnded(words, threadStart);
      record = claimRecord(words, tid, start);
    }
    if (record < 0) return null;
    table = {
      words,
      addresses: new BigInt64Array(buffer),
      lengths: new Float64Array(buffer),
      pageSize: memory.pageSize,
      record,
      owner: ownerValue(record, Atomics.load(words, tidAt(record) + 3)),
    };
    // The mappings this thread counted before it had the table.
    if (localHeld !== 0) Atomics.add(words, HELD, localHeld);
    localHeld = 0;
    // A new thread cleans up after ended ones, so that a program that
    // starts Worker after Worker frees their records as it goes.
    reclaimIn(memory, table);
    return table;
  } catch {
    // No table: each thread keeps to its own buffers, as reach() reports.
    return null;
  }
}

/**
 * This thread's record: the one another copy of secmem in this thread
 * already holds, or a free one, claimed in steps that a reader can tell
 * from a finished record (see `readRecord`).
 */
function claimRecord(words: Int32Array, tid: number, start: number): number {
  const top = Atomics.load(words, THREADS_TOP);
  for (let record = 0; record < top; record++) {
    const seen = readRecord(words, record);
    if (seen !== undefined && seen.tid === tid && seen.start === start) {
      return record;
    }
  }
  for (let record = 0; record < THREADS; record++) {
    const at = tidAt(record);
    if (Atomics.compareExchange(words, at, 0, CHANGING) !== 0) continue;
    const generation = (Atomics.load(words, at + 3) + 1) % GENERATIONS;
    Atomics.store(words, at + 3, generation);
    Atomics.store(words, at + 2, start);
    Atomics.store(words, at, tid);
    raiseTop(words, THREADS_TOP, record + 1);
    return record;
  }
  return -1;
}

/**
 * Frees the records of ended threads that no entry names any more, for a
 * thread that found every record taken (it has none to reclaim with).
 */
function freeUnreferencedEnded(
  words: Int32Array,
  threadStart: (tid: number) => number | null,
): void {
  const named = new Set<number>();
  const entriesTop = Atomics.load(words, ENTRIES_TOP);
  for (let entry = 0; entry < entriesTop; entry++) {
    const owner = Atomics.load(words, ownerAt(entry));
    if (owner !== 0) named.add(owner < 0 ? -owner : owner);
  }
  const top = Atomics.load(words, THREADS_TOP);
  for (let record = 0; record < top; record++) {
    const seen = readRecord(words, record);
    if (seen === undefined) continue;
    if (named.has(ownerValue(record, seen.generation))) continue;
    const now = threadStart(seen.tid);
    if (now !== null && (now < 0 || now === seen.start)) continue;
    freeRecord(words, record, seen);
  }
}

/** Frees an ended thread's record, unless it was claimed again meanwhile. */
function freeRecord(words: Int32Array, record: number, seen: RecordSeen): void {
  const at = tidAt(record);
  if (Atomics.compareExchange(words, at, seen.tid, CHANGING) !== seen.tid) {
    return;
  }
  if (Atomics.load(words, at + 3) !== seen.generation) {
    // Claimed again meanwhile, by a thread that got the same id.
    Atomics.store(words, at, seen.tid);
    return;
  }
  Atomics.store(words, at, 0);
}

interface RecordSeen {
  tid: number;
  start: number;
  generation: number;
}

/** A consistent reading of a record, or undefined while it is free or changing. */
function readRecord(words: Int32Array, record: number): RecordSeen | undefined {
  const at = tidAt(record);
  const generation = Atomics.load(words, at + 3);
  const tid = Atomics.load(words, at);
  const start = Atomics.load(words, at + 2);
  if (tid <= 0 || Atomics.load(words, at + 3) !== generation) return undefined;
  if (Atomics.load(words, at) !== tid) return undefined;
  return { tid, start, generation };
}

function raiseTop(words: Int32Array, at: number, value: number): void {
  for (;;) {
    const top = Atomics.load(words, at);
    if (top >= value) return;
    if (Atomics.compareExchange(words, at, top, value) === top) return;
  }
}

function claim(words: Int32Array, owner: number): number {
  while (freed.length > 0) {
    const entry = freed.pop()!;
    if (Atomics.compareExchange(words, ownerAt(entry), 0, owner) === 0) {
      return entry;
    }
  }
  for (let tried = 0; tried < ENTRIES; tried++) {
    const entry = cursor;
    cursor = cursor + 1 === ENTRIES ? 0 : cursor + 1;
    if (Atomics.compareExchange(words, ownerAt(entry), 0, owner) === 0) {
      raiseTop(words, ENTRIES_TOP, entry + 1);
      return entry;
    }
  }
  return -1;
}

/**
 * Enters a region or arena just reserved, before any secret is written
 * into it. Returns its entry, or -1 when there is no table (or no room).
 */
export function recordRegion(
  memory: NativeMemory,
  base: bigint,
  total: number,
  data: bigint,
  dataLength: number,
): number {
  const shared = attach(memory);
  if (shared === null) return -1;
  if (++recordsSinceReclaim >= RECLAIM_EVERY) {
    recordsSinceReclaim = 0;
    reclaimEnded(memory);
  }
  if (skipWhileFull > 0) {
    skipWhileFull--;
    return -1;
  }
  const { words, addresses, lengths, owner } = shared;
  const entry = claim(words, owner);
  if (entry < 0) {
    // Only past 65,536 live regions (a raised vm.max_map_count): these go
    // unrecorded, reached by their own thread only, until entries free up.
    skipWhileFull = 1024;
    return -1;
  }
  const at = baseAt(entry);
  addresses[at] = base;
  addresses[at + 1] = data;
  lengths[at + 2] = total;
  lengths[at + 3] = dataLength;
  // A reclaimer acts on an entry only once its owner has ended, and a
  // thread's end publishes every write it made: plain stores suffice.
  words[ownerAt(entry) + 1] = READY;
  return entry;
}

/**
 * Takes a region's entry out, after its pages are wiped and before they
 * are unmapped or quarantined (a reclaimer must never act on a range that
 * may already belong to someone else).
 */
export function forgetRegion(entry: number, base: bigint): void {
  if (entry < 0 || table === undefined || table === null) return;
  const { words, addresses, owner } = table;
  const at = ownerAt(entry);
  // A region this thread inherited across fork() is in its parent's table.
  if (words[at] !== owner || addresses[baseAt(entry)] !== base) return;
  words[at + 1] = 0;
  // Atomic: other threads claim free entries by compare-and-swap.
  Atomics.store(words, at, 0);
  freed.push(entry);
}

/**
 * Wipes and unmaps (or quarantines) every region and arena whose thread
 * has ended. Returns how many it reclaimed. Never throws: a range it
 * cannot handle stays marked with this thread, and is tried again by
 * another thread once this one has ended.
 */
export function reclaimEnded(memory: NativeMemory): number {
  const shared = attach(memory);
  return shared === null ? 0 : reclaimIn(memory, shared);
}

function reclaimIn(memory: NativeMemory, shared: Table): number {
  const threadStart = memory.threadStart;
  if (threadStart === undefined) return 0;
  const { words } = shared;
  // Owner values of ended threads, and the records to free afterwards.
  const ended = new Set<number>();
  const records: [number, RecordSeen][] = [];
  const threadsTop = Atomics.load(words, THREADS_TOP);
  for (let record = 0; record < threadsTop; record++) {
    if (record === shared.record) continue;
    const seen = readRecord(words, record);
    if (seen === undefined) continue;
    const now = threadStart(seen.tid);
    if (now !== null && (now < 0 || now === seen.start)) continue;
    ended.add(ownerValue(record, seen.generation));
    records.push([record, seen]);
  }
  if (ended.size === 0) return 0;
  let reclaimed = 0;
  const entriesTop = Atomics.load(words, ENTRIES_TOP);
  for (let entry = 0; entry < entriesTop; entry++) {
    const at = ownerAt(entry);
    const owner = Atomics.load(words, at);
    if (owner === 0 || !ended.has(owner < 0 ? -owner : owner)) continue;
    if (Atomics.compareExchange(words, at, owner, -shared.owner) !== owner) {
      continue;
    }
    const flags = Atomics.load(words, at + 1);
    // Claimed but never published (the thread ended between the two
    // steps, before any secret was written): only the entry is given back.
    if ((flags & READY) !== 0) {
      if (!reclaim(memory, shared, entry)) continue;
      reclaimed++;
      Atomics.add(words, RECLAIMED, 1);
      Atomics.add(words, QUARANTINED, 1);
      Atomics.add(
        words,
        QUARANTINED_PAGES,
        shared.lengths[baseAt(entry) + 2] / shared.pageSize,
      );
    }
    Atomics.store(words, at + 1, 0);
    Atomics.store(words, at, 0);
  }
  // Every entry of an ended thread has been handled, so its record is free
  // for new threads.
  for (const [record, seen] of records) freeRecord(words, record, seen);
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
function reclaim(
  memory: NativeMemory,
  shared: Table,
  entry: number,
): boolean {
  const { words, addresses, lengths } = shared;
  const at = baseAt(entry);
  const flagsAt = ownerAt(entry) + 1;
  if ((Atomics.load(words, flagsAt) & WIPED) !== 0) return true;
  try {
    const data = addresses[at + 1];
    const dataLength = lengths[at + 3];
    memory.protect(data, dataLength, "readwrite");
    memory.wipe(data, dataLength);
    quarantine(memory, data, dataLength);
    Atomics.or(words, flagsAt, WIPED);
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
    Atomics.add(table.words, HELD, pendingHeld);
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

/** Regions and arenas held by the whole process (or this thread, without a table). */
export function heldMappings(): number {
  return table ? Atomics.load(table.words, HELD) + pendingHeld : localHeld;
}

/** How far this thread's secmem sees: every thread's buffers, or its own. */
export function reach(): "process" | "thread" {
  return table ? "process" : "thread";
}

/** Buffers and arenas live in other threads of the process. */
export function otherThreadEntries(): number {
  if (!table) return 0;
  const { words, owner } = table;
  let count = 0;
  const top = Atomics.load(words, ENTRIES_TOP);
  for (let entry = 0; entry < top; entry++) {
    const at = ownerAt(entry);
    const other = Atomics.load(words, at);
    if (other > 0 && other !== owner && (words[at + 1] & READY) !== 0) count++;
  }
  return count;
}

/** Regions and arenas of ended threads reclaimed since the process began. */
export function reclaimedEntries(): number {
  return table ? Atomics.load(table.words, RECLAIMED) : 0;
}

/** Ranges of ended threads quarantined by any thread, and their bytes. */
export function quarantinedFromEnded(): { buffers: number; bytes: number } {
  if (!table) return { buffers: 0, bytes: 0 };
  return {
    buffers: Atomics.load(table.words, QUARANTINED),
    bytes: Atomics.load(table.words, QUARANTINED_PAGES) * table.pageSize,
  };
}

/**
 * The data ranges of every region and arena live in any thread, for a
 * scan that must not look inside guarded memory. Empty without a table.
 */
export function guardedRanges(): [bigint, bigint][] {
  if (!table) return [];
  const { words, addresses, lengths } = table;
  const ranges: [bigint, bigint][] = [];
  const top = Atomics.load(words, ENTRIES_TOP);
  for (let entry = 0; entry < top; entry++) {
    const at = ownerAt(entry);
    if (Atomics.load(words, at) === 0 || (words[at + 1] & READY) === 0) {
      continue;
    }
    const data = addresses[baseAt(entry) + 1];
    ranges.push([data, data + BigInt(lengths[baseAt(entry) + 3])]);
  }
  return ranges;
}
