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
import { describeChild, lastJson, say } from "./_forensics.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

interface Report {
  fn: string;
  calls: number;
  alive: Record<string, number>;
  destroyed: Record<string, number>;
  inOwnPage: Record<string, number>;
  boxedAlive: Record<string, number>;
  boxedDestroyed: Record<string, number>;
  leakedWord: boolean;
  heapControl: number;
  keysDestroyed: boolean;
  statsRestored: boolean;
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
          timeout: 180_000,
        });
        assert.equal(result.status, 0, describeChild(result));
        const report = lastJson<Report>(result.stdout);
        say(
          `${fn} ${mode}: alive ${JSON.stringify(report.alive)} destroyed ${
            JSON.stringify(report.destroyed)
          } boxed ${JSON.stringify(report.boxedAlive)}`,
        );
        assert(report.heapControl > 0, "the scan sees the heap");
        const expected = [...SECRETS];
        if (fn === "x25519") expected.push("shared");
        assert.deepEqual(Object.keys(report.alive).sort(), expected.sort());
        for (const [name, hits] of Object.entries(report.inOwnPage)) {
          assert.equal(hits, 1, `the scan sees ${name} in its own page`);
        }
        for (const [name, hits] of Object.entries(report.alive)) {
          assert.equal(hits, 0, `alive: copies of ${name}`);
        }
        for (const [name, hits] of Object.entries(report.destroyed)) {
          assert.equal(hits, 0, `destroyed: copies of ${name}`);
        }
        for (const [name, hits] of Object.entries(report.boxedAlive)) {
          assert.equal(hits, 0, `alive: ${name}'s words as boxed numbers`);
        }
        for (const [name, hits] of Object.entries(report.boxedDestroyed)) {
          assert.equal(hits, 0, `destroyed: ${name}'s words as boxed numbers`);
        }
        assert(report.keysDestroyed, "the keys report destroyed");
        assert(report.statsRestored, "nothing left mapped");
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
    ]);
    assert.equal(result.status, 0, describeChild(result));
    const report = lastJson<Report>(result.stdout);
    assert(report.alive.seed >= 1, "the kept copy (a GC may have moved it)");
    assert.equal(report.inOwnPage.seed, 1);
    // V8 boxes an unsigned number above 2^31 on its heap; JavaScriptCore
    // keeps every number in the value itself, so Bun has nothing to find.
    if (report.leakedWord && runtime !== "bun") {
      assert(report.boxedAlive.seed >= 1, "the kept word, boxed");
    }
  },
  { skip: linuxOnly },
);
