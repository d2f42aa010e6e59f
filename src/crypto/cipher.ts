/**
 * `encrypt` and `decrypt`: XChaCha20-Poly1305 with a random 24-byte nonce,
 * on the cipher core the Enclave uses. The message is
 * nonce (24) ‖ ciphertext (as long as the plaintext) ‖ tag (16).
 *
 * @module
 */

import { Bytes, subarrayOf } from "../core/_intrinsics.ts";
import { publicRandom } from "../core/_public_random.ts";
import { SecretMemoryError } from "../core/errors.ts";
import {
  isSecretBuffer,
  SecretBuffer,
  type SecretBufferOptions,
} from "../secret_buffer.ts";
import {
  KEY_SIZE,
  NONCE_SIZE,
  openInto,
  sealInto,
  type Span,
  spanOf,
  TAG_SIZE,
} from "./_aead.ts";
import {
  checkInput,
  checkKey,
  checkOutputOptions,
  checkParams,
  checkSecret,
  checkUnchanged,
  optionalInput,
} from "./_input.ts";
import type { Input } from "./_kdf.ts";

/** Bytes a message adds to its plaintext: nonce and tag. */
export const OVERHEAD: number = NONCE_SIZE + TAG_SIZE;

/** Associated data, authenticated but not encrypted. */
export interface CipherParams {
  /** Bytes the message is bound to (public); default: empty. */
  aad?: Uint8Array;
}

const inputSpan = (input: Input): Span => spanOf(input.bytes, 0, input.length);

/**
 * Encrypts `plaintext` under a 32-byte `key` with XChaCha20-Poly1305 and a
 * fresh random nonce. The key, the subkey, the keystream and the Poly1305
 * key stay in guarded memory; only the message reaches the heap.
 *
 * @param key The 32-byte key.
 * @param plaintext The secret (read in place) or ordinary bytes.
 * @param params `aad`: associated data to bind the message to.
 * @returns nonce ‖ ciphertext ‖ tag, 40 bytes longer than the plaintext.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` for a key that is not 32
 * bytes or inputs that are not bytes; `DESTROYED` for a destroyed buffer.
 *
 * @example Encrypt and decrypt
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { decrypt, encrypt } from "@secmem/secmem/crypto";
 *
 * using key = SecretBuffer.random(32);
 * using secret = SecretBuffer.from(new Uint8Array([1, 2, 3]));
 * const message = encrypt(key, secret);
 * using back = decrypt(key, message);
 * if (!back.equals(secret)) throw new Error("round trip failed");
 * ```
 */
export function encrypt(
  key: SecretBuffer,
  plaintext: SecretBuffer | Uint8Array,
  params?: CipherParams,
): Uint8Array {
  // The params first: a getter there is the caller's code, and may detach
  // or resize the bytes; they are measured only after it has run.
  const p = checkParams(params, ["aad"], "encrypt params");
  const secret = checkKey(key, "encryption key", KEY_SIZE, KEY_SIZE);
  return sealMessage(secret, p, plaintext);
}

/** Reads a 32-byte key in a scope of its own: a SecretBuffer or a slot. */
export interface KeyReader {
  read<T>(fn: (bytes: Uint8Array) => T): T;
}

/** `encrypt` once the params are read and the key checked. */
export function sealMessage(
  secret: KeyReader,
  p: Record<string, unknown>,
  plaintext: unknown,
): Uint8Array {
  const source = isSecretBuffer(plaintext)
    ? checkSecret(plaintext, "the plaintext")
    : checkInput(plaintext, "the plaintext");
  const aad = optionalInput(p.aad, "the associated data (aad)");
  const length = isSecretBuffer(source) ? source.size : source.length;
  const message = new Bytes(OVERHEAD + length);
  // The nonce is public: the runtime's generator is fine for it.
  publicRandom(subarrayOf(message, 0, NONCE_SIZE));
  // A replaced global generator is caller code too: measured again.
  if (!isSecretBuffer(source)) checkUnchanged(source, "the plaintext");
  checkUnchanged(aad, "the associated data (aad)");
  const nonce = spanOf(message, 0, NONCE_SIZE);
  // Each plaintext byte is read once (XORed into the message); the tag
  // covers the ciphertext as written to the message, our own array.
  secret.read((k) => {
    const seal = (bytes: Uint8Array) =>
      sealInto(
        spanOf(k, 0, KEY_SIZE),
        nonce,
        inputSpan(aad),
        spanOf(bytes, 0, length),
        message,
        NONCE_SIZE,
      );
    if (isSecretBuffer(source)) source.read(seal);
    else seal(source.bytes);
  });
  return message;
}

