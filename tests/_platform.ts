/**
 * Skip reasons for tests that only one OS can run, so every test file
 * writes the condition the same way: `test(name, fn, { skip: linuxOnly })`.
 *
 * @module
 */

import { readFileSync } from "node:fs";
import { platform } from "../ffi/load.ts";

/** The running OS in the runtime's own word (`linux`, `win32`, `windows`). */
export const os: string = platform().os;

/** Whether this is Windows (Deno says `windows`; Bun and Node say `win32`). */
export const isWindows: boolean = os === "windows" || os === "win32";

/**
 * A skip reason for tests that need Linux (`/proc`, `madvise`, signals by
 * number, core dumps), or `false` on Linux.
 */
export const linuxOnly: string | false = os === "linux"
  ? false
  : `needs Linux (/proc, madvise, core dumps); this is ${os}`;

/**
 * A skip reason for tests that allocate until vm.max_map_count, or
 * `false`: each buffer costs a page of RAM, so reaching a limit far above
 * the usual 65530 would take gigabytes.
 */
export const mapLimitSkip: string | false = (() => {
  if (linuxOnly !== false) return linuxOnly;
  const limit = Number(readFileSync("/proc/sys/vm/max_map_count", "utf8"));
  return limit > 131072
    ? `vm.max_map_count is ${limit}: reaching it would take gigabytes of buffers`
    : false;
})();

/** A skip reason for tests of the Windows layer, or `false` on Windows. */
export const windowsOnly: string | false = isWindows
  ? false
  : `needs Windows (kernel32); this is ${os}`;
