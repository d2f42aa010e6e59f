/**
 * What the core needs on Linux to see every thread's buffers: a table that
 * every thread of the process finds at the same address, the calling
 * thread's id, and when a thread started (which tells a thread that ended,
 * and one whose id was reused by a newer thread).
 *
 * The table is a named memfd mapped at one of a few agreed addresses with
 * MAP_FIXED_NOREPLACE, which lets exactly one thread create it: the others
 * fail and confirm in /proc/self/maps that what sits there is the
 * table (by its name, size and protection) before touching it. No
 * environment variable or global carries the address, so nothing of the
 * program's is changed.
 *
 * @module
 */

import type { LINUX_LIBC } from "./linux.ts";
import { LINUX, SYS_GETTID } from "./linux.ts";
import type { BoundLibrary, RuntimeAdapter } from "./types.ts";

type Libc = BoundLibrary<typeof LINUX_LIBC>;

// Below 2^39, so that aarch64 kernels with 39-bit address spaces have them
// too, and far from where x86-64 and aarch64 place the program, its heap
// and mmap's own choices. More than one, in case something else was mapped
// at the first by chance (V8 reserves large ranges wherever it may).
const TABLE_ADDRESSES: readonly bigint[] = [
  0x3e_c000_0000n,
  0x40_c000_0000n,
  0x42_c000_0000n,
  0x44_c000_0000n,
  0x46_c000_0000n,
  0x48_c000_0000n,
];

const SCRATCH = 65536;

/** The Linux members of NativeMemory for the process-wide table. */
export interface LinuxThreads {
  sharedTable(name: string, length: number): bigint | undefined;
  threadId(): number;
  threadStart(tid: number): number | null;
}

/** Builds them over the bound libc. */
export function createLinuxThreads(
  libc: Libc,
  adapter: RuntimeAdapter,
  errno: () => number,
  arch: string,
): LinuxThreads {
  const gettid = SYS_GETTID[arch];

  /**
   * Where /proc/self/maps shows our table, at one of the agreed addresses
   * (`only`, when given), with our size and protection.
   */
  function findTable(
    length: number,
    name: string,
    only?: bigint,
  ): bigint | undefined {
    const wanted = (only === undefined ? TABLE_ADDRESSES : [only]).map(
      (address) =>
        `${address.toString(16)}-${
          (address + BigInt(length)).toString(16)
        } rw-s `,
    );
    const suffix = `/memfd:${name} (deleted)`;
    let found: bigint | undefined;
    scanLines("/proc/self/maps", (line) => {
      if (!line.endsWith(suffix)) return true;
      const at = wanted.findIndex((start) => line.startsWith(start));
      if (at >= 0) found = only ?? TABLE_ADDRESSES[at];
      return found === undefined;
    });
    return found;
  }

  /**
   * Reads a text file line by line through scratch pages of our own (the
   * core's scratch helpers live above this layer). `each` returns false to
   * stop. False when the file cannot be read.
   */
  function scanLines(path: string, each: (line: string) => boolean): boolean {
    const fd = libc.open(
      new TextEncoder().encode(`${path}\0`),
      LINUX.O_RDONLY | LINUX.O_CLOEXEC,
    );
    if (fd < 0) return false;
    const scratch = libc.mmap(
      0n,
      SCRATCH,
      LINUX.PROT_READ | LINUX.PROT_WRITE,
      LINUX.MAP_PRIVATE | LINUX.MAP_ANONYMOUS,
      -1,
      0,
    );
    if (scratch === LINUX.MAP_FAILED) {
      libc.close(fd);
      return false;
    }
    const buffer = adapter.view(scratch, SCRATCH);
    try {
      const bytes = new Uint8Array(buffer);
      const decoder = new TextDecoder("latin1");
      let partial = "";
      for (;;) {
        const count = libc.read(fd, scratch, SCRATCH);
        if (count < 0 && errno() === LINUX.EINTR) continue;
        if (count <= 0) return count === 0;
        const lines = (partial + decoder.decode(bytes.subarray(0, count)))
          .split("\n");
        partial = lines.pop()!;
        for (const line of lines) if (!each(line)) return true;
      }
    } finally {
      buffer.transfer(0);
      libc.munmap(scratch, SCRATCH);
      libc.close(fd);
    }
  }

  /**
   * Maps a new memfd named `name` at `address`, unless something is there
   * (MAP_FIXED_NOREPLACE). Undefined when it did not: the address is taken,
   * or the kernel cannot (no memfd_create; before Linux 4.17 the flag is
   * ignored and the mapping lands elsewhere, and is undone).
   */
  function create(
    address: bigint,
    length: number,
    name: string,
  ): bigint | undefined {
    const memfdCreate = libc.memfd_create;
    if (memfdCreate === undefined) return undefined;
    const fd = memfdCreate(
      new TextEncoder().encode(`${name}\0`),
      LINUX.MFD_CLOEXEC,
    );
    if (fd < 0) return undefined;
    try {
      if (libc.ftruncate(fd, length) !== 0) return undefined;
      const mapped = libc.mmap(
        address,
        length,
        LINUX.PROT_READ | LINUX.PROT_WRITE,
        LINUX.MAP_SHARED | LINUX.MAP_FIXED_NOREPLACE,
        fd,
        0,
      );
      if (mapped === LINUX.MAP_FAILED) return undefined;
      if (mapped !== address) {
        libc.munmap(mapped, length);
        return undefined;
      }
      // A forked child must not share (and write) its parent's table, and
      // the addresses in it are nobody's business in a core dump.
      libc.madvise(address, length, LINUX.MADV_DONTFORK);
      libc.madvise(address, length, LINUX.MADV_DONTDUMP);
      return address;
    } finally {
      libc.close(fd);
    }
  }

  return {
    sharedTable(name, length) {
      if (gettid === undefined) return undefined;
      if (libc.memfd_create === undefined) return undefined;
      // The table where another thread put it: looked for first, so that a
      // thread that finds an earlier address free again (something else
      // was there and went) does not start a second table.
      const existing = findTable(length, name);
      if (existing !== undefined) return existing;
      for (const address of TABLE_ADDRESSES) {
        const made = create(address, length, name);
        if (made === address) return made;
        // Taken, by the table or by something else: the map is asked
        // whatever the failure was (qemu-user answers an occupied
        // MAP_FIXED_NOREPLACE otherwise than with EEXIST).
        if (findTable(length, name, address) !== undefined) return address;
      }
      return undefined;
    },

    threadId: () => gettid === undefined ? 0 : libc.syscall(gettid, 0),

    threadStart(tid) {
      let line: string | undefined;
      const read = scanLines(`/proc/self/task/${tid}/stat`, (text) => {
        line = text;
        return false;
      });
      if (!read) {
        // Only a thread certainly gone counts as ended: any other failure
        // (out of descriptors, a sandbox hiding /proc) keeps its buffers.
        return errno() === LINUX.ENOENT ? null : -1;
      }
      // The name in parentheses may hold spaces and parentheses: the fields
      // are counted from the last ")"; starttime is the 22nd field.
      const fields = line?.slice(line.lastIndexOf(")") + 2).split(" ") ?? [];
      const start = Number(fields[19]);
      return Number.isSafeInteger(start) ? start % 0x8000_0000 : -1;
    },
  };
}
