/**
 * What every secret this library hands out can do (a `SecretBuffer`, a
 * pool's `SecretSlot`), the one implementation of that behaviour, and the
 * one brand check that tells a genuine secret from a look-alike. The input
 * layer is written against this contract and is handed a maker, so it
 * never imports the class that sits above it.
 *
 * @module
 */

import { AccessGate } from "./_access.ts";
import type { Protection } from "./_native.ts";
import { settle, thenOf } from "./_thenable.ts";
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
 * How one kind of secret reaches its memory: one object per class, shared
 * by all its instances, whose functions take the instance (they are made
 * in the class's static block, so they read its private fields). `self`
 * is always an instance of that class. Internal.
 */
export interface SecretBacking<S> {
  /** What the class is called in messages: "buffer" or "slot". */
  readonly noun: string;
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
   * Gives the memory the access `protection`; returns whether that opened
   * it from closed (then the canaries are checked). The memory is live.
   */
  reprotect(self: S, protection: Protection): boolean;
  /** Whether the canaries hold; the pages are readable. */
  intact(self: S): boolean;
  /**
   * Wipes and frees the memory, once; false when a canary was found
   * overwritten (wiped and freed all the same). Nothing to do: true.
   */
  release(self: S): boolean;
}

// The backings of the library's classes, registered once when each class
// is defined. Only an object built with one of them is a secret: the base
// constructor, reachable from any instance, refuses every other.
const backings: SecretBacking<never>[] = [];

/** Registers a class's backing (from its static block). Internal. */
export function registerBacking<S>(backing: SecretBacking<S>): void {
  backings.push(backing as SecretBacking<never>);
}

// The secret behaviour, written once in SecretBase's static block (where the
// private fields are readable). Module functions, not methods: nothing on
// a prototype lets a caller skip the checks (release without the canary
// verdict, a scope without the gate).
export let sizeOf: (secret: SecretBase) => number;
export let stateOf: (secret: SecretBase) => SecretBufferState;
export let alive: (secret: SecretBase, action: string) => void;
export let addressOf: (secret: SecretBase) => bigint;
export let viewOf: (secret: SecretBase) => Uint8Array;
export let scope: <T>(
  secret: SecretBase,
  kind: "read" | "write",
  fn: (bytes: Uint8Array) => T,
) => T;
export let protect: (secret: SecretBase, state: unknown) => void;
export let equals: (secret: SecretBase, other: unknown) => boolean;
export let destroy: (secret: SecretBase) => void;
export let describe: (secret: SecretBase, name: string) => string;
export let isGuardedSecret: (value: unknown) => value is GuardedSecret;

/**
 * What every secret of this library is built on: a `SecretBuffer` and a
 * pool's `SecretSlot` extend it, and their methods run its one
 * implementation of liveness, scopes and their gate, `protect`, the canary
 * check on opening, `equals` and `destroy`. It has no methods of its own,
 * and cannot be constructed from outside the library.
 *
 * @example
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 *
 * using key = SecretBuffer.random(16);
 * if (key.size !== 16) throw new Error("expected 16 bytes");
 * ```
 */
export abstract class SecretBase {
  readonly #size: number;
  readonly #backing: SecretBacking<SecretBase>;
  // Made at the first scope or protect(): most secrets never need one.
  #gate: AccessGate | undefined;

  /** Only the library's classes, with their registered backing. @internal */
  protected constructor(size: number, backing: SecretBacking<never>) {
    if (!backings.includes(backing)) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot construct a secret directly: use SecretBuffer.alloc or a SecretPool",
      );
    }
    this.#size = size;
    this.#backing = backing as SecretBacking<SecretBase>;
  }

  static {
    // A brand check on the base's private state, set only by the guarded
    // constructor: a Proxy of a secret, an object made from a prototype or
    // a look-alike with the same methods all fail it.
    isGuardedSecret = (value): value is GuardedSecret =>
      typeof value === "object" && value !== null && #backing in value;

    sizeOf = (secret) => secret.#size;

    stateOf = (secret) => {
      const backing = secret.#backing;
      return backing.live(secret) ? backing.protection(secret) : "destroyed";
    };

    alive = (secret, action) => {
      const backing = secret.#backing;
      if (backing.live(secret)) return;
      throw new SecretMemoryError(
        "DESTROYED",
        `Cannot use ${action}: the ${backing.noun} was destroyed; create a new one`,
      );
    };

    // Never a stale address or view.
    addressOf = (secret) => {
      alive(secret, "address");
      return secret.#backing.address(secret);
    };
    viewOf = (secret) => {
      alive(secret, "view");
      return secret.#backing.view(secret);
    };

    // Gives the memory what the gate requires; checks the canaries on
    // opening.
    const apply = (secret: SecretBase, gate: AccessGate): void => {
      const backing = secret.#backing;
      if (
        !backing.reprotect(secret, gate.required) || backing.intact(secret)
      ) return;
      throw new SecretMemoryError(
        "CANARY_CORRUPTED",
        `Cannot open this ${backing.noun}: a canary beside its ${secret.#size} bytes was overwritten` +
          " (a native write out of bounds); destroy it",
      );
    };

    const leave = (
      secret: SecretBase,
      gate: AccessGate,
      kind: "read" | "write",
    ): void => {
      if (kind === "write") gate.exitWrite();
      else gate.exitRead();
      // Destroyed inside the scope: its range may already hold someone
      // else's secret, so it must not be touched.
      if (secret.#backing.live(secret)) apply(secret, gate);
    };

    scope = <T>(
      secret: SecretBase,
      kind: "read" | "write",
      fn: (bytes: Uint8Array) => T,
    ): T => {
      alive(secret, kind);
      checkFunction(fn, kind);
      const gate = secret.#gate ??= new AccessGate();
      if (kind === "write") gate.enterWrite();
      else gate.enterRead();
      let settledLater = false;
      try {
        apply(secret, gate);
        const result = fn(secret.#backing.view(secret));
        const then = thenOf(result);
        if (then !== undefined) {
          settledLater = true;
          return settle(result, then).finally(() =>
            leave(secret, gate, kind)
          ) as T;
        }
        return result;
      } finally {
        if (!settledLater) leave(secret, gate, kind);
      }
    };

    protect = (secret, state) => {
      alive(secret, "protect");
      const protection = checkChoice(
        state,
        ["noaccess", "readonly", "readwrite"],
        "state",
      );
      const gate = secret.#gate ??= new AccessGate();
      gate.setBase(protection);
      try {
        apply(secret, gate);
      } catch (error) {
        // Never leave a corrupted secret open.
        gate.setBase("noaccess");
        apply(secret, gate);
        throw error;
      }
    };

    // Told by the brand, never by a tag, or bytes; time depends only on
    // the length.
    equals = (secret, other) => {
      alive(secret, "equals");
      if (isGuardedSecret(other)) {
        if ((other as object) === secret) return true;
        // Its own read() checks that it is alive.
        return scope(
          secret,
          "read",
          (mine) => other.read((theirs) => timingSafeEqual(mine, theirs)),
        );
      }
      const bytes = checkBytes(other, "the bytes to compare");
      return scope(secret, "read", (mine) => timingSafeEqual(mine, bytes));
    };

    destroy = (secret) => {
      const backing = secret.#backing;
      if (backing.release(secret)) return;
      throw new SecretMemoryError(
        "CANARY_CORRUPTED",
        `Cannot trust this ${backing.noun}: a canary beside its ${secret.#size} bytes was overwritten` +
          " (a native write out of bounds); it was wiped and freed anyway",
      );
    };

    describe = (secret, name) =>
      `${name}(${secret.#size} bytes, ${stateOf(secret)})`;
  }
}

// Nothing may be hung on the base later: a `then` or `toJSON` planted on
// its prototype would reach every secret.
Object.freeze(SecretBase.prototype);
Object.freeze(SecretBase);
