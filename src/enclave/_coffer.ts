/**
 * The key that encrypts every `Enclave`, kept the way memguard's coffer
 * keeps it: never whole at rest. Two guarded buffers, `left` and `right`,
 * hold random halves whose XOR is the key; a timer and every open re-split
 * them with fresh random bytes, so a page read at one moment is useless
 * with the other page read at another. The whole key exists only inside a
 * guarded buffer the caller owns, for the length of one seal or open.
 *
 * memguard combines the halves as BLAKE2b(left) XOR right; a plain XOR
 * gives the same property here (each half alone is uniformly random, and
 * halves from different moments do not combine) without a hash function,
 * so the Enclave needs nothing beyond the cipher.
 *
 * One coffer serves all enclaves; it is made by the first seal and wiped
 * when the last enclave is destroyed (or collected), so no key outlives
 * the ciphertexts it protects.
 *
 * @module
 */

import { everyUnref, fillRange, takeTimers } from "../core/_intrinsics.ts";
import { native } from "../core/_native.ts";
import { KEY_SIZE } from "../crypto/_aead.ts";
import { SecretMemoryError } from "../core/errors.ts";
import { SecretBuffer } from "../secret_buffer.ts";

// The re-split timer's unref, taken now in Deno too (see takeTimers).
takeTimers();

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;

/** How often the halves are re-split, in milliseconds (memguard: 500). */
export const REKEY_INTERVAL_MS = 500;

/** A coffer: one key, split, with a count of the enclaves sealed under it. */
export class Coffer {
  // `left` has room for the fresh random bytes of a re-split after the
  // half itself, so a re-split needs no third buffer.
  readonly #left: SecretBuffer;
  readonly #right: SecretBuffer;
  #users = 0;
  #stopTimer: (() => void) | undefined;

  constructor() {
    this.#left = SecretBuffer.random(2 * KEY_SIZE, { backend: "auto" });
    try {
      this.#right = SecretBuffer.random(KEY_SIZE, { backend: "auto" });
    } catch (error) {
      this.#left.destroy();
      throw error;
    }
    try {
      this.#stopTimer = everyUnref(() => {
        try {
          this.rekey();
        } catch {
          // Purged behind our back: nothing left to re-split.
          this.#stopRekeying();
        }
      }, REKEY_INTERVAL_MS);
    } catch (error) {
      // No timer (a timer's unref replaced to throw): no coffer either, and
      // no half of its key left in memory.
      try {
        this.#left.destroy();
      } finally {
        this.#right.destroy();
      }
      throw error;
    }
  }

  /** False once wiped (last enclave gone, `purge()`, or process exit). */
  get alive(): boolean {
    return this.#left.state !== "destroyed" &&
      this.#right.state !== "destroyed";
  }

  /** Counts one more enclave sealed under this key. */
  retain(): void {
    this.#users++;
  }

  /** Counts one enclave fewer; the last one wipes the key. */
  release(): void {
    if (--this.#users > 0) return;
    this.#stopRekeying();
    try {
      this.#left.destroy();
    } finally {
      this.#right.destroy();
    }
  }

  /**
   * Writes the key into `target`, which must be a view of guarded memory
   * open for writing; the caller wipes it.
   */
  deriveInto(target: Uint8Array): void {
    this.#check();
    this.#left.read((left) =>
      this.#right.read((right) => {
        for (let i = 0; i < KEY_SIZE; i++) target[i] = left[i] ^ right[i];
      })
    );
  }

  /**
   * Re-splits the key: both halves change by the same fresh random bytes,
   * written by getrandom(2) straight into the guarded pages.
   */
  rekey(): void {
    this.#check();
    const left = this.#left;
    left.write((l) =>
      this.#right.write((r) => {
        native().fillRandom(left.address + BigInt(KEY_SIZE), KEY_SIZE);
        for (let i = 0; i < KEY_SIZE; i++) {
          l[i] ^= l[KEY_SIZE + i];
          r[i] ^= l[KEY_SIZE + i];
        }
        fillRange(l, 0, KEY_SIZE);
      })
    );
  }

  /**
   * The two halves, `left` (the half, then room for a re-split's random
   * bytes) and `right`; tests only, to check how the key is kept.
   */
  halvesForTesting(): readonly [SecretBuffer, SecretBuffer] {
    return [this.#left, this.#right];
  }

  #check(): void {
    if (this.alive) return;
    this.#stopRekeying();
    throw new SecretMemoryError(
      "DESTROYED",
      "Cannot use the enclave key: it was wiped (purge() or process exit);" +
        " seal the secret again",
    );
  }

  #stopRekeying(): void {
    this.#stopTimer?.();
    this.#stopTimer = undefined;
  }
}

let current: Coffer | undefined;

/** The coffer new enclaves are sealed under, made on first use. */
export function currentCoffer(): Coffer {
  if (current === undefined || !current.alive) current = new Coffer();
  return current;
}
