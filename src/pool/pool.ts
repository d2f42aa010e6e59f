/**
 * `SecretPool`: many small secrets in shared guarded arenas, for when one
 * mapping per secret is too many (a SecretBuffer costs 2 VMAs once its
 * neighbours' guard pages merge, and a locked page; mmap fails near 32,600
 * of them, measured here).
 *
 * @module
 */

import { Arena, type Level } from "./_arena.ts";
import {
  arenaPages,
  classIndexFor,
  geometryFor,
  MAX_SLOT_SIZE,
  MIN_PAGE_SIZE,
  SLOT_SIZES,
  type SlotGeometry,
} from "./_slot_layout.ts";
import { native, type Protection } from "../core/_native.ts";
import { addPurgeHook, type PurgeResult } from "../core/_registry.ts";
import {
  checkBoolean,
  checkBytes,
  checkChoice,
  checkInteger,
  checkLock,
  checkOptions,
  copySource,
  type LockPolicy,
} from "../core/_validate.ts";
import {
  countOf,
  enlist,
  floor,
  keep,
  lengthOf,
  lookUp,
  Maps,
  membersOf,
  Sets,
  strike,
  subarrayOf,
  unkeep,
  valuesOf,
  zero,
} from "../core/_intrinsics.ts";
import { isOwnSource } from "../core/_open.ts";
import { SecretMemoryError } from "../core/errors.ts";
import { redactAndFreeze } from "../core/_redact.ts";
import { AccessGate } from "../core/_access.ts";
import {
  addressOf,
  type Backing,
  describe,
  equals,
  type GuardedSecret,
  kept,
  type Kind,
  opened,
  overwritten,
  protect,
  registerBrand,
  scope,
  type SecretBufferState,
  stateOf,
  viewOf,
} from "../core/_secret.ts";

/** Options for a pool. */
export interface SecretPoolOptions {
  /**
   * `"noaccess"` (default): arena pages are inaccessible at rest; a scope
   * opens only its slot's page. `"readwrite"`: pages stay readable and
   * writable at rest, so allocating and freeing make no system call at all,
   * at the price of the at-rest fence (a stray read or write from this
   * process reaches the secrets). Locking, dump exclusion, wipe-on-fork,
   * guard pages, canaries and wiping apply either way.
   */
  rest?: "noaccess" | "readwrite";
  /**
   * `"required"`: mapping an arena fails with `MEMLOCK_LIMIT` if its pages
   * cannot be locked. `"best-effort"`: keep unlocked pages. Unset: the
   * process-wide policy (`configure`, `SECMEM_LOCK`; `"required"` unless
   * changed) as it stands when the pool is made.
   */
  lock?: "required" | "best-effort";
}

/** Options for `SecretPool.from`. */
export interface PoolFromOptions {
  /** Zero the source array after copying it (default `true`). */
  wipeSource?: boolean;
}

/** Counts for one size class. */
export interface SlotClassStats {
  /** The class's slot size in bytes. */
  slotSize: number;
  /** Slots holding a secret. */
  liveSlots: number;
  /** Slots mapped and free. */
  freeSlots: number;
  /** Arenas mapped for this class. */
  arenas: number;
}

/** What a pool holds now. */
export interface PoolStats {
  /** Slots holding a secret. */
  liveSlots: number;
  /** Slots mapped and free. */
  freeSlots: number;
  /** Arenas mapped (each: guard page, data pages, guard page). */
  arenas: number;
  /** Bytes of address space, guard pages included. */
  mappedBytes: number;
  /** Bytes locked in RAM. */
  lockedBytes: number;
  /** Bytes of arena data pages left unlocked (`lock: "best-effort"`). */
  unlockedBytes: number;
  /**
   * Slots wiped after a view over them escaped (transferred away): never
   * handed out again, and their arena is quarantined when it goes.
   */
  quarantinedSlots: number;
  /** One entry per size class, smallest first. */
  classes: SlotClassStats[];
}

/** One size class's arenas. */
interface SizeClass {
  readonly geometry: SlotGeometry;
  readonly arenas: Set<Arena>;
  /** Arenas with at least one free slot. */
  readonly open: Set<Arena>;
  current: Arena | undefined;
  /** The one empty arena kept mapped, if any. */
  spare: Arena | undefined;
}

