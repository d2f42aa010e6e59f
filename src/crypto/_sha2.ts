/**
 * SHA-256 and SHA-512 (FIPS 180-4) whose chaining values, message schedule
 * and pending block are views over a guarded work area the caller owns.
 *
 * The round constants and initial values are computed here from their
 * definition (the fractional parts of square and cube roots of the first
 * primes), with BigInt, once at load: public numbers, and no table to
 * mistype. The known-answer tests check the result.
 *
 * @module
 */

import { fillRange, Int32s, lengthOf } from "../core/_intrinsics.ts";
import { add32, bytes, words } from "./_work.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;

/** A running hash over a guarded state. */
export interface HashState {
  /** Starts a new message. */
  reset(): void;
  /** Absorbs `data[start..end)`; reads only by index. */
  update(data: Uint8Array, start: number, end: number): void;
  /** Pads, and writes the digest to `out` from `at`; the state is spent. */
  finish(out: Uint8Array, at: number): void;
  /**
   * Writes the chaining value (`outputLength` bytes, words in machine
   * order) to `out` from `at`; only between whole blocks.
   */
  saveChain(out: Uint8Array, at: number): void;
  /**
   * Resumes from a chaining value `saveChain` wrote, after `absorbed`
   * bytes (a whole number of blocks) of the message.
   */
  loadChain(src: Uint8Array, at: number, absorbed: number): void;
}

/** One of the two hash functions. */
export interface HashAlgorithm {
  readonly name: "SHA-256" | "SHA-512";
  /** Digest bytes. */
  readonly outputLength: number;
  /** Block bytes (HMAC's pad length). */
  readonly blockLength: number;
  /** Work-area bytes a state needs (a multiple of 8). */
  readonly stateSize: number;
  /** A state over `area[at..at + stateSize)`; `at` a multiple of 8. */
  create(area: Uint8Array, at: number): HashState;
}

function firstPrimes(count: number): number[] {
  const primes: number[] = [];
  for (let n = 2; primes.length < count; n++) {
    if (primes.every((p) => n % p !== 0)) primes.push(n);
  }
  return primes;
}

/** The first 64 bits of the fractional part of `p ** (1 / degree)`. */
function rootBits(p: number, degree: 2 | 3): bigint {
  const n = BigInt(degree);
  const target = BigInt(p) << (64n * n);
  let y = BigInt(Math.floor(Math.pow(p, 1 / degree)) + 1) << 64n;
  for (;;) {
    const next = ((n - 1n) * y + target / y ** (n - 1n)) / n;
    if (next >= y) break;
    y = next;
  }
  return y & 0xffffffffffffffffn;
}

function split(values: bigint[]): [Int32Array, Int32Array] {
  const high = new Int32s(values.length);
  const low = new Int32s(values.length);
  values.forEach((v, i) => {
    high[i] = Number(v >> 32n);
    low[i] = Number(v & 0xffffffffn);
  });
  return [high, low];
}

const PRIMES = firstPrimes(80);
const [K_HIGH, K_LOW] = split(PRIMES.map((p) => rootBits(p, 3)));
const [IV_HIGH, IV_LOW] = split(PRIMES.slice(0, 8).map((p) => rootBits(p, 2)));
/** SHA-256 takes the high halves of SHA-512's constants. */
const K256 = K_HIGH.subarray(0, 64);

const be32 = (src: Uint8Array, at: number): number =>
  src[at] << 24 | src[at + 1] << 16 | src[at + 2] << 8 | src[at + 3];

function putBe32(out: Uint8Array, at: number, value: number): void {
  out[at] = value >>> 24;
  out[at + 1] = value >>> 16 & 0xff;
  out[at + 2] = value >>> 8 & 0xff;
  out[at + 3] = value & 0xff;
}

const rotr = (x: number, n: number): number => x >>> n | x << (32 - n);

