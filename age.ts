/**
 * age v1 file encryption (c2sp.org/age) with the file key, the identities
 * and the plaintext in guarded memory: encrypt to X25519 recipients
 * (`age1…`) or a passphrase (scrypt), decrypt with `X25519Key` identities
 * or the passphrase, binary or ASCII-armored. Interoperates with the `age`
 * command-line tool.
 *
 * @example Encrypt to an age recipient, decrypt with the identity
 * ```ts
 * import { X25519Key } from "@secmem/secmem/keys";
 * import { ageDecrypt, ageEncrypt } from "@secmem/secmem/age";
 *
 * using identity = X25519Key.generate();
 * const file = ageEncrypt(new TextEncoder().encode("secret"), {
 *   recipients: [identity.ageRecipient],
 *   armor: true,
 * });
 * using plain = ageDecrypt(file, { identities: [identity] });
 * if (plain.size !== 6) throw new Error("expected 6 bytes");
 * ```
 *
 * @module
 */

export {
  AGE_MAX_WORK_FACTOR,
  AGE_WORK_FACTOR,
  ageDecrypt,
  type AgeDecryptBy,
  ageEncrypt,
  type AgeEncryptTo,
} from "./src/keys/age.ts";
