/**
 * The one reader of Linux's /proc text files (the maps, a thread's stat,
 * vm.max_map_count, the status), for the thread table below the core and
 * for the core and the doctor through `NativeMemory.procText`. It reads
 * with libc's read(2) into scratch pages of its own, mapped at the first
 * read and kept: no runtime file API, so Deno needs only
 * --allow-ffi, and nothing of the core's is used from below it.
 *
 * @module
 */

import type { POSIX_FUNCTIONS } from "./posix.ts";
import type { Posix } from "./posix_memory.ts";
import type { BoundLibrary } from "./types.ts";

/** One read(2) at most this many bytes; /proc answers a page or so a call. */
const SCRATCH = 65536;

/** The Linux constants the reader maps and opens with. */
export interface ProcConstants {
  PROT_READ: number;
  PROT_WRITE: number;
  MAP_PRIVATE: number;
  MAP_ANONYMOUS: number;
  MAP_FAILED: bigint;
}

/**
 * Builds the reader: `read(path)` gives the whole text of the file, or
 * throws `OS_ERROR` with the errno of the call that failed (ENOENT from
 * `open` when the file is not there: a thread that has ended).
 */
export function createProcReader(
  lib: BoundLibrary<typeof POSIX_FUNCTIONS>,
  posix: Posix,
  constants: ProcConstants,
): (path: string) => string {
  const { members, errno } = posix;
  const fail: Posix["fail"] = posix.fail;
  // The scratch pages are mapped at the first read and kept: a mapping and
  // an unmapping per read were a third of a read's system calls (issue 24).
  // They only ever hold /proc text, and each thread's layer has its own.
  let scratch: bigint | undefined;
  let bytes: Uint8Array | undefined;
  return (path) => {
    const fd = members.openRead(path);
    try {
      if (scratch === undefined || bytes === undefined) {
        const mapped = lib.mmap(
          0n,
          SCRATCH,
          constants.PROT_READ | constants.PROT_WRITE,
          constants.MAP_PRIVATE | constants.MAP_ANONYMOUS,
          -1,
          0,
        );
        if (mapped === constants.MAP_FAILED) fail("mmap", errno());
        scratch = mapped;
        bytes = new Uint8Array(members.view(mapped, SCRATCH));
      }
      const decoder = new TextDecoder();
      let text = "";
      for (;;) {
        const count = members.readInto(fd, scratch, SCRATCH);
        if (count === 0) return text + decoder.decode();
        text += decoder.decode(bytes.subarray(0, count), { stream: true });
      }
    } finally {
      lib.close(fd);
    }
  };
}
