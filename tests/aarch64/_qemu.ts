/**
 * What a test needs to know when it runs under qemu-user (the aarch64 pass,
 * tests/aarch64/run.sh): whether it does, and how to read the emulator's
 * record of the system calls a child made, which is how the pass checks
 * what qemu-user accepts but does not carry out (madvise).
 *
 * @module
 */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const env = (globalThis as unknown as {
  process: { env: Record<string, string | undefined> };
}).process.env;

/**
 * The emulated CPU when tests/aarch64/run.sh runs this process under
 * qemu-user (`aarch64`), else `undefined`.
 */
export const qemuUser: string | undefined = env.SECMEM_TEST_QEMU || undefined;

/**
 * Why a check of madvise's effect cannot run here, or `false` off qemu.
 * qemu-user (7.2, as Debian 12 ships it) returns 0 for every madvise and passes only some
 * MADV_DONTNEED calls through to the kernel, so `dd` and `wf` never reach
 * smaps and a forked copy keeps the pages' bytes.
 */
export const madviseIgnored: string | false = qemuUser === undefined
  ? false
  : "qemu-user accepts madvise and does not pass it to the kernel; the calls are checked in its syscall log instead (tests/aarch64/qemu_test.ts)";

/** One system call as qemu's strace printed it. */
export interface TracedCall {
  name: string;
  /** The arguments as printed: numbers in hex or decimal, flags by name. */
  args: string[];
  result: string;
}

/**
 * Environment variables that make a child's qemu log every system call to
 * a fresh file; `read()` returns the calls, `dispose()` removes the file.
 */
export function traceSyscalls(): {
  env: Record<string, string>;
  read(): TracedCall[];
  dispose(): void;
} {
  const folder = mkdtempSync(join(tmpdir(), "secmem-strace-"));
  const file = join(folder, "strace.log");
  return {
    env: { QEMU_STRACE: "1", QEMU_LOG_FILENAME: file },
    read: () => parseTrace(readFileSync(file, "utf8")),
    dispose: () => rmSync(folder, { recursive: true, force: true }),
  };
}

/** What `result` holds for a call whose result line went astray. */
export const RESULT_LOST = "?";

/**
 * Parses lines such as `123 madvise(0x0000005500000000,4096,MADV_DONTDUMP) = 0`.
 *
 * qemu prints a call's name and arguments before it runs it and ` = result`
 * after, so another thread's call can land in between: the first call's
 * text then runs straight into the second's on one line, and its result
 * follows later on a line of its own. Each call on such a line is kept;
 * the one cut off gets RESULT_LOST (the stray result cannot be matched to
 * it, as every thread prints the same process id).
 */
export function parseTrace(text: string): TracedCall[] {
  const calls: TracedCall[] = [];
  for (const line of text.split("\n")) {
    // A call qemu does not know is logged by number, with no arguments.
    const unknown = /^\d+ Unknown syscall (\d+)$/.exec(line);
    if (unknown !== null) {
      calls.push({ name: `syscall_${unknown[1]}`, args: [], result: "" });
      continue;
    }
    for (const piece of line.split(/(?<=\))(?=\d+ \w+\()/)) {
      const match = /^\d+ (\w+)\((.*)\) = (.*)$/.exec(piece) ??
        /^\d+ (\w+)\((.*)\)$/.exec(piece);
      if (match === null) continue;
      calls.push({
        name: match[1],
        args: match[2] === "" ? [] : match[2].split(","),
        result: match[3] ?? RESULT_LOST,
      });
    }
  }
  return calls;
}

/**
 * A traced argument as a number (hex with 0x, else decimal); `undefined`
 * for one that is not a number (NULL, a string, a struct).
 */
export function traceNumber(arg: string | undefined): bigint | undefined {
  const text = arg?.trim() ?? "";
  return /^(0x[0-9a-f]+|\d+)$/i.test(text) ? BigInt(text) : undefined;
}
