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
import { LINUX, SYS_GETPID, SYS_GETTID } from "./linux.ts";
import type { BoundLibrary } from "./types.ts";
import type { NativeMemory } from "./contract.ts";
import { SecretMemoryError } from "../src/core/errors.ts";

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;
// The same for the string and bigint methods that find the table: a
// replaced `startsWith` answering yes would point this copy at whatever
// else is mapped at an agreed address, and it would write there.
const apply = Reflect.apply;
// A memfd's name, by the encoder taken at load: a replaced TextEncoder would
// choose the name, and with it which table every thread joins.
const encoder = new TextEncoder();
const encode = TextEncoder.prototype.encode;
const { endsWith, indexOf, lastIndexOf, slice, startsWith } = String.prototype;
const hex = BigInt.prototype.toString;
const isSafeInteger = Number.isSafeInteger;

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

/** The Linux members of NativeMemory for the process-wide tables. */
export type LinuxThreads = Pick<
  Required<NativeMemory>,
  | "sharedTable"
  | "sharedSection"
  | "threadId"
  | "processId"
  | "threadStart"
  | "threadTicks"
  | "currentThread"
>;

/** Builds them over the bound libc and the /proc reader (`procfs.ts`). */
export function createLinuxThreads(
  libc: Libc,
  readProc: (path: string) => string,
  arch: string,
): LinuxThreads {
  const gettid = SYS_GETTID[arch];
  const getpid = SYS_GETPID[arch];

  /**
   * Which of `addresses` /proc/self/maps shows our table at, with our size
   * and protection.
   */
  function findTable(
    length: number,
    name: string,
    addresses = TABLE_ADDRESSES,
  ): bigint | undefined {
    const suffix = `/memfd:${name} (deleted)`;
    let maps: string;
    try {
      maps = readProc("/proc/self/maps");
    } catch {
      return undefined; // A map that cannot be read shows no table.
    }
    // Line by line through the intrinsics, no array of our own: a
    // replacement made later (or a setter planted on Array.prototype) must
    // not point this copy at another address, or at none (a second table).
    for (let from = 0; from < maps.length;) {
      let stop = apply(indexOf, maps, ["\n", from]) as number;
      if (stop < 0) stop = maps.length;
      const line = apply(slice, maps, [from, stop]) as string;
      from = stop + 1;
      if (!apply(endsWith, line, [suffix])) continue;
      for (let at = 0; at < addresses.length; at++) {
        const start = addresses[at];
        const end = start + BigInt(length);
        const wanted = `${apply(hex, start, [16])}-${
          apply(hex, end, [16])
        } rw-s `;
        if (apply(startsWith, line, [wanted])) return start;
      }
    }
    return undefined;
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
      apply(encode, encoder, [`${name}\0`]) as Uint8Array,
      LINUX.MFD_CLOEXEC,
    );
    if (fd < 0) return undefined;
    try {
      if (libc.ftruncate(fd, length) !== 0) return undefined;
      const flags = LINUX.MAP_SHARED | LINUX.MAP_FIXED_NOREPLACE;
      const readWrite = LINUX.PROT_READ | LINUX.PROT_WRITE;
      const mapped = libc.mmap(address, length, readWrite, flags, fd, 0);
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

  /** When thread `tid` started, in clock ticks since boot (see the contract). */
  function threadTicks(tid: number): number | null {
    let line: string;
    try {
      line = readProc(`/proc/self/task/${tid}/stat`);
    } catch (error) {
      // Only a thread certainly gone counts as ended: any other failure
      // (out of descriptors, a sandbox hiding /proc) keeps its buffers.
      const gone = error instanceof SecretMemoryError &&
        error.errno === LINUX.ENOENT;
      return gone ? null : -1;
    }
    // The name in parentheses may hold spaces and parentheses: the fields
    // are counted from the last ")"; starttime is the 22nd field, the 20th
    // after it. Through the intrinsics: a replaced string method must not
    // choose the start time, and with it which threads count as ended
    // (their memory is wiped).
    let from = (apply(lastIndexOf, line, [")"]) as number) + 2;
    if (from < 2) return -1;
    for (let field = 0; field < 19 && from > 0; field++) {
      from = (apply(indexOf, line, [" ", from]) as number) + 1;
    }
    if (from <= 0) return -1;
    let stop = apply(indexOf, line, [" ", from]) as number;
    if (stop < 0) stop = line.length;
    const start = Number(apply(slice, line, [from, stop]));
    return isSafeInteger(start) && start >= 0 ? start : -1;
  }

  // This layer lives in one JavaScript thread (a Worker builds its own),
  // which runs on one OS thread for its whole life: its id and start time
  // are asked once. The process table and the open-range list both want
  // them, and each asking costs a gettid and a /proc read (issue 24).
  let ownId = 0;
  let ownStarted = -1;
  const threadId = (): number =>
    ownId > 0
      ? ownId
      : (ownId = gettid === undefined ? 0 : libc.syscall(gettid, 0));

  function threadStart(tid: number): number | null {
    if (tid === ownId && ownStarted >= 0) return ownStarted;
    const ticks = threadTicks(tid);
    const started = ticks === null || ticks < 0 ? ticks : ticks % 0x8000_0000;
    // Only a definite answer about this very thread is kept.
    if (tid === ownId && tid > 0 && started !== null && started >= 0) {
      ownStarted = started;
    }
    return started;
  }

  function sharedTable(
    name: string,
    length: number,
    existingOnly = false,
  ): bigint | undefined {
    if (gettid === undefined) return undefined;
    if (libc.memfd_create === undefined) return undefined;
    // The table where another thread put it: looked for first, so that a
    // thread that finds an earlier address free again (something else
    // was there and went) does not start a second table.
    const existing = findTable(length, name);
    if (existing !== undefined || existingOnly) return existing;
    for (let at = 0; at < TABLE_ADDRESSES.length; at++) {
      const address = TABLE_ADDRESSES[at];
      const made = create(address, length, name);
      if (made === address) return made;
      // Taken, by the table or by something else: the map is asked
      // whatever the failure was (qemu-user answers an occupied
      // MAP_FIXED_NOREPLACE otherwise than with EEXIST).
      if (findTable(length, name, [address]) !== undefined) return address;
    }
    return undefined;
  }

  return {
    sharedTable,
    sharedSection: sharedTable,
    threadId,
    processId: () => getpid === undefined ? 0 : libc.syscall(getpid, 0),
    threadTicks,
    threadStart,
    currentThread() {
      const id = threadId();
      const started = id > 0 ? threadStart(id) : null;
      return started === null || started < 0 ? undefined : { id, started };
    },
  };
}