const RANK: Record<string, Level> = { noaccess: 0, readonly: 1, readwrite: 2 };

// Finalizer keys: arena id × KEY_SPACE + slot index. A number, so the
// registry never holds the handle or anything that reaches it.
const KEY_SPACE = 2 ** 21;

/** The bookkeeping of one pool; the public classes are thin over it. */
class PoolCore {
  readonly rest: Level;
  readonly lock: LockPolicy;
  readonly #classes: SizeClass[] = [];
  readonly #arenas = new Maps<number, Arena>();
  readonly finalizer = new FinalizationRegistry<number>((key) =>
    this.#reclaim(key)
  );
  destroyed = false;
  /** The library's own scratch pool: purged, but not counted as secrets. */
  scratch = false;

  constructor(rest: Level, lock: LockPolicy) {
    this.rest = rest;
    this.lock = lock;
  }

  /** Takes a slot for `size` bytes; maps an arena only when none has room. */
  take(size: number): { arena: Arena; index: number } {
    const home = this.#classFor(size);
    let arena = home.current;
    if (arena === undefined || arena.full) arena = this.#pick(home);
    const index = arena.take(size);
    if (arena.full) strike(home.open, arena);
    if (home.spare === arena) home.spare = undefined;
    return { arena, index };
  }

  /** Gives a slot back; unmaps its arena if that leaves two empty ones. */
  give(arena: Arena, index: number): boolean {
    const wasFull = arena.full;
    const intact = arena.release(index);
    const home = this.#classFor(arena.geometry.slotSize);
    if (wasFull) enlist(home.open, arena);
    if (arena.liveSlots === 0) {
      const spare = home.spare;
      if (spare === undefined) {
        home.spare = arena;
      } else {
        // Keep the smaller, so a burst's large arenas all go back.
        const [keep, drop] = spare.pages <= arena.pages
          ? [spare, arena]
          : [arena, spare];
        home.spare = keep;
        this.#unmap(drop);
      }
    }
    return intact;
  }

