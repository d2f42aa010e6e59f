/**
 * The shell Ed25519Key and X25519Key share: a 32-byte secret in a
 * SecretBuffer of the key's own, its public key computed once, the check
 * that the key is still alive, and the three ways a key's buffer is made
 * (random, copied from the caller's, adopted from a key file's reader),
 * each destroying the buffer it made or adopted when the key cannot be.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import { SecretBuffer, type SecretBufferOptions } from "../secret_buffer.ts";
import { checkOutputOptions, checkSecret } from "../crypto/_input.ts";
import { Bytes } from "../core/_intrinsics.ts";

/** What differs between the kinds of key. */
export interface KeyKind {
  /** The class name, in descriptions and messages. */
  readonly name: string;
  /** The secret as messages name it: "Ed25519 seed", "X25519 secret". */
  readonly secret: string;
  /** The static methods that make a key, for the constructor's refusal. */
  readonly makers: string;
  /** Writes the public key of `secret` into `publicKey` (32 bytes). */
  readonly derive: (publicKey: Uint8Array, secret: Uint8Array) => void;
}

/** One key's secret buffer (undefined once destroyed) and public key. */
export class KeyShell {
  #secret: SecretBuffer | undefined;
  readonly #publicKey: Uint8Array;
  readonly #kind: KeyKind;

  /** Owns `secret` from here on: destroys it if the public key fails. */
  constructor(kind: KeyKind, secret: SecretBuffer) {
    const publicKey = new Bytes(32);
    try {
      secret.read((bytes) => kind.derive(publicKey, bytes));
    } catch (error) {
      secret.destroy();
      throw error;
    }
    this.#secret = secret;
    this.#publicKey = publicKey;
    this.#kind = kind;
  }

  /**
   * `shell` when it is a genuine shell of `kind`; else the refusal a key
   * class's constructor gives when called from outside the library.
   */
  static check(shell: unknown, kind: KeyKind): KeyShell {
    if (
      typeof shell === "object" && shell !== null && #kind in shell &&
      shell.#kind === kind
    ) {
      return shell;
    }
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot construct ${kind.name} directly: use ${kind.makers}`,
    );
  }

  /** The secret buffer; DESTROYED once the key or its buffer is gone. */
  live(action: string): SecretBuffer {
    const secret = this.#secret;
    if (secret === undefined || secret.state === "destroyed") {
      throw new SecretMemoryError(
        "DESTROYED",
        `Cannot ${action}: the ${this.#kind.name} was destroyed`,
      );
    }
    return secret;
  }

  /** The public key itself, not a copy, while the key is alive. */
  publicKey(action: string): Uint8Array {
    this.live(action);
    return this.#publicKey;
  }

  /** Whether the key or its buffer was destroyed. */
  get destroyed(): boolean {
    return this.#secret === undefined || this.#secret.state === "destroyed";
  }

  /** Wipes and unmaps the secret; safe to call again. */
  destroy(): void {
    const secret = this.#secret;
    this.#secret = undefined;
    secret?.destroy();
  }

  /** `Name(private)`, or `Name(destroyed)`: never the key. */
  toString(): string {
    return `${this.#kind.name}(${this.destroyed ? "destroyed" : "private"})`;
  }
}

/** A shell over 32 random bytes. */
export function randomShell(kind: KeyKind, options: unknown): KeyShell {
  const checked = checkOutputOptions(options);
  return new KeyShell(kind, SecretBuffer.random(32, checked));
}

/**
 * A shell over a copy of the caller's 32-byte `secret`, which the caller
 * keeps; the copy is destroyed if anything fails.
 */
export function copiedShell(
  kind: KeyKind,
  secret: unknown,
  options: unknown,
): KeyShell {
  const checked = checkOutputOptions(options);
  const source = checkSize(kind, checkSecret(secret, `the ${kind.secret}`));
  const copy = SecretBuffer.alloc(32, checked);
  try {
    source.copyTo(copy);
  } catch (error) {
    copy.destroy();
    throw error;
  }
  return new KeyShell(kind, copy);
}

/**
 * A shell that takes `secret` over without a copy; a buffer of the wrong
 * size is destroyed, since the caller gave it away.
 */
export function ownedShell(kind: KeyKind, secret: unknown): KeyShell {
  const source = checkSecret(secret, `the ${kind.secret}`);
  try {
    checkSize(kind, source);
  } catch (error) {
    source.destroy();
    throw error;
  }
  return new KeyShell(kind, source);
}

/** A shell over the buffer a key file's reader decoded into. */
export function readShell(
  kind: KeyKind,
  file: unknown,
  what: string,
  options: unknown,
  read: (file: SecretBuffer, options?: SecretBufferOptions) => SecretBuffer,
): KeyShell {
  const checked = checkOutputOptions(options);
  return new KeyShell(kind, read(checkSecret(file, what), checked));
}

function checkSize(kind: KeyKind, source: SecretBuffer): SecretBuffer {
  if (source.size !== 32) {
    throw new SecretMemoryError(
      "INVALID_ARGUMENT",
      `Cannot use a ${source.size}-byte ${kind.secret}: expected exactly 32 bytes`,
    );
  }
  return source;
}
