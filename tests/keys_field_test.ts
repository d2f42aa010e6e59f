/**
 * The curve arithmetic against BigInt (here, in a test, as the reference
 * only): field multiplication, squaring, inversion and canonical encoding
 * mod 2^255 - 19 on random and edge values (0, 1, p - 1, p, p + 1,
 * 2^255 - 1, limbs at their extremes), and reduction mod the group order L
 * of 64-byte values and of r + k * a, edges included (0, L - 1, L, 2^512
 * - 1); and the embedded fixed-base table against a fresh computation.
 *
 * @module
 */

import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import * as F from "../src/keys/_field.ts";
import { mulAdd, ORDER, reduceWide, SC_WIDE } from "../src/keys/_scalar.ts";
import { computeBaseTable, encodeTable } from "../src/keys/_ed25519.ts";
import { BASE_TABLE } from "../src/keys/_base_table.ts";
import { test } from "./_harness.ts";

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const mod = (v: bigint, m: bigint) => ((v % m) + m) % m;

const toLe = (v: bigint, length: number) => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number((v >> BigInt(8 * i)) & 0xffn);
  }
  return out;
};
const fromLe = (bytes: Uint8Array) =>
  bytes.reduceRight((acc, b) => (acc << 8n) | BigInt(b), 0n);
const random = (bytes: number) => fromLe(new Uint8Array(randomBytes(bytes)));

const w = new Int32Array(F.SCRATCH + 12 * F.LIMBS);
const A = F.SCRATCH, B = A + F.LIMBS, OUT = B + F.LIMBS, T = OUT + F.LIMBS;

/** Loads `v` (below 2^255) into the element at `o`, carried. */
function load(o: number, v: bigint): void {
  F.fromBytes(w, o, toLe(v, 32), 0);
  F.carry(w, o);
}

/** The element at `o` as its canonical value, through toBytes. */
function value(o: number): bigint {
  const out = new Uint8Array(32);
  F.copy(w, T + 4 * F.LIMBS, o);
  F.toBytes(w, T + 4 * F.LIMBS, T + 5 * F.LIMBS, out, 0);
  const v = fromLe(out);
  assert(v < P, "canonical");
  return v;
}

const EDGES = [
  0n,
  1n,
  2n,
  19n,
  P - 1n,
  P,
  P + 1n,
  P + 18n,
  (1n << 255n) - 1n,
  1n << 254n,
  (1n << 13n) - 1n,
  1n << 12n,
  mod(-1n << 200n, P),
];

test("field: products, squares, sums, differences and inverses match BigInt", () => {
  const values = [...EDGES];
  for (let i = 0; i < 300; i++) values.push(random(32) & ((1n << 255n) - 1n));
  let checked = 0;
  for (let i = 0; i < values.length; i++) {
    const a = values[i], b = values[(i * 7 + 3) % values.length];
    load(A, a);
    load(B, b);
    assert.equal(value(A), mod(a, P));
    F.mul(w, OUT, A, B);
    assert.equal(value(OUT), mod(a * b, P), `mul ${a} ${b}`);
    F.sqr(w, OUT, A);
    assert.equal(value(OUT), mod(a * a, P), `sqr ${a}`);
    F.add(w, OUT, A, B);
    assert.equal(value(OUT), mod(a + b, P));
    F.sub(w, OUT, A, B);
    assert.equal(value(OUT), mod(a - b, P), `sub ${a} ${b}`);
    F.neg(w, OUT, A);
    assert.equal(value(OUT), mod(-a, P));
    F.mulSmall(w, OUT, A, 121665);
    assert.equal(value(OUT), mod(a * 121665n, P));
    // Chains keep limbs in range: a long run of products of differences.
    F.sub(w, OUT, A, B);
    for (let k = 0; k < 5; k++) {
      F.sub(w, OUT, OUT, A);
      F.mul(w, OUT, OUT, OUT);
    }
    let expected = mod(a - b, P);
    for (let k = 0; k < 5; k++) expected = mod((expected - a) ** 2n, P);
    assert.equal(value(OUT), expected);
    checked++;
  }
  for (const a of [...EDGES, random(32) % P]) {
    load(A, a);
    F.invert(w, OUT, A, T);
    const inverse = mod(a, P) === 0n ? 0n : modPow(mod(a, P), P - 2n, P);
    assert.equal(value(OUT), inverse);
  }
  assert(checked > 300);
});

/** The value of the limbs at `o`, mod P, straight from the limbs. */
function limbValue(o: number): bigint {
  let v = 0n;
  for (let i = F.LIMBS - 1; i >= 0; i--) v = v * 8192n + BigInt(w[o + i]);
  return mod(v, P);
}

