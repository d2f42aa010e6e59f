/**
 * `SecretBuffer`: bytes in their own guarded, locked, wiped mapping,
 * inaccessible except inside a scope.
 *
 * @module
 */

import { AccessGate } from "./core/_access.ts";
import { layoutFor } from "./core/_layout.ts";
import { native, type Protection } from "./core/_native.ts";
import {
  canaryIntact,
  hasEscaped,
  mapRegion,
  type Region,
  setProtection,
} from "./core/_region.ts";
import { isLive, retire, track } from "./core/_registry.ts";
import {
  BUFFER_OPTION_KEYS,
  checkBoolean,
  checkBufferOptions,
  checkBytes,
  checkOptions,
  checkSize,
  copySource,
} from "./core/_validate.ts";
import {
  Bytes,
  lengthOf,
  markOwn,
  markOwnView,
  zero,
} from "./core/_intrinsics.ts";
import { isOwnSource } from "./core/_open.ts";
import { SecretMemoryError } from "./core/errors.ts";
import {
  addressOf,
  alive,
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
  type SecretBufferOptions,
  type SecretBufferState,
  type SecretMaker,
  stateOf,
  viewOf,
} from "./core/_secret.ts";

export type { GuardedSecret, SecretBufferOptions, SecretBufferState };
import type { InputOptions } from "./input/_accumulator.ts";
import { fromBase64, fromHex, fromText } from "./input/encoding.ts";
import { copySecret, sliceSecret } from "./input/copy.ts";
import {
  type FdOrFile,
  type FileOptions,
  fromFd,
  fromFdSync,
  fromFile,
  fromFileSync,
  fromStdin,
  fromStdinSync,
  writeTo,
  writeToSync,
} from "./input/fd.ts";
import { type ByteSource, fromStream } from "./input/stream.ts";
import { redactAndFreeze } from "./core/_redact.ts";

/** Options for `SecretBuffer.from`. */
export interface FromOptions extends SecretBufferOptions {
  /** Zero the source array after copying it (default `true`). */
  wipeSource?: boolean;
}

let brand: (value: unknown) => boolean;

/**
 * Whether `value` is a SecretBuffer made by this module: a brand check on
 * its private state, which a Proxy of a buffer or an object made from the
 * prototype fails (`instanceof` would pass them, and the first private
 * access would then throw a TypeError instead of a typed error). Internal.
 */
export function isSecretBuffer(value: unknown): value is SecretBuffer {
  return brand(value);
}

const constructing = Symbol("SecretBuffer.constructing");

// Spread once, at load: spread at call time runs the array iterator, which
// a later replacement could make leave out every buffer option.
const FROM_OPTION_KEYS: readonly string[] = [
  "wipeSource",
  ...BUFFER_OPTION_KEYS,
];

// How a buffer reaches its own guarded mapping (see `_region.ts`); set in
// SecretBuffer's static block, shared by every buffer.
let backing: Backing<SecretBuffer>;

/**
 * Secret bytes outside the garbage-collected heap: locked in RAM, left out
 * of core dumps and forked children, fenced by guard pages, guarded by a
 * canary, inaccessible at rest, and wiped when destroyed.
 *
 * Access the bytes inside `read()` or `write()`; outside a scope the pages
 * are inaccessible, and touching a view kept from a scope kills the process
 * with SIGSEGV (intended: fail closed). After `destroy()` every kept view is
 * empty.
 *
 * @example Create, use and destroy a key
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 *
 * using key = SecretBuffer.random(32);
 * const first = key.read((bytes) => bytes.length);
 * if (first !== 32) throw new Error("expected 32 bytes");
 * // `using` destroys the key at the end of the scope.
 * ```
 */
export class SecretBuffer {
  #region: Region | undefined;
  #view: Uint8Array | undefined;
  #handedOut = false;
  readonly #size: number;
  // Made at the first scope or protect(): most buffers never need one.
  #gate: AccessGate | undefined;

