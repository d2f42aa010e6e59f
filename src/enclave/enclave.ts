/**
 * `Enclave`: a secret encrypted while at rest (memguard's idea). The
 * plaintext exists only inside guarded buffers, and only while opened.
 *
 * @module
 */

import { type Coffer, currentCoffer } from "./_coffer.ts";
import { KEY_SIZE, messageCipher, NONCE_SIZE, TAG_SIZE } from "./_xchacha.ts";
import { checkBoolean, checkOptions } from "../core/_validate.ts";
import { SecretMemoryError } from "../core/errors.ts";
import {
  isSecretBuffer,
  SecretBuffer,
  type SecretBufferOptions,
} from "../secret_buffer.ts";

const BLOCK = 64;

/**
 * The plaintext is padded to whole ChaCha20 blocks plus one more block.
 * noble leaves its last keystream block in a heap scratch array it does not
 * wipe; with this padding that block only ever covers the zero padding,
 * whose keystream the ciphertext shows anyway, never a secret byte.
 */
function paddedLength(size: number): number {
  return Math.ceil(size / BLOCK) * BLOCK + BLOCK;
}

/** Options for `Enclave.seal`. */
export interface SealOptions {
  /** Destroy the source buffer once sealed (default `true`). */
  destroySource?: boolean;
}

// The coffer stays alive while an enclave sealed under it is reachable.
const finalizer = new FinalizationRegistry<Coffer>((coffer) =>
  coffer.release()
);

let ciphertextAccess: (enclave: Enclave) => Uint8Array | undefined;

/**
 * A secret encrypted at rest with XChaCha20-Poly1305 (`@noble/ciphers`).
 * The ciphertext lives on the ordinary heap; the key lives only in guarded
 * memory, split in two halves that are re-split every 500 ms and at every
 * open. `open()` decrypts into a fresh guarded `SecretBuffer`, which the
 * caller destroys. A modified ciphertext fails with `INTEGRITY`.
 *
 * Use an enclave for secrets that must live long but are used rarely: at
 * rest they are not in plaintext anywhere, not even in locked pages.
 *
 * @example Seal a key, open it when needed
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { Enclave } from "@secmem/secmem/enclave";
 *
 * using enclave = Enclave.seal(SecretBuffer.random(32));
 * {
 *   using key = enclave.open();
 *   if (key.size !== 32) throw new Error("expected 32 bytes");
 * } // the plaintext is wiped here
 * ```
 */
export class Enclave {
  #ciphertext: Uint8Array | undefined;
  #coffer: Coffer | undefined;
  readonly #size: number;

  static {
    ciphertextAccess = (enclave) => enclave.#ciphertext;
  }

  private constructor(size: number, ciphertext: Uint8Array, coffer: Coffer) {
    this.#size = size;
    this.#ciphertext = ciphertext;
    this.#coffer = coffer;
    finalizer.register(this, coffer, this);
  }

