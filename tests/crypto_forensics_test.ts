/**
 * The crypto entry's forensic test: for each function, in a fresh child
 * of the running runtime, once and under a server-style load, no copy of
 * the key, the passphrase, the plaintext or the derived key outside their
 * guarded pages while they are alive and at rest (no forced GC), and none
 * anywhere once they are destroyed.
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
  inContexts: Record<string, number>;
  expectedInContexts: Record<string, number>;
}

const FUNCTIONS = [
  "hmac",
  "hkdf",
  "scrypt",
  "scryptSync",
  "encrypt",
  "decrypt",
  "hmacKey",
  "aeadKey",
];

for (const mode of ["once", "load"]) {
  for (const fn of FUNCTIONS) {
    test(
      `forensics (${fn}, ${
        mode === "once"
          ? "one call"
          : fn.endsWith("Key")
          ? "10,000 calls from 32 async tasks"
          : "4,000 calls from 32 async tasks"
      }): no copy outside guarded pages while alive, none after destroy`,
      () => {
        const result = runChild(
          childScript("crypto_forensics.ts"),
          [fn, mode],
          {
            timeout: 120_000,
          },
        );
        assert.equal(result.status, 0, describeChild(result));
        const report = lastJson<Report>(result.stdout);
        say(
          `${fn} ${mode}: alive ${JSON.stringify(report.alive)} destroyed ${
            JSON.stringify(report.destroyed)
          }`,
        );
        // A context's state is in its own slot, once per context, while it
        // lives: the scan must see it there (so it could see a copy).
        assert.deepEqual(report.inContexts, report.expectedInContexts);
        const expected = ["key", "plaintext", "passphrase"];
        if (!["hmac", "encrypt", "hmacKey"].includes(fn)) {
          expected.push("output");
        }
        if (fn === "hmacKey") expected.push("innerState", "outerState");
        if (fn === "encrypt" || fn === "aeadKey") expected.push("keystream");
        for (const name of expected) {
          assert(name in report.alive, `${name} was scanned for`);
        }
        assertNoCopies(report);
      },
      { skip: linuxOnly },
    );
  }
}

test(
  "forensics control: a heap copy of the key, and one key word kept as a number, are found while alive",
  () => {
    const result = runChild(childScript("crypto_forensics.ts"), [
      "leak",
      "once",
    ]);
    assert.equal(result.status, 0, describeChild(result));
    const report = lastJson<Report>(result.stdout);
    assertLeakFound(report, "key");
  },
  { skip: linuxOnly },
);
