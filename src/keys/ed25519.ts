/**
 * `Ed25519Key`: an Ed25519 signing key (RFC 8032) whose seed lives in a
 * SecretBuffer of its own for the key's life, and `ed25519Verify`.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { redactAndFreeze } from "../core/_redact.ts";
import type { SecretBuffer, SecretBufferOptions } from "../secret_buffer.ts";
import {
  ed25519PublicKey,
  ed25519Sign,
  ed25519Verify as verify,
} from "./_ed25519.ts";
import { checkLength } from "./_check.ts";
import { readOpenSSHPrivateKey } from "./_openssh.ts";
import {
  copiedShell,
  type KeyKind,
  KeyShell,
  ownedShell,
  randomShell,
  readShell,
} from "./_key_shell.ts";
import { Bytes } from "../core/_intrinsics.ts";

const ED25519: KeyKind = {
  name: "Ed25519Key",
  secret: "Ed25519 seed",
  makers: "Ed25519Key.generate or fromSeed",
  derive: ed25519PublicKey,
};
let adopt: (shell: KeyShell) => Ed25519Key;
let isKey: (value: unknown) => boolean;

/**
 * An Ed25519 private key. The 32-byte seed stays in guarded memory (its
 * own SecretBuffer, inaccessible at rest); signing expands it, derives the
 * nonce and computes the signature in a guarded work area that is wiped
 * when the call returns. No byte of the seed, the expanded scalar or the
 * per-signature nonce is ever in the JS heap.
 *
 * @example Sign and verify
 * ```ts
 * import { ed25519Verify, Ed25519Key } from "@secmem/secmem/keys";
 *
 * using key = Ed25519Key.generate();
 * const message = new TextEncoder().encode("hello");
 * const signature = key.sign(message);
 * if (!ed25519Verify(key.publicKey, message, signature)) throw new Error();
 * ```
 */
export class Ed25519Key {
  static {
    adopt = (shell) => new Ed25519Key(shell);
    isKey = (value) =>
      typeof value === "object" && value !== null && #shell in value;
  }

  readonly #shell: KeyShell;

  /**
   * The description, so `JSON.stringify` cannot leak the key. `console.log`
   * and `inspect` show it too, in Deno, Node and Bun.
   */
  declare toJSON: () => string;

  /** The class name for `Object.prototype.toString`. */
  declare readonly [Symbol.toStringTag]: string;

  /** Use `Ed25519Key.generate` or `fromSeed`. @internal */
  private constructor(shell: KeyShell) {
    this.#shell = KeyShell.check(shell, ED25519);
    Object.freeze(this);
  }

  /**
   * A new key from 32 random bytes (the kernel's `getrandom`, written
   * straight into guarded memory).
   *
   * @param options Options for the seed's buffer (lock, backend).
   * @returns A new key; destroy it when done.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` for bad options, and
   * what `SecretBuffer.random` throws.
   *
   * @example
   * ```ts
   * import { Ed25519Key } from "@secmem/secmem/keys";
   *
   * using key = Ed25519Key.generate();
   * if (key.publicKey.length !== 32) throw new Error();
   * ```
   */
  static generate(options?: SecretBufferOptions): Ed25519Key {
    return new Ed25519Key(randomShell(ED25519, options));
  }

  /**
   * The key of a 32-byte seed (RFC 8032's private key). The seed is copied
   * into the key's own guarded buffer, natively; the caller keeps, and
   * still owns, `seed`.
   *
   * @param seed A SecretBuffer of exactly 32 bytes.
   * @param options Options for the key's copy (lock, backend).
   * @returns A new key; destroy it when done.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` when `seed` is not a
   * 32-byte SecretBuffer; `DESTROYED` when it was destroyed.
   *
   * @example The RFC 8032 test key
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { Ed25519Key } from "@secmem/secmem/keys";
   *
   * using seed = SecretBuffer.fromHex(
   *   "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
   * );
   * using key = Ed25519Key.fromSeed(seed);
   * if (key.publicKey[0] !== 0xd7) throw new Error();
   * ```
   */
  static fromSeed(
    seed: SecretBuffer,
    options?: SecretBufferOptions,
  ): Ed25519Key {
    return new Ed25519Key(copiedShell(ED25519, seed, options));
  }

