/**
 * `X25519Key`: an X25519 key-agreement key (RFC 7748) whose 32-byte
 * scalar lives in a SecretBuffer of its own for the key's life.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { redactAndFreeze } from "../core/_redact.ts";
import { SecretBuffer, type SecretBufferOptions } from "../secret_buffer.ts";
import { checkOutputOptions } from "../crypto/_input.ts";
import { x25519, x25519Base } from "./_x25519.ts";
import { checkLength } from "./_check.ts";
import { withWork } from "../crypto/_work.ts";
import { ageRecipientOf, readAgeIdentity } from "./_age_keys.ts";
import {
  copiedShell,
  type KeyKind,
  KeyShell,
  ownedShell,
  randomShell,
  readShell,
} from "./_key_shell.ts";

const X25519: KeyKind = {
  name: "X25519Key",
  secret: "X25519 secret",
  makers: "X25519Key.generate or fromBytes",
  derive: x25519Base,
};
let adopt: (shell: KeyShell) => X25519Key;

/**
 * An X25519 private key. The scalar stays in guarded memory; agreement
 * runs the Montgomery ladder in a guarded work area and writes the shared
 * secret into a new SecretBuffer, so neither ever reaches the JS heap.
 *
 * @example Two parties agree on a secret
 * ```ts
 * import { X25519Key } from "@secmem/secmem/keys";
 *
 * using alice = X25519Key.generate();
 * using bob = X25519Key.generate();
 * using one = alice.agree(bob.publicKey);
 * using two = bob.agree(alice.publicKey);
 * if (!one.equals(two)) throw new Error("the secrets differ");
 * ```
 */
export class X25519Key {
  static {
    adopt = (shell) => new X25519Key(shell);
  }

  readonly #shell: KeyShell;

  /**
   * The description, so `JSON.stringify` cannot leak the key. `console.log`
   * and `inspect` show it too, in Deno, Node and Bun.
   */
  declare toJSON: () => string;

  /** The class name for `Object.prototype.toString`. */
  declare readonly [Symbol.toStringTag]: string;

  /** Use `X25519Key.generate` or `fromBytes`. @internal */
  private constructor(shell: KeyShell) {
    this.#shell = KeyShell.check(shell, X25519);
    Object.freeze(this);
  }

  /**
   * A new key from 32 random bytes (the kernel's `getrandom`, written
   * straight into guarded memory).
   *
   * @param options Options for the scalar's buffer (lock, backend).
   * @returns A new key; destroy it when done.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` for bad options, and
   * what `SecretBuffer.random` throws.
   *
   * @example
   * ```ts
   * import { X25519Key } from "@secmem/secmem/keys";
   *
   * using key = X25519Key.generate();
   * if (key.publicKey.length !== 32) throw new Error();
   * ```
   */
  static generate(options?: SecretBufferOptions): X25519Key {
    return new X25519Key(randomShell(X25519, options));
  }

  /**
   * The key of 32 secret bytes (RFC 7748's scalar, clamped when used).
   * The bytes are copied into the key's own guarded buffer, natively; the
   * caller keeps, and still owns, `secret`.
   *
   * @param secret A SecretBuffer of exactly 32 bytes.
   * @param options Options for the key's copy (lock, backend).
   * @returns A new key; destroy it when done.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` when `secret` is not a
   * 32-byte SecretBuffer; `DESTROYED` when it was destroyed.
   *
   * @example RFC 7748's Alice
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { X25519Key } from "@secmem/secmem/keys";
   *
   * using secret = SecretBuffer.fromHex(
   *   "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
   * );
   * using key = X25519Key.fromBytes(secret);
   * if (key.publicKey[0] !== 0x85) throw new Error();
   * ```
   */
  static fromBytes(
    secret: SecretBuffer,
    options?: SecretBufferOptions,
  ): X25519Key {
    return new X25519Key(copiedShell(X25519, secret, options));
  }

  /**
   * The key of an age identity: the `AGE-SECRET-KEY-1…` line alone, or a
   * whole identity file as `age-keygen` writes it (`#` comments and blank
   * lines skipped; exactly one key line). The Bech32 is decoded from the
   * text's guarded view straight into the key's guarded buffer.
   *
   * @param text The identity, read with `SecretBuffer.fromFile` or
   * `SecretBuffer.fromText`.
   * @param options Options for the key's buffer (lock, backend).
   * @returns A new key; destroy it when done.
   * @throws {SecretMemoryError} `INTEGRITY` for a wrong Bech32 checksum;
   * `INVALID_KEY` for no key line, two key lines, a lowercase or mixed-case
   * key, a wrong length or a character outside Bech32; `DESTROYED`.
   *
   * @example The age spec's example identity
   * ```ts
   * import { SecretBuffer } from "@secmem/secmem";
   * import { X25519Key } from "@secmem/secmem/keys";
   *
   * using text = SecretBuffer.fromText(
   *   "# public key: age1zvkyg2lqzraa2lnjvqej32nkuu0ues2s82hzrye869xeexvn73equnujwj\n" +
   *     "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX\n",
   * );
   * using key = X25519Key.fromAgeIdentity(text);
   * if (!key.ageRecipient.startsWith("age1zvkyg2lq")) throw new Error();
   * ```
   */
  static fromAgeIdentity(
    text: SecretBuffer,
    options?: SecretBufferOptions,
  ): X25519Key {
    return new X25519Key(
      readShell(X25519, text, "the age identity", options, readAgeIdentity),
    );
  }