  /** Wipes and unmaps every arena; the pool stays usable. */
  purge(): PurgeResult {
    const result: PurgeResult = { destroyed: 0, corrupted: 0 };
    const arenas = valuesOf(this.#arenas);
    for (let i = 0; i < arenas.length; i++) {
      const arena = arenas[i];
      try {
        const found = this.#unmap(arena);
        result.destroyed += found.live;
        result.corrupted += found.corrupted;
      } catch {
        // Carry on: the other arenas must still be wiped.
      }
    }
    return result;
  }

  stats(): PoolStats {
    const classes = SLOT_SIZES.map((slotSize): SlotClassStats => ({
      slotSize,
      liveSlots: 0,
      freeSlots: 0,
      arenas: 0,
    }));
    const result: PoolStats = {
      liveSlots: 0,
      freeSlots: 0,
      arenas: this.#arenas.size,
      mappedBytes: 0,
      lockedBytes: 0,
      unlockedBytes: 0,
      quarantinedSlots: 0,
      classes,
    };
    const arenas = valuesOf(this.#arenas);
    for (let i = 0; i < arenas.length; i++) {
      const arena = arenas[i];
      const entry = classes[classIndexFor(arena.geometry.slotSize)];
      const free = arena.capacity - arena.liveSlots - arena.quarantinedSlots;
      entry.arenas++;
      entry.liveSlots += arena.liveSlots;
      entry.freeSlots += free;
      result.liveSlots += arena.liveSlots;
      result.freeSlots += free;
      result.mappedBytes += arena.total;
      result.quarantinedSlots += arena.quarantinedSlots;
      if (arena.locked) result.lockedBytes += arena.dataLength;
      else result.unlockedBytes += arena.dataLength;
    }
    return result;
  }

  #classFor(size: number): SizeClass {
    const index = classIndexFor(size);
    let home = this.#classes[index];
    if (home === undefined) {
      const { pageSize } = native();
      if (pageSize < MIN_PAGE_SIZE) {
        throw new SecretMemoryError(
          "UNSUPPORTED_PLATFORM",
          `Cannot create a pool arena: the page size is ${pageSize} bytes and a pool needs at least ${MIN_PAGE_SIZE}; use SecretBuffer`,
        );
      }
      home = {
        geometry: geometryFor(SLOT_SIZES[index], pageSize),
        arenas: new Sets(),
        open: new Sets(),
        current: undefined,
        spare: undefined,
      };
      this.#classes[index] = home;
    }
    return home;
  }

  /** An arena with room: a partly used one first, then the spare, or a new one. */
  #pick(home: SizeClass): Arena {
    let chosen: Arena | undefined;
    // By the intrinsics: an arena a replaced iterator made up would be
    // handed the caller's secrets.
    const open = membersOf(home.open);
    for (let i = 0; i < open.length; i++) {
      const arena = open[i];
      if (arena.full) continue;
      chosen = arena;
      if (arena !== home.spare) break;
    }
    if (chosen === undefined) {
      installPurgeHook();
      const memory = native();
      chosen = Arena.map(
        memory,
        home.geometry,
        arenaPages(countOf(home.arenas), memory.pageSize),
        this.lock,
        this.rest,
      );
      // By the intrinsics: an arena kept out of `#arenas` would be missed
      // by purge() and the exit wipe.
      enlist(home.arenas, chosen);
      enlist(home.open, chosen);
      keep(this.#arenas, chosen.id, chosen);
    }
    home.current = chosen;
    return chosen;
  }

  #unmap(arena: Arena) {
    const home = this.#classFor(arena.geometry.slotSize);
    strike(home.arenas, arena);
    strike(home.open, arena);
    if (home.current === arena) home.current = undefined;
    if (home.spare === arena) home.spare = undefined;
    unkeep(this.#arenas, arena.id);
    return arena.unmap();
  }

  /** A handle was collected without destroy: wipe and free its slot. */
  #reclaim(key: number): void {
    const arena = lookUp(this.#arenas, floor(key / KEY_SPACE));
    if (arena === undefined || !arena.live) return;
    try {
      this.give(arena, key % KEY_SPACE);
    } catch {
      // No caller to tell in a finalizer.
    }
  }
}

const livePools = new Set<PoolCore>();
// Set by SecretPool's static block (see markScratch).
let scratchCore: (pool: SecretPool) => PoolCore;
let purgeHookInstalled = false;

function installPurgeHook(): void {
  if (purgeHookInstalled) return;
  purgeHookInstalled = true;
  addPurgeHook(() => {
    const total: PurgeResult = { destroyed: 0, corrupted: 0 };
    // Snapshots by the intrinsics, walked by index (see membersOf).
    const cores = membersOf(livePools);
    for (let i = 0; i < cores.length; i++) {
      const core = cores[i];
      const found = core.purge();
      if (core.scratch) continue;
      total.destroyed += found.destroyed;
      total.corrupted += found.corrupted;
    }
    return total;
  });
}

const SLOT_EXPECTED =
  `a pool slot holds a whole number of bytes from 1 to ${MAX_SLOT_SIZE}; use SecretBuffer for larger secrets`;

function checkSlotSize(size: unknown, what = "size"): number {
  return checkInteger(
    size,
    what,
    1,
    MAX_SLOT_SIZE,
    "INVALID_SIZE",
    SLOT_EXPECTED,
  );
}

const constructing = Symbol("SecretSlot.constructing");

/**
 * Many small secrets in shared guarded arenas: locked in RAM, left out of
 * core dumps and forked children, fenced by guard pages around each arena,
 * with a random canary between every two slots, inaccessible at rest
 * (unless `rest: "readwrite"`), and wiped when freed.
 *
 * Each secret is a `SecretSlot` with the same interface as a
 * `SecretBuffer`. Taking a slot makes no system call; freeing one wipes it
 * and makes at most two (open and close its page). Unlike one SecretBuffer
 * per secret, opening a slot opens its whole page: the other secrets on
 * that page are readable by this process while the scope lasts, and a
 * stray write there is caught by the canaries, not by a guard page.
 *
 * Sizes from 1 to 2048 bytes (`SecretPool.maxSlotSize`); larger secrets
 * are refused with `INVALID_SIZE`, to be put in a `SecretBuffer`.
 *
 * A pool keeps its arenas until `destroy()` (or `purge()`, or exit, which
 * wipe them too), keeping at most one empty arena per size class: make a
 * pool long-lived rather than one per task. No pool method takes a slot:
 * each slot frees itself with `destroy()`, and `equals` compares slots of
 * different pools.
 *
 * @example A pool of session keys
 * ```ts
 * import { SecretPool } from "@secmem/secmem";
 *
 * using pool = new SecretPool();
 * const key = pool.random(32);
 * const length = key.read((bytes) => bytes.length);
 * if (length !== 32) throw new Error("expected 32 bytes");
 * key.destroy();
 * ```
 */
export class SecretPool {
  /** The largest secret a slot holds, in bytes. */
  static readonly maxSlotSize: number = MAX_SLOT_SIZE;
  /** The slot sizes of the size classes. */
  static readonly slotSizes: readonly number[] = SLOT_SIZES;