  /**
   * The key of an unencrypted OpenSSH private key file, as
   * `ssh-keygen -t ed25519 -N ""` writes it (`openssh-key-v1`). The base64
   * is decoded from the file's guarded view into a guarded buffer, the
   * seed moved from there into the key's own, and the decoded file wiped;
   * the seed must give the public key the file states. Passphrase-protected
   * files are refused: secmem has no bcrypt_pbkdf or AES (Blowfish's
   * S-boxes are indexed by secret bytes), and the error says how to strip
   * the passphrase from a copy.
   *
   * @param file The whole key file, read with `SecretBuffer.fromFile`.
   * @param options Options for the key's buffers (lock, backend).
   * @returns A new key; destroy it when done.
   * @throws {SecretMemoryError} `INVALID_KEY` for a file that is truncated,
   * garbled, not Ed25519, holds more than one key, or is protected by a
   * passphrase; `INTEGRITY` when the seed does not give the stated public
   * key; `DESTROYED`.
   *
   * @example Read a key that ssh-keygen wrote
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { Ed25519Key } from "@secmem/secmem/keys";
   *
   * // ssh-keygen -t ed25519 -N "" -f id_ed25519, then:
   * // using file = SecretBuffer.fromFileSync("id_ed25519");
   * using file = SecretBuffer.fromText(
   *   "-----BEGIN OPENSSH PRIVATE KEY-----\n" +
   *     "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n" +
   *     "QyNTUxOQAAACDXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGgAAAJABAgMEAQID\n" +
   *     "BAAAAAtzc2gtZWQyNTUxOQAAACDXWpgBgrEKt9VL/tPJZAc6DuFy89qmIyWvAhpo9wdRGg\n" +
   *     "AAAECdYbGd7/1aYLqESvSS7CzEREnFaXsyaRlwO6wDHK5/YNdamAGCsQq31Uv+08lkBzoO\n" +
   *     "4XLz2qYjJa8CGmj3B1EaAAAACXRlc3RAaG9zdAECAwQ=\n" +
   *     "-----END OPENSSH PRIVATE KEY-----\n",
   * );
   * using key = Ed25519Key.fromOpenSSH(file);
   * if (key.publicKey[0] !== 0xd7) throw new Error("RFC 8032 test 1's key");
   * ```
   */
  static fromOpenSSH(
    file: SecretBuffer,
    options?: SecretBufferOptions,
  ): Ed25519Key {
    const what = "the OpenSSH private key file";
    return new Ed25519Key(
      readShell(
        ED25519,
        file,
        what,
        options,
        (source, checked) => readOpenSSHPrivateKey(source, checked).seed,
      ),
    );
  }

  /** The 32-byte public key, a fresh copy on each read (it is public). */
  get publicKey(): Uint8Array {
    return this.#shell.publicKey("publicKey").slice();
  }

  /**
   * Signs `message` (RFC 8032 §5.1.6, pure Ed25519: deterministic, no
   * context, no prehash).
   *
   * @param message The bytes to sign.
   * @returns The 64-byte signature R || S.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` when `message` is not a
   * Uint8Array; `DESTROYED` after `destroy()`.
   *
   * @example
   * ```ts
   * import { Ed25519Key } from "@secmem/secmem/keys";
   *
   * using key = Ed25519Key.generate();
   * const signature = key.sign(new Uint8Array([1, 2, 3]));
   * if (signature.length !== 64) throw new Error();
   * ```
   */
  sign(message: Uint8Array): Uint8Array {
    const seed = this.#shell.live("sign");
    const publicKey = this.#shell.publicKey("sign");
    checkLength("the message", message, -1);
    const signature = new Bytes(64);
    seed.read((bytes) => ed25519Sign(signature, bytes, publicKey, message));
    return signature;
  }

