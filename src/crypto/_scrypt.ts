/**
 * scrypt (RFC 7914): PBKDF2-HMAC-SHA256, then ROMix with Salsa20/8 over
 * each 128·r-byte block. The big array V (128·r·N bytes), the blocks B
 * and the BlockMix temporaries are views over guarded buffers; nothing
 * secret-derived is ever a heap array.
 *
 * The work is a job that runs a number of ROMix steps at a time, so the
 * asynchronous form can give the event loop back between slices.
 *
 * @module
 */

import { copyWithinOf, subarrayOf } from "../core/_intrinsics.ts";
import { SecretBuffer, type SecretBufferOptions } from "../secret_buffer.ts";
import { pbkdf2Once } from "./_kdf.ts";
import { SHA256 } from "./_sha2.ts";
import { add32 } from "./_work.ts";

/** Checked scrypt cost parameters. */
export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/**
 * One scrypt computation: `start` fills B from the passphrase, `step`
 * runs ROMix steps, `finish` derives the output. Owns two guarded buffers
 * (V, and B with the temporaries), each opened for writing only for one
 * synchronous call (so they are `noaccess` between the asynchronous form's
 * slices) and destroyed by `dispose`, on every path.
 */
export class ScryptJob {
  readonly #cost: ScryptCost;
  readonly #v: SecretBuffer;
  readonly #work: SecretBuffer;
  readonly #blockWords: number;
  #block = 0;
  #round = 0;

  constructor(cost: ScryptCost, options: SecretBufferOptions | undefined) {
    this.#cost = cost;
    this.#blockWords = 32 * cost.r;
    const { N, r, p } = cost;
    const guarded = { ...options, placement: "start" as const };
    this.#v = SecretBuffer.alloc(128 * r * N, guarded);
    try {
      // | B (128·r·p) | X (128·r) | Y (128·r) | T (64) |
      this.#work = SecretBuffer.alloc(128 * r * p + 256 * r + 64, guarded);
    } catch (error) {
      this.#v.destroy();
      throw error;
    }
  }

  /** Runs `fn` over all p blocks, open for writing. */
  #withBlocks<T>(fn: (b: Uint8Array) => T): T {
    const length = 128 * this.#cost.r * this.#cost.p;
    return this.#work.write((work) => fn(subarrayOf(work, 0, length)));
  }

  /** B = PBKDF2-HMAC-SHA256(passphrase, salt, 1, 128·r·p). */
  start(
    passphrase: Uint8Array,
    length: number,
    salt: Uint8Array,
    saltLength: number,
  ): void {
    this.#withBlocks((b) =>
      pbkdf2Once(SHA256, passphrase, length, salt, saltLength, b)
    );
  }

  /** Runs up to `budget` ROMix steps; true once every block is mixed. */
  step(budget: number): boolean {
    return this.#v.write((vBytes) =>
      this.#work.write((work) => this.#mix(vBytes, work, budget))
    );
  }

  #mix(vBytes: Uint8Array, work: Uint8Array, budget: number): boolean {
    const { N, r, p } = this.#cost;
    const words = this.#blockWords;
    const all = new Int32Array(work.buffer, work.byteOffset, work.length / 4);
    const v = new Int32Array(vBytes.buffer, vBytes.byteOffset, words * N);
    const x = 32 * r * p;
    const y = x + words;
    const t = y + words;
    for (let done = 0; done < budget && this.#block < p; done++) {
      const b = this.#block * words;
      const round = this.#round;
      if (round === 0) copyWithinOf(all, x, b, b + words);
      if (round < N) {
        // V[i] = X; X = BlockMix(X).
        // A loop, not set(): nothing may stage the block on the heap.
        const at = round * words;
        for (let i = 0; i < words; i++) v[at + i] = all[x + i];
        blockMix(v, round * words, all, x, all, t, r);
      } else {
        // j = Integerify(X) mod N; X = BlockMix(X xor V[j]).
        const j = all[x + words - 16] & (N - 1);
        for (let i = 0; i < words; i++) {
          all[y + i] = all[x + i] ^ v[j * words + i];
        }
        blockMix(all, y, all, x, all, t, r);
      }
      if (++this.#round === 2 * N) {
        copyWithinOf(all, b, x, x + words);
        this.#round = 0;
        this.#block++;
      }
    }
    return this.#block === p;
  }

  /** out = PBKDF2-HMAC-SHA256(passphrase, B, 1, out.length). */
  finish(passphrase: Uint8Array, length: number, out: Uint8Array): void {
    this.#withBlocks((b) =>
      pbkdf2Once(SHA256, passphrase, length, b, b.length, out)
    );
  }

  /** Wipes and unmaps both buffers. */
  dispose(): void {
    try {
      this.#v.destroy();
    } finally {
      this.#work.destroy();
    }
  }
}

