/**
 * One pool arena: a guarded mapping cut into slots of one size class, with
 * a free list, per-page counts of open scopes, and the canaries' expected
 * values. Taking a slot makes no system call; giving one back wipes it and
 * makes only the protection calls its page needs (none when the pool rests
 * readwrite, or when the page is already writable).
 *
 * Syscalls to map an arena on Linux: mmap (reserve), mmap (data, locked),
 * madvise ×2, getrandom (canaries), mprotect (rest): 6, for up to 1 MiB of
 * slots. Unmapping: mprotect, munmap.
 *
 * @module
 */

import { CANARY_SIZE } from "../core/_layout.ts";
import type { NativeMemory, Protection } from "../core/_native.ts";
import {
  canariesPerPage,
  canaryBefore,
  canaryOffset,
  type SlotGeometry,
  slotOffset,
} from "./_slot_layout.ts";
import { commitData, type Retirable, retireMapping } from "../core/_region.ts";
import { forgetRegion, recordRegion } from "../core/_process_table.ts";
import {
  append,
  Bytes,
  countOf,
  detachBuffer,
  enlist,
  floor,
  Int32s,
  isDetached,
  markOwn,
  markOwnView,
  membersOf,
  Sets,
  strike,
  Uint16s,
  Uint32s,
} from "../core/_intrinsics.ts";
import { checkMapHeadroom, mappingHeld } from "../core/_map_limit.ts";
import { noteQuarantined } from "../core/_registry.ts";
import {
  type Loan,
  mappingClosed,
  mappingOpened,
  type OpenMapping,
  type Probe,
} from "../core/_open.ts";
import { markAccess, markClosed, markOpen } from "../core/_open_ranges.ts";
import type { LockPolicy } from "../core/_validate.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;

/** Access as a number, so that the stronger of two is the larger. */
export type Level = 0 | 1 | 2;

/** The protection of each level. */
export const PROTECTIONS: readonly Protection[] = [
  "noaccess",
  "readonly",
  "readwrite",
];

/** What unmapping an arena found. */
export interface ArenaPurge {
  /** Slots that were still live. */
  live: number;
  /** Of those, how many had a canary or slack byte overwritten. */
  corrupted: number;
}

let nextId = 1;

// Arenas mapped in this copy and thread, for `arenaRanges`.
const mapped = new Set<Arena>();

/**
 * The data ranges of this thread's live arenas: a memory scan leaves them
 * out (their pages hold other secrets, readable through /proc at rest).
 */
export function arenaRanges(): [bigint, bigint][] {
  const ranges: [bigint, bigint][] = [];
  // By the intrinsics: a range left out here is scanned as a copy.
  const arenas = membersOf(mapped);
  for (let i = 0; i < arenas.length; i++) {
    const { dataAddress, dataLength } = arenas[i];
    append(ranges, [dataAddress, dataAddress + BigInt(dataLength)]);
  }
  return ranges;
}

/** A mapped arena of slots. Holds no reference to any slot handle. */
export class Arena implements OpenMapping, Retirable {
  /** A number no other arena of this process had. */
  readonly id: number = nextId++;
  readonly geometry: SlotGeometry;
  readonly pages: number;
  /** Slots in the arena. */
  readonly capacity: number;
  readonly base: bigint;
  readonly dataAddress: bigint;
  readonly dataLength: number;
  /** Bytes reserved: the data pages and one guard page on each side. */
  readonly total: number;
  /** Whether the data pages are locked in RAM. */
  readonly locked: boolean;
  /** Its entry in the process-wide table (`_process_table.ts`), or -1. */
  readonly entry: number;

