/**
 * Ed25519 (RFC 8032 §5.1) over guarded words.
 *
 * Signing and key derivation keep the seed's hash, the clamped scalar a,
 * the prefix, the nonce r, its digits and every coordinate of [r]B and
 * [a]B in one guarded work area, wiped and unmapped when the call ends.
 * The fixed-base multiplication walks 64 signed radix-16 digits; each
 * digit picks its table entry by scanning all eight entries with masks,
 * so neither time nor the addresses read depend on the scalar.
 *
 * Verification handles public data only and may branch on it.
 *
 * @module
 */

import {
  add,
  canonical,
  carry,
  cmov,
  copy,
  cswap,
  fromBytes,
  invert,
  LIMBS,
  mul,
  neg,
  pow22523,
  SCRATCH,
  setSmall,
  sqr,
  sub,
  toBytes,
} from "./_field.ts";
import {
  isCanonicalScalar,
  mulAdd,
  reduceWide,
  SC_LIMBS,
  SC_WIDE,
} from "./_scalar.ts";
import { SHA512 } from "../crypto/_sha2.ts";
import { bytes, withWork, words } from "../crypto/_work.ts";
import { checkLength, unshared } from "./_check.ts";
import { BASE_TABLE } from "./_base_table.ts";
import { Bytes, Int32s, Int8s } from "../core/_intrinsics.ts";

// Word offsets of the work array's elements.
const EL = LIMBS;
const K_D = SCRATCH; // d
const K_D2 = K_D + EL; // 2d
const K_I = K_D2 + EL; // sqrt(-1)
const PX = K_I + EL; // point P (extended X, Y, Z, T)
const PY = PX + EL;
const PZ = PY + EL;
const PT = PZ + EL;
const QX = PT + EL; // point Q
const QY = QX + EL;
const QZ = QY + EL;
const QT = QZ + EL;
const N = QT + EL; // an entry: y+x, y-x, (2z,) 2dt
const TA = N + 4 * EL; // eight temporaries
const TB = TA + EL;
const TC = TB + EL;
const TD = TC + EL;
const TE = TD + EL;
const TF = TE + EL;
const TG = TF + EL;
const TH = TG + EL;
const DIGITS = TH + EL; // 64 signed radix-16 digits
const SC = DIGITS + 64; // scalar work
const CACHE = SC + SC_WIDE + 3 * SC_LIMBS; // verify: 8 cached multiples of -A
const WORDS = CACHE + 8 * 4 * EL;
// Byte offsets after the words.
const HASH = (WORDS * 4 + 7) & ~7;
const H = HASH + SHA512.stateSize; // SHA-512(seed): a || prefix
const RH = H + 64; // SHA-512(prefix || M)
const RS = RH + 64; // r mod L
const KH = RS + 32; // SHA-512(R || A || M)
const KS = KH + 64; // k mod L
const RB = KS + 32; // the encoding of R
const AREA = RB + 32;

// Public constants, computed from their definitions once at load.
const CONSTANTS = new Int32s(SCRATCH + 8 * EL);
const C_D = SCRATCH;
const C_D2 = C_D + EL;
const C_I = C_D2 + EL;
{
  const w = CONSTANTS;
  const t = C_I + EL;
  setSmall(w, t + 4 * EL, 0);
  w[t + 4 * EL] = 121666;
  carry(w, t + 4 * EL);
  invert(w, C_D, t + 4 * EL, t);
  w[t + 4 * EL] = -121665;
  for (let i = 1; i < EL; i++) w[t + 4 * EL + i] = 0;
  carry(w, t + 4 * EL);
  mul(w, C_D, C_D, t + 4 * EL); // d = -121665 / 121666
  add(w, C_D2, C_D, C_D);
  // sqrt(-1) = 2^((p - 1) / 4) = (2^(2^252 - 3))^2 * 2.
  setSmall(w, t + 4 * EL, 2);
  pow22523(w, C_I, t + 4 * EL, t);
  sqr(w, C_I, C_I);
  add(w, C_I, C_I, C_I);
}

