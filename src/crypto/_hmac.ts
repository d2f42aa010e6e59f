/**
 * HMAC (RFC 2104) over a guarded work area: the padded key and both hash
 * states live there, so neither the key nor the ipad/opad states that
 * would let anyone MAC as the key's owner reach the heap.
 *
 * @module
 */

import { fillRange, keep, lookUp } from "../core/_intrinsics.ts";
import type { HashAlgorithm, HashState } from "./_sha2.ts";
import { type Area, bytes } from "./_work.ts";

/** An HMAC computation with its state in a guarded area. */
export class Hmac {
  readonly hash: HashAlgorithm;
  readonly #inner: HashState;
  readonly #outer: HashState;
  // The padded key, then (reused) the inner digest.
  readonly #pad: Uint8Array;

  /** Work-area bytes an `Hmac` over `hash` needs. */
  static size(hash: HashAlgorithm): number {
    return 2 * hash.stateSize + hash.blockLength;
  }

  /** An HMAC over `area[at .. at + Hmac.size(hash))`; `at` a multiple of 8. */
  constructor(hash: HashAlgorithm, area: Uint8Array, at: number) {
    this.hash = hash;
    this.#inner = hash.create(area, at);
    this.#outer = hash.create(area, at + hash.stateSize);
    this.#pad = bytes(area, at + 2 * hash.stateSize, hash.blockLength);
  }

  /** Starts a MAC under `key[start..end)`. */
  init(key: Uint8Array, start: number, end: number): void {
    const pad = this.#pad;
    const block = this.hash.blockLength;
    fillRange(pad, 0);
    if (end - start > block) {
      // A long key is hashed first; the digest lands in guarded memory.
      this.#inner.reset();
      this.#inner.update(key, start, end);
      this.#inner.finish(pad, 0);
    } else {
      for (let i = start; i < end; i++) pad[i - start] = key[i];
    }
    for (let i = 0; i < block; i++) pad[i] ^= 0x36;
    this.#inner.reset();
    this.#inner.update(pad, 0, block);
    for (let i = 0; i < block; i++) pad[i] ^= 0x36 ^ 0x5c;
    this.#outer.reset();
    this.#outer.update(pad, 0, block);
    fillRange(pad, 0);
  }

  /**
   * Writes the keyed states (inner, then outer chaining value: twice the
   * output length) that `init` left, for `resume` to start from.
   */
  saveKeyed(out: Uint8Array, at: number): void {
    this.#inner.saveChain(out, at);
    this.#outer.saveChain(out, at + this.hash.outputLength);
  }

  /** Starts a MAC from keyed states `saveKeyed` wrote: as `init`, cheaper. */
  resume(src: Uint8Array, at: number): void {
    const block = this.hash.blockLength;
    this.#inner.loadChain(src, at, block);
    this.#outer.loadChain(src, at + this.hash.outputLength, block);
  }

  /** Absorbs `data[start..end)`. */
  update(data: Uint8Array, start: number, end: number): void {
    this.#inner.update(data, start, end);
  }

  /** Writes the MAC to `out` from `at`; `init` again before reuse. */
  finish(out: Uint8Array, at: number): void {
    const pad = this.#pad;
    const length = this.hash.outputLength;
    this.#inner.finish(pad, 0);
    this.#outer.update(pad, 0, length);
    this.#outer.finish(out, at);
    fillRange(pad, 0);
  }
}

/**
 * The `Hmac` over `hash` at the start of `area`, built once per area; the
 * bytes after it (from `Hmac.size(hash)`) are free for a digest.
 */
export function hmacIn(area: Area, hash: HashAlgorithm): Hmac {
  let mac = lookUp(area.kits, hash) as Hmac | undefined;
  if (mac === undefined) {
    mac = new Hmac(hash, area.bytes, 0);
    keep(area.kits, hash, mac);
  }
  return mac;
}
