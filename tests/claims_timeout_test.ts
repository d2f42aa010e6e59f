/**
 * Evidence for `fromFile`'s `timeout` on a FIFO: 30000 ms by default,
 * `Infinity` waits for ever. A child moves its own clock (see
 * tests/children/claims_timeout.ts), so no test waits 30 seconds.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

test(
  "fromFile on a FIFO: the default timeout is 30000 ms, Infinity waits for ever",
  () => {
    const folder = mkdtempSync(join(tmpdir(), "secmem-timeout-"));
    try {
      const fifo = join(folder, "fifo");
      assert.equal(spawnSync("mkfifo", [fifo]).status, 0, "mkfifo");
      const run = runChild(childScript("claims_timeout.ts"), [fifo]);
      assert.equal(
        run.status,
        0,
        `the child failed: ${run.stdout}${run.stderr}`,
      );
      assert.deepEqual(run.stdout.trim().split("\n"), [
        "explicit-1000 INPUT_ERROR 1000",
        "default-29s pending",
        "default-31s INPUT_ERROR 30000",
        "infinity-later pending",
        "infinity-written size 1",
      ]);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
  { skip: linuxOnly },
);
