/**
 * Arithmetic modulo the Ed25519 group order L = 2^252 + c (RFC 8032),
 * c = 27742317777372353535851937790883648493, on small integers only.
 *
 * Scalars are radix-2^12 limbs in an `Int32Array` over a guarded work
 * area (radix 2^12 puts 2^252 on a limb boundary, so a limb above it
 * folds down as a multiple of -c). A 22 x 22 limb product column stays
 * below 22 * 2^24 < 2^29, inside V8's small-integer range, so no
 * intermediate is boxed on the heap. No branch and no index depends on a
 * limb: nonce r, the secret scalar a and S pass through here.
 *
 * @module
 */

import { Bytes, Int32s } from "../core/_intrinsics.ts";

// Taken at load: a Math.imul replaced after import would be handed the
// limbs it multiplies (a secret scalar's, the ladder's).
const imul = Math.imul;

/** Limbs of a 32-byte scalar. */
export const SC_LIMBS = 22;
/** Words `reduce` works over (a 64-byte hash is 43 limbs, plus a carry). */
export const SC_WIDE = 44;

const HALF = 2048;
const MASK = 4095;

function limbsOfHex(hex: string, count: number): Int32Array {
  const raw = new Bytes(32);
  for (let i = 0; i < hex.length / 2; i++) {
    raw[hex.length / 2 - 1 - i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  }
  const out = new Int32s(count);
  loadLimbs(out, 0, raw, 0, 32, count);
  return out;
}

// c and L as limbs: public constants.
const C = limbsOfHex("14def9dea2f79cd65812631a5cf5d3ed", 11);
const L = limbsOfHex(
  "1000000000000000000000000000000014def9dea2f79cd65812631a5cf5d3ed",
  SC_LIMBS,
);

/** The group order L, little-endian (public). */
export const ORDER: Uint8Array = (() => {
  const out = new Bytes(32);
  storeLimbs(L, 0, out, 0);
  return out;
})();

/**
 * Reads `length` little-endian bytes of `src` from `at` as `count` 12-bit
 * limbs into `w[o..)`.
 */
export function loadLimbs(
  w: Int32Array,
  o: number,
  src: Uint8Array,
  at: number,
  length: number,
  count: number,
): void {
  let acc = 0;
  let bits = 0;
  let j = at;
  for (let i = 0; i < count; i++) {
    while (bits < 12 && j < at + length) {
      acc |= src[j++] << bits;
      bits += 8;
    }
    w[o + i] = acc & MASK;
    acc >>>= 12;
    bits -= 12;
  }
  acc = 0;
}

/** Writes 22 unsigned 12-bit limbs at `o` as 32 bytes to `out[at..)`. */
export function storeLimbs(
  w: Int32Array,
  o: number,
  out: Uint8Array,
  at: number,
): void {
  let acc = 0;
  let bits = 0;
  let j = at;
  for (let i = 0; i < SC_LIMBS; i++) {
    acc |= w[o + i] << bits;
    bits += 12;
    while (bits >= 8 && j < at + 32) {
      out[j++] = acc & 0xff;
      acc >>>= 8;
      bits -= 8;
    }
  }
  acc = 0;
}

/** Balanced carries over limbs [0, n) at `o`, the last into limb n. */
function carry(w: Int32Array, o: number, n: number): void {
  for (let i = 0; i < n; i++) {
    const x = w[o + i];
    const c = (x + HALF) >> 12;
    w[o + i] = x - (c << 12);
    w[o + i + 1] += c;
  }
}

/** Folds limbs [from, to] at `o` down as multiples of -c (2^252 = -c). */
function fold(w: Int32Array, o: number, from: number, to: number): void {
  for (let i = from; i <= to; i++) {
    const t = w[o + i];
    w[o + i] = 0;
    for (let j = 0; j < 11; j++) w[o + i - 21 + j] -= imul(t, C[j]);
  }
}

/**
 * Reduces the 44 limbs at `o` (each below 2^29 in magnitude) modulo L and
 * writes the canonical 32 bytes to `out[at..)`. Every round's folded limbs
 * land below the range it folds, so each multiplier is a carried limb.
 */
export function reduce(
  w: Int32Array,
  o: number,
  out: Uint8Array,
  at: number,
): void {
  carry(w, o, 43);
  fold(w, o, 33, 43); // lands in [12, 32]
  carry(w, o, 33);
  fold(w, o, 23, 33); // lands in [2, 22]
  carry(w, o, 23);
  fold(w, o, 21, 23); // lands in [0, 12]
  carry(w, o, 21);
  fold(w, o, 21, 21); // lands in [0, 10]
  carry(w, o, 20);
  // Now |value| < 2^251 + 2^241 < L. Unsigned limbs, the sign in limb 21.
  w[o + 21] = 0;
  let c = 0;
  for (let i = 0; i < 21; i++) {
    const x = w[o + i] + c;
    c = x >> 12;
    w[o + i] = x & MASK;
  }
  w[o + 21] = c;
  // Add L when negative, through a mask.
  const mask = c;
  c = 0;
  for (let i = 0; i < SC_LIMBS; i++) {
    const x = w[o + i] + (L[i] & mask) + c;
    c = x >> 12;
    w[o + i] = x & MASK;
  }
  storeLimbs(w, o, out, at);
}

/** Reduces the 64 bytes `src[at..at+64)` modulo L into `out[outAt..)`. */
export function reduceWide(
  w: Int32Array,
  o: number,
  src: Uint8Array,
  at: number,
  out: Uint8Array,
  outAt: number,
): void {
  loadLimbs(w, o, src, at, 64, SC_WIDE);
  reduce(w, o, out, outAt);
}

/**
 * out = (r + k * a) mod L for 32-byte `r`, `k`, `a` (a need not be
 * reduced; it is the clamped secret scalar). Works over `SC_WIDE + 3 *
 * SC_LIMBS` words at `o`.
 */
export function mulAdd(
  w: Int32Array,
  o: number,
  out: Uint8Array,
  outAt: number,
  r: Uint8Array,
  rAt: number,
  k: Uint8Array,
  kAt: number,
  a: Uint8Array,
  aAt: number,
): void {
  const kl = o + SC_WIDE;
  const al = kl + SC_LIMBS;
  const rl = al + SC_LIMBS;
  loadLimbs(w, kl, k, kAt, 32, SC_LIMBS);
  loadLimbs(w, al, a, aAt, 32, SC_LIMBS);
  loadLimbs(w, rl, r, rAt, 32, SC_LIMBS);
  for (let col = 0; col < 2 * SC_LIMBS - 1; col++) {
    let s = col < SC_LIMBS ? w[rl + col] : 0;
    const lo = col < SC_LIMBS ? 0 : col - SC_LIMBS + 1;
    const hi = col < SC_LIMBS ? col : SC_LIMBS - 1;
    for (let i = lo; i <= hi; i++) {
      s += imul(w[kl + i], w[al + col - i]);
    }
    w[o + col] = s;
  }
  w[o + 43] = 0;
  for (let i = 0; i < 3 * SC_LIMBS; i++) w[kl + i] = 0;
  reduce(w, o, out, outAt);
}

/** Whether the 32 bytes at `s[at..)` encode an integer below L (public). */
export function isCanonicalScalar(s: Uint8Array, at: number): boolean {
  for (let i = 31; i >= 0; i--) {
    if (s[at + i] < ORDER[i]) return true;
    if (s[at + i] > ORDER[i]) return false;
  }
  return false;
}