  readonly #memory: NativeMemory;
  readonly #rest: Level;
  #bytes: Uint8Array;
  readonly #expected: Uint8Array;
  readonly #free: Int32Array;
  #freeCount: number;
  // The size asked for in each slot; 0 while the slot is free.
  readonly #sizes: Uint16Array;
  // The access each slot needs; kept here rather than in the handle, so a
  // slot reclaimed after its handle was collected gives its page back.
  readonly #levels: Uint8Array;
  // Per page: slots that need read access, slots that need write access,
  // and the protection the page has now.
  readonly #readers: Uint32Array;
  readonly #writers: Uint32Array;
  readonly #protection: Uint8Array;
  // Zero-copy buffers handed out for single slots, by slot index,
  // detached when the slot is freed, so a view kept past destroy never
  // shows the next occupant. A record with no prototype and a count, not
  // a Map or Set: their methods can be replaced after import, and a
  // lookup that answered "no view" would free the slot under a view.
  readonly #views = { __proto__: null } as Record<
    number,
    ArrayBuffer | undefined
  >;
  #viewCount = 0;
  // Slots whose view escaped (its buffer transferred away), flagged 1:
  // wiped when freed but never handed out again, and the arena is
  // quarantined rather than unmapped, so no later secret lands under
  // that view.
  readonly #escaped: Uint8Array;
  #escapedCount = 0;
  #quarantinedSlots = 0;
  // Pages that can be read now: while any can, a caller's new view over a
  // slot's buffer may reach `from()` (see `core/_open.ts`).
  #openPages = 0;
  // Per page of an arena that rests noaccess: its entry in the list of
  // open ranges every copy of secmem reads (-1 while closed).
  #pageEntries: Int32Array | undefined;
  // The entry for all the pages of an arena that rests open, or -1.
  #openEntry = -1;
  /**
   * Views lent out from its pages and not taken back (`_lend.ts`), and the
   * buffers of quarantined slots whose view escaped (see `release`).
   */
  loans: Set<Loan> | undefined;
  /**
   * Whether a view over the pages got out of the library's reach (set when
   * retiring finds one): the arena is then quarantined, not unmapped.
   */
  escaped = false;
  #live = true;