/**
 * Checks and decrypts a message from `encrypt` into a fresh guarded
 * buffer. If the tag is wrong, the buffer is wiped and unmapped and
 * nothing is returned.
 *
 * @param key The 32-byte key.
 * @param message nonce ‖ ciphertext ‖ tag.
 * @param params `aad`: the associated data the message was bound to.
 * @param options Options for the new buffer (lock, placement, backend).
 * @returns A new SecretBuffer with the plaintext, at rest.
 * @throws {SecretMemoryError} `INTEGRITY` if the message, its nonce or its
 * tag was modified, or the aad or key differ (nothing is left mapped);
 * `INVALID_ARGUMENT` for a message shorter than 40 bytes or inputs that
 * are not bytes; `DESTROYED`; and what `SecretBuffer.alloc` throws.
 *
 * @example A modified message fails
 * ```ts
 * import { SecretBuffer, SecretMemoryError } from "@secmem/secmem";
 * import { decrypt, encrypt } from "@secmem/secmem/crypto";
 *
 * using key = SecretBuffer.random(32);
 * const message = encrypt(key, new Uint8Array([42]));
 * message[30] ^= 1;
 * try {
 *   decrypt(key, message);
 *   throw new Error("should have failed");
 * } catch (error) {
 *   if (!(error instanceof SecretMemoryError)) throw error;
 *   if (error.code !== "INTEGRITY") throw error;
 * }
 * ```
 */
export function decrypt(
  key: SecretBuffer,
  message: Uint8Array,
  params?: CipherParams,
  options?: SecretBufferOptions,
): SecretBuffer {
  // The params and options first, as in encrypt: their getters run
  // before any byte argument is measured.
  const p = checkParams(params, ["aad"], "decrypt params");
  const outOptions = checkOutputOptions(options);
  const secret = checkKey(key, "decryption key", KEY_SIZE, KEY_SIZE);
  return openMessage(secret, p, message, outOptions);
}

/** `decrypt` once the params and options are read and the key checked. */
export function openMessage(
  secret: KeyReader,
  p: Record<string, unknown>,
  message: unknown,
  outOptions: SecretBufferOptions | undefined,
): SecretBuffer {
  const sealed = checkInput(message, "the message");
  const aad = optionalInput(p.aad, "the associated data (aad)");
  if (sealed.length < OVERHEAD) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot decrypt a ${sealed.length}-byte message: a message from encrypt() has at least ${OVERHEAD} bytes (nonce and tag)`,
    );
  }
  const length = sealed.length - OVERHEAD;
  const out = SecretBuffer.alloc(length, outOptions);
  let authentic = false;
  try {
    // openInto reads each byte of the message once, and the plaintext and
    // the tag both come from that one read: bytes another thread flips
    // meanwhile fail the tag, never pass it.
    authentic = secret.read((k) =>
      out.write((plain) =>
        openInto(
          spanOf(k, 0, KEY_SIZE),
          spanOf(sealed.bytes, 0, NONCE_SIZE),
          inputSpan(aad),
          spanOf(sealed.bytes, NONCE_SIZE, length + TAG_SIZE),
          plain,
          0,
        )
      )
    );
  } finally {
    if (!authentic) out.destroy();
  }
  if (!authentic) {
    throw new SecretMemoryError(
      "INTEGRITY",
      "Cannot decrypt: the message failed authentication (it was modified, or the key or aad differ);" +
        " nothing was decrypted",
    );
  }
  return out;
}