function loadConstants(w: Int32Array): void {
  for (let i = 0; i < 3 * EL; i++) w[K_D + i] = CONSTANTS[C_D + i];
}

/** The base point B's encoding: y = 4/5, x even. */
const BASE = new Bytes(32).fill(0x66);
BASE[0] = 0x58;

/** P = identity. */
function identity(w: Int32Array, p: number): void {
  setSmall(w, p, 0);
  setSmall(w, p + EL, 1);
  setSmall(w, p + 2 * EL, 1);
  setSmall(w, p + 3 * EL, 0);
}

/**
 * P = 2P (RFC 8032 §5.1.4's doubling, signs folded); T is skipped when
 * `withT` is false (the next step is another doubling).
 */
function double(w: Int32Array, p: number, withT: boolean): void {
  const x = p, y = p + EL, z = p + 2 * EL, t = p + 3 * EL;
  sqr(w, TA, x);
  sqr(w, TB, y);
  sqr(w, TC, z);
  add(w, TC, TC, TC);
  add(w, TH, TA, TB);
  add(w, TE, x, y);
  sqr(w, TE, TE);
  sub(w, TE, TH, TE);
  sub(w, TG, TA, TB);
  add(w, TF, TC, TG);
  mul(w, x, TE, TF);
  mul(w, y, TG, TH);
  if (withT) mul(w, t, TE, TH);
  mul(w, z, TF, TG);
}

/**
 * P += entry at `n`: (y+x, y-x, 2dxy) affine when `z2` is -1, else
 * (Y+X, Y-X, 2Z at `z2`, 2dT) projective.
 */
function addEntry(w: Int32Array, p: number, n: number, z2: number): void {
  const x = p, y = p + EL, z = p + 2 * EL, t = p + 3 * EL;
  const t2d = z2 < 0 ? n + 2 * EL : n + 3 * EL;
  sub(w, TA, y, x);
  mul(w, TA, TA, n + EL);
  add(w, TB, y, x);
  mul(w, TB, TB, n);
  mul(w, TC, t, t2d);
  if (z2 < 0) add(w, TD, z, z);
  else mul(w, TD, z, z2);
  sub(w, TE, TB, TA);
  sub(w, TF, TD, TC);
  add(w, TG, TD, TC);
  add(w, TH, TB, TA);
  mul(w, x, TE, TF);
  mul(w, y, TG, TH);
  mul(w, t, TE, TH);
  mul(w, z, TF, TG);
}

/** The cached form (Y+X, Y-X, 2Z, 2dT) of P into `n`. */
function toCached(w: Int32Array, n: number, p: number): void {
  add(w, n, p + EL, p);
  sub(w, n + EL, p + EL, p);
  add(w, n + 2 * EL, p + 2 * EL, p + 2 * EL);
  mul(w, n + 3 * EL, p + 3 * EL, K_D2);
}

/** Writes the encoding of P to `out[at..)`; uses TA..TH. */
function encode(w: Int32Array, p: number, out: Uint8Array, at: number): void {
  invert(w, TA, p + 2 * EL, TE);
  mul(w, TB, p, TA);
  mul(w, TC, p + EL, TA);
  canonical(w, TB, TD);
  toBytes(w, TC, TD, out, at);
  out[at + 31] |= (w[TB] & 1) << 7;
}

/**
 * The 256 x 3 canonical encodings of a table from `computeBaseTable`, as
 * hex (for the generator and the test).
 */
export function encodeTable(tab: Int32Array): string {
  const w = new Int32s(2 * EL);
  const raw = new Bytes(32);
  let hex = "";
  for (let e = 0; e < 256 * 3; e++) {
    for (let i = 0; i < EL; i++) w[i] = tab[e * EL + i];
    toBytes(w, 0, EL, raw, 0);
    for (let i = 0; i < 32; i++) hex += raw[i].toString(16).padStart(2, "0");
  }
  return hex;
}