  /** Whether the key was destroyed. */
  get destroyed(): boolean {
    return this.#shell.destroyed;
  }

  /**
   * Wipes and unmaps the seed. Idempotent; signing afterwards throws
   * `DESTROYED`.
   *
   * @example
   * ```ts
   * import { Ed25519Key } from "@secmem/secmem/keys";
   *
   * const key = Ed25519Key.generate();
   * key.destroy();
   * if (!key.destroyed) throw new Error();
   * ```
   */
  destroy(): void {
    this.#shell.destroy();
  }

  /** `using` destroys the key at the end of the scope. */
  [Symbol.dispose](): void {
    this.destroy();
  }

  /**
   * A description without the key.
   *
   * @example
   * ```ts
   * import { Ed25519Key } from "@secmem/secmem/keys";
   *
   * using key = Ed25519Key.generate();
   * if (String(key) !== "Ed25519Key(private)") throw new Error();
   * ```
   */
  toString(): string {
    return this.#shell.toString();
  }
}

// The printing hooks, then the class frozen like secmem's others: no
// caller can replace a method that code holding a key would call.
redactAndFreeze(Ed25519Key, "Ed25519Key");

/**
 * Package-internal: the key over a 32-byte guarded `seed` buffer, taking
 * ownership without a copy (the key destroys it). For readers of key
 * files that decode the seed straight into its own buffer.
 */
export function ed25519KeyFromOwnedSeed(seed: SecretBuffer): Ed25519Key {
  return adopt(ownedShell(ED25519, seed));
}

/**
 * `value` if it is a real Ed25519Key (by its private field, not
 * `instanceof`: an object made from the prototype passes that, and its own
 * `sign` and `publicKey` would run); else INVALID_ARGUMENT naming `what`.
 * Instances and the class are frozen, so a real key's methods are the
 * class's own.
 */
export function checkEd25519Key(value: unknown, what: string): Ed25519Key {
  if (isKey(value)) return value as Ed25519Key;
  throw new SecretMemoryError(
    "INVALID_ARGUMENT",
    `Cannot use ${what}: expected an Ed25519Key (make one with Ed25519Key.generate, fromSeed or fromOpenSSH)`,
  );
}

/**
 * Verifies an Ed25519 signature (RFC 8032 §5.1.7), strictly, with the
 * cofactorless equation [S]B = R + [k]A, compared as the canonical
 * encoding of R. Returns false, never throws, for a public key that is
 * not 32 bytes, a signature that is not 64 bytes, an S not below the group
 * order L, an A or R whose encoding is not canonical (y >= p, or x = 0
 * with the sign bit set) or not on the curve, and an A or R of small order
 * (order 1, 2, 4 or 8). These are the rules Wycheproof's ed25519_test.json
 * expects, and what libsodium's `crypto_sign_verify_detached` enforces.
 *
 * @param publicKey The signer's 32-byte public key.
 * @param message The signed bytes.
 * @param signature The 64-byte signature.
 * @returns Whether the signature is valid.
 * @throws {SecretMemoryError} `INVALID_ARGUMENT` only when an argument is
 * not a Uint8Array.
 *
 * @example
 * ```ts
 * import { ed25519Verify, Ed25519Key } from "@secmem/secmem/keys";
 *
 * using key = Ed25519Key.generate();
 * const message = new Uint8Array([7]);
 * const signature = key.sign(message);
 * if (!ed25519Verify(key.publicKey, message, signature)) throw new Error();
 * signature[0] ^= 1;
 * if (ed25519Verify(key.publicKey, message, signature)) throw new Error();
 * ```
 */
export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verify(publicKey, message, signature);
}
