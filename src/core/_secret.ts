/**
 * What every secret this library hands out can do (a `SecretBuffer`, a
 * pool's `SecretSlot`), the one implementation of that behaviour, and the
 * one brand check that tells a genuine secret from a look-alike. The input
 * layer is written against this contract and is handed a maker, so it
 * never imports the class that sits above it.
 *
 * @module
 */

import type { AccessGate } from "./_access.ts";
import type { Protection } from "./_native.ts";
import { settleThen, thenOf } from "./_thenable.ts";
import { checkBytes, checkChoice, checkFunction } from "./_validate.ts";
import { timingSafeEqual } from "./constant_time.ts";
import { SecretMemoryError } from "./errors.ts";

/** Where a buffer's pages stand: its access now, or destroyed. */
export type SecretBufferState =
  | "noaccess"
  | "readonly"
  | "readwrite"
  | "destroyed";

/** Options for creating a buffer. */
export interface SecretBufferOptions {
  /**
   * `"required"`: fail with `MEMLOCK_LIMIT` if the pages cannot be locked
   * in RAM (the default, unless `configure` or `SECMEM_LOCK` changed it).
   * `"best-effort"`: keep unlocked pages instead (they may then be swapped
   * out); every other protection still applies.
   */
  lock?: "required" | "best-effort";
  /**
   * `"end"` (default): the last user byte touches the trailing guard page,
   * so a native overflow faults at once. `"start"`: the first user byte is
   * page-aligned, for native APIs that need alignment; the canary then
   * follows the user bytes.
   */
  placement?: "end" | "start";
  /**
   * What backs the data pages. `"anonymous"` (default): private anonymous
   * pages. `"secretmem"`: memfd_secret(2) pages (Linux 5.14 or newer), which
   * leave the kernel's direct map, so even the kernel cannot read them
   * without mapping them again; always locked, so they count against
   * RLIMIT_MEMLOCK whatever `lock` says; `UNSUPPORTED_PLATFORM` where the
   * kernel refuses. `"auto"`: secret memory where it works, anonymous pages
   * otherwise; `backend` on the buffer says which it got.
   */
  backend?: "anonymous" | "secretmem" | "auto";
}

/**
 * A secret held by this library: a `SecretBuffer` or a pool's `SecretSlot`.
 * Only objects the library made pass its brand check; a look-alike with the
 * same methods is refused wherever a `GuardedSecret` is taken.
 */
export interface GuardedSecret {
  /** The number of user bytes. */
  readonly size: number;
  /** The pages' access now, or `destroyed`. */
  readonly state: SecretBufferState;
  /** Address of the first user byte, for native code. */
  readonly address: bigint;
  /** The user bytes as a view, for code that holds access by `protect()`. */
  readonly view: Uint8Array;
  /** Calls `fn` with a read-only view of the bytes. */
  read<T>(fn: (bytes: Uint8Array) => T): T;
  /** Calls `fn` with a writable view of the bytes. */
  write<T>(fn: (bytes: Uint8Array) => T): T;
  /** Sets the access that holds outside scopes. */
  protect(state: "noaccess" | "readonly" | "readwrite"): void;
  /** Wipes and releases the bytes. */
  destroy(): void;
}

/**
 * How a layer below the class makes the secrets it returns: the class
 * passes its own `alloc` and brand check, so the result has its type.
 */
export interface SecretMaker<S extends GuardedSecret> {
  alloc(size: number, options?: SecretBufferOptions): S;
  is(value: unknown): value is S;
}

/**
 * How one kind of secret reaches its memory and its state: one object per
 * class, shared by all its instances, whose functions take the instance
 * (they are made in the class's static block, so they read its private
 * fields, and throw a TypeError for anything else). Internal.
 */
export interface Backing<S> {
  /** What the class is called in messages: "buffer" or "slot". */
  readonly noun: string;
  /** The number of user bytes (still known after destroy). */
  size(self: S): number;
  /**
   * The instance's access gate (made at the first scope or protect()),
   * or undefined once the memory is gone (see `live`): a scope asks once.
   */
  gate(self: S): AccessGate | undefined;
  /**
   * Whether the memory is still there: false once destroyed, and once it
   * went behind the owner's back (purged, its pool destroyed, wiped at
   * exit), when the backing drops what the instance held.
   */
  live(self: S): boolean;
  /** A view of exactly the user bytes. The memory is live. */
  view(self: S): Uint8Array;
  /** Address of the first user byte. The memory is live. */
  address(self: S): bigint;
  /** The access the pages have now. The memory is live. */
  protection(self: S): Protection;
  /**
   * Gives the memory the access `protection`; when that opened it from
   * closed, checks the canaries and returns whether they hold (otherwise
   * true). Memory that is gone (see `live`) is left alone, for its range
   * may already hold someone else's secret: true. The check is the backing's own, so that
   * each kind's scope inlines only its own (one kind's canary check, hot
   * for buffers that rest closed, would otherwise crowd the other kind's
   * hot path out of the engine's inlining budget).
   */
  reprotect(self: S, protection: Protection): boolean;
}

