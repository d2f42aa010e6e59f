/**
 * `hmacKey`: an HMAC key made ready once. The key's inner and outer hash
 * states (SHA-2 after the key XOR ipad and XOR opad blocks) sit in a
 * guarded pool slot between calls, so a MAC costs only the hashing of the
 * message, and no mapping.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { redactAndFreeze } from "../core/_redact.ts";
import type { SecretBuffer } from "../secret_buffer.ts";
import type { SecretSlot } from "../pool/pool.ts";
import { Hmac, hmacIn } from "./_hmac.ts";
import { checkHash, checkInput, checkKey, checkParams } from "./_input.ts";
import type { HashAlgorithm } from "./_sha2.ts";
import { withArea } from "./_work.ts";
import {
  type ContextPoolOptions,
  contextSlot,
  liveSlot,
} from "./_context_pool.ts";
import {
  absorb,
  checkData,
  type HashName,
  type HmacOptions,
  minKeySize,
  tagMatches,
} from "./mac.ts";
import { Bytes } from "../core/_intrinsics.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;

/** Options of `hmacKey`: where its state rests, and short keys. */
export interface HmacKeyOptions extends ContextPoolOptions, HmacOptions {}

const constructing = Symbol("HmacKey.constructing");
// Set by HmacKey's static block: the only way to make one.
let newHmacKey: (hash: HashAlgorithm, slot: SecretSlot) => HmacKey;
let slotOfHmacKey: (key: HmacKey) => SecretSlot | undefined;

/**
 * Where a live key's state sits: [first byte, end), for the forensic
 * test, which must tell the state's own page from a copy. Internal.
 */
export function hmacKeyRange(key: HmacKey): [bigint, bigint] | undefined {
  const slot = slotOfHmacKey(key);
  return slot && [slot.address, slot.address + BigInt(slot.size)];
}

/**
 * An HMAC key ready for many messages, made by `hmacKey`. Its state lives
 * in guarded memory until `destroy()` (or `using`, `purge()`, exit).
 *
 * @example Sign and verify with one key
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { hmacKey } from "@secmem/secmem/crypto";
 *
 * using secret = SecretBuffer.random(32);
 * using key = hmacKey("SHA-256", secret);
 * const body = new TextEncoder().encode("hello");
 * const tag = key.mac(body);
 * if (!key.verify(body, tag)) throw new Error("rejected");
 * ```
 */
export class HmacKey {
  readonly #hash: HashAlgorithm;
  readonly #slot: SecretSlot;

  static {
    newHmacKey = (hash, slot) => new HmacKey(constructing, hash, slot);
    slotOfHmacKey = (key) => key.destroyed ? undefined : key.#slot;
  }

  /**
   * The same description, for `JSON.stringify`. `console.log` and `inspect`
   * show it too, in Deno, Node and Bun.
   */
  declare toJSON: () => string;

