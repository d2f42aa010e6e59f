/**
 * XChaCha20-Poly1305 from `@noble/ciphers`, entered one step lower than its
 * `xchacha20poly1305` so the key never reaches a heap array.
 *
 * noble copies every key it is given into a fresh small `Uint8Array` and
 * then takes a `Uint32Array` over its buffer. In Bun (JavaScriptCore) that
 * second step moves a small array's bytes to a new store and abandons the
 * old one unwiped, so each call leaves a copy of the key behind (measured:
 * two per seal or open). So the key goes only to noble's `hchacha`, which
 * reads caller-provided words in place on little-endian machines and wipes
 * its own state; the derived per-message subkey is written into guarded
 * memory and handed to noble's `chacha20poly1305`. That is exactly how
 * noble's own XChaCha20-Poly1305 is built (HChaCha20 subkey, then
 * ChaCha20-Poly1305 with the last 8 nonce bytes after 4 zero bytes); a
 * test checks the outputs are identical.
 *
 * The subkey would still be left behind in Bun the same way (measured: two
 * to four copies per enclave), so while noble runs, `Uint8Array.from` of a
 * `Uint8Array` (noble's `copyBytes`) gives a copy over an `ArrayBuffer` of
 * its own, which JavaScriptCore never moves; noble zeroes that copy when
 * done. The swap lasts one synchronous call and is undone in `finally`.
 *
 * @module
 */

import { chacha20poly1305, hchacha } from "@noble/ciphers/chacha.js";

/** Bytes of key, nonce and tag. */
export const KEY_SIZE = 32;
export const NONCE_SIZE = 24;
export const TAG_SIZE = 16;

/** "expand 32-byte k", the ChaCha constant for 256-bit keys. */
const SIGMA = new Uint32Array([
  0x61707865,
  0x3320646e,
  0x79622d32,
  0x6b206574,
]);

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The AEAD for one message: `encrypt(plain, out)` and `decrypt(sealed, out)`. */
export interface MessageCipher {
  encrypt(plaintext: Uint8Array, output: Uint8Array): Uint8Array;
  decrypt(ciphertext: Uint8Array, output: Uint8Array): Uint8Array;
}

/**
 * The cipher for one message under `key` and a 24-byte `nonce`. `key` and
 * `subkey` must be 4-byte-aligned views of guarded memory (32 bytes each);
 * `subkey` receives the HChaCha20 subkey and must be wiped by the caller.
 */
export function messageCipher(
  key: Uint8Array,
  subkey: Uint8Array,
  nonce: Uint8Array,
): MessageCipher {
  if (!littleEndian) {
    // hchacha would copy the key to swap its bytes; no supported platform
    // is big-endian, so refuse rather than leak.
    throw new Error("Cannot seal on a big-endian machine");
  }
  const nonceWords = new Uint32Array(4);
  new Uint8Array(nonceWords.buffer).set(nonce.subarray(0, 16));
  hchacha(SIGMA, words(key), nonceWords, words(subkey));
  const tail = new Uint8Array(12);
  tail.set(nonce.subarray(16, 24), 4);
  const cipher = chacha20poly1305(subkey, tail);
  return {
    encrypt: (plaintext, output) =>
      withStableCopies(() => cipher.encrypt(plaintext, output)),
    decrypt: (ciphertext, output) =>
      withStableCopies(() => cipher.decrypt(ciphertext, output)),
  };
}

const originalFrom = Uint8Array.from;

/** Copies that keep their store for life, so noble's wipe reaches them. */
function stableFrom(
  this: unknown,
  source: ArrayLike<number> | Iterable<number>,
  ...rest: unknown[]
): Uint8Array {
  if (
    this === Uint8Array && rest.length === 0 && source instanceof Uint8Array
  ) {
    const copy = new Uint8Array(new ArrayBuffer(source.length));
    copy.set(source);
    return copy;
  }
  return Reflect.apply(originalFrom, this, [source, ...rest]);
}

function withStableCopies<T>(fn: () => T): T {
  Uint8Array.from = stableFrom as typeof Uint8Array.from;
  try {
    return fn();
  } finally {
    Uint8Array.from = originalFrom;
  }
}

function words(bytes: Uint8Array): Uint32Array {
  return new Uint32Array(bytes.buffer, bytes.byteOffset, 8);
}
