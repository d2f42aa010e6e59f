/**
 * What the agent holds: Ed25519 keys (`Ed25519Key`: seed in a guarded buffer, public key
 * and comment in the clear) and named secrets for the `@secmem`
 * extensions, each with an optional expiry. Nothing here ever copies a
 * seed or a secret out of its guarded buffer except into the signing or
 * MAC code that reads it in place.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";
import type { SecretBuffer } from "../secret_buffer.ts";
import { type Ed25519Key, ed25519KeyFromOwnedSeed } from "../keys/ed25519.ts";
import { ED25519, FrameWriter } from "./_protocol.ts";
import {
  append,
  keep,
  lengthOf,
  lookUp,
  Maps,
  now,
  onceUnref,
  subarrayOf,
  takeTimers,
  unkeep,
  valuesOf,
} from "../core/_intrinsics.ts";

// The keyring's maps hold every key and secret the agent has: each
// lookup, store, walk and removal goes through the built-ins as they were
// at load. A `Map.prototype` method or iterator replaced later would be
// handed the held keys (a SecretBuffer reads out), could answer a lookup
// with a key of its own (the peer's plaintext sealed under it), or keep
// an expired key from its wipe.
const apply = Reflect.apply;
const mapForEach = Map.prototype.forEach;
const mapClear = Map.prototype.clear;

const dateNow = Date.now;
// The expiry timer's unref, taken now in Deno too (see takeTimers).
takeTimers();

/** The longest the expiry timer waits before it looks at the clocks again. */
const RECHECK_MS = 60_000;

/** `[key, value]` of each entry of `map`, in a new array. */
function entriesOf<K, V>(map: Map<K, V>): [K, V][] {
  const out: [K, V][] = [];
  apply(mapForEach, map, [(value: V, key: K) => {
    append(out, [key, value]);
  }]);
  return out;
}

/** One Ed25519 identity. */
export interface HeldKey {
  readonly key: Ed25519Key;
  readonly publicKey: Uint8Array;
  readonly blob: Uint8Array;
  comment: string;
  /** Milliseconds since the epoch; Infinity: no lifetime. */
  expiresAt: number;
}

/** One named secret for HMAC or AEAD. */
export interface HeldSecret {
  readonly key: SecretBuffer;
  expiresAt: number;
}

/** The `ssh-ed25519` public key blob of a 32-byte key. */
export function ed25519Blob(publicKey: Uint8Array): Uint8Array {
  const frame = new FrameWriter(0).string(ED25519).string(publicKey).frame();
  return subarrayOf(frame, 5);
}

const DIGITS = "0123456789abcdef";

/**
 * A blob's id in the maps. By a table, not Number.prototype.toString: one
 * replaced after import (answering "" for every byte) gave every key one
 * id, and a sign request for a key not held was answered with another.
 * The engine's length for the same reason: a `length` getter replaced on
 * %TypedArray%.prototype (0 for every blob) did the same.
 */
const hex = (bytes: Uint8Array): string => {
  let text = "";
  const length = lengthOf(bytes);
  for (let i = 0; i < length; i++) {
    text += DIGITS[bytes[i] >> 4] + DIGITS[bytes[i] & 15];
  }
  return text;
};

/**
 * Milliseconds since it was made, by whichever of two clocks has run
 * further, so that a lifetime ends by either. The monotonic clock goes on
 * when the wall clock is set back (which would keep a key past its
 * lifetime); the wall clock goes on while the machine sleeps, when the
 * monotonic one stops (a key for an hour must be gone after a night's
 * suspend, as ssh-agent's CLOCK_BOOTTIME has it). A wall clock set forward
 * only ends lifetimes early. Both read as they were at load.
 */
export function lifetimeClock(
  monotonicNow: () => number = now,
  wallNow: () => number = dateNow,
): () => number {
  const monotonicStart = monotonicNow();
  const wallStart = wallNow();
  return () => {
    const monotonic = monotonicNow() - monotonicStart;
    const wall = wallNow() - wallStart;
    return wall > monotonic ? wall : monotonic;
  };
}

/** The agent's keys and secrets, with their lifetimes. */
export class Keyring {
  readonly #keys = new Maps<string, HeldKey>();
  readonly #secrets = new Maps<string, HeldSecret>();
  #cancelTimer: (() => void) | undefined;
  readonly #now: () => number;
  readonly #after: (fn: () => void, ms: number) => () => void;

  /**
   * `clock` counts milliseconds; `after` runs a function once after a
   * wait and returns what cancels it (a test's fake ones, for both).
   */
  constructor(
    clock: () => number = lifetimeClock(),
    after: (fn: () => void, ms: number) => () => void = onceUnref,
  ) {
    this.#now = clock;
    this.#after = after;
  }

