/**
 * What only the aarch64 pass can check, run by tests/aarch64/suite.ts
 * under qemu-aarch64 (not by tests/run.ts):
 * - every constant ffi/linux.ts and tests/_test_libc.ts restate by hand,
 *   against aarch64 glibc's and the arm64 kernel's headers, as a C program
 *   compiled for aarch64 printed them (tests/aarch64/probe.c);
 * - the calls qemu-user accepts without carrying out (madvise) and the one
 *   it does not know (memfd_secret), in qemu's own log of the system calls
 *   the arm64 runtime made.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { LINUX } from "../../ffi/linux.ts";
import { native } from "../../src/core/_native.ts";
import { childScript, runChild } from "../_child.ts";
import { describeChild, lastJson } from "../_forensics.ts";
import { test } from "../_harness.ts";
import { TEST_LINUX } from "../_test_libc.ts";
import { qemuUser, traceNumber, traceSyscalls } from "./_qemu.ts";

const env = (globalThis as unknown as {
  process: { env: Record<string, string | undefined> };
}).process.env;
const probeFile = env.SECMEM_AARCH64_PROBE;
const notQemu = qemuUser === undefined
  ? "runs under qemu-aarch64 only (tests/aarch64/run.sh)"
  : false;

test("the probe ran on aarch64 and this runtime is arm64", () => {
  assert.equal(qemuUser, "aarch64");
  assert.equal(native().arch, "arm64");
}, { skip: notQemu });

/**
 * Runs `body` with a fresh trace, up to three times. qemu writes a call's
 * name and its result in two pieces, and Bun's other threads write between
 * them, so a log can lose the very line a check looks for: a lossy
 * instrument, not a change in what the child did. A check that fails three
 * traces in a row fails the test.
 */
function withTrace(body: (trace: ReturnType<typeof traceSyscalls>) => void) {
  for (let attempt = 1;; attempt++) {
    const trace = traceSyscalls();
    try {
      body(trace);
      return;
    } catch (error) {
      if (attempt === 3 || !(error instanceof assert.AssertionError)) {
        throw error;
      }
      console.log(`[aarch64]   trace ${attempt} incomplete, tracing again`);
    } finally {
      trace.dispose();
    }
  }
}

test(
  "ffi/linux.ts and tests/_test_libc.ts match aarch64 glibc's headers, termios included",
  () => {
    assert.ok(probeFile, "SECMEM_AARCH64_PROBE names the probe's output");
    const probe = JSON.parse(readFileSync(probeFile, "utf8")) as Record<
      string,
      number
    >;
    const tables: Record<string, unknown> = { ...TEST_LINUX, ...LINUX };
    let compared = 0;
    for (const [name, value] of Object.entries(probe)) {
      if (!(name in tables)) continue;
      assert.equal(tables[name], value, `${name} on aarch64`);
      compared++;
    }
    // The whole termios struct is copied, so its size matters as well as
    // the two offsets; tcflag_t must be the 32 bits the prompt writes.
    assert.equal(probe.TERMIOS_LFLAG_SIZE, 4, "sizeof(tcflag_t)");
    // getrlimit's struct: two 64-bit rlim_t, RLIM_INFINITY all ones.
    assert.equal(probe.RLIMIT_SIZE, 16, "sizeof(struct rlimit)");
    assert.equal(probe.RLIM_INFINITY_IS_ALL_ONES, 1, "RLIM_INFINITY");
    // The fork proof's machine code uses these syscall numbers.
    assert.equal(probe.SYS_write, 64, "__NR_write");
    assert.equal(probe.SYS_exit_group, 94, "__NR_exit_group");
    // secmem passes flags 0 to getrandom; these say the generic numbering.
    assert.equal(probe.GRND_NONBLOCK, 1);
    assert.equal(probe.GRND_RANDOM, 2);
    assert.equal(probe.PAGE_SIZE_AT_RUN, native().pageSize, "page size");
    assert.ok(compared >= 50, `compared ${compared} constants`);
  },
  { skip: notQemu },
);

interface KeepOutReport {
  page: number;
  data: string;
  reservation: string;
  secretMemory: { available: boolean; detail: string };
}

test(
  "qemu's log shows the data page mapped locked, then MADV_DONTDUMP and MADV_WIPEONFORK on it, PROT_NONE at rest",
  () =>
    withTrace((trace) => {
      const result = runChild(
        childScript("../aarch64/children/keep_out.ts"),
        [],
        { env: trace.env },
      );
      assert.equal(result.status, 0, describeChild(result));
      const report = lastJson<KeepOutReport>(result.stdout);
      const data = BigInt(report.data);
      const reservation = BigInt(report.reservation);
      const calls = trace.read();
      const on = (name: string, address: bigint) =>
        calls.filter((c) =>
          c.name === name && c.args.length > 0 &&
          traceNumber(c.args[0]) === address
        );
      const length = String(report.page);

      // The reservation asks for any address: find it by what mmap gave.
      const reserve = calls.filter((c) =>
        c.name === "mmap" && traceNumber(c.result) === reservation
      );
      assert.ok(
        reserve.some((c) =>
          c.args[1] === String(3 * report.page) && c.args[2] === "PROT_NONE" &&
          c.args[3].includes("MAP_NORESERVE")
        ),
        "one PROT_NONE reservation of three pages",
      );
      const commit = on("mmap", data);
      assert.ok(
        commit.some((c) =>
          c.args[1] === length && c.args[3].includes("MAP_FIXED") &&
          c.args[3].includes("MAP_LOCKED")
        ),
        `the data page mapped MAP_FIXED|MAP_LOCKED: ${JSON.stringify(commit)}`,
      );
      const advice = on("madvise", data).filter((c) => c.args[1] === length)
        .map((c) => `${c.args[2]} = ${c.result}`);
      assert.ok(advice.includes("MADV_DONTDUMP = 0"), advice.join("; "));
      assert.ok(advice.includes("MADV_WIPEONFORK = 0"), advice.join("; "));
      assert.ok(
        on("mprotect", data).some((c) =>
          c.args[1] === length && c.args[2] === "PROT_NONE"
        ),
        "the data page rests PROT_NONE",
      );
      assert.ok(
        on("munmap", reservation).some((c) =>
          c.args[1] === String(3 * report.page)
        ),
        "destroy unmaps the whole reservation",
      );
      console.log(
        `[aarch64]   data page ${report.data}: ${advice.join(", ")}`,
      );
    }),
  { skip: notQemu },
);

test(
  "the arm64 runtime issues memfd_secret as syscall 447 (qemu-user 7.2 does not know it: ENOSYS)",
  () =>
    withTrace((trace) => {
      const result = runChild(
        childScript("../aarch64/children/keep_out.ts"),
        [],
        { env: trace.env },
      );
      assert.equal(result.status, 0, describeChild(result));
      const report = lastJson<KeepOutReport>(result.stdout);
      const calls = trace.read();
      const issued = calls.some((c) =>
        c.name === "syscall_447" || c.name === "memfd_secret"
      );
      assert.ok(issued, "syscall 447 in qemu's log");
      if (!report.secretMemory.available) {
        assert.match(report.secretMemory.detail, /^ENOSYS/);
      }
      console.log(
        `[aarch64]   memfd_secret: ${report.secretMemory.detail}`,
      );
    }),
  { skip: notQemu },
);
