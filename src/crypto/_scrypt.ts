/**
 * scrypt (RFC 7914): PBKDF2-HMAC-SHA256, then ROMix with Salsa20/8 over
 * each 128·r-byte block, then PBKDF2 again. The big array V (128·r·N
 * bytes), the blocks B, the BlockMix temporaries and every HMAC state are
 * views over guarded buffers; nothing secret-derived is ever a heap array.
 *
 * The work is a job that stops when a clock says its slice is over, at
 * any point of any phase: between two Salsa20/8 cores inside one BlockMix
 * (one block is 128·r bytes, and r may be 2^18, so a whole BlockMix can
 * take a second), between two PBKDF2 output blocks, or inside a long salt
 * or passphrase. Counting ROMix steps instead would make a slice's length
 * depend on r, and the PBKDF2 phases on p. Every position is a public
 * counter; every byte of state stays in the guarded buffers (open from
 * the first slice to the last: see `runSliced`).
 *
 * @module
 */

import { afterTurn, Int32s, lengthOf, min, now } from "../core/_intrinsics.ts";
import { SecretMemoryError } from "../core/errors.ts";
import { SecretBuffer, type SecretBufferOptions } from "../secret_buffer.ts";
import { type Input, Pbkdf2Once } from "./_kdf.ts";
import { type HashState, SHA256 } from "./_sha2.ts";
import { bytes, words as wordsOver } from "./_work.ts";

/** Checked scrypt cost parameters. */
export interface ScryptCost {
  readonly N: number;
  readonly r: number;
  readonly p: number;
}

/** Salsa20/8 cores (64 bytes each) between two looks at the clock. */
const CORES_PER_LOOK = 64;

/** Passphrase bytes hashed between two looks at the clock. */
const KEY_PIECE = 16384;

// HMAC hashes a key longer than its block first; scrypt's passphrase is
// the HMAC key of both PBKDF2 phases, so it is brought down to that key
// (K0) once, in pieces, and the phases use K0.
const BLOCK = SHA256.blockLength;

// The phases, in order.
const KEY = 0;
const START = 1;
const MIX = 2;
const FINISH = 3;
const DONE = 4;

/**
 * One scrypt computation, run by `runSync()` or `runSliced()`, then
 * `take()` hands over the result. Owns three guarded buffers (V; B with
 * the temporaries and HMAC states; the output), open only while the
 * computation runs, and `dispose` destroys whichever are still its.
 *
 * Work area: | B (128·r·p) | X (128·r) | Y (128·r) | T (64) | Z (64, zero)
 * | K0 (64) | SHA-256 state | PBKDF2 state |.
 */
export class ScryptJob {
  readonly #cost: ScryptCost;
  readonly #passphrase: SecretBuffer;
  readonly #salt: Input;
  readonly #v: SecretBuffer;
  readonly #work: SecretBuffer;
  readonly #length: number;
  readonly #options: SecretBufferOptions | undefined;
  // Made when the last phase begins, as the computation's result.
  #out: SecretBuffer | undefined;
  readonly #blockBytes: number;
  readonly #keyAt: number;
  readonly #hashAt: number;
  readonly #pbkdf2At: number;
  #taken = false;

  #phase = KEY;
  #keyHash: HashState | undefined;
  #keyRead = 0;
  #keyLength = 0;
  #pbkdf2: Pbkdf2Once | undefined;
  // ROMix position: block of p, step of 2N, Salsa20/8 core of 2r; in the
  // second half, which of X and Y holds the current block.
  #block = 0;
  #step = 0;
  #core = 0;
  #inY = false;