// One brand check per class, each on its own private field, registered
// once when the class is defined: no cost per secret, and a look-alike
// (a Proxy, an object made from the prototype) fails every one.
const brands: ((value: object) => boolean)[] = [];

/** Registers a class's private-field brand check. Internal. */
export function registerBrand(check: (value: object) => boolean): void {
  brands.push(check);
}

/** Whether `value` was made by this library (never a look-alike). */
export function isGuardedSecret(value: unknown): value is GuardedSecret {
  if (typeof value !== "object" || value === null) return false;
  for (let i = 0; i < brands.length; i++) if (brands[i](value)) return true;
  return false;
}

/*
 * The secret behaviour of a `SecretBuffer` and of a `SecretSlot`, written
 * once: liveness, scopes and their gate, `protect`, the canary check on
 * opening, `equals` and `destroy`. Each public method is one call here
 * with the instance and its class's backing: no object per secret, no
 * base class to construct, and nothing on a prototype that a caller could
 * use to skip a check (a release without the canary verdict, a scope
 * without the gate).
 */

/** Which scope: a read or a write one. */
export type Kind = "read" | "write";

/** The pages' access now, or `destroyed`. */
export function stateOf<S>(self: S, backing: Backing<S>): SecretBufferState {
  return backing.live(self) ? backing.protection(self) : "destroyed";
}

/** Throws `DESTROYED`, naming `action`, unless the memory is live. */
export function alive<S>(self: S, backing: Backing<S>, action: string): void {
  if (!backing.live(self)) throw destroyed(backing.noun, action);
}

// Out of line, as every rare path here: what a scope inlines is what it
// runs every time (the engine's inlining budget is shared by both kinds
// of secret).
function destroyed(noun: string, action: string): SecretMemoryError {
  return new SecretMemoryError(
    "DESTROYED",
    `Cannot use ${action}: the ${noun} was destroyed; create a new one`,
  );
}

/** The address, for native code; never a stale one. */
export function addressOf<S>(self: S, backing: Backing<S>): bigint {
  alive(self, backing, "address");
  return backing.address(self);
}

/** The view, for code that holds access by `protect()`. */
export function viewOf<S>(self: S, backing: Backing<S>): Uint8Array {
  alive(self, backing, "view");
  return backing.view(self);
}

/** A read or write scope: open, call `fn`, restore when it settles. */
export function scope<S, T>(
  self: S,
  backing: Backing<S>,
  kind: Kind,
  fn: (bytes: Uint8Array) => T,
): T {
  const gate = backing.gate(self);
  if (gate === undefined) throw destroyed(backing.noun, kind);
  // The check's message is built out of line.
  if (typeof fn !== "function") checkFunction(fn, kind);
  gate.enter(kind);
  try {
    apply(self, backing, gate);
    return kept(self, backing, gate, kind, fn(backing.view(self)));
  } finally {
    leave(self, backing, gate, kind);
  }
}

/*
 * A scope's fast path: each class's read() and write() go to its own
 * #scope, which asks opened() for the common case (live, no scope open,
 * `fn` a function), then calls `fn` and closes in a try/finally, with
 * kept() for the result;
 * anything else goes to scope() above. JavaScriptCore (Bun) slowed down
 * when both kinds ran through one function holding the try/finally and
 * the call of `fn` (pool slot read/write readwrite x1.10-1.29); the small
 * shared pieces here do not cost it.
 */

/**
 * Opens a scope of `kind` when nothing is unusual: the instance is live,
 * `gate` has no scope open and `fn` is a function. Returns the gate then,
 * or undefined for scope() to take (whose checks and errors come in their
 * order). A canary found overwritten on opening is closed again and left
 * to scope(), which opens, finds it and says so.
 */
