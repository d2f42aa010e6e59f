/**
 * Review R8, the gap that needs src/core (`isOwnSource` in
 * src/core/_open.ts): a Worker's `SecretBuffer.from()` of a view over
 * another thread's open guarded pages (a scope's view whose buffer was
 * transferred to it) is not recognised, and its default wipe zeroes that
 * thread's secret inside a write scope, or faults (killing the process)
 * inside a read scope. README.md documents it ("Guarded sources of
 * from()"); these tests state the claim the house rules make ("no wipe of
 * memory that is not the caller's", "bad input never crashes the
 * process") and fail until the core fix lands. Kept in a file of its own
 * so that it can be merged, or left out, on its own.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

for (const scope of ["write", "read"]) {
  test(
    `a Worker's from() of the main thread's ${scope} scope view (buffer transferred to it) leaves that secret intact, and the process alive`,
    () => {
      const child = runChild(childScript("r8_worker_from.ts"), [scope]);
      assert.equal(child.status, 0, `exit ${child.status}: ${child.stderr}`);
      assert(child.stdout.includes("worker said copied 32"), child.stdout);
      assert(child.stdout.includes("main secret intact true"), child.stdout);
    },
    { skip: linuxOnly },
  );
}
