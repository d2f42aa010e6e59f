/**
 * The agent's lock (`ssh-add -x`/`-X`): the passphrase kept as an HMAC
 * under a random guarded key, and a back-off after each wrong guess.
 *
 * Anyone who may connect (the agent's own uid) may try to unlock. Without
 * a back-off, a hardened agent (not dumpable, so not readable by that uid)
 * would still answer about 1,400 guesses a second. After the n-th wrong
 * passphrase in a row, no guess is checked for n × 100 ms (n counts up to
 * 100, so at most 10 s): a guess that comes sooner is refused unread, the
 * right one too. ssh-agent pauses the same way; it sleeps, and so serves
 * no one meanwhile, where this agent refuses only unlocking.
 *
 * @module
 */

import { SecretBuffer } from "../secret_buffer.ts";
import { hmac } from "../crypto/mac.ts";
import { now } from "../core/_intrinsics.ts";

/** The wait added by each wrong passphrase in a row. */
export const BACKOFF_STEP_MS = 100;
/** Wrong passphrases in a row past which the wait grows no longer. */
export const BACKOFF_MAX_STEPS = 100;

/** A lock: locked when it holds a passphrase's tag. */
export class Lock {
  #key: SecretBuffer | undefined;
  #tag: SecretBuffer | undefined;
  #wrong = 0;
  #notBefore = 0;
  readonly #now: () => number;

  /**
   * `clock` counts milliseconds (a test's fake one). The default is the
   * monotonic clock taken at load. Not the wall clock: stepped back an
   * hour (NTP, a VM resumed), it kept the right passphrase out for that
   * hour, and stepped on (or a Date.now replaced after import) it let
   * guesses in within the back-off.
   */
  constructor(clock: () => number = now) {
    this.#now = clock;
  }

  /** Whether a passphrase is set. */
  get locked(): boolean {
    return this.#tag !== undefined;
  }

  #tagOf(passphrase: Uint8Array): SecretBuffer {
    // The passphrase may be short: the MAC is of it, under a 32-byte key.
    return SecretBuffer.from(hmac("SHA-256", this.#key!, passphrase));
  }

  /** Locks with `passphrase`; false when already locked. */
  lock(passphrase: Uint8Array): boolean {
    if (this.locked) return false;
    this.#key = SecretBuffer.random(32);
    this.#tag = this.#tagOf(passphrase);
    this.#wrong = 0;
    this.#notBefore = 0;
    return true;
  }

  /**
   * Unlocks when `passphrase` is the one locked with; false when it is
   * not, when not locked, or when it comes within the back-off (unread).
   */
  unlock(passphrase: Uint8Array): boolean {
    if (!this.locked) return false;
    if (this.#now() < this.#notBefore) return false;
    const tag = this.#tagOf(passphrase);
    let right: boolean;
    try {
      // Constant time: SecretBuffer.equals reads every byte of both.
      right = tag.equals(this.#tag!);
    } finally {
      tag.destroy();
    }
    if (!right) {
      if (this.#wrong < BACKOFF_MAX_STEPS) this.#wrong++;
      this.#notBefore = this.#now() + this.#wrong * BACKOFF_STEP_MS;
      return false;
    }
    this.clear();
    return true;
  }

  /** Forgets the passphrase (and the back-off with it). */
  clear(): void {
    this.#key?.destroy();
    this.#tag?.destroy();
    this.#key = undefined;
    this.#tag = undefined;
    this.#wrong = 0;
    this.#notBefore = 0;
  }
}
