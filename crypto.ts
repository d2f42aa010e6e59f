/**
 * Use a secret without copying it: HMAC, HKDF, scrypt and
 * XChaCha20-Poly1305 whose keys, derived keys, plaintexts and every
 * intermediate that could rebuild them (hash states, HMAC pad states,
 * ChaCha20 state and keystream, the Poly1305 key, scrypt's V and B) live
 * in guarded pages and are wiped when the call ends. Secret outputs come
 * back as SecretBuffers; MACs and ciphertexts as ordinary arrays.
 *
 * The algorithms are secmem's own TypeScript, checked against RFC 4231,
 * RFC 5869, RFC 7914, RFC 8439 and draft-irtf-cfrg-xchacha: a runtime's
 * own crypto (WebCrypto, node:crypto) copies keys into its heap, which
 * secmem cannot wipe. Every word stays a small integer, so no engine boxes
 * one on its heap. What no library can reach in JavaScript: words the JIT
 * keeps in registers or spills to the machine stack during a round.
 *
 * `encrypt` writes nonce (24 bytes) ‖ ciphertext ‖ tag (16 bytes).
 *
 * @example Derive, encrypt, decrypt
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { decrypt, encrypt, hkdf } from "@secmem/secmem/crypto";
 *
 * using master = SecretBuffer.random(32);
 * using key = hkdf("SHA-256", master, { length: 32 });
 * const message = encrypt(key, new TextEncoder().encode("hi"));
 * using plain = decrypt(key, message);
 * if (plain.size !== 2) throw new Error("expected 2 bytes");
 * ```
 *
 * @module
 */

export {
  type HashName,
  hkdf,
  type HkdfParams,
  hmac,
  type HmacOptions,
  hmacVerify,
} from "./src/crypto/mac.ts";
export {
  HmacKey,
  hmacKey,
  type HmacKeyOptions,
} from "./src/crypto/hmac_key.ts";
export { AeadKey, aeadKey, type AeadKeyOptions } from "./src/crypto/aead_key.ts";
export type { ContextPoolOptions } from "./src/crypto/_context_pool.ts";
export { scrypt, type ScryptParams, scryptSync } from "./src/crypto/scrypt.ts";
export { type CipherParams, decrypt, encrypt } from "./src/crypto/cipher.ts";
