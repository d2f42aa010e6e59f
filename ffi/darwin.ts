/**
 * macOS's libSystem, declared once in neutral types, with every constant
 * beside the header that defines it. Paths are in Apple's xnu sources
 * (apple-oss-distributions/xnu, read at e3723e1f, May 2025); the values are
 * the same on x86_64 and arm64. No macOS machine has run this table yet:
 * `darwin_memory.ts` proves it with a self-test before the first buffer.
 *
 * @module
 */

import type { SymbolTable } from "./types.ts";
import { POSIX_FUNCTIONS } from "./posix.ts";

/** Where libSystem lives; on macOS 11+ it is in the dyld shared cache. */
export const DARWIN_LIBSYSTEM_CANDIDATES: readonly string[] = [
  "/usr/lib/libSystem.B.dylib",
  "libSystem.B.dylib",
];

/** The libSystem functions secmem calls on macOS. */
export const DARWIN_LIBSYSTEM = {
  ...POSIX_FUNCTIONS,
  // int minherit(void *addr, size_t len, int inherit)
  minherit: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  // int memset_s(void *s, rsize_t smax, int c, rsize_t n)  (C11 Annex K:
  // may not be optimised away; libSystem has it since 10.9)
  memset_s: {
    parameters: ["pointer", "usize", "i32", "usize"],
    result: "i32",
  },
  // int getentropy(void *buffer, size_t size)  (macOS 10.12+, at most 256)
  getentropy: { parameters: ["pointer", "usize"], result: "i32" },
  // int getpagesize(void)
  getpagesize: { parameters: [], result: "i32" },
  // int *__error(void)  (errno is `(*__error())`)
  __error: { parameters: [], result: "pointer" },
  // pid_t getpid(void)
  getpid: { parameters: [], result: "i32" },
  // int proc_pidinfo(int pid, int flavor, uint64_t arg, void *buffer, int buffersize)
  proc_pidinfo: {
    parameters: ["i32", "i32", "u64", "buffer", "i32"],
    result: "i32",
  },
} as const satisfies SymbolTable;

/** macOS constants, each with the header that defines it. */
export const DARWIN = {
  PROT_NONE: 0x00, // bsd/sys/mman.h
  PROT_READ: 0x01, // bsd/sys/mman.h
  PROT_WRITE: 0x02, // bsd/sys/mman.h
  MAP_PRIVATE: 0x0002, // bsd/sys/mman.h
  MAP_FIXED: 0x0010, // bsd/sys/mman.h
  MAP_NORESERVE: 0x0040, // bsd/sys/mman.h ("Sun: don't reserve needed swap area")
  MAP_ANON: 0x1000, // bsd/sys/mman.h (Linux's 0x20 is MAP_RENAME here)
  /** `MAP_FAILED`, `((void *)-1)`: bsd/sys/mman.h. */
  MAP_FAILED: 0xffff_ffff_ffff_ffffn,
  /**
   * bsd/sys/mman.h: "zero the wired pages that have not been unwired before
   * the entry is deleted". There is no MADV_DONTDUMP or MADV_WIPEONFORK.
   */
  MADV_ZERO_WIRED_PAGES: 6,
  /** osfmk/mach/vm_inherit.h: "absent from child" (minherit's argument). */
  VM_INHERIT_NONE: 2,
  RLIMIT_CORE: 4, // bsd/sys/resource.h
  RLIMIT_MEMLOCK: 6, // bsd/sys/resource.h (Linux's is 8)
  /** bsd/sys/resource.h: `(((__uint64_t)1 << 63) - 1)`, not all ones. */
  RLIM_INFINITY: 0x7fff_ffff_ffff_ffffn,
  /** bsd/sys/resource.h: struct rlimit { rlim_t rlim_cur, rlim_max; }, rlim_t is __uint64_t. */
  RLIMIT_SIZE: 16,
  /**
   * bsd/dev/random/randomdev.c: the getentropy syscall refuses more than
   * 256 bytes a call with EINVAL (as OpenBSD's does).
   */
  GETENTROPY_MAX: 256,
  /** bsd/sys/proc_info.h: proc_pidinfo flavor for struct proc_regioninfo. */
  PROC_PIDREGIONINFO: 7,
  /**
   * bsd/sys/proc_info.h, struct proc_regioninfo: the offsets of the fields
   * the self-test reads, and its size (96 bytes).
   */
  REGIONINFO_PROTECTION: 0, // uint32_t pri_protection
  REGIONINFO_INHERITANCE: 8, // uint32_t pri_inheritance
  REGIONINFO_USER_WIRED_COUNT: 28, // uint32_t pri_user_wired_count
  REGIONINFO_ADDRESS: 80, // uint64_t pri_address
  REGIONINFO_SIZE_FIELD: 88, // uint64_t pri_size
  REGIONINFO_SIZE: 96,
  O_RDONLY: 0x0000, // bsd/sys/fcntl.h
  O_CLOEXEC: 0x01000000, // bsd/sys/fcntl.h
  O_NONBLOCK: 0x0004, // bsd/sys/fcntl.h
  EPERM: 1, // bsd/sys/errno.h
  ENOENT: 2, // bsd/sys/errno.h
  EINTR: 4, // bsd/sys/errno.h
  EIO: 5, // bsd/sys/errno.h
  ENXIO: 6, // bsd/sys/errno.h
  EBADF: 9, // bsd/sys/errno.h
  ENOMEM: 12, // bsd/sys/errno.h
  EACCES: 13, // bsd/sys/errno.h
  ENOTDIR: 20, // bsd/sys/errno.h
  EISDIR: 21, // bsd/sys/errno.h
  EINVAL: 22, // bsd/sys/errno.h
  EMFILE: 24, // bsd/sys/errno.h
  ENOTTY: 25, // bsd/sys/errno.h
  EAGAIN: 35, // bsd/sys/errno.h (Linux's is 11)
  ENOSYS: 78, // bsd/sys/errno.h (Linux's is 38)
} as const;
