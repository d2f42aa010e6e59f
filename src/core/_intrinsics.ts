/**
 * The built-in getters and methods this library trusts, taken once when the
 * module loads. A caller's value can lie about itself (an own `length`, a
 * Proxy, a patched prototype); these ask the engine instead, and a patch
 * made after import cannot reach them. Nothing here changes an intrinsic.
 *
 * @module
 */

import { SecretMemoryError } from "./errors.ts";

const apply = Reflect.apply;
const getOwn = Object.getOwnPropertyDescriptor;
const protoOf = Object.getPrototypeOf;

const call = Function.prototype.call;
const bind = Function.prototype.bind;

/**
 * A built-in getter as a plain function of its receiver (`get(value)`),
 * bound once: no argument array per call, and out of reach of later
 * patches to the prototype or to `Function.prototype.call`.
 */
function getter(target: object, key: PropertyKey): (self: unknown) => unknown {
  const found = getOwn(target, key)?.get;
  if (found === undefined) {
    // An older runtime (Node 20 has no ArrayBuffer.prototype.detached):
    // importing must still work, and the first use says why it cannot.
    return () => {
      throw new SecretMemoryError(
        "UNSUPPORTED_PLATFORM",
        `Cannot use this runtime: it has no built-in getter ${
          String(key)
        }; secmem needs Deno 2, Bun 1 or Node 26.1 or newer`,
      );
    };
  }
  return apply(call.bind, call, [found]) as (self: unknown) => unknown;
}

const TypedArrayPrototype = protoOf(Uint8Array.prototype) as object;
const typedTag = getter(TypedArrayPrototype, Symbol.toStringTag);
const typedLength = getter(TypedArrayPrototype, "length");
const typedBuffer = getter(TypedArrayPrototype, "buffer");
const typedOffset = getter(TypedArrayPrototype, "byteOffset");
const typedFill = Uint8Array.prototype.fill;
const typedSet = Uint8Array.prototype.set;
const bufferDetached = getter(ArrayBuffer.prototype, "detached");
const bufferTransfer = ArrayBuffer.prototype.transfer;
const sharedByteLength = getter(SharedArrayBuffer.prototype, "byteLength");

/**
 * Whether `value` is a genuine Uint8Array (not a Proxy of one, not an
 * object made from its prototype, not another typed array): the engine's
 * own tag getter answers only for real typed arrays.
 */
export function isUint8Array(value: unknown): value is Uint8Array {
  return typeof value === "object" && value !== null &&
    typedTag(value) === "Uint8Array";
}

/**
 * The `Uint8Array` constructor as it was at load, for every array the
 * library makes. The global bindings are writable: a constructor put
 * there by other code would be handed each ArrayBuffer over guarded pages
 * (or over the process table) that a view is made of, and could keep it;
 * and it could return an object of its own (a Proxy that sees which
 * entry of a table is read, a view over shared memory) where a result, an
 * out-parameter or the pool's free list is expected.
 */
export const Bytes: Uint8ArrayConstructor = Uint8Array;
/** The other typed-array constructors, as they were at load (see `Bytes`). */
export const Int8s: Int8ArrayConstructor = Int8Array;
/** See `Int8s`. */
export const Uint16s: Uint16ArrayConstructor = Uint16Array;
/** See `Int8s`. */
export const Int32s: Int32ArrayConstructor = Int32Array;
/** See `Int8s`. */
export const Uint32s: Uint32ArrayConstructor = Uint32Array;
/** See `Int8s`. */
export const BigInt64s: BigInt64ArrayConstructor = BigInt64Array;
/** See `Int8s`. */
export const Float64s: Float64ArrayConstructor = Float64Array;
/**
 * `ArrayBuffer` as it was at load, for a buffer made before its view (a
 * frame that may hold a secret, which JavaScriptCore must not move): a
 * replaced global would make it, and could keep a view of it.
 */
export const Buffers: ArrayBufferConstructor = ArrayBuffer;

