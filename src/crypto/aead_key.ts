/**
 * `aeadKey`: an XChaCha20-Poly1305 key held in a guarded pool slot for
 * many messages, so that a call maps nothing for the key: its work runs
 * in the thread's reused work area.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { redactAndFreeze } from "../core/_redact.ts";
import type { SecretBuffer, SecretBufferOptions } from "../secret_buffer.ts";
import type { SecretSlot } from "../pool/pool.ts";
import { KEY_SIZE } from "./_aead.ts";
import { checkKey, checkOutputOptions, checkParams } from "./_input.ts";
import {
  type ContextPoolOptions,
  contextSlot,
  liveSlot,
} from "./_context_pool.ts";
import { type CipherParams, openMessage, sealMessage } from "./cipher.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;

/** Options of `aeadKey`: where the key rests. */
export type AeadKeyOptions = ContextPoolOptions;

const constructing = Symbol("AeadKey.constructing");
// Set by AeadKey's static block: the only way to make one.
let newAeadKey: (slot: SecretSlot) => AeadKey;
let slotOfAeadKey: (key: AeadKey) => SecretSlot | undefined;

/**
 * Where a live key sits: [first byte, end), for the forensic test, which
 * must tell the key's own slot from a copy. Internal.
 */
export function aeadKeyRange(key: AeadKey): [bigint, bigint] | undefined {
  const slot = slotOfAeadKey(key);
  return slot && [slot.address, slot.address + BigInt(slot.size)];
}

/**
 * An XChaCha20-Poly1305 key for many messages, made by `aeadKey`. Messages
 * are those of `encrypt`/`decrypt`: nonce (24) ‖ ciphertext ‖ tag (16).
 *
 * @example Encrypt and decrypt
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { aeadKey } from "@secmem/secmem/crypto";
 *
 * using secret = SecretBuffer.random(32);
 * using key = aeadKey(secret);
 * const message = key.encrypt(new Uint8Array([1, 2, 3]));
 * using plain = key.decrypt(message);
 * if (plain.size !== 3) throw new Error("round trip failed");
 * ```
 */
export class AeadKey {
  readonly #slot: SecretSlot;

  static {
    newAeadKey = (slot) => new AeadKey(constructing, slot);
    slotOfAeadKey = (key) => key.destroyed ? undefined : key.#slot;
  }

  /**
   * The same description, for `JSON.stringify`. `console.log` and `inspect`
   * show it too, in Deno, Node and Bun.
   */
  declare toJSON: () => string;

  /** Made by `aeadKey`. @internal */
  private constructor(token: symbol, slot: SecretSlot) {
    if (token !== constructing) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot construct AeadKey directly: use aeadKey(key)",
      );
    }
    this.#slot = slot;
    Object.freeze(this);
  }

  /** Whether `destroy()` (or `purge()`) has wiped the key. */
  get destroyed(): boolean {
    return this.#slot.state === "destroyed";
  }

  /**
   * Encrypts `plaintext` with a fresh random nonce.
   *
   * @param plaintext The secret (read in place) or ordinary bytes.
   * @param params `aad`: associated data to bind the message to.
   * @returns nonce ‖ ciphertext ‖ tag, 40 bytes longer than the plaintext.
   * @throws {SecretMemoryError} `DESTROYED`; `INVALID_ARGUMENT` for inputs
   * that are not bytes.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { aeadKey } from "@secmem/secmem/crypto";
   *
   * using secret = SecretBuffer.random(32);
   * using key = aeadKey(secret);
   * if (key.encrypt(new Uint8Array(2)).length !== 42) throw new Error();
   * ```
   */
  encrypt(
    plaintext: SecretBuffer | Uint8Array,
    params?: CipherParams,
  ): Uint8Array {
    const p = checkParams(params, ["aad"], "encrypt params");
    return sealMessage(this.#alive("encrypt"), p, plaintext);
  }

  /**
   * Checks and decrypts a message into a fresh guarded buffer; a message
   * that fails authentication leaves nothing mapped.
   *
   * @param message nonce ‖ ciphertext ‖ tag.
   * @param params `aad`: the associated data the message was bound to.
   * @param options Options for the new buffer (lock, placement, backend).
   * @returns A new SecretBuffer with the plaintext, at rest.
   * @throws {SecretMemoryError} `INTEGRITY`; `DESTROYED`;
   * `INVALID_ARGUMENT` for a message shorter than 40 bytes or inputs that
   * are not bytes; what `SecretBuffer.alloc` throws.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { aeadKey } from "@secmem/secmem/crypto";
   *
   * using secret = SecretBuffer.random(32);
   * using key = aeadKey(secret);
   * const aad = new Uint8Array([7]);
   * using plain = key.decrypt(key.encrypt(new Uint8Array(5), { aad }), { aad });
   * if (plain.size !== 5) throw new Error();
   * ```
   */
  decrypt(
    message: Uint8Array,
    params?: CipherParams,
    options?: SecretBufferOptions,
  ): SecretBuffer {
    const p = checkParams(params, ["aad"], "decrypt params");
    const outOptions = checkOutputOptions(options);
    return openMessage(this.#alive("decrypt"), p, message, outOptions);
  }

  /**
   * Wipes the key and frees its slot. Safe to call again.
   *
   * @throws {SecretMemoryError} `CANARY_CORRUPTED` if a native write
   * overran the slot (it is wiped anyway).
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { aeadKey } from "@secmem/secmem/crypto";
   *
   * using secret = SecretBuffer.random(32);
   * const key = aeadKey(secret);
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
    return `AeadKey(XChaCha20-Poly1305, ${
      this.destroyed ? "destroyed" : "live"
    })`;
  }

  #alive(action: string): SecretSlot {
    return liveSlot(this.#slot, action, "AeadKey", "aeadKey(key)");
  }
}

// Frozen, class and prototype: code loaded later cannot replace a method
// that is handed the key.
redactAndFreeze(AeadKey);

/**
 * Holds a 32-byte XChaCha20-Poly1305 key for many messages. The key is
 * copied into a guarded pool slot (thousands share a page), inaccessible
 * between calls by default, or open with `rest: "readwrite"`, which saves
 * the two system calls a call otherwise makes. `key` itself is not kept:
 * destroy it when you no longer need it.
 *
 * @param key The 32-byte key.
 * @param options `rest` and `lock`, as `SecretPool`'s.
 * @returns The key; `destroy()` it, or hold it with `using`.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for a key that is not 32
 * bytes or unknown options; `DESTROYED`; `MEMLOCK_LIMIT`.
 *
 * @example
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { aeadKey } from "@secmem/secmem/crypto";
 *
 * using secret = SecretBuffer.random(32);
 * using key = aeadKey(secret, { rest: "readwrite" });
 * using plain = key.decrypt(key.encrypt(new Uint8Array([9])));
 * if (plain.read((b) => b[0]) !== 9) throw new Error();
 * ```
 */
export function aeadKey(key: SecretBuffer, options?: AeadKeyOptions): AeadKey {
  const o = checkParams(options, ["rest", "lock"], "aeadKey options");
  const secret = checkKey(key, "encryption key", KEY_SIZE, KEY_SIZE);
  const slot = contextSlot(KEY_SIZE, o.rest, o.lock);
  try {
    secret.read((k) =>
      slot.write((copy) => {
        for (let i = 0; i < KEY_SIZE; i++) copy[i] = k[i];
      })
    );
  } catch (error) {
    slot.destroy();
    throw error;
  }
  return newAeadKey(slot);
}
