/**
 * ChaCha20 (RFC 8439 2.3-2.4) and HChaCha20 (draft-irtf-cfrg-xchacha 2.2)
 * with the state and the keystream block in a guarded work area. The
 * 20 rounds run on local variables (registers, at worst the machine
 * stack); every word that outlives a block is in guarded memory.
 *
 * @module
 */

import { fillRange } from "../core/_intrinsics.ts";
import { add32, bytes, words } from "./_work.ts";

const C0 = 0x61707865, C1 = 0x3320646e, C2 = 0x79622d32, C3 = 0x6b206574;

const le32 = (src: Uint8Array, at: number): number =>
  src[at] | src[at + 1] << 8 | src[at + 2] << 16 | src[at + 3] << 24;

/** Work-area bytes a `ChaCha` needs. */
export const CHACHA_SIZE = 128;

/** A ChaCha20 keystream generator over `area[at .. at + 128)`. */
export class ChaCha {
  readonly #state: Int32Array;
  readonly #out: Int32Array;
  /** The current keystream block, little-endian bytes of the output words. */
  readonly keystream: Uint8Array;

  constructor(area: Uint8Array, at: number) {
    this.#state = words(area, at, 16);
    this.#out = words(area, at + 64, 16);
    this.keystream = bytes(area, at + 64, 64);
  }

  /**
   * Loads `key[keyAt .. keyAt + 32)`, the block counter, and the 12-byte
   * nonce `nonce[nonceAt ..)`.
   */
  init(
    key: Uint8Array,
    keyAt: number,
    counter: number,
    nonce: Uint8Array,
    nonceAt: number,
  ): void {
    const s = this.#state;
    s[0] = C0;
    s[1] = C1;
    s[2] = C2;
    s[3] = C3;
    for (let i = 0; i < 8; i++) s[4 + i] = le32(key, keyAt + 4 * i);
    s[12] = counter;
    for (let i = 0; i < 3; i++) s[13 + i] = le32(nonce, nonceAt + 4 * i);
  }

  /** The block for the current counter into `keystream`; counter + 1. */
  next(): void {
    this.#rounds(true);
    this.#state[12]++;
  }

  /**
   * HChaCha20 of the loaded key and the 16 bytes loaded in the counter and
   * nonce words (`init(key, k, le32(n[0..4]), n, 4)`): the 32-byte subkey
   * goes to `out[at ..)`.
   */
  subkeyInto(out: Uint8Array, at: number): void {
    this.#rounds(false);
    const x = this.#out;
    for (let i = 0; i < 4; i++) {
      putLe32(out, at + 4 * i, x[i]);
      putLe32(out, at + 16 + 4 * i, x[12 + i]);
    }
  }

  /** Zeroes the state and the keystream. */
  wipe(): void {
    fillRange(this.#state, 0);
    fillRange(this.#out, 0);
  }

  #rounds(feedForward: boolean): void {
    const s = this.#state;
    let x0 = s[0], x1 = s[1], x2 = s[2], x3 = s[3];
    let x4 = s[4], x5 = s[5], x6 = s[6], x7 = s[7];
    let x8 = s[8], x9 = s[9], x10 = s[10], x11 = s[11];
    let x12 = s[12], x13 = s[13], x14 = s[14], x15 = s[15];
    for (let round = 0; round < 10; round++) {
      // Columns.
      x0 = add32(x0, x4), x12 = rotl(x12 ^ x0, 16);
      x8 = add32(x8, x12), x4 = rotl(x4 ^ x8, 12);
      x0 = add32(x0, x4), x12 = rotl(x12 ^ x0, 8);
      x8 = add32(x8, x12), x4 = rotl(x4 ^ x8, 7);
      x1 = add32(x1, x5), x13 = rotl(x13 ^ x1, 16);
      x9 = add32(x9, x13), x5 = rotl(x5 ^ x9, 12);
      x1 = add32(x1, x5), x13 = rotl(x13 ^ x1, 8);
      x9 = add32(x9, x13), x5 = rotl(x5 ^ x9, 7);
      x2 = add32(x2, x6), x14 = rotl(x14 ^ x2, 16);
      x10 = add32(x10, x14), x6 = rotl(x6 ^ x10, 12);
      x2 = add32(x2, x6), x14 = rotl(x14 ^ x2, 8);
      x10 = add32(x10, x14), x6 = rotl(x6 ^ x10, 7);
      x3 = add32(x3, x7), x15 = rotl(x15 ^ x3, 16);
      x11 = add32(x11, x15), x7 = rotl(x7 ^ x11, 12);
      x3 = add32(x3, x7), x15 = rotl(x15 ^ x3, 8);
      x11 = add32(x11, x15), x7 = rotl(x7 ^ x11, 7);
      // Diagonals.
      x0 = add32(x0, x5), x15 = rotl(x15 ^ x0, 16);
      x10 = add32(x10, x15), x5 = rotl(x5 ^ x10, 12);
      x0 = add32(x0, x5), x15 = rotl(x15 ^ x0, 8);
      x10 = add32(x10, x15), x5 = rotl(x5 ^ x10, 7);
      x1 = add32(x1, x6), x12 = rotl(x12 ^ x1, 16);
      x11 = add32(x11, x12), x6 = rotl(x6 ^ x11, 12);
      x1 = add32(x1, x6), x12 = rotl(x12 ^ x1, 8);
      x11 = add32(x11, x12), x6 = rotl(x6 ^ x11, 7);
      x2 = add32(x2, x7), x13 = rotl(x13 ^ x2, 16);
      x8 = add32(x8, x13), x7 = rotl(x7 ^ x8, 12);
      x2 = add32(x2, x7), x13 = rotl(x13 ^ x2, 8);
      x8 = add32(x8, x13), x7 = rotl(x7 ^ x8, 7);
      x3 = add32(x3, x4), x14 = rotl(x14 ^ x3, 16);
      x9 = add32(x9, x14), x4 = rotl(x4 ^ x9, 12);
      x3 = add32(x3, x4), x14 = rotl(x14 ^ x3, 8);
      x9 = add32(x9, x14), x4 = rotl(x4 ^ x9, 7);
    }
    const o = this.#out;
    o[0] = feedForward ? add32(x0, s[0]) : x0;
    o[1] = feedForward ? add32(x1, s[1]) : x1;
    o[2] = feedForward ? add32(x2, s[2]) : x2;
    o[3] = feedForward ? add32(x3, s[3]) : x3;
    o[4] = feedForward ? add32(x4, s[4]) : x4;
    o[5] = feedForward ? add32(x5, s[5]) : x5;
    o[6] = feedForward ? add32(x6, s[6]) : x6;
    o[7] = feedForward ? add32(x7, s[7]) : x7;
    o[8] = feedForward ? add32(x8, s[8]) : x8;
    o[9] = feedForward ? add32(x9, s[9]) : x9;
    o[10] = feedForward ? add32(x10, s[10]) : x10;
    o[11] = feedForward ? add32(x11, s[11]) : x11;
    o[12] = feedForward ? add32(x12, s[12]) : x12;
    o[13] = feedForward ? add32(x13, s[13]) : x13;
    o[14] = feedForward ? add32(x14, s[14]) : x14;
    o[15] = feedForward ? add32(x15, s[15]) : x15;
  }
}

const rotl = (x: number, n: number): number => x << n | x >>> (32 - n);

function putLe32(out: Uint8Array, at: number, value: number): void {
  out[at] = value & 0xff;
  out[at + 1] = value >>> 8 & 0xff;
  out[at + 2] = value >>> 16 & 0xff;
  out[at + 3] = value >>> 24;
}
