/**
 * Evidence for `fromHex` and `fromBase64`: they decode into the pages
 * without `atob` (replaced before secmem loads, it is never called) and
 * leave no heap copy of the key (a scan of the process's memory after
 * destroy finds none; a kept `atob` result, the control, is found).
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

function decode(mode: string): string {
  const run = runChild(childScript("claims_decode.ts"), [mode]);
  assert.equal(run.status, 0, `the child failed: ${run.stdout}${run.stderr}`);
  return run.stdout.trim();
}

test(
  "fromBase64 and fromHex call no atob and leave 0 copies of the key; a kept atob result is found",
  () => {
    assert.equal(decode("plain"), "equal true atob 0/0 copies 0");
    const control = /^equal true atob 0\/1 copies (\d+)$/.exec(
      decode("control"),
    );
    assert(control, "the control did not run as planned");
    assert(Number(control[1]) >= 1, "the scan missed the kept atob copy");
  },
  { skip: linuxOnly },
);
