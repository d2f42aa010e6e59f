/**
 * Arithmetic modulo p = 2^255 - 19 on small integers only.
 *
 * An element is 20 signed limbs of radix 2^13 (260 bits, so the
 * representation is redundant mod p) held in an `Int32Array` that views a
 * guarded work area; every function takes that array and the word offsets
 * of its operands, so no element ever exists as a heap object. Limbs are
 * kept balanced, |limb| <= 2^12 plus a little after a carry (at most
 * 2^12 + 2^5; `canonical` and `mulSmall` leave larger limbs, and neither
 * result may be an operand of `mul` or `sqr` before a carry), which bounds
 * every intermediate of a product, products and carries included, below
 * 2^30 (the bounds are in scripts/gen_field_mul.ts): inside V8's
 * small-integer range (+-2^30 with pointer compression), where the
 * interpreter does not box it on the heap as a copy of a secret word.
 *
 * Every function runs the same instructions whatever the values: no branch
 * and no index depends on a limb.
 *
 * @module
 */

/** Limbs per element. */
export const LIMBS = 20;
/**
 * Words reserved at the start of every work array (none: the unrolled
 * multiplication keeps its columns in locals).
 */
export const SCRATCH = 0;

// 2^260 = 2^5 * 2^255 = 32 * 19 (mod p).
const WRAP = 608;
const HALF = 4096;
const MASK = 8191;

export { add, mul, mulSmall, neg, sqr, sub } from "./_field_mul.ts";
import { mul, sqr } from "./_field_mul.ts";

// Taken at load: a Math.imul replaced after import would be handed the
// limbs it multiplies (a secret scalar's, the ladder's).
const imul = Math.imul;

/** Carries the 20 limbs at `o` into balanced form, folding the top carry. */
export function carry(w: Int32Array, o: number): void {
  let c = 0;
  for (let i = 0; i < LIMBS; i++) {
    const x = w[o + i] + c;
    c = (x + HALF) >> 13;
    w[o + i] = x - (c << 13);
  }
  const x = w[o] + imul(c, WRAP);
  c = (x + HALF) >> 13;
  w[o] = x - (c << 13);
  w[o + 1] += c;
}

/** out = a. */
export function copy(w: Int32Array, out: number, a: number): void {
  for (let i = 0; i < LIMBS; i++) w[out + i] = w[a + i];
}

/** out = the small constant `n` (|n| < 2^12). */
export function setSmall(w: Int32Array, out: number, n: number): void {
  w[out] = n;
  for (let i = 1; i < LIMBS; i++) w[out + i] = 0;
}

/** Squares `a` into `out` `n` times. */
export function sqrN(w: Int32Array, out: number, a: number, n: number): void {
  sqr(w, out, a);
  for (let i = 1; i < n; i++) sqr(w, out, out);
}

/**
 * Raises `a` to 2^250 - 1 into `out` (`t0`, `t1` scratch elements), the
 * common trunk of inversion and square roots; also leaves a^11 in `t2`.
 */
function pow250(
  w: Int32Array,
  out: number,
  a: number,
  t0: number,
  t1: number,
  t2: number,
): void {
  sqr(w, t0, a); // 2
  sqrN(w, t1, t0, 2); // 8
  mul(w, t1, a, t1); // 9
  mul(w, t2, t0, t1); // 11
  sqr(w, t0, t2); // 22
  mul(w, t1, t1, t0); // 31 = 2^5 - 1
  sqrN(w, t0, t1, 5);
  mul(w, t1, t0, t1); // 2^10 - 1
  sqrN(w, t0, t1, 10);
  mul(w, t0, t0, t1); // 2^20 - 1
  sqrN(w, out, t0, 20);
  mul(w, t0, out, t0); // 2^40 - 1
  sqrN(w, t0, t0, 10);
  mul(w, t1, t0, t1); // 2^50 - 1
  sqrN(w, t0, t1, 50);
  mul(w, t0, t0, t1); // 2^100 - 1
  sqrN(w, out, t0, 100);
  mul(w, t0, out, t0); // 2^200 - 1
  sqrN(w, t0, t0, 50);
  mul(w, out, t0, t1); // 2^250 - 1
}

/**
 * out = 1/a (0 for 0) as a^(p - 2) = a^(2^255 - 21); needs four scratch
 * elements `t` .. `t + 3 * LIMBS`, none aliasing `out` or `a`.
 */
export function invert(w: Int32Array, out: number, a: number, t: number): void {
  const t0 = t, t1 = t + LIMBS, t2 = t + 2 * LIMBS, t3 = t + 3 * LIMBS;
  pow250(w, t3, a, t0, t1, t2);
  sqrN(w, t3, t3, 5); // 2^255 - 2^5
  mul(w, out, t3, t2); // + 11
}