/**
 * `Map` and `Set` as they were at load, for every map and set the library
 * makes after import. A replaced global would be called for each, and could
 * keep what it made: the crypto work area's cipher parts (over the key's
 * guarded pages), the agent's keys, a buffer's loans (ArrayBuffers over
 * guarded pages), or answer a verdict map with entries of its own.
 */
export const Maps: MapConstructor = Map;
/** See `Maps`. */
export const Sets: SetConstructor = Set;

/**
 * `Atomics`' functions as they were at load. The process table and the list
 * of open ranges are views over shared native memory: a function replaced
 * on `Atomics` after import would be handed them at every scope, and could
 * keep them (where every thread's regions lie) or answer for them.
 */
export const Atomic: Pick<
  typeof Atomics,
  "add" | "sub" | "load" | "store" | "compareExchange" | "or"
> = Object.freeze({
  add: Atomics.add,
  sub: Atomics.sub,
  load: Atomics.load,
  store: Atomics.store,
  compareExchange: Atomics.compareExchange,
  or: Atomics.or,
});

const PromiseAtLoad = Promise;

/**
 * `promise` with an own `constructor`, the Promise taken at load, so that
 * an `await` of it looks up neither Promise.prototype's `constructor` nor
 * its `then`. When the constructor found is not the built-in Promise, an
 * await resolves a new promise with the one awaited, and so calls its
 * `then`: replaced after import, the two were handed what it settles with
 * (a reply's plaintext, each byte typed at a prompt).
 */
export function awaitable<T>(promise: Promise<T>): Promise<T> {
  defineOwn(promise, "constructor", {
    __proto__: null,
    value: PromiseAtLoad,
  } as PropertyDescriptor);
  return promise;
}

/** A real Uint8Array's length as the engine knows it (0 once detached). */
export function lengthOf(view: Uint8Array): number {
  return typedLength(view) as number;
}

/** The buffer under a real typed array, as the engine knows it. */
export function bufferOf(view: Uint8Array): ArrayBufferLike {
  return typedBuffer(view) as ArrayBufferLike;
}

/** A real typed array's byte offset into its buffer. */
export function byteOffsetOf(view: Uint8Array): number {
  return typedOffset(view) as number;
}

/** Whether `buffer` is a SharedArrayBuffer (another thread may write it). */
export function isShared(buffer: ArrayBufferLike): boolean {
  try {
    sharedByteLength(buffer);
    return true;
  } catch {
    return false;
  }
}

/** Whether an ArrayBuffer was detached (transferred away, or by us). */
export function isDetached(buffer: ArrayBuffer): boolean {
  return bufferDetached(buffer) as boolean;
}

/**
 * Detaches `buffer` unless it already is: every view over it becomes empty.
 * Returns false when someone else had already detached it (its memory may
 * live on in the buffer it was transferred to).
 */
export function detachBuffer(buffer: ArrayBuffer): boolean {
  if (bufferDetached(buffer)) return false;
  apply(bufferTransfer, buffer, [0]);
  return true;
}

/**
 * `Number.isInteger` and `Number.isSafeInteger` as they were at load: a
 * replacement answering yes would let a size of 1.5 through every check.
 */
export const isInteger: (value: unknown) => boolean = Number.isInteger;
/** See `isInteger`. */
export const isSafeInteger: (value: unknown) => boolean = Number.isSafeInteger;

/**
 * `Math.floor` as it was at load, and `ceil`, `min`, `max`, `clz32`:
 * where memory is laid out (a pool slot's page and offset, a region's
 * length), one replaced after import could lay a slot's view over
 * another's, which then reads that secret; where a secret's size is
 * counted (a decoded key), it could cut the secret short.
 */
export const floor: (x: number) => number = Math.floor;
/** See `floor`. */
export const ceil: (x: number) => number = Math.ceil;
/** See `floor`. */
export const min: (...values: number[]) => number = Math.min;
/** See `floor`. */
export const max: (...values: number[]) => number = Math.max;
/** See `floor`. */
export const clz32: (x: number) => number = Math.clz32;

