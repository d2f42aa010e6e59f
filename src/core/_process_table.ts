/**
 * The process-wide table of live regions. Each thread's registry holds its
 * own buffers, but a Worker ended by `terminate()` (or Deno's `self.close()`)
 * runs no code of ours: without this table its locked pages would stay
 * mapped until the process ends, out of every other thread's reach.
 *
 * Every thread's secmem finds the same table in native memory (see
 * `sharedTable` in ffi/linux_threads.ts) and writes into it, for each region
 * and pool arena it maps, where it lies and which thread owns it. Any thread
 * that allocates, purges, asks for stats or exits reclaims the entries of
 * threads that have ended: it wipes their data pages and unmaps them, or,
 * when a view over them was ever handed out (and so may have been
 * transferred to a live thread), quarantines them instead.
 *
 * It also holds the process's count of mappings held, which the map-count
 * headroom (`_map_limit.ts`) must see across threads.
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

const NAME = "secmem-regions-v1";

// Header, in int32 words.
const HELD = 0;
const THREADS_TOP = 1;
const ENTRIES_TOP = 2;
const RECLAIMED = 3;
const HEADER_BYTES = 64;

// One record per attached copy of secmem: [tid, live entries].
const THREADS = 1024;
const THREAD_BYTES = 16;
const THREADS_AT = HEADER_BYTES;

// One entry per region or arena: int32 [owner, record, flags], then
// int64 base at byte 16, data at 24, and float64 total at 32, data length at 40.
const ENTRIES = 65536;
const ENTRY_BYTES = 64;
const ENTRIES_AT = THREADS_AT + THREADS * THREAD_BYTES;
const TABLE_BYTES = ENTRIES_AT + ENTRIES * ENTRY_BYTES;

/** An entry claimed by an owner that is reclaiming it. */
const BUSY = -1;
/** The entry's fields are written: a reclaimer may act on them. */
const READY = 1;
/** A view over the region was handed out or lent at least once. */
const EXPOSED = 2;

/** How many records between two looks for ended threads. */
const RECLAIM_EVERY = 1024;