/** Whether elements a and b are equal (public values; uses TH). */
function equal(w: Int32Array, a: number, b: number): boolean {
  sub(w, TH, a, b);
  canonical(w, TH, TG);
  let acc = 0;
  for (let i = 0; i < EL; i++) acc |= w[TH + i];
  return acc === 0;
}

/**
 * Decodes the public encoding `src[at..)` into P (RFC 8032 §5.1.3),
 * strictly: false for y >= p, for x = 0 with the sign bit set, and for a
 * y with no x.
 */
function decode(
  w: Int32Array,
  p: number,
  src: Uint8Array,
  at: number,
): boolean {
  // y < p: only 2^255 - 19 .. 2^255 - 1 are out, all 0xff in bytes 1..30.
  if ((src[at + 31] & 0x7f) === 0x7f && src[at] >= 0xed) {
    let all = true;
    for (let i = 1; i < 31; i++) if (src[at + i] !== 0xff) all = false;
    if (all) return false;
  }
  const sign = src[at + 31] >> 7;
  const x = p, y = p + EL, z = p + 2 * EL, t = p + 3 * EL;
  fromBytes(w, y, src, at);
  setSmall(w, z, 1);
  sqr(w, TA, y);
  mul(w, TB, TA, K_D);
  sub(w, TA, TA, z); // u = y^2 - 1
  add(w, TB, TB, z); // v = d y^2 + 1
  // x = u v^3 (u v^7)^((p - 5) / 8)
  sqr(w, TC, TB);
  mul(w, TC, TC, TB); // v^3
  sqr(w, x, TC);
  mul(w, x, x, TB); // v^7
  mul(w, x, x, TA); // u v^7
  copy(w, TD, x);
  pow22523(w, x, TD, TE);
  mul(w, x, x, TC);
  mul(w, x, x, TA);
  // Check v x^2 = +-u.
  sqr(w, TC, x);
  mul(w, TC, TC, TB);
  if (!equal(w, TC, TA)) {
    neg(w, TD, TA);
    if (!equal(w, TC, TD)) return false;
    mul(w, x, x, K_I);
  }
  canonical(w, x, TD);
  let zero = 0;
  for (let i = 0; i < EL; i++) zero |= w[x + i];
  if (zero === 0 && sign === 1) return false;
  if ((w[x] & 1) !== sign) neg(w, x, x);
  // Balanced again (canonical left unsigned limbs) before it is multiplied.
  carry(w, x);
  mul(w, t, x, y);
  return true;
}

// The fixed-base table: for i in [0, 32), j in [1, 8], j * 256^i * B as
// (y+x, y-x, 2dxy) affine. Public. Read on first use from the canonical
// encodings in _base_table.ts (built cold, in the interpreter, the table
// took 0.3 to 0.5 s); `computeBaseTable` is what wrote them, and a test
// checks the two agree.
const ENTRY = 3 * EL;
let table: Int32Array | undefined;

/** The table from its 256 x 3 canonical encodings, in hex. */
function loadTable(): Int32Array {
  const out = new Int32s(32 * 8 * ENTRY);
  const raw = new Bytes(32);
  for (let e = 0; e < 256 * 3; e++) {
    for (let i = 0; i < 32; i++) {
      const at = (e * 32 + i) * 2;
      raw[i] = parseInt(BASE_TABLE.slice(at, at + 2), 16);
    }
    fromBytes(out, e * EL, raw, 0);
    carry(out, e * EL);
  }
  return out;
}

/**
 * Computes the fixed-base table from B (for scripts/gen_base_table.ts and
 * the test that checks _base_table.ts).
 */
