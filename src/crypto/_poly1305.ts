/**
 * Poly1305 (RFC 8439 2.5) with the key (r and s), the accumulator and
 * every temporary in a guarded work area. Radix 2^13 with 10 limbs (the
 * layout of poly1305-donna's 16-bit variant): every product and every
 * running sum stays below 2^31, so no BigInt (whose digits would live on
 * the heap), no 64-bit integers, and no number an interpreter would box.
 *
 * @module
 */

import { fillRange } from "../core/_intrinsics.ts";
import { bytes, over } from "./_work.ts";

// Taken at load (see `over`).
const Uint16 = Uint16Array;
const Uint32 = Uint32Array;

const LIMBS = 10;
/** Work-area bytes a `Poly1305` needs. */
export const POLY1305_SIZE = 224;

/** A Poly1305 MAC over `area[at .. at + POLY1305_SIZE)`. */
export class Poly1305 {
  readonly #r: Uint16Array;
  readonly #h: Uint16Array;
  readonly #g: Uint16Array;
  readonly #pad: Uint16Array;
  readonly #x: Uint32Array;
  readonly #block: Uint8Array;
  // r's limbs, and 5 times them, laid out so that the factor of h[j] in
  // limb i of the product is at [10 + i - j]: [5·r0 .. 5·r9, r0 .. r9].
  readonly #rr: Uint32Array;

  constructor(area: Uint8Array, at: number) {
    const u16 = (offset: number, count: number) =>
      over(Uint16, area, at + offset, count);
    this.#r = u16(0, LIMBS);
    this.#h = u16(20, LIMBS);
    this.#g = u16(40, LIMBS);
    this.#pad = u16(60, 8);
    this.#x = over(Uint32, area, at + 80, LIMBS);
    this.#block = bytes(area, at + 120, 16);
    this.#rr = over(Uint32, area, at + 136, 20);
  }