  constructor(
    cost: ScryptCost,
    passphrase: SecretBuffer,
    salt: Input,
    length: number,
    options: SecretBufferOptions | undefined,
  ) {
    this.#cost = cost;
    this.#passphrase = passphrase;
    this.#salt = salt;
    this.#length = length;
    this.#options = options;
    const { N, r, p } = cost;
    const blockBytes = 128 * r;
    this.#blockBytes = blockBytes;
    this.#keyAt = blockBytes * (p + 2) + 128;
    this.#hashAt = this.#keyAt + BLOCK;
    this.#pbkdf2At = this.#hashAt + SHA256.stateSize;
    warm();
    const guarded = { ...options, placement: "start" as const };
    // The work buffers are mapped before any work: a limit is met at once.
    this.#v = SecretBuffer.alloc(blockBytes * N, guarded);
    try {
      this.#work = SecretBuffer.alloc(
        this.#pbkdf2At + Pbkdf2Once.size(SHA256),
        guarded,
      );
    } catch (error) {
      this.#v.destroy();
      throw error;
    }
  }

  /** Runs the whole computation at once. */
  runSync(): void {
    this.#v.write((v) =>
      this.#work.write((work) => {
        this.#run(v, work, Infinity);
        this.#release();
      })
    );
  }

  /**
   * Destroys V and the work area from inside their scopes: `destroy`
   * finds them open already, and a scope that ends on a destroyed buffer
   * leaves its pages alone, which spares two protection changes over
   * every populated page (a third of the cost of a 16 MiB V here).
   */
  #release(): void {
    try {
      this.#v.destroy();
    } finally {
      this.#work.destroy();
    }
  }

  /**
   * Runs the computation in slices of about `sliceMs` on `now()`, with a
   * turn of the event loop (`afterTurn`) between them. V and the work
   * area stay open from the first slice to the last: changing the
   * protection of a populated range costs time in proportion to its
   * pages (about 7 ms a pair for 16 MiB on a 2-core VM), so closing them
   * between slices would cost more than the slices, and for a GiB of V
   * would stall the loop by itself. The passphrase and the output are
   * opened per slice, only in the phases that use them. Between slices
   * other code runs: a slice first checks that the buffers were not
   * destroyed (a `purge()`), and never touches them if they were.
   */
  runSliced(sliceMs: number): Promise<void> {
    return this.#v.write((v) =>
      this.#work.write(async (work) => {
        // The mapping was this turn's work: the first slice waits a turn.
        do {
          await new Promise<void>((resolve) => afterTurn(resolve));
          if (
            this.#v.state === "destroyed" || this.#work.state === "destroyed"
          ) {
            throw new SecretMemoryError(
              "DESTROYED",
              "Cannot finish scrypt: its work buffers were destroyed (purge()) while it ran; run it again",
            );
          }
        } while (!this.#run(v, work, now() + sliceMs));
        // As #release, with a turn between the two wipes (each is one go).
        try {
          this.#v.destroy();
          await new Promise<void>((resolve) => afterTurn(resolve));
        } finally {
          this.#work.destroy();
        }
      })
    );
  }

  /**
   * Works until done (true) or until a look at the clock finds `deadline`
   * reached (false), with V and the work area open.
   */
  #run(v: Uint8Array, work: Uint8Array, deadline: number): boolean {
    while (this.#phase !== DONE) {
      let finished: boolean;
      switch (this.#phase) {
        case KEY:
          finished = this.#passphrase.read((pw) =>
            this.#hashKey(pw, work, deadline)
          );
          break;
        case START:
          finished = this.#start(work, deadline);
          break;
        case MIX:
          finished = this.#mix(v, work, deadline);
          break;
        case FINISH:
        default:
          this.#out ??= SecretBuffer.alloc(this.#length, this.#options);
          finished = this.#out.write((out) =>
            this.#finish(out, work, deadline)
          );
      }
      if (!finished) return false;
      this.#phase++;
    }
    return true;
  }

  /** The result, once `run` returned true; the caller owns it. */
  take(): SecretBuffer {
    const out = this.#out;
    if (this.#phase !== DONE || this.#taken || out === undefined) {
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        "Cannot take the scrypt result: the computation has not finished",
      );
    }
    this.#taken = true;
    return out;
  }

  /** Wipes and unmaps every buffer still the job's. */
  dispose(): void {
    try {
      this.#v.destroy();
    } finally {
      try {
        this.#work.destroy();
      } finally {
        if (!this.#taken) this.#out?.destroy();
      }
    }
  }

  /** K0: the passphrase, or its SHA-256 when longer than a block. */
  #hashKey(pw: Uint8Array, work: Uint8Array, deadline: number): boolean {
    const size = this.#passphrase.size;
    const key = bytes(work, this.#keyAt, BLOCK);
    if (size <= BLOCK) {
      for (let i = 0; i < size; i++) key[i] = pw[i];
      this.#keyLength = size;
      return true;
    }
    this.#keyHash ??= SHA256.create(work, this.#hashAt);
    while (this.#keyRead < size) {
      const end = min(size, this.#keyRead + KEY_PIECE);
      this.#keyHash.update(pw, this.#keyRead, end);
      this.#keyRead = end;
      if (end < size && now() >= deadline) return false;
    }
    this.#keyHash.finish(key, 0);
    this.#keyHash.reset();
    this.#keyLength = SHA256.outputLength;
    return true;
  }

  /** B = PBKDF2-HMAC-SHA256(passphrase, salt, 1, 128·r·p). */
  #start(work: Uint8Array, deadline: number): boolean {
    const salt = this.#salt;
    if (lengthOf(salt.bytes) !== salt.length) {
      // Detached or shrunk between two slices: its bytes would read as
      // zeros, a wrong key with no error.
      throw new SecretMemoryError(
        "INVALID_ARGUMENT",
        `Cannot continue scrypt: the salt's buffer changed size (now ${
          lengthOf(salt.bytes)
        } bytes, was ${salt.length}) while the computation ran; keep it unchanged until the promise settles`,
      );
    }
    this.#pbkdf2 ??= new Pbkdf2Once(SHA256, work, this.#pbkdf2At);
    const b = bytes(work, 0, this.#blockBytes * this.#cost.p);
    const key = bytes(work, this.#keyAt, BLOCK);
    if (
      !this.#pbkdf2.run(
        key,
        this.#keyLength,
        salt.bytes,
        salt.length,
        b,
        deadline,
      )
    ) {
      return false;
    }
    this.#pbkdf2 = undefined;
    return true;
  }

  /** out = PBKDF2-HMAC-SHA256(passphrase, B, 1, out.length). */
  #finish(out: Uint8Array, work: Uint8Array, deadline: number): boolean {
    this.#pbkdf2 ??= new Pbkdf2Once(SHA256, work, this.#pbkdf2At);
    const b = bytes(work, 0, this.#blockBytes * this.#cost.p);
    const key = bytes(work, this.#keyAt, BLOCK);
    return this.#pbkdf2.run(
      key,
      this.#keyLength,
      b,
      lengthOf(b),
      out,
      deadline,
    );
  }

  /**
   * ROMix over each block of B in turn, from where the last slice
   * stopped. The first N steps chain BlockMix through V (V[0] = B_i,
   * V[k+1] = BlockMix(V[k]), X = BlockMix(V[N-1])); the last N read
   * X xor V[j] and write the result to the other of X and Y, the final
   * step straight back into B_i, so no block is ever copied whole.
   */
  #mix(vBytes: Uint8Array, work: Uint8Array, deadline: number): boolean {
    const { N, r, p } = this.#cost;
    const words = 32 * r;
    const cores = 2 * r;
    const v = wordsOver(vBytes, 0, words * N);
    const w = wordsOver(work, 0, words * (p + 2) + 32);
    const xAt = words * p;
    const yAt = xAt + words;
    const tAt = yAt + words;
    const zAt = tAt + 16;
    let block = this.#block;
    let step = this.#step;
    let core = this.#core;
    let inY = this.#inY;
    let budget = CORES_PER_LOOK;
    while (block < p) {
      const bAt = block * words;
      const end = min(cores, core + budget);
      budget -= end - core;
      if (step < N) {
        // Input V[step] (B_i copied into V[0] core by core as the first
        // step reads it); output V[step + 1], or X after the last.
        const inAt = step * words;
        const output = step === N - 1 ? w : v;
        const outAt = step === N - 1 ? xAt : inAt + words;
        if (core === 0) {
          if (step === 0) copy16(v, words - 16, w, bAt + words - 16);
          copy16(w, tAt, v, inAt + words - 16);
        }
        for (let i = core; i < end; i++) {
          if (step === 0 && i < cores - 1) copy16(v, 16 * i, w, bAt + 16 * i);
          const prev = i === 0 ? w : output;
          const prevAt = i === 0 ? tAt : outAt + place(i - 1, r);
          salsaXor(
            prev,
            prevAt,
            v,
            inAt + 16 * i,
            w,
            zAt,
            output,
            outAt + place(i, r),
          );
        }
      } else {
        // Input X xor V[j], j = Integerify(X) mod N (X is not written
        // during the step, so a resumed slice finds the same j); output
        // the other buffer, or B_i after the last step.
        const inAt = inY ? yAt : xAt;
        const outAt = step === 2 * N - 1 ? bAt : inY ? xAt : yAt;
        const jAt = (w[inAt + words - 16] & (N - 1)) * words;
        if (core === 0) {
          copy16(w, tAt, w, inAt + words - 16);
          xor16(w, tAt, v, jAt + words - 16);
        }
        for (let i = core; i < end; i++) {
          const prevAt = i === 0 ? tAt : outAt + place(i - 1, r);
          salsaXor(
            w,
            prevAt,
            w,
            inAt + 16 * i,
            v,
            jAt + 16 * i,
            w,
            outAt + place(i, r),
          );
        }
      }
      core = end;
      if (core === cores) {
        core = 0;
        if (step >= N) inY = !inY;
        if (++step === 2 * N) {
          step = 0;
          inY = false;
          block++;
        }
      }
      if (budget === 0) {
        budget = CORES_PER_LOOK;
        if (now() >= deadline) break;
      }
    }
    this.#block = block;
    this.#step = step;
    this.#core = core;
    this.#inY = inY;
    return block === p;
  }
}