export function computeBaseTable(): Int32Array {
  const out = new Int32s(32 * 8 * ENTRY);
  // The build works over public points only: a heap array is fine.
  const w = new Int32s(WORDS + 256 * 4 * EL * 2);
  loadConstants(w);
  const pts = WORDS; // 256 extended points
  const prods = pts + 256 * 4 * EL; // running products of the Zs
  if (!decode(w, PX, BASE, 0)) throw new Error("base point");
  for (let i = 0; i < 32; i++) {
    toCached(w, N, PX);
    copy(w, QX, PX);
    copy(w, QY, PY);
    copy(w, QZ, PZ);
    copy(w, QT, PT);
    for (let j = 0; j < 8; j++) {
      const at = pts + (i * 8 + j) * 4 * EL;
      for (let m = 0; m < 4 * EL; m++) w[at + m] = w[QX + m];
      addEntry(w, QX, N, N + 2 * EL);
    }
    for (let d = 0; d < 8; d++) double(w, PX, true);
  }
  // Batch inversion of the 256 Zs: one inversion, three products each.
  let prev = -1;
  for (let n = 0; n < 256; n++) {
    const z = pts + n * 4 * EL + 2 * EL;
    if (prev < 0) copy(w, prods, z);
    else mul(w, prods + n * EL, prev, z);
    prev = prods + n * EL;
  }
  invert(w, TA, prods + 255 * EL, TE); // 1 / (z0 ... z255)
  for (let n = 255; n >= 0; n--) {
    const p = pts + n * 4 * EL;
    if (n > 0) {
      mul(w, TB, TA, prods + (n - 1) * EL); // 1 / z_n
      mul(w, TA, TA, p + 2 * EL);
    } else copy(w, TB, TA);
    mul(w, TC, p, TB); // x
    mul(w, TD, p + EL, TB); // y
    const o = n * ENTRY;
    add(w, TE, TD, TC);
    sub(w, TF, TD, TC);
    mul(w, TG, TC, TD);
    mul(w, TG, TG, K_D2);
    for (let m = 0; m < EL; m++) {
      out[o + m] = w[TE + m];
      out[o + EL + m] = w[TF + m];
      out[o + 2 * EL + m] = w[TG + m];
    }
  }
  return out;
}

/**
 * Writes `entry * 256^pos * B` for a signed digit `b` in [-8, 8] into N,
 * reading all eight entries and choosing by masks.
 */
function select(w: Int32Array, tab: Int32Array, pos: number, b: number): void {
  const negative = b >>> 31;
  const abs = b - ((-negative & b) << 1);
  setSmall(w, N, 1);
  setSmall(w, N + EL, 1);
  setSmall(w, N + 2 * EL, 0);
  for (let j = 1; j <= 8; j++) {
    const mask = -(((abs ^ j) - 1) >>> 31);
    const o = (pos * 8 + j - 1) * ENTRY;
    for (let m = 0; m < ENTRY; m++) {
      w[N + m] ^= (w[N + m] ^ tab[o + m]) & mask;
    }
  }
  cswap(w, N, N + EL, EL, negative);
  neg(w, TA, N + 2 * EL);
  cmov(w, N + 2 * EL, TA, EL, negative);
}

/** Splits the 32 bytes `k[at..)` (k[31] <= 127) into 64 signed digits. */
function digits(w: Int32Array, k: Uint8Array, at: number): void {
  for (let i = 0; i < 32; i++) {
    w[DIGITS + 2 * i] = k[at + i] & 15;
    w[DIGITS + 2 * i + 1] = k[at + i] >> 4;
  }
  let c = 0;
  for (let i = 0; i < 63; i++) {
    const e = w[DIGITS + i] + c;
    c = (e + 8) >> 4;
    w[DIGITS + i] = e - (c << 4);
  }
  w[DIGITS + 63] += c;
}

