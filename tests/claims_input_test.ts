/**
 * Evidence for the README's warnings about input that secmem does not
 * control: the runtimes' own file streams leave copies of a file's bytes
 * before secmem sees them (1 each: Bun's `fs.createReadStream` and
 * `Bun.file().stream()`, Node's and Deno's `fs.createReadStream`; Bun's
 * were 2 in a run of 2026-12-02), while `fromFile` leaves none; and
 * `crypto.getRandomValues` keeps a copy of its output in Deno and Bun,
 * while `SecretBuffer.random` leaves none; and copies between guarded
 * buffers (`slice`, `from(buffer)`, `copyTo`) and `writeTo` go by native
 * calls, never through the heap: 0 copies after destroy. Each figure is counted by a
 * child that scans its own memory (tests/children/claims_scan.ts); a
 * control run that keeps one heap copy shows the scan can see.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

/** Copies the child finds after getting a fresh secret `how`. */
function copies(how: string): number {
  const dir = mkdtempSync(join(tmpdir(), "secmem-claims-"));
  try {
    const path = join(dir, "secret");
    // The shell makes the secret: this process never holds it.
    const made = spawnSync("/bin/sh", [
      "-c",
      `head -c 32 /dev/urandom > '${path}'`,
    ]);
    assert.equal(made.status, 0, "could not make the secret file");
    const run = runChild(childScript("claims_scan.ts"), [how, path]);
    const match = /^copies (\d+) scanned \d+$/m.exec(run.stdout);
    assert(match !== null, `unexpected output: ${run.stdout}${run.stderr}`);
    console.log(`[${runtime}]   ${how}: ${match[1]} copies after destroy`);
    return Number(match[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * What each runtime's own file streams leave, as measured here and given in
 * the README and docs/claims.md (2026-12-06: Bun 1 and 1 in three runs,
 * Node 1, Deno 1).
 */
const STREAM_COPIES: Record<string, [string, number][]> = {
  bun: [["node-stream", 1], ["bun-file-stream", 1]],
  node: [["node-stream", 1]],
  deno: [["node-stream", 1]],
};

test("the scan sees a heap copy (control)", () => {
  assert(copies("control") >= 1, "the control copy was not seen");
}, { skip: linuxOnly });

test("fromFile leaves 0 copies of a file's bytes", () => {
  assert.equal(copies("file"), 0);
}, { skip: linuxOnly });

for (const [how, expected] of STREAM_COPIES[runtime]) {
  test(
    `${runtime}'s own file stream (${how}) leaves copies (${expected} measured)`,
    () => {
      // The figure is the README's: a runtime release that changes it
      // fails here, and the README and docs/claims.md change with it.
      const found = copies(how);
      assert.equal(
        found,
        expected,
        `${how} left ${found} copies, the README says ${expected}: update both`,
      );
    },
    { skip: linuxOnly },
  );
}

test(
  runtime === "node"
    ? "crypto.getRandomValues leaves no copy in Node"
    : `crypto.getRandomValues keeps a copy of its output in ${runtime}`,
  () => {
    const found = copies("get-random-values");
    console.log(`    getRandomValues: ${found} copies`);
    if (runtime === "node") assert.equal(found, 0);
    else assert.ok(found >= 1, "the runtime no longer keeps a copy");
  },
  { skip: linuxOnly },
);

test("SecretBuffer.random leaves 0 copies", () => {
  assert.equal(copies("random"), 0);
}, { skip: linuxOnly });

for (const mode of ["async", "sync"]) {
  test(
    `fromStdin${
      mode === "sync" ? "Sync" : ""
    } blocks the thread while it waits (no timer runs)`,
    () => {
      // The writer starts late, so the read has to wait for it.
      const run = runChild(
        childScript("claims_stdin_block.ts"),
        mode === "sync" ? ["sync"] : [],
        { shellPrefix: "(sleep 0.3; printf abc) |" },
      );
      const match = /^ticks before (\d+) during (\d+) size 3$/m.exec(
        run.stdout,
      );
      assert(match !== null, `unexpected output: ${run.stdout}${run.stderr}`);
      assert(Number(match[1]) > 0, "the timer never ran, so proves nothing");
      assert.equal(Number(match[2]), 0, "timers ran while stdin was read");
    },
    { skip: linuxOnly },
  );
}

for (const how of ["slice", "from-buffer", "copy-to", "write-to"]) {
  test(
    `${how}: copying between guarded buffers (or out by write(2)) leaves 0 copies in the heap`,
    () => {
      assert.equal(copies(how), 0);
    },
    { skip: linuxOnly },
  );
}
