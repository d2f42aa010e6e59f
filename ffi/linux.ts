/**
 * Linux's libc, declared once in neutral types. Every runtime adapter binds
 * this same table; the values below hold for x86_64 and aarch64 alike (both
 * use the generic numbering for these flags).
 *
 * @module
 */

import type { SymbolTable } from "./types.ts";
import { POSIX_FUNCTIONS } from "./posix.ts";

/** Where libc lives: glibc first, then musl under its usual names. */
export const LINUX_LIBC_CANDIDATES: readonly string[] = [
  "libc.so.6",
  "libc.musl-x86_64.so.1",
  "libc.musl-aarch64.so.1",
  "libc.so",
];

/** The libc functions secmem calls on Linux. */
export const LINUX_LIBC = {
  ...POSIX_FUNCTIONS,
  // void explicit_bzero(void *s, size_t n)  (glibc >= 2.25, musl)
  explicit_bzero: {
    parameters: ["pointer", "usize"],
    result: "void",
    optional: true,
  },
  // void *memset(void *s, int c, size_t n)
  memset: { parameters: ["pointer", "i32", "usize"], result: "pointer" },
  // ssize_t getrandom(void *buf, size_t buflen, unsigned int flags)
  getrandom: {
    parameters: ["pointer", "usize", "u32"],
    result: "isize",
    optional: true,
  },
  // long sysconf(int name)
  sysconf: { parameters: ["i32"], result: "i64" },
  // int *__errno_location(void)
  __errno_location: { parameters: [], result: "pointer" },
  // Terminal control, for the passphrase prompt.
  // int isatty(int fd)
  isatty: { parameters: ["i32"], result: "i32" },
  // int tcgetattr(int fd, struct termios *termios_p)
  tcgetattr: { parameters: ["i32", "buffer"], result: "i32" },
  // int tcsetattr(int fd, int optional_actions, const struct termios *termios_p)
  tcsetattr: { parameters: ["i32", "i32", "buffer"], result: "i32" },
  // memfd_secret backend (defence in depth).
  // long syscall(long number, ...): variadic in C; declared with the two
  // integer arguments memfd_secret takes, which x86_64 and aarch64 Linux
  // pass in the same registers either way.
  syscall: { parameters: ["i64", "i64"], result: "i64" },
  // int ftruncate(int fd, off_t length)
  ftruncate: { parameters: ["i32", "i64"], result: "i32" },
  // Process hardening.
  // int prctl(int option, unsigned long arg2, unsigned long arg3,
  //   unsigned long arg4, unsigned long arg5): variadic in C; the kernel
  // reads all five registers, so they are always passed.
  prctl: {
    parameters: ["i32", "u64", "u64", "u64", "u64"],
    result: "i32",
  },
  // The process-wide table of live regions (linux_threads.ts).
  // int memfd_create(const char *name, unsigned int flags)  (glibc >= 2.27, musl)
  memfd_create: {
    parameters: ["buffer", "u32"],
    result: "i32",
    optional: true,
  },
  // The agent's peer check (src/agent/_peer.ts).
  // int getsockopt(int sockfd, int level, int optname, void *optval,
  //   socklen_t *optlen)
  getsockopt: {
    parameters: ["i32", "i32", "i32", "buffer", "buffer"],
    result: "i32",
  },
  // int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen)
  getsockname: { parameters: ["i32", "buffer", "buffer"], result: "i32" },
  // uid_t geteuid(void)
  geteuid: { parameters: [], result: "u32" },
} as const satisfies SymbolTable;

/** Linux constants from <sys/mman.h>, <errno.h>, <unistd.h>, <fcntl.h>. */
export const LINUX = {
  PROT_NONE: 0,
  PROT_READ: 1,
  PROT_WRITE: 2,
  MAP_PRIVATE: 0x02,
  MAP_FIXED: 0x10,
  MAP_ANONYMOUS: 0x20,
  MAP_LOCKED: 0x2000,
  MAP_NORESERVE: 0x4000,
  /** `(void *)-1` as an unsigned 64-bit address. */
  MAP_FAILED: 0xffff_ffff_ffff_ffffn,
  MADV_DONTFORK: 10,
  MADV_DONTDUMP: 16,
  MADV_WIPEONFORK: 18,
  RLIMIT_CORE: 4,
  RLIMIT_MEMLOCK: 8,
  /** `RLIM_INFINITY`: all bits set. */
  RLIM_INFINITY: 0xffff_ffff_ffff_ffffn,
  _SC_PAGESIZE: 30,
  O_RDONLY: 0,
  O_CLOEXEC: 0x80000,
  /** 04000 on x86_64 and aarch64 alike. */
  O_NONBLOCK: 0x800,
  EPERM: 1,
  EINTR: 4,
  EIO: 5,
  EAGAIN: 11,
  ENOMEM: 12,
  EINVAL: 22,
  ENOSYS: 38,
  // Terminal control, for the passphrase prompt: <termios.h> as glibc and
  // musl lay it out on x86_64 and aarch64 alike (asm-generic numbering).
  // struct termios { tcflag_t c_iflag, c_oflag, c_cflag, c_lflag;
  //   cc_t c_line; cc_t c_cc[32]; speed_t c_ispeed, c_ospeed; }: 60 bytes.
  TERMIOS_SIZE: 60,
  TERMIOS_LFLAG_OFFSET: 12,
  TERMIOS_CC_OFFSET: 17,
  /** c_lflag bits. */
  ISIG: 0o1,
  ICANON: 0o2,
  ECHO: 0o10,
  ECHONL: 0o100,
  IEXTEN: 0o100000,
  /** c_cc indices. */
  VTIME: 5,
  VMIN: 6,
  TCSANOW: 0,
  ENOENT: 2,
  ENXIO: 6,
  EBADF: 9,
  EACCES: 13,
  ENOTDIR: 20,
  EISDIR: 21,
  ENOTTY: 25,
  // memfd_secret backend (defence in depth).
  MAP_SHARED: 0x01,
  /** memfd_secret(2): the same number on x86_64 and aarch64. */
  SYS_memfd_secret: 447,
  EMFILE: 24,
  // Process hardening, from <linux/prctl.h>.
  PR_GET_DUMPABLE: 3,
  PR_SET_DUMPABLE: 4,
  // The process-wide table of live regions (linux_threads.ts).
  /** Fails instead of replacing a mapping (Linux 4.17). */
  MAP_FIXED_NOREPLACE: 0x100000,
  MFD_CLOEXEC: 1,
  // The agent's peer check, from <sys/socket.h> (the same on x86_64 and
  // aarch64). struct ucred { pid_t pid; uid_t uid; gid_t gid; }: 12 bytes.
  SOL_SOCKET: 1,
  SO_PEERCRED: 17,
  UCRED_SIZE: 12,
  AF_UNIX: 1,
  /** struct sockaddr_un: sa_family_t (2 bytes), then 108 path bytes. */
  SOCKADDR_UN_SIZE: 110,
} as const;

/** gettid(2), whose number differs between the two architectures. */
export const SYS_GETTID: Readonly<Record<string, number>> = {
  x64: 186,
  arm64: 178,
};

/** getpid(2), likewise. */
export const SYS_GETPID: Readonly<Record<string, number>> = {
  x64: 39,
  arm64: 172,
};
