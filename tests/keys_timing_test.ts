/**
 * Constant time: the time to sign, to agree and to derive a public key
 * does not depend on the secret's Hamming weight. Keys of very different
 * weight are timed in interleaved batches (so load on the shared machine
 * falls on both alike), and the median of the per-round ratios must stay
 * near 1. A control proves the method sees a real dependence: BigInt
 * square-and-multiply, whose work follows the exponent's bits, measured
 * the same way on the same two scalars, must be told apart.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { SecretBuffer } from "../mod.ts";
import { Ed25519Key } from "../keys.ts";
import { x25519, x25519Base } from "../src/keys/_x25519.ts";
import process from "node:process";
import { say } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { isWindows } from "./_platform.ts";

// Under Wine the process's CPU time does not advance at this resolution
// (every ratio came out 1.000, the control NaN): nothing could be told.
const timingSkip: string | false = isWindows
  ? "CPU time has no usable resolution under Wine"
  : false;

const ROUNDS = 41;
// A constant-time function's ratio is 1 up to noise: on the development
// machine at a load average of 13 on 2 cores, medians strayed up to 0.10
// from 1; the control's ratio is about 0.1, far outside.
const TOLERANCE = 0.12;

const popcount = (bytes: Uint8Array) =>
  bytes.reduce((n, b) => {
    let c = 0;
    for (let v = b; v; v >>= 1) c += v & 1;
    return n + c;
  }, 0);

/**
 * Median over interleaved rounds of cpu(a batch) / cpu(b batch). CPU time
 * (user + system) of the process, not wall-clock: on a shared machine,
 * time spent waiting for a CPU is nobody's, and would swamp the ratio.
 */
function ratio(a: () => void, b: () => void, batch: number): number {
  for (let i = 0; i < batch; i++) {
    a();
    b();
  }
  const ratios: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? [a, b] : [b, a];
    const times = order.map((fn) => {
      const start = process.cpuUsage();
      for (let i = 0; i < batch; i++) fn();
      const used = process.cpuUsage(start);
      return used.user + used.system;
    });
    const [ta, tb] = round % 2 === 0 ? times : [times[1], times[0]];
    ratios.push(ta / tb);
  }
  ratios.sort((x, y) => x - y);
  return ratios[ROUNDS >> 1];
}

/** The clamped Ed25519 scalar a of `seed`, for choosing keys. */
function scalarOf(seed: Uint8Array): Uint8Array {
  const a = new Uint8Array(createHash("sha512").update(seed).digest())
    .subarray(0, 32);
  a[0] &= 248;
  a[31] &= 127;
  a[31] |= 64;
  return a;
}

/** Of `count` random seeds, the ones whose scalar is lightest and heaviest. */
function extremeSeeds(count: number): [Uint8Array, number, Uint8Array, number] {
  let light = new Uint8Array(0), heavy = light;
  let low = 999, high = -1;
  for (let i = 0; i < count; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const weight = popcount(scalarOf(seed));
    if (weight < low) [light, low] = [seed, weight];
    if (weight > high) [heavy, high] = [seed, weight];
  }
  return [light, low, heavy, high];
}

// Scalars of weight 2 and 253 after clamping (0x00... and 0xff...).
const LIGHT = new Uint8Array(32);
const HEAVY = new Uint8Array(32).fill(0xff);
const point = new Uint8Array(32).map((_, i) => (i * 29 + 3) & 0x7f);

/** Left-to-right square-and-multiply: multiplies only on a set bit. */
function leakyPower(exponent: Uint8Array): bigint {
  const p = (1n << 255n) - 19n;
  let acc = 1n;
  for (let i = 255; i >= 0; i--) {
    acc = acc * acc % p;
    if ((exponent[i >> 3] >> (i & 7)) & 1) acc = acc * 9n % p;
  }
  return acc;
}

test("control: the timing method tells a key-dependent function apart", () => {
  const r = ratio(() => leakyPower(LIGHT), () => leakyPower(HEAVY), 20);
  say(`  BigInt square-and-multiply, weight 0 / weight 256: ${r.toFixed(3)}`);
  assert(Math.abs(r - 1) > 2 * TOLERANCE, `ratio ${r} looks constant`);
}, { skip: timingSkip });

test(
  "X25519 agreement and the public-key derivation take the same time for scalars of weight 2 and 253",
  () => {
    const out = new Uint8Array(32);
    const ladder = ratio(
      () => x25519(out, LIGHT, point),
      () => x25519(out, HEAVY, point),
      10,
    );
    const base = ratio(
      () => x25519Base(out, LIGHT),
      () => x25519Base(out, HEAVY),
      24,
    );
    say(`  ladder light/heavy ${ladder.toFixed(3)}, base ${base.toFixed(3)}`);
    assert(Math.abs(ladder - 1) < TOLERANCE, `ladder ratio ${ladder}`);
    assert(Math.abs(base - 1) < TOLERANCE, `base multiplication ratio ${base}`);
  },
  { skip: timingSkip },
);

test(
  "Ed25519 signing takes the same time for keys whose scalars differ most in weight",
  () => {
    const [lightSeed, low, heavySeed, high] = extremeSeeds(4000);
    using light = Ed25519Key.fromSeed(SecretBuffer.from(lightSeed));
    using heavy = Ed25519Key.fromSeed(SecretBuffer.from(heavySeed));
    const message = new Uint8Array(100).fill(1);
    const r = ratio(() => light.sign(message), () => heavy.sign(message), 24);
    say(`  sign, scalar weight ${low} / ${high}: ${r.toFixed(3)}`);
    assert(high - low > 40, `weights ${low} and ${high} too close to compare`);
    assert(Math.abs(r - 1) < TOLERANCE, `sign ratio ${r}`);
  },
  { skip: timingSkip },
);
