/**
 * The first secret after import costs few system calls: in the main
 * thread the process table is neither mapped nor looked for (no /proc
 * read, no memfd), since no other thread ever needs to reclaim the main
 * thread's buffers (see src/core/_process_table.ts). Counted by `strace -f`
 * in the thread that made the secret, between marks the child leaves.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { which } from "./_forensics.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

/** The calls of the marking thread between each pair of marks. */
function traced(): { first: string[]; second: string[] } {
  const dir = mkdtempSync(join(tmpdir(), "secmem-startup-"));
  try {
    const out = join(dir, "trace");
    const command = runtimeCommand(childScript("startup_syscalls.ts"));
    const run = runChild("", [], {
      commandOverride: ["strace", "-f", "-qq", "-o", out, "--", ...command],
      timeout: 120_000,
    });
    assert.equal(run.status, 0, run.stdout + run.stderr);
    const calls = { first: [] as string[], second: [] as string[] };
    let thread: string | undefined;
    let part: "first" | "second" | undefined;
    for (const line of readFileSync(out, "utf8").split("\n")) {
      const match = /^(\d+)\s+(.*)$/.exec(line);
      if (match === null) continue;
      const [, tid, call] = match;
      const mark = /secmem-mark-(first|second|end)/.exec(call)?.[1];
      if (mark !== undefined && (thread === undefined || tid === thread)) {
        thread = tid;
        part = mark === "end" ? undefined : mark as "first" | "second";
        continue;
      }
      // A call strace shows in two pieces is counted once.
      if (part === undefined || tid !== thread || call.startsWith("<...")) {
        continue;
      }
      calls[part].push(call);
    }
    return calls;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const names = (calls: string[]) => calls.map((c) => c.replace(/\(.*/, ""));

/**
 * The calls less the runtime's own reads of /proc/self/statm: Bun reads it
 * as its heap grows and is collected (64 times in a script that makes three
 * million objects, with no secmem), and one fell between the marks in CI.
 * secmem reads no statm.
 */
const ours = (calls: string[]) =>
  calls.filter((c) => !/^openat\([^"]*"\/proc\/self\/statm"/.test(c));

test(
  "the main thread's first secret reads no /proc file and maps no table",
  () => {
    const { first, second } = traced();
    console.log(
      `[${runtime}]   first secret: ${first.length} calls in its thread` +
        ` (${names(first).join(" ")}); second: ${second.length}`,
    );
    assert.ok(second.length > 0, "the trace found the marks");
    for (const call of ours(first)) {
      assert.doesNotMatch(call, /^(open|openat|memfd_create|ftruncate)\(/);
    }
    // Whether this is the process's first thread: gettid and getpid, once.
    assert.ok(names(first).filter((n) => n === "gettid").length <= 1);
    assert.ok(names(first).filter((n) => n === "getpid").length <= 1);
    // The second costs what any later one does: nothing is looked up again.
    for (const name of ["gettid", "getpid", "openat", "memfd_create"]) {
      assert.ok(!names(ours(second)).includes(name), `${name} in ${second}`);
    }
  },
  {
    skip: linuxOnly || (which("strace") ? false : "strace is not installed"),
  },
);