/** Salsa20/8 cores that bring `salsaXor` to an optimising tier. */
const WARM_CORES = 4000;

let warmed = false;

/**
 * Runs the core over public words, whose sums pass 2^31 as real ones do,
 * until V8 has optimised it (Node 26 after about 200 calls, Deno after
 * about 1,600): from then on no sum of a secret word is boxed. Once per
 * process; about 2 ms. JavaScriptCore (Bun) boxes no number.
 */
function warm(): void {
  if (warmed) return;
  const words = new Int32s(64);
  for (let i = 0; i < 64; i++) words[i] = Math.imul(i + 1, -1640531535);
  for (let i = 0; i < WARM_CORES; i++) {
    salsaXor(words, 0, words, 16, words, 48, words, 32 + 16 * (i & 1));
  }
  warmed = true;
}

/** Where BlockMix puts its i-th output: evens first, then odds (RFC 7914 4). */
function place(i: number, r: number): number {
  return 16 * ((i & 1) === 0 ? i >> 1 : r + (i >> 1));
}

/** dst[dAt ..+16) = src[sAt ..+16); a loop, so nothing stages it on the heap. */
function copy16(
  dst: Int32Array,
  dAt: number,
  src: Int32Array,
  sAt: number,
): void {
  for (let k = 0; k < 16; k++) dst[dAt + k] = src[sAt + k];
}