const arrayIncludes = Array.prototype.includes;
const keys = Object.keys;

/**
 * Whether `list` holds `value`, by the intrinsic: a replaced
 * `Array.prototype.includes` that answered yes would let an unknown option
 * value or key through as if it were listed.
 */
export function listed(list: readonly unknown[], value: unknown): boolean {
  return apply(arrayIncludes, list, [value]) as boolean;
}

/** `Object.keys(value)` as it was at load (see `listed`). */
export function keysOf(value: object): string[] {
  return keys(value);
}

const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;
const mapDelete = Map.prototype.delete;

/**
 * `map.get(key)` by the intrinsic. The library's classes are frozen; a
 * Map it looks its own objects up in at call time is not, and a replaced
 * `Map.prototype.get` could answer with objects of its own (a pool whose
 * slots it holds, cipher parts that note the key they are given).
 */
export function lookUp<K, V>(map: Map<K, V>, key: K): V | undefined {
  return apply(mapGet, map, [key]) as V | undefined;
}

const defineOwn = Object.defineProperty;

/**
 * Adds `value` at the end of `list` as its own element. Neither
 * `Array.prototype.push` nor `list[list.length] = value`: a push replaced
 * after import, or a setter planted on `Array.prototype[0]`, would drop
 * it (an element an array does not have yet is set through its
 * prototype), and a purge would miss what it was to reach.
 */
export function append<T>(list: T[], value: T): void {
  putAt(list, list.length, value);
}

/**
 * Sets `list[index]` as the array's own element (see `append`): for arrays
 * indexed by level, where an index may lie past the end.
 */
export function putAt<T>(list: T[], index: number, value: T): void {
  defineOwn(list, index, {
    // No prototype: a `get` planted on Object.prototype must not make it
    // an accessor.
    __proto__: null,
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  } as PropertyDescriptor);
}

/**
 * A stack of entry numbers kept in a typed array, for lists changed on
 * every scope or every buffer: a typed array asks no prototype at any
 * index (see `append`), and a plain array grown by `defineProperty` cost
 * a read scope about 10 % in Deno.
 */
export interface EntryStack {
  items: Int32Array;
  count: number;
}

/** An empty `EntryStack`. */
export function entryStack(): EntryStack {
  return { items: new Int32s(64), count: 0 };
}

/** Puts `entry` on top of `stack`, growing it when full. */
export function pushEntry(stack: EntryStack, entry: number): void {
  const { items, count } = stack;
  // The engine's length, not the prototype's getter: one replaced to answer
  // more would stop the stack growing, and each entry pushed past the end
  // would be dropped.
  if (count === typedLength(items)) {
    const bigger = new Int32s(count * 2);
    for (let i = 0; i < count; i++) bigger[i] = items[i];
    stack.items = bigger;
  }
  stack.items[count] = entry;
  stack.count = count + 1;
}

/** Takes the top entry of `stack`; -1 when it is empty. */
export function popEntry(stack: EntryStack): number {
  if (stack.count === 0) return -1;
  stack.count--;
  return stack.items[stack.count];
}

const setForEach = Set.prototype.forEach;
const mapForEach = Map.prototype.forEach;

/**
 * The members of `set`, in a new array, by the intrinsic `forEach`: an
 * iterator or `next` replaced after import must not leave one out of a
 * purge (the buffer would outlive it, its secret in place).
 */
export function membersOf<T>(set: Set<T>): T[] {
  const members: T[] = [];
  apply(setForEach, set, [(member: T) => append(members, member)]);
  return members;
}

/** The values of `map`, in a new array (see `membersOf`). */
export function valuesOf<T>(map: Map<unknown, T>): T[] {
  const values: T[] = [];
  apply(mapForEach, map, [(value: T) => append(values, value)]);
  return values;
}

/** `map.set(key, value)` by the intrinsic (see `lookUp`). */
export function keep<K, V>(map: Map<K, V>, key: K, value: V): void {
  apply(mapSet, map, [key, value]);
}