  readonly #core: PoolCore;

  /**
   * The same description, for `JSON.stringify`. `console.log` and `inspect`
   * show it too, in Deno, Node and Bun.
   */
  declare toJSON: () => string;

  static {
    scratchCore = (pool) => pool.#core;
  }

  /**
   * An empty pool; arenas are mapped on first use.
   *
   * @param options `rest` and `lock`.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` for unknown values.
   */
  constructor(options?: SecretPoolOptions) {
    const { rest = "noaccess", lock } = checkOptions(options, ["rest", "lock"]);
    this.#core = new PoolCore(
      RANK[checkChoice(rest, ["noaccess", "readwrite"], "rest")],
      // Unset: the process-wide policy when the pool is made.
      checkLock(lock),
    );
    enlist(livePools, this.#core);
  }

  /**
   * A zero-filled slot of `size` bytes. No system call unless a new arena
   * must be mapped.
   *
   * @param size Bytes, a whole number from 1 to 2048.
   * @returns The slot.
   * @throws {SecretMemoryError} `INVALID_SIZE`, `DESTROYED` after
   * `destroy()`, `MEMLOCK_LIMIT` when a new arena cannot be locked,
   * `OS_ERROR`.
   *
   * @example
   * ```ts
   * import { SecretPool } from "@secmem/secmem";
   *
   * using pool = new SecretPool();
   * using slot = pool.alloc(16);
   * if (!slot.read((b) => b.every((x) => x === 0))) throw new Error();
   * ```
   */
  alloc(size: number): SecretSlot {
    return this.#take(checkSlotSize(size));
  }

  /**
   * A slot of `size` random bytes, written by the OS generator straight
   * into the locked page (never through the heap).
   *
   * @param size Bytes, a whole number from 1 to 2048.
   * @returns The slot.
   * @throws {SecretMemoryError} as `alloc`.
   *
   * @example
   * ```ts
   * import { SecretPool } from "@secmem/secmem";
   *
   * using pool = new SecretPool();
   * using key = pool.random(32);
   * if (key.size !== 32) throw new Error();
   * ```
   */
  random(size: number): SecretSlot {
    const slot = this.#take(checkSlotSize(size));
    fillSlot(
      slot,
      (arena, index) => native().fillRandom(arena.userAddress(index), size),
    );
    return slot;
  }

  /**
   * A slot holding a copy of `bytes`; the source is then zeroed unless
   * `wipeSource` is `false` (only once the copy is safe).
   *
   * @param bytes The secret, 1 to 2048 bytes.
   * @param options `wipeSource`.
   * @returns The slot.
   * @throws {SecretMemoryError} as `alloc`, and `INVALID_ARGUMENT`.
   *
   * @example
   * ```ts
   * import { SecretPool } from "@secmem/secmem";
   *
   * using pool = new SecretPool();
   * const incoming = new Uint8Array([1, 2, 3]);
   * using key = pool.from(incoming);
   * if (incoming.some((b) => b !== 0)) throw new Error("not wiped");
   * ```
   */
  from(bytes: Uint8Array, options?: PoolFromOptions): SecretSlot {
    const source = checkBytes(bytes, "the source bytes");
    const { wipeSource = true } = checkOptions(options, ["wipeSource"]);
    checkBoolean(wipeSource, "wipeSource");
    // The engine's length, read once (an own `length` must not size it).
    const size = checkSlotSize(lengthOf(source), "the source length");
    // A view over guarded pages (another secret's, inside its scope) is
    // its owner's to wipe, and may be read-only: copy it, leave it.
    // Decided first, so that no slot is taken if deciding fails.
    const wipe = wipeSource && size > 0 && !isOwnSource(source);
    const slot = this.#take(size);
    fillSlot(slot, (arena, index, all) => {
      // Into a view of exactly the slot: a source another thread grows
      // after it was measured must fail the copy, not run over the canary
      // and the next slot (it did, into the whole arena's view).
      const offset = arena.userOffset(index);
      copySource(subarrayOf(all, offset, offset + size), source, size);
    });
    if (wipe) zero(source);
    return slot;
  }