/** Every limb at `o` is within the bound every product operand keeps. */
function assertOperand(o: number, what: string): void {
  for (let i = 0; i < F.LIMBS; i++) {
    assert(Math.abs(w[o + i]) <= 4128, `${what}: limb ${i} is ${w[o + i]}`);
  }
}

test("field: operands at the limb bound (|limb| <= 2^12 + 2^5) multiply right and leave results inside it", () => {
  const patterns: ((i: number) => number)[] = [
    () => 4128,
    () => -4128,
    (i) => (i % 2 === 0 ? 4128 : -4128),
    (i) => (i < 10 ? 4128 : -4128),
    (i) => (i < 10 ? -4128 : 4128),
    (i) => (i === 1 ? 4128 : 4096),
  ];
  for (let r = 0; r < 200; r++) {
    const bytes = randomBytes(F.LIMBS * 2);
    patterns.push((i) => (bytes.readUInt16LE(i * 2) % 8257) - 4128);
  }
  for (let p = 0; p < patterns.length; p++) {
    const q = patterns[(p * 5 + 1) % patterns.length];
    for (let i = 0; i < F.LIMBS; i++) {
      w[A + i] = patterns[p](i);
      w[B + i] = q(i);
    }
    const a = limbValue(A), b = limbValue(B);
    F.mul(w, OUT, A, B);
    assertOperand(OUT, "mul");
    assert.equal(value(OUT), mod(a * b, P), `mul, pattern ${p}`);
    F.sqr(w, OUT, A);
    assertOperand(OUT, "sqr");
    assert.equal(value(OUT), mod(a * a, P), `sqr, pattern ${p}`);
    F.add(w, OUT, A, B);
    assertOperand(OUT, "add");
    assert.equal(value(OUT), mod(a + b, P));
    F.sub(w, OUT, A, B);
    assertOperand(OUT, "sub");
    assert.equal(value(OUT), mod(a - b, P));
  }
  // Bytes read in are balanced too (a ladder multiplies the peer's u as
  // read), the same value.
  for (const v of [...EDGES, (1n << 255n) - 1n]) {
    F.fromBytes(w, A, toLe(v & ((1n << 255n) - 1n), 32), 0);
    assertOperand(A, `fromBytes ${v}`);
    assert.equal(limbValue(A), mod(v & ((1n << 255n) - 1n), P));
  }
});

function modPow(b: bigint, e: bigint, m: bigint): bigint {
  let r = 1n;
  for (; e > 0n; e >>= 1n, b = b * b % m) if (e & 1n) r = r * b % m;
  return r;
}

test("field: limbs at the extremes of the balanced range encode canonically", () => {
  for (const limb of [4096, -4096, 4095, -4095, 8191, -8191]) {
    for (let i = 0; i < F.LIMBS; i++) w[A + i] = limb;
    let v = 0n;
    for (let i = F.LIMBS - 1; i >= 0; i--) v = v * 8192n + BigInt(limb);
    assert.equal(value(A), mod(v, P), `all limbs ${limb}`);
  }
});

test("scalars: 64-byte values and r + k * a reduce mod L as BigInt does", () => {
  const area = new Int32Array(SC_WIDE + 66);
  const wide = [
    0n,
    1n,
    L - 1n,
    L,
    L + 1n,
    2n * L,
    (1n << 512n) - 1n,
    1n << 252n,
    (1n << 253n) - 1n,
    L * L,
    L * ((1n << 259n) - 1n),
  ];
  for (let i = 0; i < 300; i++) wide.push(random(64));
  const out = new Uint8Array(32);
  for (const v of wide) {
    reduceWide(area, 0, toLe(v, 64), 0, out, 0);
    assert.equal(fromLe(out), v % L, `reduce ${v}`);
  }
  const edges = [0n, 1n, L - 1n, (1n << 255n) - 1n, 1n << 254n];
  for (let i = 0; i < 300; i++) {
    const r = i < edges.length ? edges[i] % L : random(32) % L;
    const k = i < edges.length ? L - 1n : random(32) % L;
    const a = i < edges.length ? edges[i] : random(32) & ((1n << 255n) - 1n);
    mulAdd(area, 0, out, 0, toLe(r, 32), 0, toLe(k, 32), 0, toLe(a, 32), 0);
    assert.equal(fromLe(out), (r + k * a) % L, `muladd ${r} ${k} ${a}`);
  }
  assert.equal(fromLe(ORDER), L);
});

test("the embedded fixed-base table is the one computed from B", () => {
  assert.equal(encodeTable(computeBaseTable()), BASE_TABLE);
  assert.equal(BASE_TABLE.length, 256 * 3 * 64);
});
