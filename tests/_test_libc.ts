/**
 * Test-only libc calls (process control and pipes) bound through the running
 * runtime's adapter, for the proof suite's child scripts. Never imported by
 * the library.
 *
 * @module
 */

import { loadAdapter } from "../ffi/load.ts";
import { LINUX_LIBC_CANDIDATES } from "../ffi/linux.ts";
import type { BoundLibrary, SymbolTable } from "../ffi/types.ts";

/** The extra C functions the proof children call. */
export const TEST_LIBC = {
  // pid_t fork(void)
  fork: { parameters: [], result: "i32" },
  // void _exit(int status)
  _exit: { parameters: ["i32"], result: "void" },
  // int pipe(int pipefd[2])
  pipe: { parameters: ["buffer"], result: "i32" },
  // ssize_t write(int fd, const void *buf, size_t count)
  write: { parameters: ["i32", "pointer", "usize"], result: "isize" },
  // ssize_t read(int fd, void *buf, size_t count)
  read: { parameters: ["i32", "buffer", "usize"], result: "isize" },
  // int close(int fd)
  close: { parameters: ["i32"], result: "i32" },
  // pid_t waitpid(pid_t pid, int *wstatus, int options)
  waitpid: { parameters: ["i32", "buffer", "i32"], result: "i32" },
  // int kill(pid_t pid, int sig)
  kill: { parameters: ["i32", "i32"], result: "i32" },
  // int usleep(useconds_t usec)
  usleep: { parameters: ["u32"], result: "i32" },
  // void abort(void)
  abort: { parameters: [], result: "void" },
  // pid_t getpid(void)
  getpid: { parameters: [], result: "i32" },
  // uid_t getuid(void)
  getuid: { parameters: [], result: "u32" },
  // int prctl(int option, unsigned long arg2, ...): the hardening proof
  // reads PR_GET_DUMPABLE through its own binding, not the library's.
  prctl: {
    parameters: ["i32", "u64", "u64", "u64", "u64"],
    result: "i32",
  },
  // int clone(int (*fn)(void *), void *stack, int flags, void *arg)
  clone: {
    parameters: ["pointer", "pointer", "i32", "pointer"],
    result: "i32",
  },
  // off_t lseek(int fd, off_t offset, int whence)
  lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  // int mprotect(void *addr, size_t len, int prot)
  mprotect: { parameters: ["pointer", "usize", "i32"], result: "i32" },
} as const satisfies SymbolTable;

/** Linux values the proof children need (<sys/wait.h>, <signal.h>). */
export const TEST_LINUX = {
  WNOHANG: 1,
  SIGKILL: 9,
  SIGABRT: 6,
  SIGCHLD: 17,
  PROT_READ: 1,
  PROT_EXEC: 4,
  SEEK_DATA: 3,
  SEEK_HOLE: 4,
  PR_GET_DUMPABLE: 3,
} as const;

/** The bound test table. */
export type TestLibc = BoundLibrary<typeof TEST_LIBC>;

let bound: TestLibc | undefined;

/** Binds `TEST_LIBC` once, through the same adapter the library uses. */
export function testLibc(): TestLibc {
  return bound ??= loadAdapter().open(LINUX_LIBC_CANDIDATES, TEST_LIBC);
}