  /**
   * Counts of slots, arenas and memory.
   *
   * @returns Live and free slots per size class, arenas, bytes mapped
   * and locked.
   *
   * @example
   * ```ts
   * import { SecretPool } from "@secmem/secmem";
   *
   * using pool = new SecretPool();
   * using key = pool.alloc(32);
   * if (pool.stats().liveSlots !== 1) throw new Error();
   * ```
   */
  stats(): PoolStats {
    return this.#core.stats();
  }

  /**
   * Wipes and unmaps every arena. Every slot's handle then throws
   * `DESTROYED`, and so do the pool's own methods except `stats`. Safe to
   * call again.
   *
   * @returns How many live slots were wiped, and how many of them had a
   * corrupted canary.
   *
   * @example
   * ```ts
   * import { SecretPool } from "@secmem/secmem";
   *
   * const pool = new SecretPool();
   * const key = pool.random(32);
   * pool.destroy();
   * if (key.state !== "destroyed") throw new Error();
   * ```
   */
  destroy(): PurgeResult {
    const core = this.#core;
    if (core.destroyed) return { destroyed: 0, corrupted: 0 };
    core.destroyed = true;
    strike(livePools, core);
    return core.purge();
  }

  /** Destroys the pool at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.destroy();
  }

  /**
   * A description with counts, never content.
   *
   * @example
   * ```ts
   * import { SecretPool } from "@secmem/secmem";
   *
   * using pool = new SecretPool();
   * if (String(pool) !== "SecretPool(0 slots, rest noaccess)") throw new Error();
   * ```
   */
  toString(): string {
    const state = this.#core.destroyed
      ? "destroyed"
      : `rest ${this.#core.rest === 0 ? "noaccess" : "readwrite"}`;
    return `SecretPool(${this.#core.stats().liveSlots} slots, ${state})`;
  }

  #take(size: number): SecretSlot {
    const core = this.#core;
    if (core.destroyed) {
      throw new SecretMemoryError(
        "DESTROYED",
        "Cannot allocate: the pool was destroyed; create a new SecretPool",
      );
    }
    const { arena, index } = core.take(size);
    return newSlot(core, arena, index, size);
  }
}

// The printing hooks, then frozen, class and prototype (see SecretSlot).
redactAndFreeze(SecretPool);

/**
 * Marks `pool` as the library's own scratch space (the crypto work areas,
 * wiped after every call): `purge()` still wipes and unmaps it, but does
 * not count its slots among the secrets it destroyed. Internal.
 */
export function markScratch(pool: SecretPool): void {
  scratchCore(pool).scratch = true;
}

// Set by SecretSlot's static block: the pool's only ways in, and how every
// slot reaches its arena.
let slotBacking: Backing<SecretSlot>;
let newSlot: (
  core: PoolCore,
  arena: Arena,
  index: number,
  size: number,
) => SecretSlot;
let fillSlot: (
  slot: SecretSlot,
  fill: (arena: Arena, index: number, all: Uint8Array) => void,
) => void;

