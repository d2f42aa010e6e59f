/**
 * What every secret this library hands out can do (a `SecretBuffer`, a
 * pool's `SecretSlot`), and the one brand check that tells a genuine one
 * from a look-alike. The input layer is written against this contract and
 * is handed a maker, so it never imports the class that sits above it.
 *
 * @module
 */

/** Where a buffer's pages stand: its access now, or destroyed. */
export type SecretBufferState =
  | "noaccess"
  | "readonly"
  | "readwrite"
  | "destroyed";

/** Options for creating a buffer. */
export interface SecretBufferOptions {
  /**
   * `"required"` (default): fail with `MEMLOCK_LIMIT` if the pages cannot
   * be locked in RAM. `"best-effort"`: keep unlocked pages instead (they may
   * then be swapped out); every other protection still applies.
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
  for (const check of brands) if (check(value)) return true;
  return false;
}