  /** Loads the one-time key `key[at .. at + 32)`: r clamped, then s. */
  init(key: Uint8Array, at: number): void {
    const r = this.#r;
    const t = (i: number) => key[at + 2 * i] | key[at + 2 * i + 1] << 8;
    // The clamp (r &= 0x0ffffffc0ffffffc0ffffffc0fffffff) is in the masks.
    r[0] = t(0) & 0x1fff;
    r[1] = (t(0) >>> 13 | t(1) << 3) & 0x1fff;
    r[2] = (t(1) >>> 10 | t(2) << 6) & 0x1f03;
    r[3] = (t(2) >>> 7 | t(3) << 9) & 0x1fff;
    r[4] = (t(3) >>> 4 | t(4) << 12) & 0x00ff;
    r[5] = t(4) >>> 1 & 0x1ffe;
    r[6] = (t(4) >>> 14 | t(5) << 2) & 0x1fff;
    r[7] = (t(5) >>> 11 | t(6) << 5) & 0x1f81;
    r[8] = (t(6) >>> 8 | t(7) << 8) & 0x1fff;
    r[9] = t(7) >>> 5 & 0x007f;
    for (let i = 0; i < 8; i++) this.#pad[i] = t(8 + i);
    const rr = this.#rr;
    for (let k = 0; k < LIMBS; k++) {
      rr[k] = 5 * r[k];
      rr[LIMBS + k] = r[k];
    }
    fillRange(this.#h, 0);
  }

  /**
   * Absorbs `data[start..end)`. With `padded`, a last partial block is
   * zero-padded to 16 bytes (the AEAD's pad16); without, it ends with the
   * 0x01 byte as the plain MAC specifies.
   */
  update(data: Uint8Array, start: number, end: number, padded: boolean): void {
    const block = this.#block;
    for (let at = start; at < end; at += 16) {
      // No Math.min: replaced after import, it could drop bytes from the MAC.
      const take = end - at < 16 ? end - at : 16;
      for (let j = 0; j < take; j++) block[j] = data[at + j];
      for (let j = take; j < 16; j++) block[j] = 0;
      if (take === 16 || padded) {
        this.#absorb(1 << 11);
      } else {
        block[take] = 1;
        this.#absorb(0);
      }
    }
  }

  /** Writes the 16-byte tag to `out[at ..)` and wipes the state. */
  finish(out: Uint8Array, at: number): void {
    const h = this.#h, g = this.#g;
    // Full carry, then h mod p: h - p when that does not go below zero,
    // chosen by a mask rather than a branch on secret data.
    let c = h[1] >>> 13;
    h[1] &= 0x1fff;
    for (let i = 2; i < LIMBS; i++) {
      h[i] += c;
      c = h[i] >>> 13;
      h[i] &= 0x1fff;
    }
    h[0] += c * 5;
    c = h[0] >>> 13;
    h[0] &= 0x1fff;
    h[1] += c;
    c = h[1] >>> 13;
    h[1] &= 0x1fff;
    h[2] += c;
    // g = h + 5; its carry out of bit 130 says whether h >= p, and then
    // g's low 130 bits are h - p.
    g[0] = h[0] + 5;
    c = g[0] >>> 13;
    g[0] &= 0x1fff;
    for (let i = 1; i < LIMBS; i++) {
      g[i] = h[i] + c;
      c = g[i] >>> 13;
      g[i] &= 0x1fff;
    }
    let mask = (c ^ 1) - 1;
    for (let i = 0; i < LIMBS; i++) g[i] &= mask;
    mask = ~mask;
    for (let i = 0; i < LIMBS; i++) h[i] = (h[i] & mask) | g[i];
    // Back to eight 16-bit words, then + s mod 2^128.
    h[0] = h[0] | h[1] << 13;
    h[1] = h[1] >>> 3 | h[2] << 10;
    h[2] = h[2] >>> 6 | h[3] << 7;
    h[3] = h[3] >>> 9 | h[4] << 4;
    h[4] = h[4] >>> 12 | h[5] << 1 | h[6] << 14;
    h[5] = h[6] >>> 2 | h[7] << 11;
    h[6] = h[7] >>> 5 | h[8] << 8;
    h[7] = h[8] >>> 8 | h[9] << 5;
    let f = 0;
    for (let i = 0; i < 8; i++) {
      f = h[i] + this.#pad[i] + (f >>> 16);
      h[i] = f;
      out[at + 2 * i] = f & 0xff;
      out[at + 2 * i + 1] = f >>> 8 & 0xff;
    }
    this.wipe();
  }

  /** Zeroes key, accumulator and temporaries. */
  wipe(): void {
    fillRange(this.#r, 0);
    fillRange(this.#h, 0);
    fillRange(this.#g, 0);
    fillRange(this.#pad, 0);
    fillRange(this.#x, 0);
    fillRange(this.#block, 0);
    fillRange(this.#rr, 0);
  }

  /** h = (h + block + hibit · 2^128) · r, partly reduced mod 2^130 - 5. */
  #absorb(hibit: number): void {
    const h = this.#h, rr = this.#rr, x = this.#x, m = this.#block;
    const t = (i: number) => m[2 * i] | m[2 * i + 1] << 8;
    h[0] += t(0) & 0x1fff;
    h[1] += (t(0) >>> 13 | t(1) << 3) & 0x1fff;
    h[2] += (t(1) >>> 10 | t(2) << 6) & 0x1fff;
    h[3] += (t(2) >>> 7 | t(3) << 9) & 0x1fff;
    h[4] += (t(3) >>> 4 | t(4) << 12) & 0x1fff;
    h[5] += t(4) >>> 1 & 0x1fff;
    h[6] += (t(4) >>> 14 | t(5) << 2) & 0x1fff;
    h[7] += (t(5) >>> 11 | t(6) << 5) & 0x1fff;
    h[8] += (t(6) >>> 8 | t(7) << 8) & 0x1fff;
    h[9] += t(7) >>> 5 | hibit;
    // Each product is below 2^30; carrying after every one keeps every
    // sum a small integer too, which no interpreter boxes on its heap.
    let c = 0;
    for (let i = 0; i < LIMBS; i++) {
      let d = c;
      c = 0;
      // Limbs past 2^130 wrap around times 5 (2^130 = 5 mod p).
      for (let j = 0; j < LIMBS; j++) {
        d += h[j] * rr[LIMBS + i - j];
        c += d >>> 13;
        d &= 0x1fff;
      }
      x[i] = d;
    }
    c = c * 5 + x[0];
    x[0] = c & 0x1fff;
    x[1] += c >>> 13;
    for (let i = 0; i < LIMBS; i++) h[i] = x[i];
  }
}