/** P = [k]B for the 32 bytes `k[at..)`, k[31] <= 127, in constant time. */
function baseMultiply(w: Int32Array, k: Uint8Array, at: number): void {
  const tab = table ??= loadTable();
  digits(w, k, at);
  identity(w, PX);
  for (let i = 1; i < 64; i += 2) {
    select(w, tab, i >> 1, w[DIGITS + i]);
    addEntry(w, PX, N, -1);
  }
  double(w, PX, false);
  double(w, PX, false);
  double(w, PX, false);
  double(w, PX, true);
  for (let i = 0; i < 64; i += 2) {
    select(w, tab, i >> 1, w[DIGITS + i]);
    addEntry(w, PX, N, -1);
  }
  for (let i = 0; i < 64; i++) w[DIGITS + i] = 0;
}

/** Hashes the seed into a || prefix at H and clamps a. */
function expand(area: Uint8Array, seed: Uint8Array): void {
  const h = SHA512.create(area, HASH);
  h.update(seed, 0, 32);
  h.finish(area, H);
  area[H] &= 248;
  area[H + 31] &= 127;
  area[H + 31] |= 64;
}

function run<T>(fn: (w: Int32Array, area: Uint8Array) => T): T {
  return withWork(AREA, (area) => {
    const w = words(area, 0, WORDS);
    loadConstants(w);
    return fn(w, area);
  });
}

/** Writes the public key of the 32-byte `seed` to `out` (32 bytes). */
export function ed25519PublicKey(out: Uint8Array, seed: Uint8Array): void {
  checkLength("out", out, 32);
  checkLength("seed", seed, 32);
  run((w, area) => {
    expand(area, seed);
    baseMultiply(w, area, H);
    encode(w, PX, out, 0);
  });
}

/**
 * Writes the signature of `message` under `seed` to `sig` (64 bytes): RFC
 * 8032 §5.1.6. `publicKey` must be the seed's own public key (from
 * `ed25519PublicKey`, kept beside the seed): it is trusted as given, and
 * two signatures of one message under two public keys give away the
 * secret scalar. A message in shared memory is copied first (see
 * `unshared`).
 */
export function ed25519Sign(
  sig: Uint8Array,
  seed: Uint8Array,
  publicKey: Uint8Array,
  message: Uint8Array,
): void {
  checkLength("signature", sig, 64);
  checkLength("seed", seed, 32);
  checkLength("publicKey", publicKey, 32);
  const length = checkLength("message", message, -1);
  const m = unshared(message, length);
  run((w, area) => {
    expand(area, seed);
    const h = SHA512.create(area, HASH);
    h.update(area, H + 32, H + 64);
    h.update(m, 0, length);
    h.finish(area, RH);
    reduceWide(w, SC, area, RH, area, RS);
    baseMultiply(w, area, RS);
    // R is hashed from the work area, not from the caller's view: a view
    // over shared memory changed between the two would give one nonce two
    // challenges, which gives away a.
    encode(w, PX, area, RB);
    h.reset();
    h.update(area, RB, RB + 32);
    h.update(publicKey, 0, 32);
    h.update(m, 0, length);
    h.finish(area, KH);
    reduceWide(w, SC, area, KH, area, KS);
    mulAdd(w, SC, sig, 32, area, RS, area, KS, area, H);
    for (let i = 0; i < 32; i++) sig[i] = area[RB + i];
  });
}

/** Splits a public 32-byte scalar into 64 signed digits (variable time). */
function publicDigits(out: Int8Array, k: Uint8Array, at: number): void {
  let c = 0;
  for (let i = 0; i < 64; i++) {
    const nibble = (k[at + (i >> 1)] >> ((i & 1) << 2)) & 15;
    const e = nibble + c;
    c = (e + 8) >> 4;
    out[i] = e - (c << 4);
  }
}

/**
 * Verifies `signature` over `message` under `publicKey`, RFC 8032 §5.1.7
 * with its strict checks and the cofactorless equation:
 * false for a signature not 64 bytes, an S not below L, an A or R whose
 * encoding is not canonical (y >= p, or x = 0 with the sign bit set) or
 * that is not on the curve, an A or R of small order, and unless
 * [S]B = R + [k]A exactly (compared as canonical encodings of R).
 */
