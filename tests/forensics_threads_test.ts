/**
 * `findCopies` never reports another thread's open buffer as a copy of the
 * needle: that would tell the buffer's bytes (and address) to whoever
 * picks the needle. The main thread enters nothing in the process table,
 * so the table alone cannot tell its buffers, nor a Worker's before the
 * main thread has mapped it; the open-range list every thread writes can.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

for (const mode of ["main-scans", "worker-scans"]) {
  test(
    `findCopies (${mode}): another thread's open buffer is not reported as a copy`,
    () => {
      const run = runChild(childScript("forensics_threads.ts"), [mode]);
      assert.equal(
        run.status,
        0,
        `the child failed: ${run.stdout}${run.stderr}`,
      );
      assert.equal(run.stdout.trim(), "inside=0");
    },
    { skip: linuxOnly },
  );
}
