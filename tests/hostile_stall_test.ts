/**
 * Adversarial suite, issue 23 class 2: async work that stalls the event
 * loop. Async `scrypt` used to run in slices of 1,024 ROMix steps whatever
 * r was, and each PBKDF2 phase in one go, so valid parameters inside the
 * 1 GiB limit held the loop for seconds. Here a 10 ms interval timer runs
 * while the worst shapes of each phase run, and the longest gap between
 * its ticks must stay under a bound that leaves a loaded 2-core machine
 * room (the slices are about 5 ms of work): one BlockMix of a 4 MiB
 * block (N=2, r=2^15), a PBKDF2 of 4 MiB for B (p=4096), a long salt, a
 * long passphrase, a long output, and the common N=2^14 r=8. The shapes
 * stay near 20 MiB because the end is not sliced: `destroy` wipes V, then
 * (a turn later) the work area, each in one go, 6-7 ms a MiB on a
 * 2-core VM under a load of 12. Each result
 * must also equal node:crypto's, so a slice that stops mid-BlockMix or
 * mid-HMAC resumes to the same bytes.
 *
 * The Enclave has no asynchronous entry (seal and open return their
 * result), so there is no Enclave shape here: a synchronous call cannot
 * give the loop a turn.
 *
 * @module
 */

import assert from "node:assert/strict";
import nodeCrypto from "node:crypto";
import { SecretBuffer } from "../mod.ts";
import { scrypt } from "../crypto.ts";
import { runtime, test } from "./_harness.ts";

/** The longest a 10 ms timer may wait while scrypt runs. */
const BOUND_MS = 250;

/** Runs `work` under a 10 ms interval; the longest gap between ticks. */
async function longestGap(work: () => Promise<void>): Promise<number> {
  let last = performance.now();
  let longest = 0;
  const tick = () => {
    const now = performance.now();
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
    name: "one 8 MiB block",
    N: 2,
    r: 65536,
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
    name: "a 4 MiB salt",
    N: 16,
    r: 1,
    p: 4,
    length: 32,
    passphrase: 8,
    salt: 4 << 20,
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