export function ed25519Verify(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  const pkLength = checkLength("publicKey", publicKey, -1);
  const length = checkLength("message", message, -1);
  const sigLength = checkLength("signature", signature, -1);
  if (pkLength !== 32 || sigLength !== 64) return false;
  // Each is read more than once; private copies, so another thread with a
  // view of shared memory cannot change one between the checks and the
  // equation (R hashed as one value and compared as another is a forgery).
  const pk = new Bytes(32);
  const sg = new Bytes(64);
  for (let i = 0; i < 32; i++) pk[i] = publicKey[i];
  for (let i = 0; i < 64; i++) sg[i] = signature[i];
  const m = unshared(message, length);
  if (!isCanonicalScalar(sg, 32)) return false;
  return run((w, area) => {
    // R: canonical, on the curve, not of small order.
    if (!decode(w, QX, sg, 0) || smallOrder(w, QX)) return false;
    if (!decode(w, QX, pk, 0) || smallOrder(w, QX)) return false;
    const h = SHA512.create(area, HASH);
    h.update(sg, 0, 32);
    h.update(pk, 0, 32);
    h.update(m, 0, length);
    h.finish(area, KH);
    reduceWide(w, SC, area, KH, area, KS);
    // The cached multiples 1..8 of -A.
    neg(w, QX, QX);
    neg(w, QT, QT);
    for (let j = 0; j < 8; j++) {
      toCached(w, CACHE + j * 4 * EL, QX);
      if (j < 7) addEntry(w, QX, CACHE, CACHE + 2 * EL);
    }
    const e = new Int8s(64);
    publicDigits(e, area, KS);
    identity(w, QX);
    for (let i = 63; i >= 0; i--) {
      for (let d = 0; d < 4; d++) double(w, QX, d === 3);
      const b = e[i];
      if (b === 0) continue;
      const entry = CACHE + ((b < 0 ? -b : b) - 1) * 4 * EL;
      for (let m = 0; m < 4 * EL; m++) w[N + m] = w[entry + m];
      if (b < 0) {
        cswap(w, N, N + EL, EL, 1);
        neg(w, N + 3 * EL, N + 3 * EL);
      }
      addEntry(w, QX, N, N + 2 * EL);
    }
    // P = [S]B, then P + Q.
    baseMultiply(w, sg, 32);
    toCached(w, N, QX);
    addEntry(w, PX, N, N + 2 * EL);
    const r = bytes(area, KH, 32);
    encode(w, PX, r, 0);
    let diff = 0;
    for (let i = 0; i < 32; i++) diff |= r[i] ^ sg[i];
    return diff === 0;
  });
}

/** Whether P (public) has order dividing 8: [8]P is the identity. */
function smallOrder(w: Int32Array, p: number): boolean {
  for (let m = 0; m < 4 * EL; m++) w[PX + m] = w[p + m];
  double(w, PX, false);
  double(w, PX, false);
  double(w, PX, true);
  canonical(w, PX, TA);
  let x = 0;
  for (let i = 0; i < EL; i++) x |= w[PX + i];
  return x === 0;
}

/**
 * Writes X25519(scalar, 9) to `out`: [k]B on the Edwards curve for the
 * clamped `scalar`, mapped to Montgomery u = (Z + Y) / (Z - Y).
 */
export function baseMultiplyMontgomery(
  out: Uint8Array,
  scalar: Uint8Array,
): void {
  run((w, area) => {
    const k = bytes(area, H, 32);
    for (let i = 0; i < 32; i++) k[i] = scalar[i];
    k[0] &= 248;
    k[31] &= 127;
    k[31] |= 64;
    baseMultiply(w, k, 0);
    add(w, TA, PZ, PY);
    sub(w, TB, PZ, PY);
    invert(w, TC, TB, TE);
    mul(w, TA, TA, TC);
    toBytes(w, TA, TB, out, 0);
  });
}