const setAdd = Set.prototype.add;
const setDelete = Set.prototype.delete;
const setHas = Set.prototype.has;
const setSize = getter(Set.prototype, "size");

/**
 * `set.add(member)` by the intrinsic: a replaced `Set.prototype.add` could
 * keep a buffer out of the set that purge() and the exit wipe walk, or a
 * lent view out of the loans that tell it from a caller's array.
 */
export function enlist<T>(set: Set<T>, member: T): void {
  apply(setAdd, set, [member]);
}

/** `set.delete(member)` by the intrinsic (see `enlist`). */
export function strike<T>(set: Set<T>, member: T): void {
  apply(setDelete, set, [member]);
}

/** `set.has(member)` by the intrinsic (see `enlist`). */
export function isMember<T>(set: Set<T>, member: T): boolean {
  return apply(setHas, set, [member]) as boolean;
}

/** `set.size` by the intrinsic getter (see `enlist`). */
export function countOf(set: Set<unknown>): number {
  return setSize(set) as number;
}

/** `map.delete(key)` by the intrinsic (see `lookUp`). */
export function unkeep<K>(map: Map<K, unknown>, key: K): void {
  apply(mapDelete, map, [key]);
}

/** `view.fill(0)` through the intrinsic, whatever the prototype says now. */
export function zero(view: Uint8Array): void {
  apply(typedFill, view, [0]);
}

/** Any typed array the library fills, slices or copies within. */
type Typed =
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Int32Array
  | Float64Array;

/**
 * `view.fill(value, start, end)` through the intrinsic (any typed array):
 * a method replaced on %TypedArray%.prototype after import would be handed
 * the view, and the library's views are over guarded pages.
 */
export function fillRange(
  view: Typed,
  value: number,
  start?: number,
  end?: number,
): void {
  apply(typedFill, view, [value, start, end]);
}

// Constructors taken at load, for views made without the species lookup
// `subarray` does (a replaced `constructor` or Symbol.species would be
// handed the buffer).
const CONSTRUCTORS = {
  Uint8Array,
  Uint16Array,
  Uint32Array,
  Int32Array,
  Float64Array,
} as const;

/**
 * `view.subarray(begin, end)` for `0 <= begin <= end <= length`, made
 * from the view's buffer by the constructor taken at load: no method, no
 * getter and no species of the caller's is consulted (see `fillRange`).
 */
export function subarrayOf<T extends Typed>(
  view: T,
  begin: number,
  end?: number,
): T {
  const make = CONSTRUCTORS[typedTag(view) as keyof typeof CONSTRUCTORS];
  const length = typedLength(view) as number;
  const stop = end === undefined || end > length ? length : end;
  const start = begin > stop ? stop : begin;
  return new make(
    typedBuffer(view) as ArrayBuffer,
    (typedOffset(view) as number) + start * make.BYTES_PER_ELEMENT,
    stop - start,
  ) as T;
}

/** `target.set(source, offset)` through the intrinsic. */
export function copyInto(
  target: Uint8Array,
  source: Uint8Array,
  offset = 0,
): void {
  apply(typedSet, target, [source, offset]);
}

// The clock and the scheduler that sliced work runs by, taken at load: a
// caller that later replaces `performance.now`, `Date.now` or the timer
// functions can neither stretch a slice (stalling the event loop) nor
// make one end early forever.
const clock = globalThis.performance;
const clockNow = clock.now;

type Scheduler = (...args: unknown[]) => unknown;

/**
 * A global function as the runtime defines it now, to be read at its first
 * use. Deno defines its timers as accessors that load its Node timers
 * module (10 to 20 ms of start-up) at the first read, so reading them here
 * made every importer pay that for a scheduler it may never use. The
 * accessor is taken now, like any other built-in: a caller that assigns
 * the global later replaces the property (Deno's setter defines a new
 * one), not what this accessor returns. A data property (Node, Bun) is
 * taken as it is.
 */