/**
 * One secret in a `SecretPool`, with the interface of a `SecretBuffer`:
 * bytes accessible only inside `read`/`write` scopes (or after `protect`),
 * wiped by `destroy()`. Made by `SecretPool.alloc`, `random` and `from`.
 *
 * `state` is the access its page has now: another slot's open scope on the
 * same page can make it `readonly` or `readwrite` too; a pool that rests
 * readwrite always says `readwrite`.
 *
 * @example Write, read, compare, destroy
 * ```ts
 * import { SecretPool } from "@secmem/secmem";
 *
 * using pool = new SecretPool();
 * using slot = pool.alloc(4);
 * slot.write((bytes) => bytes.set([1, 2, 3, 4]));
 * if (!slot.equals(new Uint8Array([1, 2, 3, 4]))) throw new Error();
 * if (String(slot) !== "SecretSlot(4 bytes, noaccess)") throw new Error();
 * ```
 */
export class SecretSlot {
  #core: PoolCore | undefined;
  #arena: Arena | undefined;
  readonly #index: number;
  readonly #size: number;
  // Made at the first scope or protect(): most slots never need one.
  #gate: AccessGate | undefined;

  /**
   * The same description, so `JSON.stringify` cannot leak the content.
   * `console.log` and `inspect` show it too, in Deno, Node and Bun.
   */
  declare toJSON: () => string;

  /** The class name for `Object.prototype.toString`. */
  declare readonly [Symbol.toStringTag]: string;