/**
 * out = a^((p - 5) / 8) = a^(2^252 - 3), for square roots; same scratch
 * rules as `invert`.
 */
export function pow22523(
  w: Int32Array,
  out: number,
  a: number,
  t: number,
): void {
  const t0 = t, t1 = t + LIMBS, t2 = t + 2 * LIMBS, t3 = t + 3 * LIMBS;
  pow250(w, t3, a, t0, t1, t2);
  sqrN(w, t3, t3, 2); // 2^252 - 4
  mul(w, out, t3, a); // + 1
}

/**
 * Constant-time swap of the `count` words at `a` and `b` when `bit` is 1,
 * through a mask: no branch on the bit.
 */
export function cswap(
  w: Int32Array,
  a: number,
  b: number,
  count: number,
  bit: number,
): void {
  // A shift, not -bit: -0 is a heap number in V8, a box that records the
  // bit. (Unrolled, this loop ran no faster in any runtime.)
  const mask = (bit << 31) >> 31;
  for (let i = 0; i < count; i++) {
    const t = (w[a + i] ^ w[b + i]) & mask;
    w[a + i] ^= t;
    w[b + i] ^= t;
  }
}

/** Constant-time `out = bit ? a : out` over `count` words. */
export function cmov(
  w: Int32Array,
  out: number,
  a: number,
  count: number,
  bit: number,
): void {
  const mask = (bit << 31) >> 31;
  for (let i = 0; i < count; i++) {
    w[out + i] ^= (w[out + i] ^ w[a + i]) & mask;
  }
}

/** One pass of unsigned carries over the 20 limbs, top carry folded. */
function carryUnsigned(w: Int32Array, o: number): void {
  let c = 0;
  for (let i = 0; i < LIMBS; i++) {
    const x = w[o + i] + c;
    c = x >> 13;
    w[o + i] = x & MASK;
  }
  w[o] += imul(c, WRAP);
}

/**
 * Reduces the element at `a` to its canonical value below p, in place,
 * as 20 unsigned limbs, in constant time; `t` is one scratch element.
 */
export function canonical(w: Int32Array, a: number, t: number): void {
  // Unsigned limbs, value in [0, 2^260): a few passes settle the wraps of
  // a negative value.
  for (let pass = 0; pass < 4; pass++) carryUnsigned(w, a);
  // Fold bits 255 and up (limb 19 holds bits 247..259) as 19 each, twice.
  for (let pass = 0; pass < 2; pass++) {
    const h = w[a + 19] >> 8;
    w[a + 19] &= 0xff;
    w[a] += imul(h, 19);
    let c = 0;
    for (let i = 0; i < LIMBS; i++) {
      const x = w[a + i] + c;
      c = x >> 13;
      w[a + i] = x & MASK;
    }
  }
  // Now a < 2^255; a >= p exactly when a + 19 reaches 2^255.
  let c = 19;
  for (let i = 0; i < LIMBS; i++) {
    const x = w[a + i] + c;
    c = x >> 13;
    w[t + i] = x & MASK;
  }
  const over = (w[t + 19] >> 8) & 1;
  w[t + 19] &= 0xff;
  cmov(w, a, t, LIMBS, over);
}

/**
 * Writes the canonical little-endian encoding of `a` to `out[at..at+32)`,
 * leaving `a` canonical; `t` is one scratch element.
 */
export function toBytes(
  w: Int32Array,
  a: number,
  t: number,
  out: Uint8Array,
  at: number,
): void {
  canonical(w, a, t);
  let acc = 0;
  let bits = 0;
  let j = at;
  for (let i = 0; i < LIMBS; i++) {
    acc |= w[a + i] << bits;
    bits += 13;
    while (bits >= 8 && j < at + 32) {
      out[j++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  acc = 0;
}

/**
 * Reads 32 little-endian bytes at `src[at..)` into the element at `out`,
 * balanced, ignoring bit 255 (RFC 7748 masks it; Ed25519 keeps the sign
 * of x there).
 */
export function fromBytes(
  w: Int32Array,
  out: number,
  src: Uint8Array,
  at: number,
): void {
  let acc = 0;
  let bits = 0;
  let j = at;
  for (let i = 0; i < LIMBS; i++) {
    while (bits < 13 && j < at + 32) {
      const byte = j === at + 31 ? src[j] & 0x7f : src[j];
      acc |= byte << bits;
      j++;
      bits += 8;
    }
    w[out + i] = acc & MASK;
    acc >>>= 13;
    bits -= 13;
  }
  acc = 0;
  // Balanced, as every operand of mul and sqr must be (the same value:
  // limb 19 holds 8 bits, so no carry leaves the top).
  carry(w, out);
}
