/**
 * The one reader of Linux's /proc text files (the maps, a thread's stat,
 * vm.max_map_count, the status), for the thread table below the core and
 * for the core and the doctor through `NativeMemory.procText`. It reads
 * with libc's read(2) into scratch pages of its own, mapped for the read
 * and unmapped after it: no runtime file API, so Deno needs only
 * --allow-ffi, and nothing of the core's is used from below it.
 *
 * @module
 */

import type { POSIX_FUNCTIONS } from "./posix.ts";
import type { Posix } from "./posix_memory.ts";
import type { BoundLibrary } from "./types.ts";

// Taken at load, as src/core/_intrinsics.ts takes it for src/: a global
// Uint8Array replaced by other code would be handed the memory each view
// covers, or would make the out-parameters a call is read back from.
const Bytes = Uint8Array;

// Taken at load: a replacement made later must not choose the text (it
// decides where the process table is, which threads have ended, what a
// scan reads), nor keep the scratch view from being detached.
const apply = Reflect.apply;
const Decoder = TextDecoder;
const decode = TextDecoder.prototype.decode;
const subarray = Uint8Array.prototype.subarray;
const transfer = ArrayBuffer.prototype.transfer;

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
  return (path) => {
    const fd = members.openRead(path);
    let scratch: bigint | undefined;
    let buffer: ArrayBuffer | undefined;
    try {
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
      buffer = members.view(mapped, SCRATCH);
      const bytes = new Bytes(buffer);
      const decoder = new Decoder();
      const streaming = { __proto__: null, stream: true };
      let text = "";
      for (;;) {
        const count = members.readInto(fd, mapped, SCRATCH);
        if (count === 0) return text + apply(decode, decoder, []);
        const read = apply(subarray, bytes, [0, count]);
        text += apply(decode, decoder, [read, streaming]);
      }
    } finally {
      // Detached before the pages go: a view over unmapped memory faults.
      if (buffer !== undefined) apply(transfer, buffer, [0]);
      if (scratch !== undefined) lib.munmap(scratch, SCRATCH);
      lib.close(fd);
    }
  };
}