  static {
    brand = (value) =>
      typeof value === "object" && value !== null && #region in value;
    registerBrand(brand);
    // A class, not an object literal: its methods sit on its own
    // prototype, so the shared code (_secret.ts) sees one map per kind of
    // secret and the engine can inline each kind's methods there.
    backing = new class RegionBacking implements Backing<SecretBuffer> {
      readonly noun = "buffer";
      gate(buffer: SecretBuffer): AccessGate | undefined {
        if (this.live(buffer)) return buffer.#gate ??= new AccessGate();
      }
      live(buffer: SecretBuffer): boolean {
        const region = buffer.#region;
        if (region !== undefined && isLive(region)) return true;
        // Destroyed, or purged or wiped at exit behind our back.
        buffer.#region = buffer.#view = undefined;
        return false;
      }
      // When a caller transferred its buffer away, the region is marked
      // escaped (it will be quarantined, never unmapped) and a new view of
      // the buffer's own size is made: no operation ever goes by a detached
      // view's length.
      view(buffer: SecretBuffer): Uint8Array {
        const region = buffer.#region!;
        if (buffer.#handedOut && !hasEscaped(region)) return buffer.#view!;
        return this.#viewOnce(buffer, region);
      }
      // The rare part of view(), out of line (see _secret.ts).
      #viewOnce(buffer: SecretBuffer, region: Region): Uint8Array {
        if (!buffer.#handedOut) {
          // First time out: from now on a view over these pages is known
          // as the library's own (from() must not wipe it). Done here, not
          // at allocation, so that alloc + destroy pays nothing for it.
          buffer.#handedOut = true;
          markOwn(region.user);
          markOwnView(buffer.#view!);
        }
        if (hasEscaped(region)) {
          region.escaped = true;
          region.user = markOwn(
            native().view(region.userAddress, region.layout.size),
          );
          buffer.#view = markOwnView(new Bytes(region.user));
        }
        return buffer.#view!;
      }
      address(buffer: SecretBuffer): bigint {
        return buffer.#region!.userAddress;
      }
      protection(buffer: SecretBuffer): Protection {
        return buffer.#region!.protection;
      }
      reprotect(buffer: SecretBuffer, protection: Protection): boolean {
        if (!this.live(buffer)) return true;
        const region = buffer.#region!;
        const opening = region.protection === "noaccess" &&
          protection !== "noaccess";
        setProtection(native(), region, protection);
        return !opening || canaryIntact(region);
      }
      size(buffer: SecretBuffer): number {
        return buffer.#size;
      }
    }();
  }

  /**
   * The same description as `toString`, so that `JSON.stringify` cannot
   * leak the content. `console.log` and `inspect` show it too, in Deno,
   * Node and Bun.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.random(4);
   * if (!JSON.stringify({ key }).includes("SecretBuffer(4 bytes")) throw new Error();
   * ```
   */
  declare toJSON: () => string;

  /** The class name for `Object.prototype.toString`. */
  declare readonly [Symbol.toStringTag]: string;

  /** Use `SecretBuffer.alloc`, `from` or `random`. @internal */
  private constructor(token: symbol, region: Region) {
    if (token !== constructing) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot construct SecretBuffer directly: use SecretBuffer.alloc, from or random",
      );
    }
    this.#size = region.layout.size;
    this.#region = region;
    this.#view = new Bytes(region.user);
    track(this, region);
    // No own property may shadow size, address, read or write: the input
    // layer and equals() ask the instance, and a lie there would steer a
    // native copy past the mapping.
    Object.freeze(this);
  }

  static #create(
    size: number,
    options: unknown,
    fill?: (user: Uint8Array, address: bigint) => void,
  ): SecretBuffer {
    const { lock, placement, backend } = checkBufferOptions(options);
    const memory = native();
    const layout = layoutFor(size, memory.pageSize, placement);
    return new SecretBuffer(
      constructing,
      mapRegion(memory, layout, lock, fill, backend),
    );
  }

  /**
   * A zero-filled buffer of `size` bytes.
   *
   * @param size Bytes, a whole number from 0 to 2^30. A size of 0 is
   * allowed (an empty passphrase is a valid secret); it still maps one
   * guarded data page, for the canary.
   * @param options Lock policy and placement.
   * @returns The buffer, at rest (noaccess).
   * @throws {SecretMemoryError} `INVALID_SIZE`, `INVALID_ARGUMENT`,
   * `MEMLOCK_LIMIT`, `FFI_UNAVAILABLE`, `UNSUPPORTED_PLATFORM`, `OS_ERROR`.
   *
   * @example Allocate and fill
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using buffer = SecretBuffer.alloc(4);
   * buffer.write((bytes) => bytes.set([1, 2, 3, 4]));
   * const sum = buffer.read((bytes) => bytes.reduce((a, b) => a + b, 0));
   * if (sum !== 10) throw new Error("unexpected content");
   * ```
   */
  static alloc(size: number, options?: SecretBufferOptions): SecretBuffer {
    return SecretBuffer.#create(checkSize(size), options);
  }

  /**
   * A buffer holding a copy of `bytes`; the source is then zeroed unless
   * `wipeSource` is `false`. The source is only zeroed once the copy is
   * safe, so on failure the caller still has it. Given another
   * `SecretBuffer`, copies its bytes page to page (memcpy through FFI,
   * never through the heap) and leaves the source as it was.
   *
   * @param bytes The secret to copy in: a `Uint8Array` or a `SecretBuffer`.
   * @param options `wipeSource`, lock policy and placement.
   * @returns The buffer, at rest.
   * @throws {SecretMemoryError} as `alloc`, and `INVALID_ARGUMENT` when
   * `bytes` is not a `Uint8Array`.
   *
   * @example Take over a key that arrived in an ordinary array
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * const incoming = new Uint8Array([7, 7, 7]);
   * using key = SecretBuffer.from(incoming);
   * if (incoming.some((b) => b !== 0)) throw new Error("source not wiped");
   * ```
   */
  static from(
    bytes: Uint8Array | SecretBuffer,
    options?: FromOptions,
  ): SecretBuffer {
    const { wipeSource = true, ...bufferOptions } = checkOptions(
      options,
      FROM_OPTION_KEYS,
    );
    checkBoolean(wipeSource, "wipeSource");
    if (isSecretBuffer(bytes)) {
      // Guarded to guarded by memcpy; the source buffer is left as it is.
      checkBufferOptions(bufferOptions);
      return sliceSecret(maker, bytes, 0, bytes.size, bufferOptions);
    }
    const source = checkBytes(bytes, "the source bytes");
    // The engine's length, read once: an own `length` property must not
    // size the copy.
    const size = checkSize(lengthOf(source), "the source length");
    // A view over this library's own guarded pages (another buffer's, read
    // inside its scope) is that buffer's to wipe, and may be read-only:
    // wiping it would fault. It is copied and left as it is. Decided first,
    // so that nothing is allocated if deciding fails.
    const wipe = wipeSource && size > 0 && !isOwnSource(source);
    const buffer = SecretBuffer.#create(size, bufferOptions, (user) => {
      // A growable SharedArrayBuffer can change under us from another
      // thread: copy exactly what was measured, or nothing.
      copySource(user, source, size);
    });
    if (wipe) zero(source);
    return buffer;
  }

  /**
   * A buffer of `size` random bytes, written straight into the locked pages
   * by the OS generator (getrandom(2) on Linux). The bytes never pass
   * through `crypto.getRandomValues`, which in Deno and Bun keeps a copy of
   * its last output in the heap.
   *
   * @param size Bytes, as for `alloc`.
   * @param options Lock policy and placement.
   * @returns The buffer, at rest.
   * @throws {SecretMemoryError} as `alloc`.
   *
   * @example A 256-bit key
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.random(32);
   * if (key.size !== 32) throw new Error("expected 32 bytes");
   * ```
   */
  static random(size: number, options?: SecretBufferOptions): SecretBuffer {
    const memory = native();
    return SecretBuffer.#create(
      checkSize(size),
      options,
      (_, address) => memory.fillRandom(address, size),
    );
  }

  /**
   * The number of user bytes (still known after destroy).
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using buffer = SecretBuffer.alloc(8);
   * if (buffer.size !== 8) throw new Error("wrong size");
   * ```
   */
  get size(): number {
    return this.#size;
  }

  /**
   * The pages' access now: `noaccess` at rest, `readonly` or `readwrite`
   * inside scopes or after `protect()`, `destroyed` after `destroy()`.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * const buffer = SecretBuffer.alloc(8);
   * const states: string[] = [buffer.state];
   * buffer.destroy();
   * states.push(buffer.state);
   * if (states.join() !== "noaccess,destroyed") throw new Error(states.join());
   * ```
   */
  get state(): SecretBufferState {
    return stateOf(this, backing);
  }

  /**
   * Address of the first user byte, for native code. The bytes there are
   * only accessible while a scope (or `protect()`) opens them.
   *
   * @throws {SecretMemoryError} `DESTROYED` after destroy: a stale address
   * must never reach native code.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using buffer = SecretBuffer.alloc(8);
   * if (buffer.address <= 0n) throw new Error("no address");
   * ```
   */
  get address(): bigint {
    return addressOf(this, backing);
  }

  /**
   * Calls `fn` with a view of the bytes while the pages are read-only, then
   * restores the previous access. If `fn` returns a promise, access lasts
   * until it settles. Scopes nest. Writing to the view faults (SIGSEGV).
   *
   * @param fn Receives the view; its result is returned.
   * @returns What `fn` returns.
   * @throws {SecretMemoryError} `DESTROYED`, `INVALID_ARGUMENT`,
   * `CANARY_CORRUPTED` when the canary was overwritten.
   *
   * @example Derive something from a key
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.from(new Uint8Array([1, 2, 3]));
   * const first = key.read((bytes) => bytes[0]);
   * if (first !== 1) throw new Error("unexpected");
   * ```
   */
  read<T>(fn: (bytes: Uint8Array) => T): T {
    return this.#scope("read", fn);
  }

  /**
   * Calls `fn` with a writable view of the bytes, then restores the
   * previous access. If `fn` returns a promise, access lasts until it
   * settles. Refused inside a read scope.
   *
   * @param fn Receives the view; its result is returned.
   * @returns What `fn` returns.
   * @throws {SecretMemoryError} `DESTROYED`, `INVALID_ARGUMENT`,
   * `ACCESS_DENIED` inside a read scope, `CANARY_CORRUPTED`.
   *
   * @example Fill a buffer
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using buffer = SecretBuffer.alloc(3);
   * buffer.write((bytes) => bytes.fill(9));
   * ```
   */
  write<T>(fn: (bytes: Uint8Array) => T): T {
    return this.#scope("write", fn);
  }

  // The fast path of a scope (see opened() in _secret.ts), this class's
  // own: Bun (JavaScriptCore) slows down when both kinds share the function
  // that holds the try/finally and calls `fn`.
  #scope<T>(kind: Kind, fn: (bytes: Uint8Array) => T): T {
    const gate = opened(this, backing, this.#gate, fn, kind);
    if (gate === undefined) return scope(this, backing, kind, fn);
    try {
      return kept(this, backing, gate, kind, fn(backing.view(this)));
    } finally {
      backing.reprotect(this, gate.exit(kind));
    }
  }

  /**
   * The low-level switch: sets the access that holds outside scopes, for
   * code that must keep the bytes open across calls (like
   * `sodium_mprotect_*`). Open scopes still get at least what they need.
   * Close again with `protect("noaccess")`.
   *
   * @param state `"noaccess"`, `"readonly"` or `"readwrite"`.
   * @throws {SecretMemoryError} `DESTROYED`, `INVALID_ARGUMENT`,
   * `CANARY_CORRUPTED`.
   *
   * @example Keep a key readable for native code, then close it
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.random(32);
   * key.protect("readonly");
   * // ... native code reads 32 bytes at key.address ...
   * key.protect("noaccess");
   * ```
   */
  protect(state: "noaccess" | "readonly" | "readwrite"): void {
    protect(this, backing, state);
  }

  /**
   * The user bytes as a view, for code that holds access through
   * `protect()`. The view faults when touched while the pages are
   * inaccessible, and is empty after destroy. Prefer `read`/`write`.
   *
   * @throws {SecretMemoryError} `DESTROYED`.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.alloc(2);
   * key.protect("readwrite");
   * key.view.set([1, 2]);
   * key.protect("noaccess");
   * ```
   */
  get view(): Uint8Array {
    return viewOf(this, backing);
  }

  /**
   * Compares with another buffer or array in time that depends only on the
   * length (see `timingSafeEqual` for what JavaScript can promise).
   *
   * @param other A `SecretBuffer`, a pool's `SecretSlot` or a `Uint8Array`.
   * @returns Whether both hold the same bytes.
   * @throws {SecretMemoryError} `DESTROYED` if either buffer is destroyed,
   * `INVALID_ARGUMENT` for anything else.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using a = SecretBuffer.from(new Uint8Array([1, 2]));
   * using b = SecretBuffer.from(new Uint8Array([1, 2]));
   * if (!a.equals(b)) throw new Error("expected equal");
   * ```
   */
  equals(other: GuardedSecret | Uint8Array): boolean {
    return equals(this, backing, other);
  }

  /**
   * Opens the pages, checks the canary, wipes every data byte, detaches
   * all views, and unmaps. Safe to call again. A corrupted canary still
   * wipes and unmaps, then throws.
   *
   * @throws {SecretMemoryError} `CANARY_CORRUPTED` if bytes beside the
   * secret were overwritten (a buffer overflow or underflow in native code).
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * const key = SecretBuffer.random(32);
   * key.destroy();
   * key.destroy(); // no effect
   * ```
   */
  destroy(): void {
    const region = this.#region;
    if (region === undefined) return;
    this.#region = this.#view = undefined;
    if (isLive(region) && !retire(region)) {
      throw overwritten(this, backing);
    }
  }

  /**
   * Destroys the buffer; lets `using` end its life with the scope.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * {
   *   using key = SecretBuffer.random(16);
   * } // destroyed here
   * ```
   */
  [Symbol.dispose](): void {
    this.destroy();
  }

  // Getting secrets in and out without heap copies (src/input_*.ts,
  // src/encoding.ts): thin entry points over those modules.

  /**
   * Reads a whole file into a new buffer with read(2), straight into the
   * locked pages: no runtime buffer or heap copy holds the bytes.
   *
   * A file that cannot seek (a FIFO, a socket, a terminal) is read
   * non-blocking, waiting with timers (the event loop runs on) for a
   * writer and for its end, up to `timeout` milliseconds (default 30000);
   * then `INPUT_ERROR`. A FIFO whose writer wrote nothing is
   * `INPUT_ERROR` too. Files that can seek take no timeout: a regular file,
   * or a device that answers at once (`/dev/urandom`), is read to its end
   * or to `maxSize`, with a turn of the event loop after every MiB.
   *
   * @param path The file's path (a string or `file:` URL).
   * @param options `maxSize` (default 65536 bytes), `timeout`, lock and
   * placement.
   * @returns The file's bytes, at rest, in a buffer of their exact size.
   * @throws {SecretMemoryError} `TOO_LARGE` (nothing left mapped),
   * `OS_ERROR` (for example `ENOENT`; the message names the path and what
   * to do), `PERMISSION_DENIED` (the runtime's permission model does not
   * let the program read the path; nothing opened), `INPUT_ERROR` (a FIFO
   * that gave nothing in time), `INVALID_ARGUMENT`, as `alloc`.
   *
   * @example Read a key file
   * ```ts ignore
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = await SecretBuffer.fromFile("/run/secrets/key", { maxSize: 64 });
   * ```
   *
   * @example A key file as text (a Kubernetes secret, `openssl rand -base64 32 > key`)
   * ```ts ignore
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * // Whitespace and line breaks are allowed; the bytes are decoded
   * // straight into guarded memory.
   * using key = await SecretBuffer.fromFile("/run/secrets/key", {
   *   encoding: "base64",
   * });
   * ```
   */
  static fromFile(
    path: string | URL,
    options?: FileOptions,
  ): Promise<SecretBuffer> {
    return fromFile(maker, path, options);
  }

  /**
   * `fromFile`, synchronously (read(2) is synchronous anyway). On a FIFO
   * it blocks the thread, as a synchronous read does: until a writer opens
   * it and closes it. It takes no `timeout`; use `fromFile` to wait with
   * one.
   *
   * @param path The file's path.
   * @param options `maxSize`, lock and placement.
   * @returns The file's bytes, at rest.
   * @throws {SecretMemoryError} as `fromFile`.
   *
   * @example
   * ```ts ignore
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.fromFileSync("/run/secrets/key");
   * ```
   */
  static fromFileSync(
    path: string | URL,
    options?: InputOptions,
  ): SecretBuffer {
    return fromFileSync(maker, path, options);
  }

  /**
   * Reads an open file or descriptor to its end with read(2) straight
   * into the locked pages. A Deno `FsFile` has no public descriptor in
   * Deno 2, so it is read with its own `read(view)` into a view over the
   * pages instead.
   *
   * @param fdOrFile A descriptor number, a Node/Bun `FileHandle`, or a
   * Deno `FsFile`.
   * @param options `maxSize` (default 65536 bytes), lock and placement.
   * @returns The bytes read, at rest.
   * @throws {SecretMemoryError} `TOO_LARGE`, `OS_ERROR`,
   * `INVALID_ARGUMENT`, as `alloc`.
   *
   * @example
   * ```ts ignore
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using secret = await SecretBuffer.fromFd(3, { maxSize: 4096 });
   * ```
   */
  static fromFd(
    fdOrFile: FdOrFile,
    options?: InputOptions,
  ): Promise<SecretBuffer> {
    return fromFd(maker, fdOrFile, options);
  }

  /**
   * `fromFd`, synchronously; descriptors and `FileHandle`s only.
   *
   * @param fdOrFile A descriptor number or a `FileHandle`.
   * @param options `maxSize`, lock and placement.
   * @returns The bytes read, at rest.
   * @throws {SecretMemoryError} as `fromFd`.
   *
   * @example
   * ```ts ignore
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using secret = SecretBuffer.fromFdSync(3);
   * ```
   */
  static fromFdSync(
    fdOrFile: number | { readonly fd: number },
    options?: InputOptions,
  ): SecretBuffer {
    return fromFdSync(maker, fdOrFile, options);
  }

  /**
   * Reads stdin to its end with read(2) straight into the locked pages.
   * Waiting for input blocks the thread (read(2) is synchronous) unless
   * stdin is non-blocking. For a terminal, use `promptSecret`.
   *
   * @param options `maxSize` (default 65536 bytes), lock and placement.
   * @returns The bytes read, at rest.
   * @throws {SecretMemoryError} `TOO_LARGE`, `OS_ERROR`, as `alloc`.
   *
   * @example `printf %s "$TOKEN" | deno run --allow-ffi app.ts`
   * ```ts ignore
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using token = await SecretBuffer.fromStdin({ maxSize: 4096 });
   * ```
   */
  static fromStdin(options?: InputOptions): Promise<SecretBuffer> {
    return fromStdin(maker, options);
  }

  /**
   * `fromStdin`, synchronously.
   *
   * @param options `maxSize`, lock and placement.
   * @returns The bytes read, at rest.
   * @throws {SecretMemoryError} as `fromStdin`.
   *
   * @example
   * ```ts ignore
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using token = SecretBuffer.fromStdinSync();
   * ```
   */
  static fromStdinSync(options?: InputOptions): SecretBuffer {
    return fromStdinSync(maker, options);
  }

  /**
   * Reads a byte stream to its end. A byte `ReadableStream` is read with a
   * BYOB reader into views over the locked pages; other streams and async
   * iterables of `Uint8Array` are copied in chunk by chunk, each chunk
   * zeroed once copied (copies the producer made before are beyond reach).
   *
   * @param stream A `ReadableStream` or an async iterable of `Uint8Array`.
   * @param options `maxSize` (default 65536 bytes), lock and placement.
   * @returns The bytes read, at rest.
   * @throws {SecretMemoryError} `TOO_LARGE` (the stream is cancelled),
   * `INVALID_ARGUMENT`, as `alloc`.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * const chunks = (async function* () {
   *   yield new Uint8Array([1, 2]);
   *   yield new Uint8Array([3]);
   * })();
   * using secret = await SecretBuffer.fromStream(chunks);
   * if (secret.size !== 3) throw new Error("expected 3 bytes");
   * ```
   */
  static fromStream(
    stream: ByteSource,
    options?: InputOptions,
  ): Promise<SecretBuffer> {
    return fromStream(maker, stream, options);
  }

  /**
   * Decodes hex (upper or lower case, no separators) straight into a new
   * buffer, with no table lookup indexed by the secret. The string itself
   * cannot be wiped: JavaScript strings are immutable.
   *
   * @param text Hex digits, an even number of them.
   * @param options Lock and placement.
   * @returns The decoded bytes, at rest.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` for bad input (the
   * half-decoded buffer is wiped and unmapped first).
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.fromHex("00ff10");
   * if (key.read((b) => b[1]) !== 255) throw new Error("bad decode");
   * ```
   */
  static fromHex(text: string, options?: SecretBufferOptions): SecretBuffer {
    return fromHex(maker, text, options);
  }

  /**
   * Decodes base64 (standard or URL-safe alphabet, padding optional)
   * straight into a new buffer, without `atob`. The string itself cannot
   * be wiped.
   *
   * @param text Base64 text, without whitespace.
   * @param options Lock and placement.
   * @returns The decoded bytes, at rest.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` for bad input (the
   * half-decoded buffer is wiped and unmapped first).
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.fromBase64("AQID");
   * if (key.size !== 3) throw new Error("bad decode");
   * ```
   */
  static fromBase64(text: string, options?: SecretBufferOptions): SecretBuffer {
    return fromBase64(maker, text, options);
  }

  /**
   * Encodes a string as UTF-8 straight into a new buffer
   * (`TextEncoder.encodeInto`). The string you pass stays in the heap and
   * cannot be wiped: prefer `fromFile`, `fromStdin` or `promptSecret`,
   * which never make one.
   *
   * @param text The text.
   * @param options Lock and placement.
   * @returns Its UTF-8 bytes, at rest.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT`, as `alloc`.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using word = SecretBuffer.fromText("héllo");
   * if (word.size !== 6) throw new Error("expected 6 UTF-8 bytes");
   * ```
   */
  static fromText(text: string, options?: SecretBufferOptions): SecretBuffer {
    return fromText(maker, text, options);
  }

  /**
   * Writes all the bytes to an open file or descriptor with write(2) from
   * the locked pages (for example a child process's stdin). A Deno
   * `FsFile` is written with its own `write(view)`.
   *
   * @param fdOrFile A descriptor number, a `FileHandle`, or a Deno `FsFile`.
   * @returns The number of bytes written (the size).
   * @throws {SecretMemoryError} `DESTROYED`, `OS_ERROR` (for example
   * `EPIPE`), `INVALID_ARGUMENT`.
   *
   * @example
   * ```ts ignore
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.random(32);
   * await key.writeTo(child.stdin.fd);
   * ```
   */
  async writeTo(fdOrFile: FdOrFile): Promise<number> {
    // Async, so that a destroyed buffer rejects rather than throws.
    alive(this, backing, "writeTo");
    return await writeTo(this, fdOrFile);
  }

  /**
   * `writeTo`, synchronously; descriptors and `FileHandle`s only.
   *
   * @param fdOrFile A descriptor number or a `FileHandle`.
   * @returns The number of bytes written.
   * @throws {SecretMemoryError} as `writeTo`.
   *
   * @example
   * ```ts ignore
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.random(32);
   * key.writeToSync(1);
   * ```
   */
  writeToSync(fdOrFile: number | { readonly fd: number }): number {
    alive(this, backing, "writeToSync");
    return writeToSync(this, fdOrFile);
  }

  /**
   * A new buffer with bytes `start` (inclusive) to `end` (exclusive),
   * copied page to page; this one is unchanged.
   *
   * @param start First byte, from 0 to `size` (default 0).
   * @param end One past the last byte, from `start` to `size` (default `size`).
   * @param options Lock and placement of the new buffer.
   * @returns The slice, at rest.
   * @throws {SecretMemoryError} `DESTROYED`, `INVALID_ARGUMENT`, as `alloc`.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using both = SecretBuffer.fromHex("aabbccdd");
   * using tail = both.slice(2);
   * if (!tail.equals(new Uint8Array([0xcc, 0xdd]))) throw new Error();
   * ```
   */
  slice(
    start?: number,
    end?: number,
    options?: SecretBufferOptions,
  ): SecretBuffer {
    alive(this, backing, "slice");
    return sliceSecret(maker, this, start, end, options);
  }

  /**
   * Copies all of this buffer's bytes into `target` at `offset`, page to
   * page.
   *
   * @param target The buffer to write into.
   * @param offset Where in `target` (default 0).
   * @returns The number of bytes copied.
   * @throws {SecretMemoryError} `DESTROYED`, `INVALID_ARGUMENT` when it
   * does not fit.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using part = SecretBuffer.fromHex("0102");
   * using whole = SecretBuffer.alloc(4);
   * part.copyTo(whole, 2);
   * if (!whole.equals(new Uint8Array([0, 0, 1, 2]))) throw new Error();
   * ```
   */
  copyTo(target: SecretBuffer, offset?: number): number {
    alive(this, backing, "copyTo");
    return copySecret(maker, this, target, offset);
  }

  /**
   * What backs the data pages: `"anonymous"` or `"secretmem"`
   * (memfd_secret(2)); with `backend: "auto"`, which one this buffer got.
   *
   * @throws {SecretMemoryError} `DESTROYED`.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.random(32, { backend: "auto" });
   * console.log(key.backend); // "secretmem" on Linux 5.14+, else "anonymous"
   * ```
   */
  get backend(): "anonymous" | "secretmem" {
    alive(this, backing, "backend");
    return this.#region!.backend;
  }

  /**
   * A description with the size and state, never the content.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   *
   * using key = SecretBuffer.random(4);
   * if (String(key) !== "SecretBuffer(4 bytes, noaccess)") throw new Error();
   * ```
   */
  toString(): string {
    return describe(this, backing, "SecretBuffer");
  }
}

// Frozen, class and prototype, so that code loaded later cannot replace a
// method the library itself calls: a patched read() or write() would be
// handed every key the Enclave and the crypto entry open.
redactAndFreeze(SecretBuffer, "SecretBuffer");

/** How the input layer makes the buffers it returns. Internal. */
export const maker: SecretMaker<SecretBuffer> = {
  alloc: (size, options) => SecretBuffer.alloc(size, options),
  is: isSecretBuffer,
};
