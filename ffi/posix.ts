/**
 * The POSIX functions Linux's libc and macOS's libSystem both export with
 * the same C signature, declared once in neutral types. Each OS table
 * (`linux.ts`, `darwin.ts`) spreads this in and adds its own.
 *
 * @module
 */

import type { SymbolTable } from "./types.ts";

/** The memory, limit and descriptor calls every POSIX libc has. */
export const POSIX_FUNCTIONS = {
  // void *mmap(void *addr, size_t length, int prot, int flags, int fd, off_t offset)
  mmap: {
    parameters: ["pointer", "usize", "i32", "i32", "i32", "i64"],
    result: "pointer",
  },
  // int mprotect(void *addr, size_t len, int prot)
  mprotect: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  // int madvise(void *addr, size_t length, int advice)
  madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  // int mlock(const void *addr, size_t len)
  mlock: { parameters: ["pointer", "usize"], result: "i32" },
  // int munlock(const void *addr, size_t len)
  munlock: { parameters: ["pointer", "usize"], result: "i32" },
  // int munmap(void *addr, size_t length)
  munmap: { parameters: ["pointer", "usize"], result: "i32" },
  // void *memcpy(void *dest, const void *src, size_t n)
  memcpy: { parameters: ["pointer", "pointer", "usize"], result: "pointer" },
  // int getrlimit(int resource, struct rlimit *rlim)
  getrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  // int setrlimit(int resource, const struct rlimit *rlim)
  setrlimit: { parameters: ["i32", "buffer"], result: "i32" },
  // int open(const char *pathname, int flags, ...): variadic; the mode is
  // never passed, since O_CREAT is never set.
  open: { parameters: ["buffer", "i32"], result: "i32" },
  // ssize_t read(int fd, void *buf, size_t count)
  read: { parameters: ["i32", "pointer", "usize"], result: "isize" },
  // ssize_t pread(int fd, void *buf, size_t count, off_t offset)
  pread: {
    parameters: ["i32", "pointer", "usize", "i64"],
    result: "isize",
  },
  // ssize_t write(int fd, const void *buf, size_t count)
  write: { parameters: ["i32", "pointer", "usize"], result: "isize" },
  // int close(int fd)
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies SymbolTable;
