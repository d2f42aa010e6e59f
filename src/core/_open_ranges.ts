/**
 * The process-wide list of guarded ranges that are readable now, written
 * and read by every copy of secmem in the process, whatever its version:
 * the npm package beside the sources, or two versions in node_modules.
 * A copy's own bookkeeping (`_open.ts`, the process table) is invisible to
 * another copy, and a view one copy hands out inside a scope looks to the
 * other like a caller's array, which `from()` would wipe: zeroing a live
 * secret in a write scope, faulting in a read scope. This list is how a
 * copy tells that a source may be another copy's open memory.
 *
 * On Linux it is a named memfd found at one of the agreed addresses (as
 * the process table is), on Windows a section named after the process,
 * under a name that carries no version of the library, only of this
 * layout. The layout is frozen: every later version
 * must write and read it as it is (a new layout needs a new name, and a
 * version that adopts one keeps writing this one as well).
 *
 * ```
 * int32 [0] IN_USE      entries in use, any thread, any copy
 * int32 [1] TOP         one past the highest entry ever used
 * int32 [2] UNRECORDED  readable ranges no entry could be had for
 * bytes 16..63          unused (zero)
 * entries from byte 64, 32 bytes each (ENTRIES of them):
 *   int32 tid           the thread that opened the range; 0 = free
 *   int32 started       that thread's start time (clock ticks mod 2^31)
 *   int32 copy          a random number naming the copy that wrote it
 *   int32 access        1: readable (some pages may be read-only);
 *                       3: readable and writable throughout
 *   int64 start, end    the range, [start, end)
 * ```
 *
 * An entry is claimed by compare-and-swap on `tid` and then filled: only
 * its own thread reads it (a range another thread opened may close at any
 * moment, and reading it then would fault), and that thread runs nothing
 * else between the two steps. A new thread that got an ended thread's id
 * is told apart by the start time, so it never reads a range the ended
 * thread left behind (which may be unmapped since).
 *
 * Cost: opening and closing a range are a few atomic operations on this
 * memory, no system call. A `from()` of a caller's array reads `IN_USE`
 * once; only while some range of another copy (or another thread) is open
 * does it walk the entries up to `TOP`.
 *
 * Where no shared memory can be had (darwin, which fails closed anyway; a
 * Linux without memfd_create or /proc), a copy cannot tell another copy's
 * memory, and `from()` copies its source without wiping it.
 *
 * @module
 */

import type { NativeMemory } from "./_native.ts";
import {
  append,
  Atomic,
  BigInt64s,
  entryStack,
  Int32s,
  keep,
  lookUp,
  Maps,
  now,
  popEntry,
  pushEntry,
} from "./_intrinsics.ts";

/** The memfd's name: the layout's version, not the library's. */
const NAME = "secmem-open-ranges-v1";
/** Agreed by every version: a multiple of 4, 16 and 64 KiB pages. */
const TABLE_BYTES = 65536;

const IN_USE = 0;
const TOP = 1;
const UNRECORDED = 2;
const HEADER_BYTES = 64;
const ENTRY_BYTES = 32;
const ENTRIES = (TABLE_BYTES - HEADER_BYTES) / ENTRY_BYTES;

/** What `markOpen` returns for a range it found no room for. */
export const UNRECORDED_ENTRY = -2;

/** Access values in an entry (0: free or closed). */
const READABLE = 1;
const WRITABLE = 3;

/** The list as mapped in this thread, and who this thread is. */
interface List {
  readonly words: Int32Array;
  readonly addresses: BigInt64Array;
  readonly tid: number;
  readonly started: number;
}

/**
 * Any nonzero number that other copies in this thread are unlikely to have
 * drawn: it only tells this copy's entries from theirs.
 */
const COPY = 1 + Math.floor(Math.random() * 0x7fff_fffe);

/** undefined: not looked for yet; null: none to be had. */
let list: List | null | undefined;
/** The native layer `list` was looked for with (a test may swap it). */
let listFor: NativeMemory | undefined;
/** Entries this copy holds in this thread (to tell others' from ours). */
let own = 0;
/** Ranges this copy opened without an entry (the list was full). */
let unrecorded = 0;
/** Entries this copy freed: most likely still free. */
const freed = entryStack();
let cursor = 0;
let lastLook = -Infinity;