/** Shared buffering: whole blocks go to `compress`, the rest waits. */
abstract class BlockHash implements HashState {
  protected readonly block: Uint8Array;
  readonly #chain: Int32Array;
  // The block's and the chain's lengths, read once from the engine: both
  // are views over the work area, and asking them for `length` at call
  // time would hand a getter replaced after import the view (and through
  // its buffer, the key and data being hashed).
  readonly #size: number;
  readonly #words: number;
  #fill = 0;
  #length = 0;

  constructor(block: Uint8Array, chain: Int32Array) {
    this.block = block;
    this.#chain = chain;
    this.#size = lengthOf(block);
    this.#words = lengthOf(chain as unknown as Uint8Array);
  }

  saveChain(out: Uint8Array, at: number): void {
    const h = this.#chain;
    for (let i = 0, j = at; i < this.#words; i++, j += 4) {
      const w = h[i];
      out[j] = w & 0xff;
      out[j + 1] = w >> 8 & 0xff;
      out[j + 2] = w >> 16 & 0xff;
      out[j + 3] = w >> 24 & 0xff;
    }
  }

  loadChain(src: Uint8Array, at: number, absorbed: number): void {
    const h = this.#chain;
    for (let i = 0, j = at; i < this.#words; i++, j += 4) {
      h[i] = src[j] | src[j + 1] << 8 | src[j + 2] << 16 | src[j + 3] << 24;
    }
    this.#fill = 0;
    this.#length = absorbed;
  }

  abstract reset(): void;
  protected abstract compress(src: Uint8Array, at: number): void;
  protected abstract writeDigest(out: Uint8Array, at: number): void;

  protected restart(): void {
    this.#fill = 0;
    this.#length = 0;
    fillRange(this.block, 0);
  }

  update(data: Uint8Array, start: number, end: number): void {
    const size = this.#size;
    this.#length += end - start;
    let i = start;
    while (i < end) {
      if (this.#fill === 0 && end - i >= size) {
        this.compress(data, i);
        i += size;
        continue;
      }
      this.block[this.#fill++] = data[i++];
      if (this.#fill === size) {
        this.compress(this.block, 0);
        this.#fill = 0;
      }
    }
  }

  finish(out: Uint8Array, at: number): void {
    const block = this.block;
    const size = this.#size;
    // The length field: 8 bytes for SHA-256, 16 for SHA-512.
    const lengthField = size / 8;
    let fill = this.#fill;
    block[fill++] = 0x80;
    if (fill > size - lengthField) {
      fillRange(block, 0, fill);
      this.compress(block, 0);
      fill = 0;
    }
    fillRange(block, 0, fill);
    const bits = this.#length * 8;
    // No Math.floor: replaced after import, it could vary the length
    // field from one call to the next, and Ed25519 would hash one nonce
    // with two challenges, which gives away the secret scalar. `bits` is
    // a whole number below 2^53, so this division is exact.
    const low = bits >>> 0;
    putBe32(block, size - 8, (bits - low) / 0x100000000);
    putBe32(block, size - 4, low);
    this.compress(block, 0);
    this.writeDigest(out, at);
    this.restart();
  }
}

class Sha256 extends BlockHash {
  readonly #h: Int32Array;
  readonly #w: Int32Array;

  constructor(area: Uint8Array, at: number) {
    const h = words(area, at, 8);
    super(bytes(area, at + 288, 64), h);
    this.#h = h;
    this.#w = words(area, at + 32, 64);
    this.reset();
  }

  reset(): void {
    for (let i = 0; i < 8; i++) this.#h[i] = IV_HIGH[i];
    this.restart();
  }

