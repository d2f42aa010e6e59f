/**
 * No copies from age: after 20 encryptions and decryptions of a guarded
 * 100 kB plaintext, no byte-for-byte copy of the plaintext, the identity's
 * scalar or a file key outside their guarded pages, alive (no forced GC)
 * or after destroy, nor their words boxed as heap numbers.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { lastJson, say } from "./_forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

interface Report {
  alive: Record<string, number>;
  destroyed: Record<string, number>;
  boxedAlive: number;
  boxedDestroyed: number;
  heapControl: number;
  statsRestored: boolean;
}

test(
  "age forensics: no copy of the plaintext, identity scalar or file key, alive or destroyed",
  () => {
    const result = runChild(childScript("age_forensics.ts"), [], {
      timeout: 300_000,
    });
    assert.equal(result.status, 0, result.stderr.slice(-2000));
    const report = lastJson<Report>(result.stdout);
    say(
      `  alive ${JSON.stringify(report.alive)} destroyed ${
        JSON.stringify(report.destroyed)
      } boxed ${report.boxedAlive}/${report.boxedDestroyed}`,
    );
    assert.ok(report.heapControl > 0, "the scan sees the heap");
    // The identity holds the scalar in its own guarded pages: one hit alive.
    assert.equal(
      report.alive.scalar,
      1,
      "alive: the identity's own copy of the scalar only",
    );
    for (const name of ["plaintext", "scalar", "fileKey"]) {
      if (name !== "scalar") {
        assert.equal(report.alive[name], 0, `alive: copies of ${name}`);
      }
      assert.equal(report.destroyed[name], 0, `destroyed: copies of ${name}`);
    }
    assert.equal(report.boxedAlive, 0, "boxed words alive");
    assert.equal(report.boxedDestroyed, 0, "boxed words destroyed");
    assert.ok(report.statsRestored, "every buffer destroyed");
  },
  { skip: linuxOnly },
);
