/**
 * Lifetime backstops, each in a child process: buffers still live at exit
 * are wiped and unmapped; catchInterrupt wipes on SIGINT and exits 130; a
 * buffer dropped without destroy is wiped by the finalizer, which also
 * detaches a view the caller kept.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

test("buffers still live at exit are destroyed before the process ends", () => {
  const child = runChild(childScript("lifetime.ts"), ["exit"]);
  assert.deepEqual(child.status, 0, child.stderr);
  assert(child.stdout.includes("live before exit: 2"), child.stdout);
  assert(child.stdout.includes("live at exit: 0"), child.stdout);
}, { skip: linuxOnly });

for (const [signal, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
  test(
    `catchInterrupt wipes every buffer on ${signal} and exits ${code}`,
    () => {
      const child = runChild(childScript("lifetime.ts"), ["interrupt", signal]);
      assert(child.stdout.includes("live before signal: 1"), child.stdout);
      assert.deepEqual(
        child.status,
        code,
        `status ${child.status}, signal ${child.signal}: ${child.stderr}`,
      );
      assert(child.stdout.includes("live at exit: 0"), child.stdout);
      assert(!child.stdout.includes("still running"), child.stdout);
    },
    { skip: linuxOnly },
  );
}

test(
  "a buffer dropped without destroy is wiped, unmapped and its kept view detached",
  () => {
    // Deno and Node need V8's gc() exposed; Bun has Bun.gc.
    const gcFlag = runtime === "deno"
      ? ["--v8-flags=--expose-gc"]
      : runtime === "node"
      ? ["--expose-gc"]
      : [];
    const [exe, ...rest] = runtimeCommand(childScript("lifetime.ts"), [
      "finalize",
    ]);
    const command = runtime === "deno"
      ? [exe, rest[0], ...gcFlag, ...rest.slice(1)]
      : [exe, ...gcFlag, ...rest];
    const child = runChild(childScript("lifetime.ts"), ["finalize"], {
      commandOverride: command,
    });
    assert.deepEqual(child.status, 0, child.stderr);
    console.log(`[${runtime}]   ${child.stdout.trim().replaceAll("\n", "; ")}`);
    assert(child.stdout.includes("live after gc: 0"), child.stdout);
    assert(child.stdout.includes("view length: 0"), child.stdout);
    assert(child.stdout.includes("still mapped: false"), child.stdout);
  },
  { skip: linuxOnly },
);