  /**
   * Encrypts the bytes of `buffer`. The key and the plaintext pass only
   * through guarded memory; only the ciphertext reaches the heap.
   *
   * @param buffer The secret to seal.
   * @param options `destroySource` (default `true`).
   * @returns The enclave.
   * @throws {SecretMemoryError} `DESTROYED` if `buffer` was destroyed,
   * `INVALID_ARGUMENT`, and what `SecretBuffer.alloc` throws.
   *
   * @example Keep the source
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { Enclave } from "@secmem/secmem/enclave";
   *
   * using source = SecretBuffer.random(16);
   * using enclave = Enclave.seal(source, { destroySource: false });
   * if (source.state === "destroyed") throw new Error("kept on request");
   * ```
   */
  static seal(buffer: SecretBuffer, options?: SealOptions): Enclave {
    if (!isSecretBuffer(buffer)) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot seal: expected a SecretBuffer; make one with SecretBuffer.from(bytes)",
      );
    }
    const { destroySource = true } = checkOptions(options, ["destroySource"]);
    checkBoolean(destroySource, "destroySource");
    const size = buffer.size;
    const padded = paddedLength(size);
    const ciphertext = new Uint8Array(NONCE_SIZE + padded + TAG_SIZE);
    // The nonce is public: the runtime's generator is fine for it.
    crypto.getRandomValues(ciphertext.subarray(0, NONCE_SIZE));
    const coffer = currentCoffer();
    coffer.retain();
    try {
      // Work: | key | subkey | plaintext (padded) | sealed (padded + tag) |
      withWorkArea(BLOCK + 2 * padded + TAG_SIZE, (work) => {
        const key = work.subarray(0, KEY_SIZE);
        const plain = work.subarray(BLOCK, BLOCK + padded);
        const sealed = work.subarray(BLOCK + padded);
        coffer.deriveInto(key);
        buffer.read((bytes) => plain.set(bytes));
        messageCipher(key, work.subarray(KEY_SIZE, BLOCK), nonceOf(ciphertext))
          .encrypt(plain, sealed);
        ciphertext.set(sealed, NONCE_SIZE);
      });
    } catch (error) {
      coffer.release();
      throw error;
    }
    const enclave = new Enclave(size, ciphertext, coffer);
    if (destroySource) buffer.destroy();
    return enclave;
  }

  /**
   * Decrypts into a fresh guarded buffer, then re-splits the key. The
   * caller owns the buffer: destroy it (or let `using` do it) as soon as
   * possible.
   *
   * @param options Options for the new buffer (lock, placement, backend).
   * @returns A new `SecretBuffer` with the plaintext, at rest.
   * @throws {SecretMemoryError} `INTEGRITY` if the ciphertext was
   * modified (nothing is left mapped), `DESTROYED` after `destroy()` or
   * once `purge()` wiped the key, and what `SecretBuffer.alloc` throws.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { Enclave } from "@secmem/secmem/enclave";
   *
   * using enclave = Enclave.seal(SecretBuffer.from(new Uint8Array([1, 2])));
   * using plain = enclave.open();
   * if (plain.read((b) => b[1]) !== 2) throw new Error("unexpected");
   * ```
   */
  open(options?: SecretBufferOptions): SecretBuffer {
    const ciphertext = this.#ciphertext;
    const coffer = this.#coffer;
    if (ciphertext === undefined || coffer === undefined) {
      throw new SecretMemoryError(
        "DESTROYED",
        "Cannot open the enclave: it was destroyed; seal the secret again",
      );
    }
    const padded = paddedLength(this.#size);
    try {
      // Work: | key | subkey | plaintext (padded) |
      return withWorkArea(BLOCK + padded, (work) => {
        const key = work.subarray(0, KEY_SIZE);
        const plain = work.subarray(BLOCK);
        coffer.deriveInto(key);
        const cipher = messageCipher(
          key,
          work.subarray(KEY_SIZE, BLOCK),
          nonceOf(ciphertext),
        );
        try {
          cipher.decrypt(ciphertext.subarray(NONCE_SIZE), plain);
        } catch (cause) {
          throw new SecretMemoryError(
            "INTEGRITY",
            "Cannot open the enclave: its ciphertext was modified (authentication failed);" +
              " the secret cannot be recovered from it",
            { cause },
          );
        }
        // The plaintext goes from guarded memory to guarded memory.
        return SecretBuffer.from(plain.subarray(0, this.#size), {
          ...options,
          wipeSource: true,
        });
      });
    } finally {
      if (coffer.alive) coffer.rekey();
    }
  }

  /**
   * The number of plaintext bytes (still known after destroy).
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { Enclave } from "@secmem/secmem/enclave";
   *
   * using enclave = Enclave.seal(SecretBuffer.random(24));
   * if (enclave.size !== 24) throw new Error("wrong size");
   * ```
   */
  get size(): number {
    return this.#size;
  }

  /**
   * Zeroes the ciphertext and forgets it; when no enclave is left, the key
   * is wiped too. Safe to call again.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { Enclave } from "@secmem/secmem/enclave";
   *
   * const enclave = Enclave.seal(SecretBuffer.random(8));
   * enclave.destroy();
   * enclave.destroy(); // no effect
   * ```
   */
  destroy(): void {
    const coffer = this.#coffer;
    if (coffer === undefined) return;
    this.#coffer = undefined;
    this.#ciphertext?.fill(0);
    this.#ciphertext = undefined;
    finalizer.unregister(this);
    coffer.release();
  }

  /** Destroys the enclave; lets `using` end its life with the scope. */
  [Symbol.dispose](): void {
    this.destroy();
  }

  /**
   * A description with the size, never the content.
   *
   * @example
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { Enclave } from "@secmem/secmem/enclave";
   *
   * using enclave = Enclave.seal(SecretBuffer.random(32));
   * if (String(enclave) !== "Enclave(32 bytes)") throw new Error();
   * ```
   */
  toString(): string {
    return `Enclave(${this.#size} bytes${
      this.#coffer === undefined ? ", destroyed" : ""
    })`;
  }

  /** The same description, so `JSON.stringify` cannot leak the ciphertext. */
  toJSON(): string {
    return this.toString();
  }

  /** Deno's `console.log` and `Deno.inspect` show the description. */
  [Symbol.for("Deno.customInspect")](): string {
    return this.toString();
  }

  /** Node's and Bun's `console.log` and `util.inspect` show it too. */
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return this.toString();
  }

  /** The class name for `Object.prototype.toString`. */
  get [Symbol.toStringTag](): string {
    return "Enclave";
  }
}

function nonceOf(ciphertext: Uint8Array): Uint8Array {
  return ciphertext.subarray(0, NONCE_SIZE);
}

/**
 * Runs `fn` over a guarded, writable work area of `size` bytes, then wipes
 * and unmaps it, whatever `fn` did.
 */
function withWorkArea<T>(size: number, fn: (work: Uint8Array) => T): T {
  const work = SecretBuffer.alloc(size, { placement: "start" });
  try {
    return work.write(fn);
  } finally {
    work.destroy();
  }
}

/** The enclave's heap ciphertext (nonce, sealed bytes, tag); tests only. */
export function ciphertextForTesting(
  enclave: Enclave,
): Uint8Array | undefined {
  return ciphertextAccess(enclave);
}