/**
 * BlockMix(in[inAt .. inAt + 32r)) into out[outAt ..), with the 16-word
 * temporary at tmp[tAt ..): the even Salsa outputs go to the first half,
 * the odd ones to the second (RFC 7914 4).
 */
function blockMix(
  input: Int32Array,
  inAt: number,
  out: Int32Array,
  outAt: number,
  tmp: Int32Array,
  tAt: number,
  r: number,
): void {
  const last = inAt + (2 * r - 1) * 16;
  for (let i = 0; i < 16; i++) tmp[tAt + i] = input[last + i];
  for (let i = 0; i < 2 * r; i++) {
    const from = inAt + 16 * i;
    for (let k = 0; k < 16; k++) tmp[tAt + k] ^= input[from + k];
    salsa208(tmp, tAt);
    const to = outAt + 16 * ((i & 1) === 0 ? i >> 1 : r + (i >> 1));
    for (let k = 0; k < 16; k++) out[to + k] = tmp[tAt + k];
  }
}

const rotl = (x: number, n: number): number => x << n | x >>> (32 - n);

/** Salsa20/8 core, in place on b[at .. at + 16). */
function salsa208(b: Int32Array, at: number): void {
  let x0 = b[at], x1 = b[at + 1], x2 = b[at + 2], x3 = b[at + 3];
  let x4 = b[at + 4], x5 = b[at + 5], x6 = b[at + 6], x7 = b[at + 7];
  let x8 = b[at + 8], x9 = b[at + 9], x10 = b[at + 10], x11 = b[at + 11];
  let x12 = b[at + 12], x13 = b[at + 13], x14 = b[at + 14];
  let x15 = b[at + 15];
  for (let i = 0; i < 8; i += 2) {
    // Columns.
    x4 ^= rotl(add32(x0, x12), 7);
    x8 ^= rotl(add32(x4, x0), 9);
    x12 ^= rotl(add32(x8, x4), 13);
    x0 ^= rotl(add32(x12, x8), 18);
    x9 ^= rotl(add32(x5, x1), 7);
    x13 ^= rotl(add32(x9, x5), 9);
    x1 ^= rotl(add32(x13, x9), 13);
    x5 ^= rotl(add32(x1, x13), 18);
    x14 ^= rotl(add32(x10, x6), 7);
    x2 ^= rotl(add32(x14, x10), 9);
    x6 ^= rotl(add32(x2, x14), 13);
    x10 ^= rotl(add32(x6, x2), 18);
    x3 ^= rotl(add32(x15, x11), 7);
    x7 ^= rotl(add32(x3, x15), 9);
    x11 ^= rotl(add32(x7, x3), 13);
    x15 ^= rotl(add32(x11, x7), 18);
    // Rows.
    x1 ^= rotl(add32(x0, x3), 7);
    x2 ^= rotl(add32(x1, x0), 9);
    x3 ^= rotl(add32(x2, x1), 13);
    x0 ^= rotl(add32(x3, x2), 18);
    x6 ^= rotl(add32(x5, x4), 7);
    x7 ^= rotl(add32(x6, x5), 9);
    x4 ^= rotl(add32(x7, x6), 13);
    x5 ^= rotl(add32(x4, x7), 18);
    x11 ^= rotl(add32(x10, x9), 7);
    x8 ^= rotl(add32(x11, x10), 9);
    x9 ^= rotl(add32(x8, x11), 13);
    x10 ^= rotl(add32(x9, x8), 18);
    x12 ^= rotl(add32(x15, x14), 7);
    x13 ^= rotl(add32(x12, x15), 9);
    x14 ^= rotl(add32(x13, x12), 13);
    x15 ^= rotl(add32(x14, x13), 18);
  }
  b[at] = add32(b[at], x0);
  b[at + 1] = add32(b[at + 1], x1);
  b[at + 2] = add32(b[at + 2], x2);
  b[at + 3] = add32(b[at + 3], x3);
  b[at + 4] = add32(b[at + 4], x4);
  b[at + 5] = add32(b[at + 5], x5);
  b[at + 6] = add32(b[at + 6], x6);
  b[at + 7] = add32(b[at + 7], x7);
  b[at + 8] = add32(b[at + 8], x8);
  b[at + 9] = add32(b[at + 9], x9);
  b[at + 10] = add32(b[at + 10], x10);
  b[at + 11] = add32(b[at + 11], x11);
  b[at + 12] = add32(b[at + 12], x12);
  b[at + 13] = add32(b[at + 13], x13);
  b[at + 14] = add32(b[at + 14], x14);
  b[at + 15] = add32(b[at + 15], x15);
}
