/**
 * Evidence that a running Worker's buffers are its own: the main thread's
 * `purge()` destroys the main thread's buffers (control) and leaves a
 * running Worker's alive and intact, while `stats().otherThreadBuffers`
 * counts it before and after.
 *
 * @module
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

test(
  "the main thread's purge() leaves a running Worker's buffer alive and intact, and destroys its own",
  () => {
    const folder = mkdtempSync(join(tmpdir(), "secmem-purge-"));
    try {
      const run = runChild(childScript("claims_worker_purge.ts"), [
        join(folder, "go"),
      ]);
      assert.equal(
        run.status,
        0,
        `the child failed: ${run.stdout}${run.stderr}`,
      );
      assert.deepEqual(run.stdout.trim().split("\n"), [
        "other before purge=1",
        "other after purge=1",
        "main buffer=destroyed",
        "worker buffer=noaccess intact=true",
      ]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
  { skip: linuxOnly },
);
