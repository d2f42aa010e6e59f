/**
 * Secrets encrypted while at rest: `Enclave.seal(buffer)` keeps a secret as
 * XChaCha20-Poly1305 ciphertext whose key lives only in guarded memory,
 * split in two and re-split all the time; `enclave.open()` gives the
 * plaintext back in a fresh guarded `SecretBuffer`.
 *
 * A separate entry point. It has no dependency: the cipher is secmem's
 * own XChaCha20-Poly1305, the core `./crypto` uses, with all its state in
 * guarded memory. Each ciphertext is bound to its enclave (size and a
 * random id as associated data), so it does not open anywhere else.
 *
 * @example Seal, open, destroy
 * ```ts
 * import { SecretBuffer } from "@secmem/secmem";
 * import { Enclave } from "@secmem/secmem/enclave";
 *
 * using enclave = Enclave.seal(SecretBuffer.random(32));
 * console.log(String(enclave)); // Enclave(32 bytes)
 * using key = enclave.open();
 * if (key.size !== 32) throw new Error("expected 32 bytes");
 * ```
 *
 * @module
 */

export { Enclave, type SealOptions } from "./src/enclave/enclave.ts";