  static {
    newSlot = (core, arena, index, size) =>
      new SecretSlot(constructing, core, arena, index, size);
    // Writes the fresh slot through the arena's own view; frees it on
    // failure.
    fillSlot = (slot, fill) => {
      const arena = slot.#arena!;
      const index = slot.#index;
      try {
        arena.withWritable(index, (all) => fill(arena, index, all));
      } catch (error) {
        slot.#core!.finalizer.unregister(slot);
        slot.#core!.give(arena, index);
        slot.#arena = undefined;
        throw error;
      }
    };
    registerBrand((value) => #index in value);
    // A class, not an object literal: its methods sit on its own
    // prototype, so the shared code (_secret.ts) sees one map per kind of
    // secret and the engine can inline each kind's methods there.
    slotBacking = new class SlotBacking implements Backing<SecretSlot> {
      readonly noun = "slot";
      size(slot: SecretSlot): number {
        return slot.#size;
      }
      gate(slot: SecretSlot): AccessGate | undefined {
        if (this.live(slot)) return slot.#gate ??= new AccessGate();
      }
      live(slot: SecretSlot): boolean {
        if (slot.#arena?.live) return true;
        // Destroyed, or the pool was destroyed or purged behind our back.
        slot.#arena = slot.#core = undefined;
        return false;
      }
      view(slot: SecretSlot): Uint8Array {
        return slot.#arena!.view(slot.#index);
      }
      address(slot: SecretSlot): bigint {
        return slot.#arena!.userAddress(slot.#index);
      }
      protection(slot: SecretSlot): Protection {
        return slot.#arena!.protectionOf(slot.#index);
      }
      // Moves the slot's page count; the slot's own level says if it
      // opens.
      reprotect(slot: SecretSlot, protection: Protection): boolean {
        if (!this.live(slot)) return true;
        const wanted = RANK[protection];
        const before = slot.#arena!.levelOf(slot.#index);
        return wanted === before || this.#relevel(slot, before, wanted);
      }
      // The moving part of reprotect(), out of line (see _secret.ts).
      #relevel(slot: SecretSlot, before: Level, wanted: Level): boolean {
        const arena = slot.#arena!;
        arena.relevel(slot.#index, wanted);
        return before !== 0 || arena.intact(slot.#index);
      }
    }();
  }

  /** Slots come from a `SecretPool`. @internal */
  private constructor(
    token: symbol,
    core: PoolCore,
    arena: Arena,
    index: number,
    size: number,
  ) {
    if (token !== constructing) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot construct SecretSlot directly: use a SecretPool's alloc, from or random",
      );
    }
    this.#size = size;
    this.#core = core;
    this.#arena = arena;
    this.#index = index;
    core.finalizer.register(this, arena.id * KEY_SPACE + index, this);
    // As SecretBuffer: no own property may shadow what callers ask of it.
    Object.freeze(this);
  }

  /** The number of user bytes (still known after destroy). */
  get size(): number {
    return this.#size;
  }

  /** The access the slot's page has now, or `destroyed`. */
  get state(): SecretBufferState {
    return stateOf(this, slotBacking);
  }

  /**
   * Address of the first user byte, for native code; accessible only while
   * a scope or `protect()` opens the slot.
   *
   * @throws {SecretMemoryError} `DESTROYED`.
   */
  get address(): bigint {
    return addressOf(this, slotBacking);
  }

  /**
   * Calls `fn` with a view of the bytes while the page is at least
   * readable, then restores the page's access. Async results keep access
   * until they settle. Scopes nest.
   *
   * @param fn Receives the view; its result is returned.
   * @returns What `fn` returns.
   * @throws {SecretMemoryError} `DESTROYED`, `INVALID_ARGUMENT`,
   * `CANARY_CORRUPTED`.
   */
  read<T>(fn: (bytes: Uint8Array) => T): T {
    return this.#scope("read", fn);
  }

  /**
   * Calls `fn` with a writable view of the bytes, then restores the page's
   * access. Refused inside a read scope of this slot.
   *
   * @param fn Receives the view; its result is returned.
   * @returns What `fn` returns.
   * @throws {SecretMemoryError} `DESTROYED`, `INVALID_ARGUMENT`,
   * `ACCESS_DENIED`, `CANARY_CORRUPTED`.
   */
  write<T>(fn: (bytes: Uint8Array) => T): T {
    return this.#scope("write", fn);
  }

  // The fast path of a scope (see opened() in _secret.ts), this class's
  // own: Bun (JavaScriptCore) slows down when both kinds share the function
  // that holds the try/finally and calls `fn`.
  #scope<T>(kind: Kind, fn: (bytes: Uint8Array) => T): T {
    const gate = opened(this, slotBacking, this.#gate, fn, kind);
    if (gate === undefined) return scope(this, slotBacking, kind, fn);
    try {
      return kept(this, slotBacking, gate, kind, fn(slotBacking.view(this)));
    } finally {
      slotBacking.reprotect(this, gate.exit(kind));
    }
  }

  /**
   * Sets the access this slot holds outside scopes (its page gets at least
   * that); `protect("noaccess")` gives it up. In a pool that rests
   * readwrite the page is always readable and writable.
   *
   * @param state `"noaccess"`, `"readonly"` or `"readwrite"`.
   * @throws {SecretMemoryError} `DESTROYED`, `INVALID_ARGUMENT`,
   * `CANARY_CORRUPTED`.
   */
  protect(state: "noaccess" | "readonly" | "readwrite"): void {
    protect(this, slotBacking, state);
  }

  /**
   * The user bytes as a view, for code that holds access through
   * `protect()`; empty once the slot is destroyed.
   *
   * @throws {SecretMemoryError} `DESTROYED`.
   */
  get view(): Uint8Array {
    return viewOf(this, slotBacking);
  }

  /**
   * Compares with a slot, a `SecretBuffer` or an array, in time that
   * depends only on the length.
   *
   * @param other A `SecretSlot`, `SecretBuffer` or `Uint8Array`.
   * @returns Whether both hold the same bytes.
   * @throws {SecretMemoryError} `DESTROYED` if either is destroyed,
   * `INVALID_ARGUMENT` for anything else.
   */
  equals(other: GuardedSecret | Uint8Array): boolean {
    return equals(this, slotBacking, other);
  }

  /**
   * Checks the canaries, wipes the whole slot (user bytes and slack),
   * detaches its views and frees it for reuse. Safe to call again. A
   * corrupted canary still wipes and frees, then throws.
   *
   * @throws {SecretMemoryError} `CANARY_CORRUPTED`.
   */
  destroy(): void {
    const arena = this.#arena;
    const core = this.#core;
    if (arena === undefined || core === undefined) return;
    this.#arena = this.#core = undefined;
    if (!arena.live) return;
    core.finalizer.unregister(this);
    if (!core.give(arena, this.#index)) throw overwritten(this, slotBacking);
  }

  /** Destroys the slot at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.destroy();
  }

  /** A description with the size and state, never the content. */
  toString(): string {
    return describe(this, slotBacking, "SecretSlot");
  }
}

// Frozen, class and prototype, so that code loaded later cannot replace a
// method the library itself calls: a patched read() or write() would be
// handed every key a pool holds.
redactAndFreeze(SecretSlot, "SecretSlot");
