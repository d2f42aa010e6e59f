/**
 * The keys entry's forensic test: in a fresh child of the running runtime,
 * once and under a server-style load, no copy of the Ed25519 seed, the
 * expanded scalar a, the prefix, the per-signature nonce r, the X25519
 * scalar (as given and clamped) or the shared secret outside their guarded
 * pages while the keys are alive and at rest (no forced GC), none anywhere
 * once they are destroyed; bytes and 32-bit words boxed as doubles both.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import {
  assertLeakFound,
  assertNoCopies,
  type CopiesReport,
  describeChild,
  lastJson,
  say,
} from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

interface Report extends CopiesReport {
  fn: string;
  calls: number;
  keysDestroyed: boolean;
}

const SECRETS = [
  "seed",
  "expandedA",
  "prefix",
  "nonce",
  "x25519Scalar",
  "x25519Clamped",
];

for (const mode of ["once", "load"]) {
  for (const fn of ["ed25519", "x25519"]) {
    test(
      `forensics (${fn === "ed25519" ? "Ed25519 sign" : "X25519 agree"}, ${
        mode === "load" ? "2,000 calls from 16 async tasks" : "one call"
      }): no copy outside guarded pages while alive, none after destroy`,
      () => {
        const result = runChild(childScript("keys_forensics.ts"), [fn, mode], {
          // Node's scan of ~230 needles took up to 133 s at a load of 14 on
          // 2 cores.
          timeout: 400_000,
        });
        assert.equal(result.status, 0, describeChild(result));
        const report = lastJson<Report>(result.stdout);
        say(
          `${fn} ${mode}: alive ${JSON.stringify(report.alive)} destroyed ${
            JSON.stringify(report.destroyed)
          } boxed ${JSON.stringify(report.boxedAlive)}`,
        );
        const expected = [...SECRETS];
        if (fn === "x25519") expected.push("shared");
        assert.deepEqual(Object.keys(report.alive).sort(), expected.sort());
        assertNoCopies(report);
        assert(report.keysDestroyed, "the keys report destroyed");
      },
      { skip: linuxOnly },
    );
  }
}

test(
  "keys forensics control: a heap copy of the seed, and one seed word kept as a number, are found while alive",
  () => {
    const result = runChild(childScript("keys_forensics.ts"), [
      "leak",
      "once",
    ], { timeout: 400_000 });
    assert.equal(result.status, 0, describeChild(result));
    const report = lastJson<Report>(result.stdout);
    assertLeakFound(report, "seed");
  },
  { skip: linuxOnly },
);