interface Table {
  readonly words: Int32Array;
  readonly addresses: BigInt64Array;
  readonly lengths: Float64Array;
  readonly tid: number;
  readonly record: number;
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
/** Ranges of ended threads this thread quarantined, for `stats()`. */
const quarantinedHere = { buffers: 0, bytes: 0 };

function attach(memory: NativeMemory): Table | null {
  if (table !== undefined) return table;
  table = null;
  const { sharedTable, threadId, threadAlive } = memory;
  if (
    sharedTable === undefined || threadId === undefined ||
    threadAlive === undefined
  ) return null;
  try {
    const tid = threadId();
    // A thread is judged ended by its /proc/self/task entry; if this
    // thread cannot see its own (no /proc, or one of another PID
    // namespace), that judgement would be wrong for every thread.
    if (!(tid > 0) || !threadAlive(tid)) return null;
    const length = Math.ceil(TABLE_BYTES / memory.pageSize) * memory.pageSize;
    const address = sharedTable(NAME, length);
    if (address === undefined) return null;
    const buffer = memory.view(address, length);
    const shared: Table = {
      words: new Int32Array(buffer),
      addresses: new BigInt64Array(buffer),
      lengths: new Float64Array(buffer),
      tid,
      record: -1,
    };
    let record = claimRecord(shared.words, tid);
    if (record < 0) {
      // Records of threads that ended are freed by a reclaim.
      reclaimIn(memory, shared);
      record = claimRecord(shared.words, tid);
    }
    if (record < 0) return null;
    table = { ...shared, record };
    // The mappings this thread counted before it had the table.
    if (localHeld !== 0) Atomics.add(table.words, HELD, localHeld);
    localHeld = 0;
    return table;
  } catch {
    // No table: each thread keeps to its own buffers, as reach() reports.
    return null;
  }
}

function claimRecord(words: Int32Array, tid: number): number {
  for (let record = 0; record < THREADS; record++) {
    if (Atomics.compareExchange(words, tidAt(record), 0, tid) !== 0) continue;
    raiseTop(words, THREADS_TOP, record + 1);
    return record;
  }
  return -1;
}

const tidAt = (record: number): number => (THREADS_AT >> 2) + record * 4;
const liveAt = (record: number): number => tidAt(record) + 1;
const ownerAt = (entry: number): number =>
  (ENTRIES_AT + entry * ENTRY_BYTES) >> 2;
const baseAt = (entry: number): number =>
  ((ENTRIES_AT + entry * ENTRY_BYTES) >> 3) + 2;

function raiseTop(words: Int32Array, at: number, value: number): void {
  for (;;) {
    const top = Atomics.load(words, at);
    if (top >= value) return;
    if (Atomics.compareExchange(words, at, top, value) === top) return;
  }
}

function claim(words: Int32Array, tid: number): number {
  while (freed.length > 0) {
    const entry = freed.pop()!;
    if (Atomics.compareExchange(words, ownerAt(entry), 0, tid) === 0) {
      return entry;
    }
  }
  for (let tried = 0; tried < ENTRIES; tried++) {
    const entry = cursor;
    cursor = cursor + 1 === ENTRIES ? 0 : cursor + 1;
    if (Atomics.compareExchange(words, ownerAt(entry), 0, tid) === 0) {
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
  const { words, addresses, lengths, tid, record } = shared;
  const entry = claim(words, tid);
  if (entry < 0) {
    // Only past 65,536 live regions (a raised vm.max_map_count): these go
    // unrecorded, reached by their own thread only, until entries free up.
    skipWhileFull = 1024;
    return -1;
  }
  const owner = ownerAt(entry);
  const at = baseAt(entry);
  words[owner + 1] = record;
  addresses[at] = base;
  addresses[at + 1] = data;
  lengths[at + 2] = total;
  lengths[at + 3] = dataLength;
  Atomics.add(words, liveAt(record), 1);
  // Published last: a reclaimer reads the fields only after seeing this.
  Atomics.store(words, owner + 2, READY);
  return entry;
}

/**
 * Takes a region's entry out, after its pages are wiped and before they
 * are unmapped or quarantined (a reclaimer must never act on a range that
 * may already belong to someone else).
 */
export function forgetRegion(entry: number, base: bigint): void {
  if (entry < 0 || table === undefined || table === null) return;
  const { words, addresses, tid, record } = table;
  const owner = ownerAt(entry);
  // A region this thread inherited across fork() is in its parent's table.
  if (
    Atomics.load(words, owner) !== tid || words[owner + 1] !== record ||
    addresses[baseAt(entry)] !== base
  ) return;
  Atomics.store(words, owner + 2, 0);
  Atomics.sub(words, liveAt(record), 1);
  Atomics.store(words, owner, 0);
  freed.push(entry);
}

/** Notes that a view over the region was handed out to the caller. */
export function markExposed(entry: number): void {
  if (entry < 0 || table === undefined || table === null) return;
  const flags = ownerAt(entry) + 2;
  Atomics.store(table.words, flags, table.words[flags] | EXPOSED);
}

/** Notes that a view into this thread's region holding `address` was lent. */
export function markExposedAt(address: bigint): void {
  if (table === undefined || table === null) return;
  const { words, addresses, lengths, tid, record } = table;
  const top = Atomics.load(words, ENTRIES_TOP);
  for (let entry = 0; entry < top; entry++) {
    const owner = ownerAt(entry);
    if (words[owner] !== tid || words[owner + 1] !== record) continue;
    const data = addresses[baseAt(entry) + 1];
    if (
      address < data || address >= data + BigInt(lengths[baseAt(entry) + 3])
    ) {
      continue;
    }
    markExposed(entry);
    return;
  }
}

/**
 * Wipes and unmaps (or quarantines) every region and arena whose thread
 * has ended. Returns how many it reclaimed. Never throws: a range it
 * cannot handle is left marked busy and never touched again.
 */
export function reclaimEnded(memory: NativeMemory): number {
  const shared = attach(memory);
  return shared === null ? 0 : reclaimIn(memory, shared);
}

function reclaimIn(memory: NativeMemory, shared: Table): number {
  const threadAlive = memory.threadAlive;
  if (threadAlive === undefined) return 0;
  const { words, addresses, lengths } = shared;
  const ended = new Set<number>();
  const threadsTop = Atomics.load(words, THREADS_TOP);
  for (let record = 0; record < threadsTop; record++) {
    if (record === shared.record) continue;
    const tid = Atomics.load(words, tidAt(record));
    if (tid === 0 || tid === shared.tid) continue;
    if (!threadAlive(tid)) ended.add(tid);
  }
  if (ended.size === 0) return 0;
  let reclaimed = 0;
  const entriesTop = Atomics.load(words, ENTRIES_TOP);
  for (let entry = 0; entry < entriesTop; entry++) {
    const owner = ownerAt(entry);
    const tid = Atomics.load(words, owner);
    if (!ended.has(tid)) continue;
    if (Atomics.compareExchange(words, owner, tid, BUSY) !== tid) continue;
    const flags = Atomics.load(words, owner + 2);
    // Claimed but never published: the thread ended between the two steps,
    // before any secret was written; only the entry is given back.
    if ((flags & READY) !== 0) {
      const at = baseAt(entry);
      const held = reclaim(
        memory,
        addresses[at],
        lengths[at + 2],
        addresses[at + 1],
        lengths[at + 3],
        (flags & EXPOSED) !== 0,
      );
      if (held === undefined) continue;
      if (held) {
        quarantinedHere.buffers++;
        quarantinedHere.bytes += lengths[at + 2];
      } else Atomics.sub(words, HELD, 1);
      reclaimed++;
    }
    Atomics.store(words, owner + 2, 0);
    Atomics.store(words, owner, 0);
  }
  // Every entry of an ended thread has been handled above, so its record
  // is free for new threads. Its count is reset rather than trusted: a
  // thread ended in the middle of giving an entry back may have left it
  // one off.
  for (let record = 0; record < threadsTop; record++) {
    const tid = Atomics.load(words, tidAt(record));
    if (!ended.has(tid)) continue;
    Atomics.store(words, liveAt(record), 0);
    Atomics.compareExchange(words, tidAt(record), tid, 0);
  }
  if (reclaimed > 0) Atomics.add(words, RECLAIMED, reclaimed);
  return reclaimed;
}

/**
 * Wipes one range of an ended thread. Returns whether it stays mapped
 * (quarantined), or undefined when it could not be handled.
 */
function reclaim(
  memory: NativeMemory,
  base: bigint,
  total: number,
  data: bigint,
  dataLength: number,
  exposed: boolean,
): boolean | undefined {
  try {
    memory.protect(data, dataLength, "readwrite");
    memory.wipe(data, dataLength);
    if (exposed) {
      quarantine(memory, data, dataLength);
      return true;
    }
    memory.release(base, total);
    return false;
  } catch {
    return undefined;
  }
}

/** Counts one more region or arena held (quarantined ones included). */
export function mappingHeld(): void {
  if (table) Atomics.add(table.words, HELD, 1);
  else localHeld++;
}

/** Counts one region or arena given back to the OS. */
export function mappingReleased(): void {
  if (table) Atomics.sub(table.words, HELD, 1);
  else localHeld--;
}

/** Regions and arenas held by the whole process (or this thread, without a table). */
export function heldMappings(): number {
  return table ? Atomics.load(table.words, HELD) : localHeld;
}

/** How far this thread's secmem sees: every thread's buffers, or its own. */
export function reach(): "process" | "thread" {
  return table ? "process" : "thread";
}

/** Buffers and arenas live in other threads of the process. */
export function otherThreadEntries(): number {
  if (!table) return 0;
  const { words } = table;
  let count = 0;
  const top = Atomics.load(words, THREADS_TOP);
  for (let record = 0; record < top; record++) {
    if (record === table.record || Atomics.load(words, tidAt(record)) === 0) {
      continue;
    }
    count += Atomics.load(words, liveAt(record));
  }
  return count;
}

/** Regions and arenas of ended threads reclaimed since the process began. */
export function reclaimedEntries(): number {
  return table ? Atomics.load(table.words, RECLAIMED) : 0;
}

/** Ranges of ended threads that this thread wiped and quarantined. */
export function quarantinedFromEnded(): { buffers: number; bytes: number } {
  return { ...quarantinedHere };
}