function globalFunction(name: string): () => Scheduler | undefined {
  const slot = globalSlot(name);
  if (slot === undefined) return () => undefined;
  const read = slot.get;
  if (read === undefined) {
    const value = slot.value as Scheduler | undefined;
    return () => value;
  }
  let value: Scheduler | undefined;
  let taken = false;
  return () => {
    if (!taken) {
      value = apply(read, globalThis, []) as Scheduler | undefined;
      taken = true;
    }
    return value;
  };
}

/** The descriptor of global `name`, from globalThis or its prototypes. */
function globalSlot(name: string): PropertyDescriptor | undefined {
  let holder: object | null = globalThis;
  let slot: PropertyDescriptor | undefined;
  while (holder !== null && (slot = getOwn(holder, name)) === undefined) {
    holder = protoOf(holder) as object | null;
  }
  return slot;
}

const immediate = globalFunction("setImmediate");
const timeout = globalFunction("setTimeout");

/** Milliseconds on the runtime's monotonic clock. */
export function now(): number {
  return apply(clockNow, clock, []) as number;
}

/**
 * Runs `fn` after the event loop has had a turn (timers and I/O included):
 * `setImmediate` where the runtime has it (no 1 ms clamp), else a zero
 * timeout.
 */
export function afterTurn(fn: () => void): void {
  const soon = immediate();
  if (soon !== undefined) apply(soon, globalThis, [fn]);
  else apply(timeout() as Scheduler, globalThis, [fn, 0]);
}

/**
 * Runs `fn` after `ms` milliseconds, by the runtime's `setTimeout` as it
 * was at load.
 */
export function afterDelay(fn: () => void, ms: number): void {
  apply(timeout() as Scheduler, globalThis, [fn, ms]);
}

const interval = globalFunction("setInterval");
const stopInterval = globalFunction("clearInterval");
const stopTimeout = globalFunction("clearTimeout");
const denoUnrefTimer = (globalThis as {
  Deno?: { unrefTimer?: (id: number) => void };
}).Deno?.unrefTimer;
// A timer object's unref, taken from one made and cancelled: read from the
// timers' prototype at call time, a replacement could cancel the timer
// instead, and the agent's expiry timer never fired (an expired key stayed
// in memory until the next request). Taken at load where the timers are
// data properties (Bun, Node). Deno's are accessors whose first read loads
// its timers module (about 10 ms of every importer's start-up, measured):
// there it is taken when a module that keeps timers loads (the agent's
// keyring, the Enclave's coffer: `takeTimers`), or else at the first timer.
let timerUnref: (() => unknown) | undefined | null = null;

/**
 * Takes the timers' `unref` now, where it was left for later (Deno): for a
 * module that keeps timers, at its load.
 */
export function takeTimers(): void {
  unrefOfTimers();
}

function unrefOfTimers(): (() => unknown) | undefined {
  if (timerUnref !== null) return timerUnref;
  timerUnref = undefined;
  const set = timeout();
  const clear = stopTimeout();
  if (set === undefined || clear === undefined) return undefined;
  const probe: unknown = apply(set, globalThis, [() => {}, 0]);
  apply(clear, globalThis, [probe]);
  if (typeof probe !== "object" || probe === null) return undefined;
  const unref = (probe as { unref?: unknown }).unref;
  if (typeof unref === "function") timerUnref = unref as () => unknown;
  return timerUnref;
}

if (globalSlot("setTimeout")?.get === undefined) unrefOfTimers();

/**
 * Runs `fn` every `ms` milliseconds, by the runtime's `setInterval` as it
 * was at load, without keeping the process alive. Returns what stops it.
 */
export function everyUnref(fn: () => void, ms: number): () => void {
  const timer: unknown = apply(interval() as Scheduler, globalThis, [fn, ms]);
  return unrefOrStop(
    timer,
    () => apply(stopInterval() as Scheduler, globalThis, [timer]),
  );
}

