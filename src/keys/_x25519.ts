/**
 * X25519 (RFC 7748 §5): the Montgomery ladder over guarded words.
 *
 * The clamped scalar, the ladder's four coordinates and every temporary
 * are views over one guarded work area; the swap is a masked exchange and
 * the ladder runs 255 identical steps, so neither time nor memory access
 * depends on the scalar's bits.
 *
 * @module
 */

import {
  add,
  copy,
  cswap,
  fromBytes,
  invert,
  LIMBS,
  mul,
  mulSmall,
  SCRATCH,
  setSmall,
  sqr,
  sub,
  toBytes,
} from "./_field.ts";
import { baseMultiplyMontgomery } from "./_ed25519.ts";
import { bytes, withWork, words } from "../crypto/_work.ts";
import { checkLength } from "./_check.ts";

// Word offsets of the ladder's elements.
const X1 = SCRATCH;
const X2 = X1 + LIMBS;
const Z2 = X2 + LIMBS; // x2, z2 adjacent: one swap moves both
const X3 = Z2 + LIMBS;
const Z3 = X3 + LIMBS;
const A = Z3 + LIMBS;
const AA = A + LIMBS;
const B = AA + LIMBS;
const BB = B + LIMBS;
const E = BB + LIMBS;
const C = E + LIMBS;
const D = C + LIMBS;
const DA = D + LIMBS;
const CB = DA + LIMBS;
const T = CB + LIMBS; // four scratch elements for the inversion
const WORDS = T + 4 * LIMBS;
const SCALAR = WORDS * 4; // byte offset of the clamped scalar
const AREA = SCALAR + 32;

/** Copies `scalar` into guarded bytes and clamps it (RFC 7748 §5). */
function clampInto(k: Uint8Array, scalar: Uint8Array): void {
  for (let i = 0; i < 32; i++) k[i] = scalar[i];
  k[0] &= 248;
  k[31] &= 127;
  k[31] |= 64;
}

/**
 * X25519(scalar, point) into `out` (32 bytes): RFC 7748's function with
 * the scalar clamped here and bit 255 of the point masked. An all-zero
 * result (a low-order point) is written as is; callers that must refuse it
 * check `out`.
 */
export function x25519(
  out: Uint8Array,
  scalar: Uint8Array,
  point: Uint8Array,
): void {
  checkLength("out", out, 32);
  checkLength("scalar", scalar, 32);
  checkLength("point", point, 32);
  withWork(AREA, (area) => {
    const w = words(area, 0, WORDS);
    const k = bytes(area, SCALAR, 32);
    clampInto(k, scalar);
    ladder(w, k, point);
    toBytes(w, X2, T, out, 0);
  });
}

/**
 * X25519(scalar, 9) into `out`: the public key of `scalar`, computed on
 * the birationally equivalent Edwards curve with its fixed-base table
 * (several times faster than the ladder; same result).
 */
export function x25519Base(out: Uint8Array, scalar: Uint8Array): void {
  checkLength("out", out, 32);
  checkLength("scalar", scalar, 32);
  baseMultiplyMontgomery(out, scalar);
}

/** The ladder over `k`; leaves the affine u in X2. */
function ladder(w: Int32Array, k: Uint8Array, point: Uint8Array): void {
  fromBytes(w, X1, point, 0);
  setSmall(w, X2, 1);
  setSmall(w, Z2, 0);
  copy(w, X3, X1);
  setSmall(w, Z3, 1);
  let swap = 0;
  for (let t = 254; t >= 0; t--) {
    const bit = (k[t >> 3] >> (t & 7)) & 1;
    swap ^= bit;
    cswap(w, X2, X3, 2 * LIMBS, swap);
    swap = bit;
    add(w, A, X2, Z2);
    sqr(w, AA, A);
    sub(w, B, X2, Z2);
    sqr(w, BB, B);
    sub(w, E, AA, BB);
    add(w, C, X3, Z3);
    sub(w, D, X3, Z3);
    mul(w, DA, D, A);
    mul(w, CB, C, B);
    add(w, X3, DA, CB);
    sqr(w, X3, X3);
    sub(w, Z3, DA, CB);
    sqr(w, Z3, Z3);
    mul(w, Z3, Z3, X1);
    mul(w, X2, AA, BB);
    mulSmall(w, Z2, E, 121665);
    add(w, Z2, Z2, AA);
    mul(w, Z2, Z2, E);
  }
  cswap(w, X2, X3, 2 * LIMBS, swap);
  swap = 0;
  invert(w, Z2, Z2, T);
  mul(w, X2, X2, Z2);
}
