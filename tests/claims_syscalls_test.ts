/**
 * Evidence for the README's system-call counts, by `strace -f -c` over a
 * child that repeats one operation N times, minus the same child with 0
 * (same start-up and warm-up): 7 calls per alloc+destroy (2 mmap,
 * 2 mprotect, 2 madvise, 1 munmap), 9 with memfd_secret, none for a slot
 * of a `rest: "readwrite"` pool, and one getrandom per 256 buffers for
 * canaries. Counts are of every thread, so the runtime's own calls (futex,
 * heap growth) are noise that shrinks as 1/N; the memory calls are checked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { capabilities } from "../mod.ts";
import { straceDelta } from "./_strace_delta.ts";
import { which } from "./_forensics.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const N = 2560;
const skip = linuxOnly || (which("strace") ? false : "strace is not installed");
const secretSupport = linuxOnly ? undefined : capabilities().secretMemory;

/** Syscalls of the workload `count` times minus 0 times, by name. */
const traced = (workload: string, count: number): Map<string, number> =>
  straceDelta("claims_syscalls.ts", workload, count);

/** The calls secmem makes itself for a buffer (close: the memfd's). */
const MEMORY_CALLS =
  "mmap mprotect madvise munmap mlock munlock memfd_secret ftruncate close"
    .split(" ");

/**
 * Per-op counts of the memory calls, to the nearest whole call. What is
 * left over is the runtime's own (its collector and compiler map and
 * protect pages too); it must stay under a tenth of a call per operation,
 * so one call of ours per operation could never hide in it.
 */
function perOp(delta: Map<string, number>, count: number) {
  const counts: Record<string, number> = {};
  for (const name of MEMORY_CALLS) {
    const exact = (delta.get(name) ?? 0) / count;
    const whole = Math.round(exact);
    assert(
      Math.abs(exact - whole) < 0.1,
      `${name}: ${exact.toFixed(3)} per operation is not a whole number`,
    );
    if (whole !== 0) counts[name] = whole;
  }
  return counts;
}

test(
  "alloc+destroy makes 7 system calls: 2 mmap, 2 mprotect, 2 madvise, 1 munmap",
  () => {
    const delta = traced("alloc", N);
    assert.deepEqual(perOp(delta, N), {
      mmap: 2,
      mprotect: 2,
      madvise: 2,
      munmap: 1,
    });
  },
  { skip },
);

test("one getrandom per 256 buffers (canaries)", () => {
  const delta = traced("alloc", N);
  const calls = delta.get("getrandom") ?? 0;
  assert(Math.abs(calls - N / 256) <= 1, `${calls} getrandom for ${N} buffers`);
}, { skip });

test("a memfd_secret alloc+destroy makes 9 system calls", () => {
  const delta = traced("secretmem", N);
  const counts = perOp(delta, N);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  console.log(
    `[${runtime}]   secretmem memory calls: ${JSON.stringify(counts)}`,
  );
  assert.equal(total, 9, JSON.stringify(counts));
}, {
  skip: skip ||
    (secretSupport?.available
      ? false
      : `memfd_secret unavailable: ${secretSupport?.detail}`),
});

test("a readwrite pool's alloc+destroy makes no memory system call", () => {
  const delta = traced("pool-readwrite", N);
  assert.deepEqual(perOp(delta, N), {});
  assert.equal(delta.get("getrandom") ?? 0, 0, "getrandom was called");
}, { skip });
