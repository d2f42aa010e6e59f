/**
 * `Enclave`: a secret encrypted while at rest (memguard's idea). The
 * plaintext exists only inside guarded buffers, and only while opened.
 *
 * @module
 */

import {
  Bytes,
  ceil,
  copyInto,
  floor,
  subarrayOf,
  zero,
} from "../core/_intrinsics.ts";
import { publicRandom } from "../core/_public_random.ts";
import { type Coffer, currentCoffer } from "./_coffer.ts";
import {
  KEY_SIZE,
  NONCE_SIZE,
  openInto,
  sealInto,
  spanOf,
  TAG_SIZE,
} from "../crypto/_aead.ts";
import { withWork } from "../crypto/_work.ts";
import {
  checkBoolean,
  checkBufferOptions,
  checkOptions,
} from "../core/_validate.ts";
import { SecretMemoryError } from "../core/errors.ts";
import { redactAndFreeze } from "../core/_redact.ts";
import {
  isSecretBuffer,
  SecretBuffer,
  type SecretBufferOptions,
} from "../secret_buffer.ts";

const BLOCK = 16;
const ID_SIZE = 16;
const DOMAIN = new TextEncoder().encode("secmem enclave v1");

/**
 * The plaintext is padded with zeros to whole 16-byte blocks plus one more
 * block, and open checks that the padding decrypts to zeros: a second
 * check, beside the associated data, that a ciphertext is this enclave's.
 */
function paddedLength(size: number): number {
  return ceil(size / BLOCK) * BLOCK + BLOCK;
}

/**
 * The associated data that binds a ciphertext to its enclave: a domain
 * label, the plaintext size (8 bytes, little-endian) and the enclave's
 * random id. A ciphertext copied into another enclave, or one of another
 * size, fails authentication.
 */
function associatedData(size: number, id: Uint8Array): Uint8Array {
  const aad = new Bytes(DOMAIN.length + 8 + ID_SIZE);
  aad.set(DOMAIN);
  let rest = size;
  for (let i = 0; i < 8; i++) {
    aad[DOMAIN.length + i] = rest % 256;
    rest = floor(rest / 256);
  }
  aad.set(id, DOMAIN.length + 8);
  return aad;
}

/**
 * Runs `fn` over a work area laid out | key | plaintext, padded |, with the
 * key derived from `coffer`; the work area is wiped after. `fn` returns
 * nothing: a scope asks an object result for its `then`, and a getter on
 * Object.prototype would then run the caller's code with the work open.
 */
function withKey(
  coffer: Coffer,
  padded: number,
  fn: (key: Uint8Array, plain: Uint8Array) => void,
): void {
  withWork(KEY_SIZE + padded, (work) => {
    const key = subarrayOf(work, 0, KEY_SIZE);
    coffer.deriveInto(key);
    fn(key, subarrayOf(work, KEY_SIZE));
  });
}

