/**
 * System calls of a steady-state curve call, by `strace -f -c` over a child
 * that repeats it N times, minus the same child with 0 (same start-up and
 * warm-up; tests/children/keys_syscalls.ts). The curve work runs in a
 * reused guarded area (src/crypto/_work.ts), so what is left is the key's
 * own: a signature opens and closes the seed's pages (2 mprotect), a
 * verification touches no secret (none), and an agreement maps its result
 * (written as it is mapped: mmap ×2, madvise ×2, mprotect to rest), opens
 * and closes the scalar, and the result's destroy opens and unmaps it.
 * Before the reused area, each of the three also mapped, opened, closed and
 * unmapped a work area of its own (9 more calls for sign and verify).
 *
 * @module
 */

import assert from "node:assert/strict";
import { straceDelta } from "./_strace_delta.ts";
import { which } from "./_forensics.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const N = 1000;
const skip = linuxOnly || (which("strace") ? false : "strace is not installed");

/** Syscalls of the workload N times minus 0 times, by name. */
const traced = (workload: string): Map<string, number> =>
  straceDelta("keys_syscalls.ts", workload, N);

/**
 * The calls secmem makes itself for memory. Bun's allocator gives pages
 * back with madvise from a timer-driven scavenger thread (0.3 to 0.4 calls
 * per curve operation here, in proportion to time rather than to calls),
 * so madvise is not counted under Bun; secmem calls madvise only on pages
 * it has just mapped, so the mmap count still shows any mapping of ours.
 */
const MEMORY_CALLS =
  (runtime === "bun"
    ? "mmap mprotect munmap mlock munlock"
    : "mmap mprotect madvise munmap mlock munlock").split(" ");

/**
 * Per-op counts of the memory calls, to the nearest whole call. The rest
 * is the runtime's own (its collector gives pages back with madvise, its
 * compiler protects code pages); a curve call makes more heap garbage than
 * an alloc, so up to a quarter call per operation is allowed, which one
 * call of ours per operation could still never hide in.
 */
function perOp(delta: Map<string, number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const name of MEMORY_CALLS) {
    const exact = (delta.get(name) ?? 0) / N;
    const whole = Math.round(exact);
    assert(
      Math.abs(exact - whole) < 0.25,
      `${name}: ${exact.toFixed(3)} per operation is not a whole number`,
    );
    if (whole !== 0) counts[name] = whole;
  }
  return counts;
}

test(
  "a steady-state Ed25519 signature makes 2 system calls: the seed's scope (mprotect ×2), no work area mapped",
  () => {
    assert.deepEqual(perOp(traced("sign")), { mprotect: 2 });
  },
  { skip },
);

test("a steady-state Ed25519 verification makes no memory system call", () => {
  assert.deepEqual(perOp(traced("verify")), {});
}, { skip });

test(
  "a steady-state X25519 agreement (result destroyed) makes 9: its result's map and unmap and the scalar's scope",
  () => {
    const expected: Record<string, number> = {
      mmap: 2,
      madvise: 2,
      mprotect: 4,
      munmap: 1,
    };
    if (!MEMORY_CALLS.includes("madvise")) delete expected.madvise;
    assert.deepEqual(perOp(traced("agree")), expected);
  },
  { skip },
);
