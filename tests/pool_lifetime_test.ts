/**
 * A pool's slots over a process's life: a dropped slot is taken back by
 * the finalizer, and freeing costs at most two system calls (strace).
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import assert from "node:assert/strict";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const GC_ENV = { DENO_V8_FLAGS: "--expose-gc", NODE_OPTIONS: "--expose-gc" };

test("a slot dropped without destroy is wiped and freed by the finalizer", () => {
  const child = runChild(childScript("pool_probe.ts"), ["finalize"], {
    env: GC_ENV,
  });
  assert.deepEqual(child.status, 0, child.stderr);
  const report = JSON.parse(child.stdout.trim().split("\n").at(-1)!);
  assert.deepEqual(report.before, 101);
  assert.deepEqual(report.after, 1, "only the slot still referenced stays");
  assert.deepEqual(report.viewLength, 0, "the dropped slot's view is detached");
  assert.deepEqual(report.keptState, "noaccess", "its open page was closed");
});

test("slots still alive at exit are wiped by the exit purge", () => {
  const child = runChild(childScript("pool_probe.ts"), ["exit"]);
  assert.deepEqual(child.status, 0, child.stderr);
  assert(child.stdout.includes("live before exit: 2"), child.stdout);
  assert(child.stdout.includes("live at exit: 0 destroyed"), child.stdout);
});

function straceSkip(): string | false {
  if (linuxOnly) return linuxOnly;
  return spawnSync("strace", ["-V"]).status === 0
    ? false
    : "needs strace (apt-get install strace)";
}

/** What the child did between its two markers. */
interface Trace {
  /** System calls of all threads, by name. */
  counts: Map<string, number>;
  /** mprotect calls of one page to PROT_NONE or PROT_READ|PROT_WRITE. */
  pagePlain: number;
}

function traceCycles(cycles: number, pageSize: number): Trace {
  const command = runtimeCommand(childScript("pool_probe.ts"), [
    "cycles",
    String(cycles),
  ]);
  const result = spawnSync("strace", [
    "-f",
    "-qq",
    "-e",
    "trace=!futex,clock_gettime,gettimeofday",
    ...command,
  ], { encoding: "utf8", timeout: 300_000, maxBuffer: 1 << 28 });
  assert.deepEqual(result.status, 0, result.stderr.slice(-2000));
  const counts = new Map<string, number>();
  const page = new RegExp(
    `^mprotect\\(0x[0-9a-f]+, ${pageSize}, (PROT_NONE|PROT_READ\\|PROT_WRITE)\\b(?!\\|)`,
  );
  let pagePlain = 0;
  let inside = false;
  for (const raw of result.stderr.split("\n")) {
    if (raw.includes('write(1, "start\\n"')) {
      inside = true;
      continue;
    }
    if (raw.includes('write(1, "end\\n"')) break;
    if (!inside) continue;
    const line = raw.replace(/^\[pid\s+\d+\]\s+/, "");
    const name = /^([a-z_0-9]+)\(/.exec(line)?.[1];
    if (name === undefined) continue;
    counts.set(name, (counts.get(name) ?? 0) + 1);
    if (page.test(line)) pagePlain++;
  }
  return { counts, pagePlain };
}

test("rest noaccess: a pooled alloc+destroy makes 2 system calls", async () => {
  const { native } = await import("../src/core/_native.ts");
  const cycles = 20_000;
  const { counts, pagePlain } = traceCycles(cycles, native().pageSize);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  console.log(
    `    ${
      (total / cycles).toFixed(4)
    } syscalls per alloc+destroy, all threads;` +
      ` one-page mprotects: ${pagePlain}; by name: ${
        JSON.stringify(Object.fromEntries(counts))
      }`,
  );
  // Open and close the page; the runtime may add a few of its own.
  assert(
    pagePlain >= 2 * cycles && pagePlain < 2 * cycles * 1.01,
    `two one-page mprotects per cycle (${pagePlain})`,
  );
  // Everything else is the runtime's own (JIT, GC threads), amortized.
  assert(total / cycles < 2.05, `about 2 per cycle (${total / cycles})`);
}, { skip: straceSkip() });