function integrityError(reason: string): SecretMemoryError {
  return new SecretMemoryError(
    "INTEGRITY",
    `Cannot open the enclave: ${reason};` +
      " the secret cannot be recovered from it",
  );
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
let ciphertextSwap: (enclave: Enclave, ciphertext: Uint8Array) => void;
let aadAccess: (enclave: Enclave) => Uint8Array;

/**
 * A secret encrypted at rest with XChaCha20-Poly1305 (secmem's own cipher
 * core, the one `./crypto` uses), bound to this enclave by associated data
 * (its size and a random id). The ciphertext lives on the ordinary heap; the key lives only in guarded
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
  readonly #id: Uint8Array;

  /**
   * The same description, so `JSON.stringify` cannot leak the ciphertext.
   * `console.log` and `inspect` show it too, in Deno, Node and Bun.
   */
  declare toJSON: () => string;

  /** The class name for `Object.prototype.toString`. */
  declare readonly [Symbol.toStringTag]: string;

  static {
    ciphertextAccess = (enclave) => enclave.#ciphertext;
    ciphertextSwap = (enclave, ciphertext) => {
      enclave.#ciphertext = ciphertext;
    };
    aadAccess = (enclave) => associatedData(enclave.#size, enclave.#id);
  }

  private constructor(
    size: number,
    id: Uint8Array,
    ciphertext: Uint8Array,
    coffer: Coffer,
  ) {
    this.#size = size;
    this.#id = id;
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
    const ciphertext = new Bytes(NONCE_SIZE + padded + TAG_SIZE);
    // The nonce and the id are public: the runtime's generator is fine.
    publicRandom(subarrayOf(ciphertext, 0, NONCE_SIZE));
    const id = publicRandom(new Bytes(ID_SIZE));
    const aad = associatedData(size, id);
    const coffer = currentCoffer();
    coffer.retain();
    try {
      // The cipher core writes the ciphertext straight to the heap array
      // (it is public).
      withKey(coffer, padded, (key, plain) => {
        buffer.read((bytes) => copyInto(plain, bytes));
        sealInto(
          spanOf(key),
          spanOf(ciphertext, 0, NONCE_SIZE),
          spanOf(aad),
          spanOf(plain),
          ciphertext,
          NONCE_SIZE,
        );
      });
    } catch (error) {
      coffer.release();
      throw error;
    }
    const enclave = new Enclave(size, id, ciphertext, coffer);
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
    // Read once, before any work: a throwing getter is INVALID_ARGUMENT.
    const checked = checkBufferOptions(options);
    const ciphertext = this.#ciphertext;
    const coffer = this.#coffer;
    if (ciphertext === undefined || coffer === undefined) {
      throw new SecretMemoryError(
        "DESTROYED",
        "Cannot open the enclave: it was destroyed; seal the secret again",
      );
    }
    const size = this.#size;
    const padded = paddedLength(size);
    const aad = associatedData(size, this.#id);
    try {
      if (ciphertext.length !== NONCE_SIZE + padded + TAG_SIZE) {
        throw integrityError(
          "its ciphertext has the wrong length for its size (it was replaced)",
        );
      }
      let out: SecretBuffer | undefined;
      withKey(coffer, padded, (key, plain) => {
        const authentic = openInto(
          spanOf(key),
          spanOf(ciphertext, 0, NONCE_SIZE),
          spanOf(aad),
          spanOf(ciphertext, NONCE_SIZE),
          plain,
          0,
        );
        if (!authentic) {
          throw integrityError(
            "its ciphertext was modified or belongs to another enclave (authentication failed)",
          );
        }
        let padding = 0;
        for (let i = size; i < padded; i++) padding |= plain[i];
        if (padding !== 0) {
          throw integrityError("its padding did not decrypt to zeros");
        }
        // Guarded to guarded; the work area is wiped after.
        out = SecretBuffer.from(subarrayOf(plain, 0, size), {
          ...checked,
          wipeSource: false,
        });
      });
      return out!;
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
    if (this.#ciphertext !== undefined) zero(this.#ciphertext);
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
}

// Frozen, class and prototype, so that code loaded later cannot replace
// a method that is handed the plaintext.
redactAndFreeze(Enclave, "Enclave");

/**
 * Replaces an enclave's ciphertext with `ciphertext` (the array itself, not
 * a copy); tests only, to show that one enclave's ciphertext does not open
 * in another.
 */
export function replaceCiphertextForTesting(
  enclave: Enclave,
  ciphertext: Uint8Array,
): void {
  ciphertextSwap(enclave, ciphertext);
}

/** The associated data an enclave's ciphertext is bound to; tests only. */
export function aadForTesting(enclave: Enclave): Uint8Array {
  return aadAccess(enclave);
}

/** The enclave's heap ciphertext (nonce, sealed bytes, tag); tests only. */
export function ciphertextForTesting(
  enclave: Enclave,
): Uint8Array | undefined {
  return ciphertextAccess(enclave);
}