  protected compress(src: Uint8Array, at: number): void {
    const w = this.#w;
    const h = this.#h;
    for (let t = 0; t < 16; t++) w[t] = be32(src, at + 4 * t);
    for (let t = 16; t < 64; t++) {
      const x = w[t - 15];
      const y = w[t - 2];
      w[t] = add32(
        add32(w[t - 16], rotr(x, 7) ^ rotr(x, 18) ^ x >>> 3),
        add32(w[t - 7], rotr(y, 17) ^ rotr(y, 19) ^ y >>> 10),
      );
    }
    let a = h[0], b = h[1], c = h[2], d = h[3];
    let e = h[4], f = h[5], g = h[6], k = h[7];
    for (let t = 0; t < 64; t++) {
      const t1 = add32(
        add32(add32(k, rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)), e & f ^ ~e & g),
        add32(K256[t], w[t]),
      );
      const t2 = add32(
        rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22),
        a & b ^ a & c ^ b & c,
      );
      k = g;
      g = f;
      f = e;
      e = add32(d, t1);
      d = c;
      c = b;
      b = a;
      a = add32(t1, t2);
    }
    h[0] = add32(h[0], a);
    h[1] = add32(h[1], b);
    h[2] = add32(h[2], c);
    h[3] = add32(h[3], d);
    h[4] = add32(h[4], e);
    h[5] = add32(h[5], f);
    h[6] = add32(h[6], g);
    h[7] = add32(h[7], k);
  }

  protected writeDigest(out: Uint8Array, at: number): void {
    for (let i = 0; i < 8; i++) putBe32(out, at + 4 * i, this.#h[i]);
  }
}

// 64-bit rotations on (high, low) pairs; n in 1..63, n !== 32.
const rotrH = (h: number, l: number, n: number): number =>
  n < 32 ? (h >>> n | l << (32 - n)) : (l >>> (n - 32) | h << (64 - n));
const rotrL = (h: number, l: number, n: number): number =>
  n < 32 ? (l >>> n | h << (32 - n)) : (h >>> (n - 32) | l << (64 - n));

class Sha512 extends BlockHash {
  // High word at 2i, low word at 2i + 1.
  readonly #h: Int32Array;
  readonly #w: Int32Array;

  constructor(area: Uint8Array, at: number) {
    const h = words(area, at, 16);
    super(bytes(area, at + 704, 128), h);
    this.#h = h;
    this.#w = words(area, at + 64, 160);
    this.reset();
  }

  reset(): void {
    for (let i = 0; i < 8; i++) {
      this.#h[2 * i] = IV_HIGH[i];
      this.#h[2 * i + 1] = IV_LOW[i];
    }
    this.restart();
  }