/** An entry's first word (its tid); `at + 1` started, `+ 2` copy, `+ 3` access. */
const wordAt = (entry: number): number =>
  (HEADER_BYTES + entry * ENTRY_BYTES) >> 2;

/** The list, mapped at the first call for `memory`; null where there is none. */
function mapList(memory: NativeMemory): List | null {
  if (listFor === memory && list !== undefined) return list;
  listFor = memory;
  list = null;
  const { sharedSection, currentThread } = memory;
  if (sharedSection === undefined || currentThread === undefined) return null;
  try {
    const thread = currentThread();
    if (thread === undefined) return null;
    const address = sharedSection(NAME, TABLE_BYTES);
    if (address === undefined) return null;
    const buffer = memory.view(address, TABLE_BYTES);
    list = {
      words: new Int32s(buffer),
      addresses: new BigInt64s(buffer),
      tid: thread.id,
      started: thread.started,
    };
  } catch {
    list = null;
  }
  return list;
}

/**
 * Notes that [start, end) became readable (`writable`: and writable
 * throughout). Returns the entry to pass to `markAccess` and
 * `markClosed`: -1 when there is no list, `UNRECORDED_ENTRY` when there is
 * no room in it (counted, so that other copies know they cannot tell).
 */
export function markOpen(
  memory: NativeMemory,
  start: bigint,
  end: bigint,
  writable: boolean,
): number {
  const shared = mapList(memory);
  if (shared === null || end <= start) return -1;
  const { words, addresses, tid } = shared;
  let entry = claim(words, tid);
  // Full: entries of threads that ended inside a scope (a terminated
  // Worker) are given back, then one more try.
  if (entry < 0 && freeEnded(memory, shared) > 0) entry = claim(words, tid);
  if (entry < 0) {
    unrecorded++;
    Atomic.add(words, UNRECORDED, 1);
    return UNRECORDED_ENTRY;
  }
  const at = wordAt(entry);
  words[at + 1] = shared.started;
  words[at + 2] = COPY;
  words[at + 3] = writable ? WRITABLE : READABLE;
  addresses[(at >> 1) + 2] = start;
  addresses[(at >> 1) + 3] = end;
  own++;
  Atomic.add(words, IN_USE, 1);
  return entry;
}

/** Notes a change between read-only and writable of an open range. */
export function markAccess(entry: number, writable: boolean): void {
  if (entry < 0 || !list) return;
  list.words[wordAt(entry) + 3] = writable ? WRITABLE : READABLE;
}

/** Notes that an open range is no longer readable (or is unmapped). */
export function markClosed(entry: number): void {
  if (!list) return;
  const { words } = list;
  if (entry === UNRECORDED_ENTRY) {
    unrecorded--;
    Atomic.sub(words, UNRECORDED, 1);
    return;
  }
  if (entry < 0) return;
  const at = wordAt(entry);
  words[at + 3] = 0;
  Atomic.store(words, at, 0);
  Atomic.sub(words, IN_USE, 1);
  own--;
  pushEntry(freed, entry);
}

/** A free entry, claimed for `tid` by compare-and-swap; -1 if none. */
function claim(words: Int32Array, tid: number): number {
  for (let entry = popEntry(freed); entry >= 0; entry = popEntry(freed)) {
    if (Atomic.compareExchange(words, wordAt(entry), 0, tid) === 0) {
      return entry;
    }
  }
  for (let tried = 0; tried < ENTRIES; tried++) {
    const entry = cursor;
    cursor = cursor + 1 === ENTRIES ? 0 : cursor + 1;
    if (Atomic.compareExchange(words, wordAt(entry), 0, tid) === 0) {
      for (;;) {
        const top = Atomic.load(words, TOP);
        if (top > entry) break;
        if (Atomic.compareExchange(words, TOP, top, entry + 1) === top) break;
      }
      return entry;
    }
  }
  return -1;
}

/**
 * Whether another copy, or another thread, may have a range open now: the
 * one check a `from()` of a caller's array pays. Maps the list on first
 * use. True where there is no list: then nothing can be told.
 */