export function opened<S>(
  self: S,
  backing: Backing<S>,
  gate: AccessGate | undefined,
  fn: unknown,
  kind: Kind,
): AccessGate | undefined {
  if (gate === undefined || gate.inScope || typeof fn !== "function") return;
  if (!backing.live(self)) return;
  gate.enter(kind);
  let open = false;
  try {
    open = backing.reprotect(self, gate.required);
  } finally {
    // Not opened (a canary overwritten, or the system call failed): the
    // gate must not keep a scope that never ran, or every later scope
    // would leave the pages open.
    if (!open) backing.reprotect(self, gate.exit(kind));
  }
  return open ? gate : undefined;
}

/**
 * What a scope returns: `result` itself, or for a thenable a promise
 * that holds the scope open (one more entry on `gate`) until it settles.
 */
export function kept<S, T>(
  self: S,
  backing: Backing<S>,
  gate: AccessGate,
  kind: Kind,
  result: T,
): T {
  const then = thenOf(result);
  if (then === undefined) return result;
  gate.enter(kind);
  return leaveLater(self, backing, gate, kind, result, then) as T;
}

// Apart from kept(), so that the closure below is made only for a
// thenable, not with every scope.
function leaveLater<S>(
  self: S,
  backing: Backing<S>,
  gate: AccessGate,
  kind: Kind,
  result: unknown,
  then: (...args: unknown[]) => unknown,
): Promise<unknown> {
  return settleThen(result, then, () => leave(self, backing, gate, kind));
}

/** Sets the access that holds outside scopes. */
export function protect<S>(self: S, backing: Backing<S>, state: unknown): void {
  alive(self, backing, "protect");
  const protection = checkChoice(
    state,
    ["noaccess", "readonly", "readwrite"],
    "state",
  );
  const gate = backing.gate(self)!;
  gate.setBase(protection);
  try {
    apply(self, backing, gate);
  } catch (error) {
    // Never leave a corrupted secret open.
    gate.setBase("noaccess");
    apply(self, backing, gate);
    throw error;
  }
}

/**
 * Compares with `other` (a secret of this library, told by its brand,
 * never by its tag, or bytes) in time that depends only on the length.
 */
export function equals<S>(
  self: S,
  backing: Backing<S>,
  other: unknown,
): boolean {
  alive(self, backing, "equals");
  if (isGuardedSecret(other)) {
    if ((other as unknown) === self) return true;
    // Its own read() checks that it is alive.
    const both = (mine: Uint8Array) =>
      other.read((theirs) => timingSafeEqual(mine, theirs));
    return scope(self, backing, "read", both);
  }
  const bytes = checkBytes(other, "the bytes to compare");
  return scope(self, backing, "read", (mine) => timingSafeEqual(mine, bytes));
}

/**
 * What `destroy()` throws when it found a canary overwritten (the memory
 * is wiped and freed all the same). Each class frees its own memory in
 * its destroy(): freeing is hot for pool slots, and Bun ran a slot's
 * alloc+destroy about 10 % slower through a call both kinds share.
 */
export function overwritten<S>(
  self: S,
  backing: Backing<S>,
): SecretMemoryError {
  return canaryHit(self, backing, "trust", "it was wiped and freed anyway");
}

/** A description with the size and state, never the content. */
export function describe<S>(
  self: S,
  backing: Backing<S>,
  name: string,
): string {
  return `${name}(${backing.size(self)} bytes, ${stateOf(self, backing)})`;
}

function leave<S>(
  self: S,
  backing: Backing<S>,
  gate: AccessGate,
  kind: Kind,
): void {
  gate.exit(kind);
  // Destroyed inside the scope: reprotect() leaves it alone.
  apply(self, backing, gate);
}

/** Gives the memory what the gate requires; checks on opening. */
function apply<S>(self: S, backing: Backing<S>, gate: AccessGate): void {
  if (backing.reprotect(self, gate.required)) return;
  throw canaryHit(self, backing, "open", "destroy it");
}

/** A canary beside the bytes was overwritten: what the caller can still do. */
function canaryHit<S>(
  self: S,
  backing: Backing<S>,
  verb: string,
  then: string,
): SecretMemoryError {
  return new SecretMemoryError(
    "CANARY_CORRUPTED",
    `Cannot ${verb} this ${backing.noun}: a canary beside its ${
      backing.size(self)
    } bytes was overwritten (a native write out of bounds); ${then}`,
  );
}
