/**
 * The aarch64 pass's subset of the suite, run by tests/aarch64/run.sh under
 * qemu-aarch64 in each runtime: what differs by architecture (constants,
 * layout, protections, the input syscalls, termios, the fork proof,
 * memlock), not the arch-neutral logic the x86_64 pass already covers.
 * Prints `aarch64-<runtime>: N passed, N failed, N skipped`.
 * Usage: `<runtime> tests/aarch64/suite.ts [filter]`.
 *
 * @module
 */

import { runFiles, runtime } from "../_harness.ts";

/** The files, and the reason each one is here. */
const FILES: Record<string, string> = {
  "aarch64/qemu_test.ts": "constants vs arm64 headers; madvise by syscall log",
  "core/layout_test.ts": "4, 16 and 64 KiB pages",
  "smaps_test.ts": "locked, guarded, inaccessible at rest",
  "core/access_test.ts": "protection changes of the scopes",
  "fault_test.ts": "guard pages and the rest state fault (SIGSEGV)",
  "input_fd_test.ts": "open, read, pread, write into the pages",
  "input_prompt_test.ts": "termios through a pseudo-terminal",
  "proof_fork_test.ts": "aarch64 machine code in a cloned copy",
  "secretmem_test.ts": "memfd_secret (qemu-user refuses it: skipped)",
  "proof_memlock_test.ts": "RLIMIT_MEMLOCK without CAP_IPC_LOCK",
  "pool_memlock_test.ts": "the pool at RLIMIT_MEMLOCK",
  "hostile_workers_test.ts":
    "gettid's arm64 number, the shared table's address",
};

/**
 * Files of which only some tests are run, with the reason: the rest prove
 * logic that is the same on every CPU and cost minutes under emulation.
 */
const ONLY: Record<string, { tests: readonly string[]; why: string }> = {
  "input_prompt_test.ts": {
    tests: [
      "the prompt reads a passphrase with echo off and restores the terminal",
      "Ctrl-C cancels with CANCELLED and restores the terminal",
    ],
    why: "c_lflag and c_cc at aarch64's offsets: echo, ICANON, ISIG",
  },
  "hostile_workers_test.ts": {
    tests: [
      "locked memory a terminated Worker left is reclaimed when the lock limit is reached",
      "a Worker finds the table where it is, even where an earlier address became free",
    ],
    why:
      "the table found, and a terminated Worker told ended, on arm64 (gettid is 178)",
  },
};

const tests = new URL("../", import.meta.url);
const files = Object.keys(FILES).map((name) => new URL(name, tests).href);

function chosen(label: string): boolean {
  const [file, name] = label.split(" > ", 2);
  const only = ONLY[file];
  return only === undefined || only.tests.includes(name);
}

const args = "Deno" in globalThis
  ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
  : (globalThis as unknown as { process: { argv: string[] } }).process.argv
    .slice(2);

const totals = await runFiles(
  files,
  (label) =>
    chosen(label) && (args[0] === undefined || label.includes(args[0])),
);
console.log(
  `aarch64-${runtime}: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`,
);
if (totals.failed > 0) {
  (globalThis as unknown as { process: { exitCode: number } }).process
    .exitCode = 1;
}