/** dst[dAt ..+16) ^= src[sAt ..+16). */
function xor16(
  dst: Int32Array,
  dAt: number,
  src: Int32Array,
  sAt: number,
): void {
  for (let k = 0; k < 16; k++) dst[dAt + k] ^= src[sAt + k];
}

/**
 * One BlockMix core: out = Salsa20/8(prev xor a xor b), 16 words each at
 * the given offsets (`b` is a zero block where there is nothing more to
 * mix in). The state stays in locals, and every value is an int32:
 * `(a + b) | 0` and `x << 7 | x >>> 25` give int32s, which V8 keeps
 * unboxed. The sum before `| 0` can pass 2^31, which the optimising tiers
 * keep in a register but the interpreter would box on its heap: `warm()`
 * runs this core on public words until it is optimised, before any job.
 */
function salsaXor(
  prev: Int32Array,
  pAt: number,
  a: Int32Array,
  aAt: number,
  b: Int32Array,
  bAt: number,
  out: Int32Array,
  oAt: number,
): void {
  const y0 = prev[pAt] ^ a[aAt] ^ b[bAt];
  const y1 = prev[pAt + 1] ^ a[aAt + 1] ^ b[bAt + 1];
  const y2 = prev[pAt + 2] ^ a[aAt + 2] ^ b[bAt + 2];
  const y3 = prev[pAt + 3] ^ a[aAt + 3] ^ b[bAt + 3];
  const y4 = prev[pAt + 4] ^ a[aAt + 4] ^ b[bAt + 4];
  const y5 = prev[pAt + 5] ^ a[aAt + 5] ^ b[bAt + 5];
  const y6 = prev[pAt + 6] ^ a[aAt + 6] ^ b[bAt + 6];
  const y7 = prev[pAt + 7] ^ a[aAt + 7] ^ b[bAt + 7];
  const y8 = prev[pAt + 8] ^ a[aAt + 8] ^ b[bAt + 8];
  const y9 = prev[pAt + 9] ^ a[aAt + 9] ^ b[bAt + 9];
  const y10 = prev[pAt + 10] ^ a[aAt + 10] ^ b[bAt + 10];
  const y11 = prev[pAt + 11] ^ a[aAt + 11] ^ b[bAt + 11];
  const y12 = prev[pAt + 12] ^ a[aAt + 12] ^ b[bAt + 12];
  const y13 = prev[pAt + 13] ^ a[aAt + 13] ^ b[bAt + 13];
  const y14 = prev[pAt + 14] ^ a[aAt + 14] ^ b[bAt + 14];
  const y15 = prev[pAt + 15] ^ a[aAt + 15] ^ b[bAt + 15];
  let x0 = y0, x1 = y1, x2 = y2, x3 = y3, x4 = y4, x5 = y5, x6 = y6;
  let x7 = y7, x8 = y8, x9 = y9, x10 = y10, x11 = y11, x12 = y12;
  let x13 = y13, x14 = y14, x15 = y15, s = 0;
  for (let i = 0; i < 8; i += 2) {
    // Columns.
    s = (x0 + x12) | 0;
    x4 ^= s << 7 | s >>> 25;
    s = (x4 + x0) | 0;
    x8 ^= s << 9 | s >>> 23;
    s = (x8 + x4) | 0;
    x12 ^= s << 13 | s >>> 19;
    s = (x12 + x8) | 0;
    x0 ^= s << 18 | s >>> 14;
    s = (x5 + x1) | 0;
    x9 ^= s << 7 | s >>> 25;
    s = (x9 + x5) | 0;
    x13 ^= s << 9 | s >>> 23;
    s = (x13 + x9) | 0;
    x1 ^= s << 13 | s >>> 19;
    s = (x1 + x13) | 0;
    x5 ^= s << 18 | s >>> 14;
    s = (x10 + x6) | 0;
    x14 ^= s << 7 | s >>> 25;
    s = (x14 + x10) | 0;
    x2 ^= s << 9 | s >>> 23;
    s = (x2 + x14) | 0;
    x6 ^= s << 13 | s >>> 19;
    s = (x6 + x2) | 0;
    x10 ^= s << 18 | s >>> 14;
    s = (x15 + x11) | 0;
    x3 ^= s << 7 | s >>> 25;
    s = (x3 + x15) | 0;
    x7 ^= s << 9 | s >>> 23;
    s = (x7 + x3) | 0;
    x11 ^= s << 13 | s >>> 19;
    s = (x11 + x7) | 0;
    x15 ^= s << 18 | s >>> 14;
    // Rows.
    s = (x0 + x3) | 0;
    x1 ^= s << 7 | s >>> 25;
    s = (x1 + x0) | 0;
    x2 ^= s << 9 | s >>> 23;
    s = (x2 + x1) | 0;
    x3 ^= s << 13 | s >>> 19;
    s = (x3 + x2) | 0;
    x0 ^= s << 18 | s >>> 14;
    s = (x5 + x4) | 0;
    x6 ^= s << 7 | s >>> 25;
    s = (x6 + x5) | 0;
    x7 ^= s << 9 | s >>> 23;
    s = (x7 + x6) | 0;
    x4 ^= s << 13 | s >>> 19;
    s = (x4 + x7) | 0;
    x5 ^= s << 18 | s >>> 14;
    s = (x10 + x9) | 0;
    x11 ^= s << 7 | s >>> 25;
    s = (x11 + x10) | 0;
    x8 ^= s << 9 | s >>> 23;
    s = (x8 + x11) | 0;
    x9 ^= s << 13 | s >>> 19;
    s = (x9 + x8) | 0;
    x10 ^= s << 18 | s >>> 14;
    s = (x15 + x14) | 0;
    x12 ^= s << 7 | s >>> 25;
    s = (x12 + x15) | 0;
    x13 ^= s << 9 | s >>> 23;
    s = (x13 + x12) | 0;
    x14 ^= s << 13 | s >>> 19;
    s = (x14 + x13) | 0;
    x15 ^= s << 18 | s >>> 14;
  }
  out[oAt] = (y0 + x0) | 0;
  out[oAt + 1] = (y1 + x1) | 0;
  out[oAt + 2] = (y2 + x2) | 0;
  out[oAt + 3] = (y3 + x3) | 0;
  out[oAt + 4] = (y4 + x4) | 0;
  out[oAt + 5] = (y5 + x5) | 0;
  out[oAt + 6] = (y6 + x6) | 0;
  out[oAt + 7] = (y7 + x7) | 0;
  out[oAt + 8] = (y8 + x8) | 0;
  out[oAt + 9] = (y9 + x9) | 0;
  out[oAt + 10] = (y10 + x10) | 0;
  out[oAt + 11] = (y11 + x11) | 0;
  out[oAt + 12] = (y12 + x12) | 0;
  out[oAt + 13] = (y13 + x13) | 0;
  out[oAt + 14] = (y14 + x14) | 0;
  out[oAt + 15] = (y15 + x15) | 0;
}