  /** Live keys, oldest first. */
  keys(): HeldKey[] {
    this.expire();
    return valuesOf(this.#keys);
  }

  /** The key whose blob is `blob`, if held. */
  find(blob: Uint8Array): HeldKey | undefined {
    this.expire();
    return lookUp(this.#keys, hex(blob));
  }

  /**
   * Takes ownership of `seed` (32 bytes) as a key. Its public key is
   * derived here; a `claimed` public key that differs is refused, the
   * seed destroyed. Adding a key already held updates its comment and
   * lifetime, as OpenSSH's agent does.
   */
  addKey(
    seed: SecretBuffer,
    comment: string,
    lifetimeSeconds: number,
    claimed?: Uint8Array,
  ): HeldKey {
    // The key takes the seed's buffer as it is (no copy), and owns it.
    const key = ed25519KeyFromOwnedSeed(seed);
    const publicKey = key.publicKey;
    if (claimed !== undefined && !sameBytes(claimed, publicKey)) {
      key.destroy();
      throw new SecretMemoryError(
        "INTEGRITY",
        "Cannot add the key: its public key does not match its seed",
      );
    }
    const blob = ed25519Blob(publicKey);
    const id = hex(blob);
    const expiresAt = this.#expiry(lifetimeSeconds);
    const held = lookUp(this.#keys, id);
    if (held !== undefined) {
      key.destroy();
      held.comment = comment;
      held.expiresAt = expiresAt;
      this.#schedule();
      return held;
    }
    const entry: HeldKey = { key, publicKey, blob, comment, expiresAt };
    keep(this.#keys, id, entry);
    this.#schedule();
    return entry;
  }

  /** Signs `data` with the key of `blob`; undefined when not held. */
  sign(blob: Uint8Array, data: Uint8Array): Uint8Array | undefined {
    return this.find(blob)?.key.sign(data);
  }

  /** Removes (and wipes) the key of `blob`; false when not held. */
  removeKey(blob: Uint8Array): boolean {
    const id = hex(blob);
    const key = lookUp(this.#keys, id);
    if (key === undefined) return false;
    unkeep(this.#keys, id);
    key.key.destroy();
    return true;
  }

  /** Removes and wipes every key (not the named secrets). */
  removeAllKeys(): void {
    const held = valuesOf(this.#keys);
    for (let i = 0; i < held.length; i++) held[i].key.destroy();
    apply(mapClear, this.#keys, []);
  }

  /** Takes ownership of `key` under `name`, replacing (wiping) any other. */
  addSecret(name: string, key: SecretBuffer, lifetimeSeconds: number): void {
    lookUp(this.#secrets, name)?.key.destroy();
    keep(this.#secrets, name, {
      key,
      expiresAt: this.#expiry(lifetimeSeconds),
    });
    this.#schedule();
  }

  /** The secret named `name`, if held. */
  secret(name: string): SecretBuffer | undefined {
    this.expire();
    return lookUp(this.#secrets, name)?.key;
  }

  /** Names and sizes of the held secrets. */
  secrets(): { name: string; size: number }[] {
    this.expire();
    const held = entriesOf(this.#secrets);
    const out: { name: string; size: number }[] = [];
    for (let i = 0; i < held.length; i++) {
      append(out, { name: held[i][0], size: held[i][1].key.size });
    }
    return out;
  }

  /** Removes (and wipes) the secret `name`; false when not held. */
  removeSecret(name: string): boolean {
    const held = lookUp(this.#secrets, name);
    if (held === undefined) return false;
    unkeep(this.#secrets, name);
    held.key.destroy();
    return true;
  }

  /** Wipes everything; the keyring stays usable. */
  clear(): void {
    this.removeAllKeys();
    const secrets = valuesOf(this.#secrets);
    for (let i = 0; i < secrets.length; i++) secrets[i].key.destroy();
    apply(mapClear, this.#secrets, []);
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
  }

  /** Drops whatever has outlived its lifetime. */
  expire(): void {
    const now = this.#now();
    const keys = entriesOf(this.#keys);
    for (let i = 0; i < keys.length; i++) {
      // By index: destructuring would ask the array iterator.
      const id = keys[i][0], key = keys[i][1];
      if (key.expiresAt <= now) {
        unkeep(this.#keys, id);
        key.key.destroy();
      }
    }
    const secrets = entriesOf(this.#secrets);
    for (let i = 0; i < secrets.length; i++) {
      const name = secrets[i][0], held = secrets[i][1];
      if (held.expiresAt <= now) {
        unkeep(this.#secrets, name);
        held.key.destroy();
      }
    }
  }

  #expiry(seconds: number): number {
    return seconds > 0 ? this.#now() + seconds * 1000 : Infinity;
  }

  /** One timer, for the next expiry, so a key goes even when idle. */
  #schedule(): void {
    this.#cancelTimer?.();
    this.#cancelTimer = undefined;
    let next = Infinity;
    const keys = valuesOf(this.#keys);
    for (let i = 0; i < keys.length; i++) {
      if (keys[i].expiresAt < next) next = keys[i].expiresAt;
    }
    const secrets = valuesOf(this.#secrets);
    for (let i = 0; i < secrets.length; i++) {
      if (secrets[i].expiresAt < next) next = secrets[i].expiresAt;
    }
    if (next === Infinity) return;
    // At most a minute, then it looks again: timers run on the monotonic
    // clock, which stops while the machine sleeps, so a key whose lifetime
    // ended during a suspend would otherwise stay in memory for as long
    // again after it. No Math and the timers taken at load: replaced after
    // import, they could keep an expired key until the next request.
    const left = next - this.#now();
    const wait = left < 0 ? 0 : left > RECHECK_MS ? RECHECK_MS : left;
    this.#cancelTimer = this.#after(() => {
      this.#cancelTimer = undefined;
      this.expire();
      this.#schedule();
    }, wait);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  // The engine's lengths: a replaced getter could make any claim match.
  const length = lengthOf(a);
  if (length !== lengthOf(b)) return false;
  let diff = 0;
  for (let i = 0; i < length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