/**
 * Runs `fn` once after `ms` milliseconds, by the runtime's `setTimeout` as
 * it was at load, without keeping the process alive. Returns what cancels
 * it.
 */
export function onceUnref(fn: () => void, ms: number): () => void {
  const timer: unknown = apply(timeout() as Scheduler, globalThis, [fn, ms]);
  return unrefOrStop(
    timer,
    () => apply(stopTimeout() as Scheduler, globalThis, [timer]),
  );
}

/**
 * Lets `timer` not keep the process alive (Deno returns a number and has
 * `Deno.unrefTimer`; Bun and Node return an object with `unref()`), and
 * returns `stop`.
 */
function unrefOrStop(timer: unknown, stop: () => unknown): () => void {
  try {
    if (typeof timer === "number") {
      if (denoUnrefTimer !== undefined) {
        apply(denoUnrefTimer, undefined, [timer]);
      }
    } else {
      const unref = unrefOfTimers();
      // If it throws, the timer must not run on for good.
      if (unref !== undefined) apply(unref, timer, []);
    }
  } catch (error) {
    stop();
    throw error;
  }
  return stop;
}

// The ArrayBuffers this library made over guarded pages: a view over one of
// them is the library's own memory, which must never be wiped or closed by
// code that takes it as a caller's source.
// By the intrinsics: a `WeakSet.prototype.add` replaced after import would
// be handed each of them (and could keep it), and a `has` could answer for
// them.
// Each method bound to its set once: a pool slot's alloc and scope mark a
// new buffer and view each time, and through Reflect.apply, or `call`
// bound to the method, they ran 10 to 14 % slower in JavaScriptCore
// (bench/versus.ts pool32_rw, slotread_rw, Bun).
const own = new WeakSet<ArrayBuffer>();
const weakSetAdd = WeakSet.prototype.add;
const weakSetHas = WeakSet.prototype.has;
/** `method` with `this` fixed to `set`, bound by the intrinsic `bind`. */
function boundTo<T>(method: unknown, set: object): T {
  return apply(bind, method, [set]) as T;
}
const addOwn = boundTo<(buffer: ArrayBuffer) => unknown>(weakSetAdd, own);
const hasOwn = boundTo<(buffer: ArrayBufferLike) => boolean>(weakSetHas, own);

/** Marks `buffer` as one made over guarded pages. */
export function markOwn(buffer: ArrayBuffer): ArrayBuffer {
  addOwn(buffer);
  return buffer;
}

/** Whether `buffer` is one this library made over guarded pages. */
export function isOwnBuffer(buffer: ArrayBufferLike): boolean {
  return hasOwn(buffer);
}

// The views this library handed out (a scope's view, a slot's, a lent
// one): known by identity, without asking for their buffer.
const ownViews = new WeakSet<Uint8Array>();
const addOwnView = boundTo<(view: Uint8Array) => unknown>(
  weakSetAdd,
  ownViews,
);
const hasOwnView = boundTo<(view: Uint8Array) => boolean>(
  weakSetHas,
  ownViews,
);

/** Marks `view` as one over guarded pages, handed out by the library. */
export function markOwnView(view: Uint8Array): Uint8Array {
  addOwnView(view);
  return view;
}

/**
 * Whether `view` lies over guarded pages this library mapped: one of the
 * views it handed out, or a subarray of one. The buffer is asked for only
 * when the view starts past its buffer's first byte (a subarray): asking a
 * small heap array for its buffer makes some engines (JavaScriptCore) move
 * its bytes out of the object and leave the old copy behind in the heap,
 * which for a secret is a copy nobody can wipe. A subarray has a buffer of
 * its own already. A new view from a buffer's first byte is recognised by
 * `isOwnSource` (`_open.ts`), which asks for its buffer only when its
 * bytes match memory of ours that is open.
 */
export function isOwnView(view: Uint8Array): boolean {
  if (hasOwnView(view)) return true;
  if (byteOffsetOf(view) === 0) return false;
  return hasOwn(bufferOf(view));
}
