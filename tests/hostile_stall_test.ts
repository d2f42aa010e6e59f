/**
 * Adversarial suite, issue 23 class 2: async work that stalls the event
 * loop. Async `scrypt` used to run in slices of 1,024 ROMix steps whatever
 * r was, and each PBKDF2 phase in one go, so valid parameters inside the
 * 1 GiB limit held the loop for seconds. Here a 10 ms interval timer runs
 * while the worst shapes of each phase run: one BlockMix of a 4 MiB block
 * (N=2, r=2^15), a PBKDF2 of 4 MiB for B (p=4096), an 8 MiB salt, a
 * 4 MiB passphrase, a 2 MiB output, and the common N=2^14 r=8. The
 * longest gap between ticks must stay under 400 ms: the slices are 5 ms
 * of work, and the bound leaves room for a 2-core machine under a load of
 * 15 (where 5 ms of work takes 30-80 ms) and for the end, which is not
 * sliced: V, then a turn later the work area, is wiped in one go, 6-7 ms
 * a MiB under that load, which is why the shapes stay near 20 MiB. On
 * main the same shapes waited 0.6-5 s. Each result must equal
 * node:crypto's, so a slice that stops mid-BlockMix or mid-HMAC resumes
 * to the same bytes.
 *
 * The Enclave has no asynchronous entry (seal and open return their
 * result), so there is no Enclave shape here: a synchronous call cannot
 * give the loop a turn.
 *
 * @module
 */

import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import { purge, SecretBuffer, stats } from "../mod.ts";
import { scrypt } from "../crypto.ts";
import { assertRejectsCode } from "./_error_code.ts";
import { runtime, test } from "./_harness.ts";

/** The longest a 10 ms timer may wait while scrypt runs. */
const BOUND_MS = 400;

// The test's own clock, kept before a test replaces the global one.
const clock = performance;
const clockNow = performance.now;
const realNow = (): number => Reflect.apply(clockNow, clock, []) as number;

/** Runs `work` under a 10 ms interval; the longest gap between ticks. */
async function longestGap(work: () => Promise<void>): Promise<number> {
  let last = realNow();
  let longest = 0;
  const tick = () => {
    const now = realNow();
    longest = Math.max(longest, now - last);
    last = now;
  };
  const timer = setInterval(tick, 10);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  tick();
  return longest;
}

interface Shape {
  name: string;
  N: number;
  r: number;
  p: number;
  length: number;
  passphrase: number;
  salt: number;
}

const SHAPES: Shape[] = [
  {
    name: "one 4 MiB block",
    N: 2,
    r: 32768,
    p: 1,
    length: 32,
    passphrase: 8,
    salt: 16,
  },
  {
    name: "PBKDF2 of 4 MiB",
    N: 16,
    r: 8,
    p: 4096,
    length: 32,
    passphrase: 8,
    salt: 16,
  },
  {
    name: "an 8 MiB salt",
    N: 16,
    r: 1,
    p: 4,
    length: 32,
    passphrase: 8,
    salt: 8 << 20,
  },
  {
    name: "a 4 MiB passphrase",
    N: 16,
    r: 1,
    p: 1,
    length: 32,
    passphrase: 4 << 20,
    salt: 16,
  },
  {
    name: "a 2 MiB output",
    N: 16,
    r: 1,
    p: 1,
    length: 2 << 20,
    passphrase: 8,
    salt: 16,
  },
  {
    name: "N=2^14 r=8",
    N: 16384,
    r: 8,
    p: 1,
    length: 64,
    passphrase: 8,
    salt: 16,
  },
];

/** Public test bytes of `length`, a pattern that is not all one value. */
function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = (i * 131 + seed * 17 + (i >> 8)) & 0xff;
  }
  return out;
}

for (const shape of SHAPES) {
  const { N, r, p, length } = shape;
  test(
    `scrypt (${shape.name}: N=${N} r=${r} p=${p}) gives a 10 ms timer a turn within ${BOUND_MS} ms, and the same key as node:crypto`,
    async () => {
      const pw = pattern(shape.passphrase, 1);
      const salt = pattern(shape.salt, 2);
      const expected = nodeCrypto.scryptSync(pw, salt, length, {
        N,
        r,
        p,
        maxmem: 2 ** 31,
      });
      using passphrase = SecretBuffer.from(pw.slice());
      let same = false;
      const gap = await longestGap(async () => {
        using key = await scrypt(
          passphrase,
          { salt, N, r, p, length },
          { lock: "best-effort" },
        );
        same = key.read((bytes) => {
          let diff = 0;
          for (let i = 0; i < length; i++) diff |= bytes[i] ^ expected[i];
          return diff === 0;
        });
      });
      console.log(
        `[${runtime}]   ${shape.name}: longest gap ${gap.toFixed(1)} ms`,
      );
      assert(same, "the key equals node:crypto's");
      assert(
        gap < BOUND_MS,
        `the event loop waited ${gap.toFixed(0)} ms (bound ${BOUND_MS})`,
      );
    },
  );
}

test(
  `scrypt keeps its slices when the caller replaces performance.now and Date.now (frozen at 0) after import`,
  async () => {
    const pw = pattern(8, 1);
    const salt = pattern(16, 2);
    const params = { salt, N: 2, r: 32768, p: 1, length: 32 };
    const expected = nodeCrypto.scryptSync(pw, salt, 32, params);
    using passphrase = SecretBuffer.from(pw.slice());
    const host = globalThis as unknown as {
      performance: { now: () => number };
      Date: { now: () => number };
    };
    const dateNow = Date.now;
    let same = false;
    host.performance.now = () => 0;
    host.Date.now = () => 0;
    let gap: number;
    try {
      gap = await longestGap(async () => {
        using key = await scrypt(passphrase, params, { lock: "best-effort" });
        same = key.read((bytes) => bytes.every((b, i) => b === expected[i]));
      });
    } finally {
      host.performance.now = clockNow;
      host.Date.now = dateNow;
    }
    console.log(
      `[${runtime}]   frozen clocks: longest gap ${gap.toFixed(1)} ms`,
    );
    assert(same, "the key equals node:crypto's");
    assert(gap < BOUND_MS, `the event loop waited ${gap.toFixed(0)} ms`);
  },
);

test(
  "purge() between two slices: scrypt rejects with DESTROYED, never touches the wiped pages, and leaves nothing mapped",
  async () => {
    const before = JSON.stringify(stats());
    using passphrase = SecretBuffer.from(pattern(8, 1));
    const running = scrypt(
      passphrase,
      { salt: pattern(16, 2), N: 16384, r: 8, p: 1, length: 32 },
      { lock: "best-effort" },
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    purge();
    await assertRejectsCode(() => running, "DESTROYED");
    assert.equal(JSON.stringify(stats()), before, "nothing left mapped");
  },
);