  protected compress(src: Uint8Array, at: number): void {
    const w = this.#w;
    const h = this.#h;
    for (let t = 0; t < 32; t++) w[t] = be32(src, at + 4 * t);
    for (let t = 16; t < 80; t++) {
      const xh = w[2 * (t - 15)], xl = w[2 * (t - 15) + 1];
      const yh = w[2 * (t - 2)], yl = w[2 * (t - 2) + 1];
      let high = rotrH(xh, xl, 1) ^ rotrH(xh, xl, 8) ^ xh >>> 7;
      let low = rotrL(xh, xl, 1) ^ rotrL(xh, xl, 8) ^ (xl >>> 7 | xh << 25);
      const s1l = rotrL(yh, yl, 19) ^ rotrL(yh, yl, 61) ^
        (yl >>> 6 | yh << 26);
      let next = add32(low, s1l);
      high = add3(
        high,
        rotrH(yh, yl, 19) ^ rotrH(yh, yl, 61) ^ yh >>> 6,
        carry(low, s1l, next),
      );
      low = next;
      const w7l = w[2 * (t - 7) + 1];
      next = add32(low, w7l);
      high = add3(high, w[2 * (t - 7)], carry(low, w7l, next));
      low = next;
      const w16l = w[2 * (t - 16) + 1];
      next = add32(low, w16l);
      high = add3(high, w[2 * (t - 16)], carry(low, w16l, next));
      w[2 * t] = high;
      w[2 * t + 1] = next;
    }
    let ah = h[0], al = h[1], bh = h[2], bl = h[3];
    let ch = h[4], cl = h[5], dh = h[6], dl = h[7];
    let eh = h[8], el = h[9], fh = h[10], fl = h[11];
    let gh = h[12], gl = h[13], kh = h[14], kl = h[15];
    for (let t = 0; t < 80; t++) {
      // T1 = k + Σ1(e) + Ch(e, f, g) + K[t] + W[t], one 64-bit add at a
      // time; each carry comes from the bits, never from a number ≥ 2^31.
      let t1h = kh, t1l = kl, term = 0, next = 0;
      term = rotrL(eh, el, 14) ^ rotrL(eh, el, 18) ^ rotrL(eh, el, 41);
      next = add32(t1l, term);
      t1h = add3(
        t1h,
        rotrH(eh, el, 14) ^ rotrH(eh, el, 18) ^ rotrH(eh, el, 41),
        carry(t1l, term, next),
      );
      t1l = next;
      term = el & fl ^ ~el & gl;
      next = add32(t1l, term);
      t1h = add3(t1h, eh & fh ^ ~eh & gh, carry(t1l, term, next));
      t1l = next;
      term = K_LOW[t];
      next = add32(t1l, term);
      t1h = add3(t1h, K_HIGH[t], carry(t1l, term, next));
      t1l = next;
      term = w[2 * t + 1];
      next = add32(t1l, term);
      t1h = add3(t1h, w[2 * t], carry(t1l, term, next));
      t1l = next;
      // T2 = Σ0(a) + Maj(a, b, c).
      let t2l = rotrL(ah, al, 28) ^ rotrL(ah, al, 34) ^ rotrL(ah, al, 39);
      term = al & bl ^ al & cl ^ bl & cl;
      next = add32(t2l, term);
      const t2h = add3(
        rotrH(ah, al, 28) ^ rotrH(ah, al, 34) ^ rotrH(ah, al, 39),
        ah & bh ^ ah & ch ^ bh & ch,
        carry(t2l, term, next),
      );
      t2l = next;
      kh = gh;
      kl = gl;
      gh = fh;
      gl = fl;
      fh = eh;
      fl = el;
      next = add32(dl, t1l);
      eh = add3(dh, t1h, carry(dl, t1l, next));
      el = next;
      dh = ch;
      dl = cl;
      ch = bh;
      cl = bl;
      bh = ah;
      bl = al;
      next = add32(t1l, t2l);
      ah = add3(t1h, t2h, carry(t1l, t2l, next));
      al = next;
    }
    add(h, 0, ah, al);
    add(h, 2, bh, bl);
    add(h, 4, ch, cl);
    add(h, 6, dh, dl);
    add(h, 8, eh, el);
    add(h, 10, fh, fl);
    add(h, 12, gh, gl);
    add(h, 14, kh, kl);
  }

  protected writeDigest(out: Uint8Array, at: number): void {
    for (let i = 0; i < 16; i++) putBe32(out, at + 4 * i, this.#h[i]);
  }
}

/**
 * The carry out of the 32-bit sum `sum = a + b` (all int32), from the top
 * bits of the operands and the sum: 0 or 1.
 */
const carry = (a: number, b: number, sum: number): number =>
  ((a & b) | ((a | b) & ~sum)) >>> 31;

/** Adds the 64-bit (high, low) to the pair at `h[i], h[i + 1]`. */
function add(h: Int32Array, i: number, high: number, low: number): void {
  const old = h[i + 1];
  const sum = add32(old, low);
  h[i + 1] = sum;
  h[i] = add3(h[i], high, carry(old, low, sum));
}

/** a + b + c mod 2^32, through `add32`. */
const add3 = (a: number, b: number, c: number): number => add32(add32(a, b), c);

/** SHA-256: 32-byte digests, 64-byte blocks. */
export const SHA256: HashAlgorithm = {
  name: "SHA-256",
  outputLength: 32,
  blockLength: 64,
  stateSize: 352,
  create: (area, at) => new Sha256(area, at),
};

/** SHA-512: 64-byte digests, 128-byte blocks. */
export const SHA512: HashAlgorithm = {
  name: "SHA-512",
  outputLength: 64,
  blockLength: 128,
  stateSize: 832,
  create: (area, at) => new Sha512(area, at),
};