export function othersOpen(memory: NativeMemory): boolean {
  const shared = mapList(memory);
  if (shared === null) return true;
  const { words } = shared;
  if (Atomic.load(words, IN_USE) > own) {
    // Perhaps only entries a thread left when it ended inside a scope:
    // look, at most once a second (a look reads /proc per entry).
    const time = now();
    if (time - lastLook > 1000) {
      lastLook = time;
      freeEnded(memory, shared);
    }
  }
  return Atomic.load(words, IN_USE) > own ||
    Atomic.load(words, UNRECORDED) > unrecorded;
}

/**
 * Gives back the entries of threads that have ended (their id is gone
 * from /proc/self/task, or now names a thread that started later): a
 * thread ended inside a scope never closes its ranges. An entry whose
 * thread cannot be told about is kept. Returns how many were freed.
 */
function freeEnded(memory: NativeMemory, shared: List): number {
  const { threadStart } = memory;
  if (threadStart === undefined) return 0;
  const { words } = shared;
  const top = Atomic.load(words, TOP);
  const verdicts = new Maps<number, number | null>();
  let count = 0;
  for (let entry = 0; entry < top; entry++) {
    const at = wordAt(entry);
    const owner = Atomic.load(words, at);
    if (owner === 0 || owner === shared.tid) continue;
    // By the intrinsics: a Map.prototype.get replaced after import would
    // have a live thread's open ranges freed.
    let started = lookUp(verdicts, owner);
    if (started === undefined) {
      try {
        started = threadStart(owner);
      } catch {
        started = -1;
      }
      keep(verdicts, owner, started);
    }
    if (started === -1 || started === words[at + 1]) continue;
    // Ended: no one else writes this entry; whoever wins the swap counts it.
    words[at + 3] = 0;
    if (Atomic.compareExchange(words, at, owner, 0) === owner) {
      Atomic.sub(words, IN_USE, 1);
      count++;
    }
  }
  return count;
}

/**
 * Calls `visit` with the word index of every entry in use and open, up to
 * `TOP`. By index, never a generator: a generator's `next` replaced after
 * import would hide open ranges, and the probe would wipe another copy's
 * secret.
 */
function forEachOpenEntry(words: Int32Array, visit: (at: number) => void) {
  const top = Atomic.load(words, TOP);
  for (let entry = 0; entry < top; entry++) {
    const at = wordAt(entry);
    if (Atomic.load(words, at) !== 0 && words[at + 3] !== 0) visit(at);
  }
}

/**
 * Every range that any thread or copy of secmem has open now, for a memory
 * scan that must not report a hit inside another secret (at rest, a
 * secret's pages cannot be read at all). Only the bounds are read, never
 * the memory, so another thread's ranges are safe to list; a range opened
 * while the scan runs is missed, as the scan cannot wait for it. Maps the
 * list if this thread had not; empty where there is none.
 */
export function openRangesOfEveryThread(
  memory: NativeMemory,
): [bigint, bigint][] {
  const shared = mapList(memory);
  if (shared === null) return [];
  const { words, addresses } = shared;
  const ranges: [bigint, bigint][] = [];
  forEachOpenEntry(words, (at) => {
    append(ranges, [addresses[(at >> 1) + 2], addresses[(at >> 1) + 3]]);
  });
  return ranges;
}

/** A range another copy opened in this thread. */
export interface ForeignRange {
  start: bigint;
  end: bigint;
  writable: boolean;
}

/**
 * The ranges other copies opened in this thread and that are readable
 * now; `undefined` when nothing can be told: there is no list (or it was
 * not mapped yet), or some copy opened a range it could not enter in it
 * (the list was full). Another thread's ranges are never listed: they may
 * close, and be unmapped, at any moment.
 */
export function foreignRanges(): ForeignRange[] | undefined {
  if (!list) return undefined;
  const { words, addresses, tid, started } = list;
  if (Atomic.load(words, UNRECORDED) > unrecorded) return undefined;
  const ranges: ForeignRange[] = [];
  forEachOpenEntry(words, (at) => {
    if (Atomic.load(words, at) !== tid || words[at + 1] !== started) return;
    if (words[at + 2] === COPY) return;
    append(ranges, {
      start: addresses[(at >> 1) + 2],
      end: addresses[(at >> 1) + 3],
      writable: words[at + 3] === WRITABLE,
    });
  });
  return ranges;
}