  /** Made by `hmacKey`. @internal */
  private constructor(token: symbol, hash: HashAlgorithm, slot: SecretSlot) {
    if (token !== constructing) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot construct HmacKey directly: use hmacKey(hash, key)",
      );
    }
    this.#hash = hash;
    this.#slot = slot;
    Object.freeze(this);
  }

  /** `"SHA-256"` or `"SHA-512"`. */
  get hash(): HashName {
    return this.#hash.name;
  }

  /** Bytes of a MAC: 32 or 64. */
  get macLength(): number {
    return this.#hash.outputLength;
  }

  /** Whether `destroy()` (or `purge()`) has wiped the key. */
  get destroyed(): boolean {
    return this.#slot.state === "destroyed";
  }

  /**
   * The HMAC of `data`.
   *
   * @param data The message: bytes, or a SecretBuffer (read in place).
   * @returns The 32- or 64-byte MAC.
   * @throws {SecretMemoryError} `DESTROYED`; `INVALID_ARGUMENT` for data
   * that is not bytes.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { hmacKey } from "@secmem/secmem/crypto";
   *
   * using secret = SecretBuffer.random(32);
   * using key = hmacKey("SHA-256", secret);
   * if (key.mac(new Uint8Array(64)).length !== 32) throw new Error();
   * ```
   */
  mac(data: Uint8Array | SecretBuffer): Uint8Array {
    const slot = this.#alive("mac");
    const message = checkData(data, "HMAC data");
    const hash = this.#hash;
    const out = new Bytes(hash.outputLength);
    withArea((area) => {
      const mac = hmacIn(area, hash);
      slot.read((states) => mac.resume(states, 0));
      absorb(mac, message);
      mac.finish(out, 0);
    });
    return out;
  }

  /**
   * Checks that `tag` is the HMAC of `data`. The MAC is computed and
   * compared in guarded memory, in time that depends only on the lengths.
   *
   * @param data The message: bytes, or a SecretBuffer.
   * @param tag The MAC to check; one of another length is simply wrong.
   * @returns Whether `tag` is the MAC.
   * @throws {SecretMemoryError} `DESTROYED`; `INVALID_ARGUMENT` for data
   * or a tag that is not bytes.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { hmacKey } from "@secmem/secmem/crypto";
   *
   * using secret = SecretBuffer.random(32);
   * using key = hmacKey("SHA-256", secret);
   * if (key.verify(new Uint8Array(1), new Uint8Array(32))) throw new Error();
   * ```
   */
  verify(data: Uint8Array | SecretBuffer, tag: Uint8Array): boolean {
    const slot = this.#alive("verify");
    const message = checkData(data, "HMAC data");
    const theirs = checkInput(tag, "the tag");
    const hash = this.#hash;
    const at = Hmac.size(hash);
    return withArea((area) => {
      const mac = hmacIn(area, hash);
      slot.read((states) => mac.resume(states, 0));
      absorb(mac, message);
      mac.finish(area.bytes, at);
      return tagMatches(area.bytes, at, hash.outputLength, theirs);
    });
  }

  /**
   * Wipes the key's state and frees its slot. Safe to call again.
   *
   * @throws {SecretMemoryError} `CANARY_CORRUPTED` if a native write
   * overran the slot (it is wiped anyway).
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { hmacKey } from "@secmem/secmem/crypto";
   *
   * using secret = SecretBuffer.random(32);
   * const key = hmacKey("SHA-256", secret);
   * key.destroy();
   * if (!key.destroyed) throw new Error();
   * ```
   */
  destroy(): void {
    this.#slot.destroy();
  }

  /** Destroys the key at the end of a `using` scope. */
  [Symbol.dispose](): void {
    this.destroy();
  }

  /** A description, never the key. */
  toString(): string {
    return `HmacKey(${this.#hash.name}, ${
      this.destroyed ? "destroyed" : "live"
    })`;
  }

  #alive(action: string): SecretSlot {
    return liveSlot(this.#slot, action, "HmacKey", "hmacKey(hash, key)");
  }
}

// Frozen, class and prototype: code loaded later cannot replace a method
// that is handed the key's states.
redactAndFreeze(HmacKey);

/**
 * Makes an HMAC key ready for many messages: the key's padded blocks are
 * hashed once, into guarded memory, and each `mac` or `verify` then costs
 * only the message. The states rest in a pool slot (thousands share a
 * page): inaccessible between calls by default, or open with
 * `rest: "readwrite"` for calls that make no system call at all. `key`
 * itself is not kept: destroy it when you no longer need it.
 *
 * @param hash `"SHA-256"` or `"SHA-512"`.
 * @param key The key, at least 16 bytes (unless `allowShortKey`).
 * @param options `rest`, `lock` (as `SecretPool`'s) and `allowShortKey`.
 * @returns The ready key; `destroy()` it, or hold it with `using`.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for an unknown hash, a
 * short key or unknown options; `DESTROYED`; `MEMLOCK_LIMIT`.
 *
 * @example A server's webhook key
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { hmacKey } from "@secmem/secmem/crypto";
 *
 * using secret = SecretBuffer.random(32);
 * using key = hmacKey("SHA-256", secret, { rest: "readwrite" });
 * const body = new TextEncoder().encode("{}");
 * if (!key.verify(body, key.mac(body))) throw new Error("rejected");
 * ```
 */
export function hmacKey(
  hash: HashName,
  key: SecretBuffer,
  options?: HmacKeyOptions,
): HmacKey {
  const algorithm = checkHash(hash);
  const o = checkParams(
    options,
    ["rest", "lock", "allowShortKey"],
    "hmacKey options",
  );
  const secret = checkKey(key, "HMAC key", minKeySize(o.allowShortKey));
  const slot = contextSlot(2 * algorithm.outputLength, o.rest, o.lock);
  try {
    const size = secret.size;
    withArea((area) => {
      const mac = hmacIn(area, algorithm);
      secret.read((k) => mac.init(k, 0, size));
      slot.write((states) => mac.saveKeyed(states, 0));
    });
  } catch (error) {
    slot.destroy();
    throw error;
  }
  return newHmacKey(algorithm, slot);
}
