/**
 * Poly1305 (RFC 8439 2.5) with the key (r and s), the accumulator and
 * every temporary in a guarded work area. Radix 2^8 with 17 limbs: each
 * product fits a double exactly, so the arithmetic needs no BigInt (whose
 * digits would live on the heap) and no 64-bit integers.
 *
 * @module
 */

import { words } from "./_work.ts";

const LIMBS = 17;
/** Work-area bytes a `Poly1305` needs. */
export const POLY1305_SIZE = 6 * LIMBS * 4;

/** A Poly1305 MAC over `area[at .. at + POLY1305_SIZE)`. */
export class Poly1305 {
  readonly #r: Uint32Array;
  readonly #h: Uint32Array;
  readonly #c: Uint32Array;
  readonly #x: Uint32Array;
  readonly #g: Uint32Array;
  readonly #s: Uint32Array;

  constructor(area: Uint8Array, at: number) {
    this.#r = words(area, at, LIMBS);
    this.#h = words(area, at + 4 * LIMBS, LIMBS);
    this.#c = words(area, at + 8 * LIMBS, LIMBS);
    this.#x = words(area, at + 12 * LIMBS, LIMBS);
    this.#g = words(area, at + 16 * LIMBS, LIMBS);
    this.#s = words(area, at + 20 * LIMBS, LIMBS);
  }

  /** Loads the one-time key `key[at .. at + 32)`: r clamped, then s. */
  init(key: Uint8Array, at: number): void {
    const r = this.#r, h = this.#h, s = this.#s;
    for (let j = 0; j < LIMBS; j++) r[j] = h[j] = s[j] = 0;
    for (let j = 0; j < 16; j++) {
      r[j] = key[at + j];
      s[j] = key[at + 16 + j];
    }
    r[3] &= 15;
    r[7] &= 15;
    r[11] &= 15;
    r[15] &= 15;
    r[4] &= 252;
    r[8] &= 252;
    r[12] &= 252;
  }

  /**
   * Absorbs `data[start..end)`. With `padded`, a last partial block is
   * zero-padded to 16 bytes (the AEAD's pad16); without, it ends with the
   * 0x01 byte as the plain MAC specifies.
   */
  update(data: Uint8Array, start: number, end: number, padded: boolean): void {
    const c = this.#c;
    for (let at = start; at < end; at += 16) {
      const take = Math.min(16, end - at);
      for (let j = 0; j < LIMBS; j++) c[j] = 0;
      for (let j = 0; j < take; j++) c[j] = data[at + j];
      if (take === 16 || padded) c[16] = 1;
      else c[take] = 1;
      this.#block();
    }
  }

  /** Writes the 16-byte tag to `out[at ..)` and wipes the state. */
  finish(out: Uint8Array, at: number): void {
    const h = this.#h, g = this.#g, c = this.#c;
    for (let j = 0; j < LIMBS; j++) g[j] = h[j];
    // h - p, as h + (2^136 - p) mod 2^136; keep it when it did not go
    // below zero (the top bit clear), all without a branch on secret data.
    for (let j = 0; j < LIMBS; j++) c[j] = j === 0 ? 5 : j === 16 ? 252 : 0;
    add(h, c);
    const select = -(h[16] >>> 7);
    for (let j = 0; j < LIMBS; j++) h[j] ^= select & (g[j] ^ h[j]);
    for (let j = 0; j < LIMBS; j++) c[j] = this.#s[j];
    add(h, c);
    for (let j = 0; j < 16; j++) out[at + j] = h[j];
    this.wipe();
  }

  /** Zeroes key, accumulator and temporaries. */
  wipe(): void {
    for (
      const limbs of [this.#r, this.#h, this.#c, this.#x, this.#g, this.#s]
    ) {
      limbs.fill(0);
    }
  }

  /** h = (h + c) * r mod 2^130 - 5, partly reduced. */
  #block(): void {
    const r = this.#r, h = this.#h, x = this.#x;
    add(h, this.#c);
    for (let i = 0; i < LIMBS; i++) {
      let sum = 0;
      for (let j = 0; j < LIMBS; j++) {
        // Limbs past 2^136 wrap around times 2^136 mod p = 320 (5 * 64).
        sum += h[j] * (j <= i ? r[i - j] : 320 * r[i + LIMBS - j]);
      }
      x[i] = sum;
    }
    for (let i = 0; i < LIMBS; i++) h[i] = x[i];
    let u = 0;
    for (let j = 0; j < 16; j++) {
      u += h[j];
      h[j] = u & 255;
      u = Math.floor(u / 256);
    }
    u += h[16];
    h[16] = u & 3;
    u = 5 * Math.floor(u / 4);
    for (let j = 0; j < 16; j++) {
      u += h[j];
      h[j] = u & 255;
      u = Math.floor(u / 256);
    }
    h[16] += u;
  }
}

/** h += c over 17 limbs of 8 bits, carry out of the top dropped. */
function add(h: Uint32Array, c: Uint32Array): void {
  let u = 0;
  for (let j = 0; j < LIMBS; j++) {
    u += h[j] + c[j];
    h[j] = u & 255;
    u >>>= 8;
  }
}