  /**
   * The key's age recipient, `age1…` (lowercase Bech32 of the public key),
   * to encrypt to with `ageEncrypt` or `age -r`.
   *
   * @example
   * ```ts
   * import { X25519Key } from "@secmem/secmem/keys";
   *
   * using key = X25519Key.generate();
   * if (!key.ageRecipient.startsWith("age1")) throw new Error();
   * ```
   */
  get ageRecipient(): string {
    return ageRecipientOf(this.#shell.publicKey("ageRecipient"));
  }

  /** The 32-byte public key (u-coordinate), a fresh copy on each read. */
  get publicKey(): Uint8Array {
    return this.#shell.publicKey("publicKey").slice();
  }

  /**
   * X25519 with a peer's public key: the shared secret, in a new
   * SecretBuffer. Refuses a peer of small order, whose result is all zero
   * whatever this key is (RFC 7748 §6.1's check), with `INVALID_KEY`; the
   * zero result is wiped and unmapped first.
   *
   * @param peerPublic The peer's 32-byte public key.
   * @param options Options for the result's buffer (lock, backend).
   * @returns 32 shared bytes; hash them (HKDF) before use as a key.
   * @throws {SecretMemoryError} `INVALID_ARGUMENT` when `peerPublic` is
   * not 32 bytes; `INVALID_KEY` for a low-order peer; `DESTROYED` after
   * `destroy()`.
   *
   * @example
   * ```ts
   * import { X25519Key } from "@secmem/secmem/keys";
   *
   * using mine = X25519Key.generate();
   * using theirs = X25519Key.generate();
   * using shared = mine.agree(theirs.publicKey);
   * if (shared.size !== 32) throw new Error();
   * ```
   */
  agree(peerPublic: Uint8Array, options?: SecretBufferOptions): SecretBuffer {
    const scalar = this.#shell.live("agree");
    const checked = checkOutputOptions(options);
    checkLength("the peer's X25519 public key", peerPublic, 32);
    // Computed into the reused work area and copied into the result as it
    // is mapped: the result's pages are written before they first rest, so
    // no write scope opens them (two protection changes fewer), and a
    // low-order peer's zero result is never mapped at all.
    const shared = withWork(32, (out) => {
      const zero = scalar.read((k) => {
        x25519(out, k, peerPublic);
        // Constant time: the OR of every byte, then one comparison.
        let acc = 0;
        for (let i = 0; i < 32; i++) acc |= out[i];
        return ((acc - 1) >>> 31) & 1;
      });
      if (zero === 1) return undefined;
      // The work area is wiped by withWork, not by from().
      return SecretBuffer.from(out, { ...checked, wipeSource: false });
    });
    if (shared === undefined) {
      throw new SecretMemoryError(
        "INVALID_KEY",
        "Cannot agree with this X25519 public key: it is of small order (the shared secret would be all zero); refuse the peer",
      );
    }
    return shared;
  }

  /** Whether the key was destroyed. */
  get destroyed(): boolean {
    return this.#shell.destroyed;
  }

  /**
   * Wipes and unmaps the scalar. Idempotent; `agree` afterwards throws
   * `DESTROYED`.
   *
   * @example
   * ```ts
   * import { X25519Key } from "@secmem/secmem/keys";
   *
   * const key = X25519Key.generate();
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
   * import { X25519Key } from "@secmem/secmem/keys";
   *
   * using key = X25519Key.generate();
   * if (String(key) !== "X25519Key(private)") throw new Error();
   * ```
   */
  toString(): string {
    return this.#shell.toString();
  }
}

// The printing hooks, then the class frozen like secmem's others: no
// caller can replace a method that code holding a key would call.
redactAndFreeze(X25519Key, "X25519Key");

/**
 * Package-internal: the key over a 32-byte guarded `scalar` buffer, taking
 * ownership without a copy (the key destroys it). For readers of identity
 * files that decode the scalar straight into its own buffer.
 */
export function x25519KeyFromOwnedBytes(scalar: SecretBuffer): X25519Key {
  return adopt(ownedShell(X25519, scalar));
}