  private constructor(
    memory: NativeMemory,
    geometry: SlotGeometry,
    pages: number,
    base: bigint,
    locked: boolean,
    bytes: Uint8Array,
    expected: Uint8Array,
    rest: Level,
    entry: number,
  ) {
    this.#memory = memory;
    this.entry = entry;
    this.geometry = geometry;
    this.pages = pages;
    this.capacity = pages * geometry.slotsPerPage;
    this.base = base;
    this.dataAddress = base + BigInt(geometry.pageSize);
    this.dataLength = pages * geometry.pageSize;
    this.total = this.dataLength + 2 * geometry.pageSize;
    this.locked = locked;
    this.#bytes = bytes;
    this.#expected = expected;
    this.#rest = rest;
    this.#free = new Int32s(this.capacity);
    // Lowest index on top, so slots fill pages in order.
    for (let i = 0; i < this.capacity; i++) {
      this.#free[i] = this.capacity - 1 - i;
    }
    this.#freeCount = this.capacity;
    this.#sizes = new Uint16s(this.capacity);
    this.#levels = new Bytes(this.capacity);
    this.#escaped = new Bytes(this.capacity);
    this.#readers = new Uint32s(pages);
    this.#writers = new Uint32s(pages);
    this.#protection = new Bytes(pages).fill(rest);
    if (rest === 0) {
      this.#pageEntries = new Int32s(pages).fill(-1);
    } else {
      // Pages that rest open stay open until the arena is unmapped: one
      // entry for them all. An arena that rests read-only makes pages
      // writable for a while, so its entry claims no more than readable.
      this.#openPages = pages;
      mappingOpened(this);
      this.#openEntry = markOpen(
        memory,
        this.dataAddress,
        this.dataAddress + BigInt(this.dataLength),
        rest === 2,
      );
    }
    // Last: `map` gives back an arena whose constructor threw, and a range
    // no longer ours must not stay listed (memory scans leave it out).
    enlist(mapped, this);
  }

  /**
   * Maps an arena of `pages` data pages: reserve with guards, commit under
   * the lock policy, keepOutOfDumpsAndForks, draw the canaries from the OS generator
   * straight into the pages, place them, and close the pages if the pool
   * rests noaccess. On any failure nothing stays mapped.
   */
  static map(
    memory: NativeMemory,
    geometry: SlotGeometry,
    pages: number,
    lock: LockPolicy,
    rest: Level,
  ): Arena {
    const { pageSize } = geometry;
    const dataLength = pages * pageSize;
    const total = dataLength + 2 * pageSize;
    checkMapHeadroom(memory);
    const base = memory.reserve(total);
    const data = base + BigInt(pageSize);
    const entry = recordRegion(memory, base, total, data, dataLength);
    let committed = false;
    let buffer: ArrayBuffer | undefined;
    try {
      const locked = commitData(memory, data, dataLength, lock);
      committed = true;
      memory.keepOutOfDumpsAndForks(data, dataLength);
      buffer = markOwn(memory.view(data, dataLength));
      const bytes = new Bytes(buffer);
      const count = pages * canariesPerPage(geometry);
      const expected = new Bytes(count * CANARY_SIZE);
      // One getrandom(2) for every canary of the arena, then spread them.
      memory.fillRandom(data, expected.length);
      expected.set(bytes.subarray(0, expected.length));
      memory.wipe(data, expected.length);
      for (let canary = 0; canary < count; canary++) {
        const at = canary * CANARY_SIZE;
        bytes.set(
          expected.subarray(at, at + CANARY_SIZE),
          canaryOffset(geometry, canary),
        );
      }
      if (rest === 0) memory.protect(data, dataLength, "noaccess");
      const arena = new Arena(
        memory,
        geometry,
        pages,
        base,
        locked,
        bytes,
        expected,
        rest,
        entry,
      );
      // Only once made: an arena whose constructor threw is released
      // below, and must not go on counting toward the map limit.
      mappingHeld();
      return arena;
    } catch (error) {
      if (buffer !== undefined) detachBuffer(buffer);
      try {
        if (committed) {
          memory.protect(data, dataLength, "readwrite");
          memory.wipe(data, dataLength);
        }
      } finally {
        forgetRegion(entry, base);
        memory.release(base, total);
      }
      throw error;
    }
  }

  /** False once unmapped. */
  get live(): boolean {
    return this.#live;
  }

  /** Slots handed out and not yet given back. */
  get liveSlots(): number {
    return this.capacity - this.#freeCount - this.#quarantinedSlots;
  }

  /** Slots wiped after their view escaped, never to be handed out again. */
  get quarantinedSlots(): number {
    return this.#quarantinedSlots;
  }

  /** Whether no slot is free. */
  get full(): boolean {
    return this.#freeCount === 0;
  }

  /**
   * Takes a free slot (zeroed) for a secret of `size` bytes (1 to the
   * class size) and returns its index. No system call.
   */
  take(size: number): number {
    const index = this.#free[--this.#freeCount];
    this.#sizes[index] = size;
    return index;
  }

  /** Offset of slot `index`'s first user byte: they end at the slot's end. */
  userOffset(index: number): number {
    return slotOffset(this.geometry, index) + this.geometry.slotSize -
      this.#sizes[index];
  }

  /** Address of slot `index`'s first user byte. */
  userAddress(index: number): bigint {
    return this.dataAddress + BigInt(this.userOffset(index));
  }

  /** The protection slot `index`'s page has now. */
  protectionOf(index: number): Protection {
    return PROTECTIONS[this.#protection[this.#pageOf(index)]];
  }

  /**
   * A view of exactly the user bytes, over a buffer of the slot's own
   * (detached when the slot is freed or the arena unmapped).
   */
  view(index: number): Uint8Array {
    let buffer = this.#views[index];
    if (buffer !== undefined && isDetached(buffer)) {
      // Transferred away by the caller: its memory lives on out there. Go
      // on with a new view of the slot's own size; quarantine at the end.
      this.#markEscaped(index);
      buffer = undefined;
    }
    if (buffer === undefined) {
      buffer = markOwn(
        this.#memory.view(this.userAddress(index), this.#sizes[index]),
      );
      if (this.#views[index] === undefined) this.#viewCount++;
      this.#views[index] = buffer;
    }
    return markOwnView(new Bytes(buffer));
  }

  /** The access slot `index` needs now (its scopes and `protect`). */
  levelOf(index: number): Level {
    return this.#levels[index] as Level;
  }

  /**
   * Sets the access slot `index` needs, and gives its page the strongest
   * access any of its slots needs.
   */
  relevel(index: number, to: Level): void {
    const page = this.#pageOf(index);
    this.#count(page, this.#levels[index] as Level, -1);
    this.#count(page, to, 1);
    this.#levels[index] = to;
    this.#settle(page);
  }

  /**
   * Whether the canaries on both sides of slot `index` hold their values
   * and its slack is still zero. The page must be readable.
   */
  intact(index: number): boolean {
    const geometry = this.geometry;
    const bytes = this.#bytes;
    const expected = this.#expected;
    const first = canaryBefore(geometry, index);
    const before = canaryOffset(geometry, first);
    const after = before + geometry.stride;
    let difference = 0;
    for (let i = 0; i < CANARY_SIZE; i++) {
      difference |= bytes[before + i] ^ expected[first * CANARY_SIZE + i];
      difference |= bytes[after + i] ^
        expected[(first + 1) * CANARY_SIZE + i];
    }
    const slackEnd = this.userOffset(index);
    for (let i = before + CANARY_SIZE; i < slackEnd; i++) {
      difference |= bytes[i];
    }
    return difference === 0;
  }

  /**
   * Runs `fill` while slot `index`'s page is writable, then gives the page
   * back the access its slots need.
   */
  withWritable(index: number, fill: (bytes: Uint8Array) => void): void {
    const page = this.#pageOf(index);
    this.#open(page);
    try {
      fill(this.#bytes);
    } finally {
      this.#settle(page);
    }
  }

  /**
   * Gives slot `index` back: drops the access it still held, checks its
   * canaries and slack, wipes the whole slot, restores its canaries if they
   * were overwritten (so its neighbour can still be checked), detaches the
   * slot's view, and frees it. Returns whether the canaries were intact;
   * the slot is wiped and freed either way.
   */
  release(index: number): boolean {
    const page = this.#pageOf(index);
    this.#count(page, this.#levels[index] as Level, -1);
    this.#levels[index] = 0;
    let intact = false;
    try {
      this.#open(page);
      intact = this.intact(index);
      // A store through a live view of native memory: no engine may drop
      // it (the buffer stays reachable), and it costs no native call.
      const offset = slotOffset(this.geometry, index);
      this.#bytes.fill(0, offset, offset + this.geometry.slotSize);
      if (!intact) this.#restoreCanaries(index);
    } finally {
      try {
        this.#settle(page);
      } finally {
        // Most slots never had a view: skip the lookup when none exist.
        const buffer = this.#viewCount === 0 ? undefined : this.#views[index];
        if (buffer !== undefined) {
          delete this.#views[index];
          this.#viewCount--;
          if (!detachBuffer(buffer)) this.#markEscaped(index);
        }
        if (this.#lentOut(index)) this.#markEscaped(index);
        if (this.#escaped[index] === 1) {
          // A view kept over the slot still reads it whenever a neighbour
          // opens the page: kept as a loan, so that from() tells it from a
          // caller's array and never wipes a read-only page under it.
          if (buffer !== undefined) {
            const size = this.#sizes[index];
            const address = this.userAddress(index);
            enlist(this.loans ??= new Sets(), { buffer, address, size });
          }
          this.#quarantinedSlots++;
        } else {
          this.#free[this.#freeCount++] = index;
        }
        this.#sizes[index] = 0;
      }
    }
    return intact;
  }

  /**
   * Wipes every data byte and unmaps the arena (the retire recipe,
   * `retireMapping`), after counting live slots and checking their
   * canaries. Every view over it is detached.
   */
  unmap(): ArenaPurge {
    if (!this.#live) return { live: 0, corrupted: 0 };
    this.#live = false;
    const memory = this.#memory;
    try {
      return retireMapping(memory, this, this, () => {
        memory.protect(this.dataAddress, this.dataLength, "readwrite");
        const result: ArenaPurge = { live: 0, corrupted: 0 };
        for (let index = 0; index < this.capacity; index++) {
          if (this.#sizes[index] === 0) continue;
          result.live++;
          if (!this.intact(index)) result.corrupted++;
        }
        return result;
      }, () => this.#detachAll());
    } finally {
      if (this.escaped) noteQuarantined(this.total);
    }
  }

  /** Detaches every view and closes every open range; true if one escaped. */
  #detachAll(): boolean {
    let escaped = this.#escapedCount > 0;
    // for-in over an object with no prototype: no iterator to replace.
    for (const index in this.#views) {
      if (!detachBuffer(this.#views[index]!)) escaped = true;
      delete this.#views[index];
    }
    this.#viewCount = 0;
    detachBuffer(this.#bytes.buffer as ArrayBuffer);
    this.#bytes = new Bytes(0);
    this.#expected.fill(0);
    const entries = this.#pageEntries;
    if (entries !== undefined) {
      for (let page = 0; page < this.pages; page++) {
        markClosed(entries[page]);
        entries[page] = -1;
      }
    }
    markClosed(this.#openEntry);
    this.#openEntry = -1;
    mappingClosed(this);
    strike(mapped, this);
    this.#openPages = 0;
    return escaped;
  }

  #markEscaped(index: number): void {
    if (this.#escaped[index] === 1) return;
    this.#escaped[index] = 1;
    this.#escapedCount++;
  }

  #pageOf(index: number): number {
    // Whole counts below 2^31: truncation is the floor (see _slot_layout).
    return (index / this.geometry.slotsPerPage) | 0;
  }

  #count(page: number, level: Level, delta: 1 | -1): void {
    if (level === 1) this.#readers[page] += delta;
    else if (level === 2) this.#writers[page] += delta;
  }

  /** Makes `page` writable for the arena's own work. */
  #open(page: number): void {
    if (this.#protection[page] === 2) return;
    this.#protectPage(page, 2);
  }

  /** Gives `page` the access its slots need, or the rest level. */
  #settle(page: number): void {
    const needed: Level = this.#writers[page] > 0
      ? 2
      : this.#readers[page] > 0
      ? 1
      : 0;
    const wanted = needed > this.#rest ? needed : this.#rest;
    if (this.#protection[page] !== wanted) this.#protectPage(page, wanted);
  }

  #protectPage(page: number, level: Level): void {
    const { pageSize } = this.geometry;
    this.#memory.protect(
      this.dataAddress + BigInt(page * pageSize),
      pageSize,
      PROTECTIONS[level],
    );
    const was = this.#protection[page];
    this.#protection[page] = level;
    const entries = this.#pageEntries;
    if (was === 0) {
      if (this.#openPages++ === 0) mappingOpened(this);
      if (entries !== undefined) {
        const address = this.dataAddress + BigInt(page * pageSize);
        entries[page] = markOpen(
          this.#memory,
          address,
          address + BigInt(pageSize),
          level === 2,
        );
      }
    } else if (level === 0) {
      if (--this.#openPages === 0) mappingClosed(this);
      if (entries !== undefined) {
        markClosed(entries[page]);
        entries[page] = -1;
      }
    } else if (entries !== undefined) {
      markAccess(entries[page], level === 2);
    }
  }

  /**
   * Whether the view `probe` asks about lies over a slot's buffer handed
   * out, or a view lent from a slot, on a page open now (see `OpenMapping`).
   */
  holds(probe: Probe): boolean {
    let ours = false;
    for (const key in this.#views) {
      const index = +key;
      const address = this.userAddress(index);
      const buffer = this.#views[index]!;
      if (this.#probe(probe, buffer, address, this.#sizes[index])) ours = true;
    }
    // By the intrinsics (see regionHolds in core/_open.ts).
    const loans = this.loans === undefined ? [] : membersOf(this.loans);
    for (let i = 0; i < loans.length; i++) {
      const loan = loans[i];
      if (this.#probe(probe, loan.buffer, loan.address, loan.size)) ours = true;
    }
    return ours;
  }

  /**
   * Whether every page under `size` bytes at `address` is readable now
   * (see `OpenMapping`): a view lent over a closed page would fault.
   */
  readableAt(address: bigint, size: number): boolean {
    const offset = Number(address - this.dataAddress);
    const { pageSize } = this.geometry;
    const last = floor((offset + size - 1) / pageSize);
    for (let page = floor(offset / pageSize); page <= last; page++) {
      if (this.#protection[page] === 0) return false;
    }
    return true;
  }

  /** `probe` on a buffer over `size` bytes at `address`, if its page is open. */
  #probe(probe: Probe, buffer: ArrayBuffer, address: bigint, size: number) {
    const page = Number(address - this.dataAddress) / this.geometry.pageSize;
    const level = this.#protection[floor(page)];
    return level !== 0 && probe(buffer, address, size, PROTECTIONS[level]);
  }

  /** Whether a view lent from slot `index` is still out. */
  #lentOut(index: number): boolean {
    // On every slot's release: no address arithmetic while nothing is out.
    // By the intrinsics: a loan hidden by a replaced `size` or iterator
    // would let the slot be handed out again under a view still out.
    if (this.loans === undefined || countOf(this.loans) === 0) return false;
    const start = this.userAddress(index);
    const end = start + BigInt(this.#sizes[index]);
    const loans = membersOf(this.loans);
    for (let i = 0; i < loans.length; i++) {
      const loan = loans[i];
      if (loan.address < end && loan.address + BigInt(loan.size) > start) {
        return true;
      }
    }
    return false;
  }

  #restoreCanaries(index: number): void {
    const first = canaryBefore(this.geometry, index);
    for (const canary of [first, first + 1]) {
      const at = canary * CANARY_SIZE;
      this.#bytes.set(
        this.#expected.subarray(at, at + CANARY_SIZE),
        canaryOffset(this.geometry, canary),
      );
    }
  }
}
