/**
 * Child for the Node FFI stress test: binds libc through the running
 * runtime's adapter, exactly as secmem does; makes one allocation's calls
 * and a short tight loop of explicit_bzero (the pattern that crashed most);
 * then calls every function of the table `calls` times in a tight loop
 * (default 40,000) with arguments that change nothing: length-0 ranges, a
 * page this child owns, failing calls (bad fd, unknown syscall). Prints `ok <functions bound> <calls>` when it lives
 * to the end. Node's fast call path crashed such loops now and then (see
 * docs/node-ffi-fast-call-crash.md); a crash shows as a signal or exit code.
 *
 * @module
 */

import { loadAdapter } from "../../ffi/load.ts";
import { LINUX, LINUX_LIBC, LINUX_LIBC_CANDIDATES } from "../../ffi/linux.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process?: { argv: string[] };
};
const args = host.Deno?.args ?? host.process!.argv.slice(2);
const calls = Number(args[0] ?? 40_000);

const libc = loadAdapter().open(LINUX_LIBC_CANDIDATES, LINUX_LIBC);
const page = Number(libc.sysconf(LINUX._SC_PAGESIZE));
const base = libc.mmap(
  0n,
  page,
  LINUX.PROT_READ | LINUX.PROT_WRITE,
  LINUX.MAP_PRIVATE | LINUX.MAP_ANONYMOUS,
  -1,
  0,
);
if (base === LINUX.MAP_FAILED) throw new Error("mmap of one page failed");
const devNull = new TextEncoder().encode("/dev/null\0");
const fd = libc.open(devNull, LINUX.O_RDONLY | LINUX.O_CLOEXEC);
if (fd < 0) throw new Error("open /dev/null failed");
// Two 8-byte fields, filled by getrlimit and written back unchanged.
const rlimit = new Uint8Array(16);
const termios = new Uint8Array(LINUX.TERMIOS_SIZE);
// No such system call: syscall(2) returns -1 with ENOSYS on every arch.
const NO_SYSCALL = -1;
const anonymous = LINUX.MAP_PRIVATE | LINUX.MAP_ANONYMOUS;

type Libc = typeof libc;
/**
 * One harmless call per function of the table. Each loop is its own
 * function so that each call site is as hot as a real tight loop.
 */
const loops: Record<keyof Libc, (n: number) => void> = {
  // Length 0: EINVAL at once, nothing mapped.
  mmap: (n) => {
    for (let i = 0; i < n; i++) libc.mmap(0n, 0, 0, anonymous, -1, 0);
  },
  mprotect: (n) => {
    const rw = LINUX.PROT_READ | LINUX.PROT_WRITE;
    for (let i = 0; i < n; i++) libc.mprotect(base, page, rw);
  },
  // MADV_NORMAL (0): the default advice, already in force.
  madvise: (n) => {
    for (let i = 0; i < n; i++) libc.madvise(base, page, 0);
  },
  mlock: (n) => {
    for (let i = 0; i < n; i++) libc.mlock(base, 0);
  },
  munlock: (n) => {
    for (let i = 0; i < n; i++) libc.munlock(base, 0);
  },
  // Length 0: EINVAL, the page stays mapped.
  munmap: (n) => {
    for (let i = 0; i < n; i++) libc.munmap(base, 0);
  },
  explicit_bzero: (n) => {
    const bzero = libc.explicit_bzero;
    if (bzero === undefined) return;
    for (let i = 0; i < n; i++) bzero(base, 0);
  },
  // Unknown flags: EINVAL at once, no descriptor made.
  memfd_create: (n) => {
    const memfdCreate = libc.memfd_create;
    if (memfdCreate === undefined) return;
    const name = new TextEncoder().encode("secmem-stress\0");
    for (let i = 0; i < n; i++) memfdCreate(name, 0xffff_ffff);
  },
  memset: (n) => {
    for (let i = 0; i < n; i++) libc.memset(base, 0, 0);
  },
  memcpy: (n) => {
    for (let i = 0; i < n; i++) libc.memcpy(base, base, 0);
  },
  getrandom: (n) => {
    const getrandom = libc.getrandom;
    if (getrandom === undefined) return;
    for (let i = 0; i < n; i++) getrandom(base, 1, 0);
  },
  sysconf: (n) => {
    for (let i = 0; i < n; i++) libc.sysconf(LINUX._SC_PAGESIZE);
  },
  getrlimit: (n) => {
    for (let i = 0; i < n; i++) libc.getrlimit(LINUX.RLIMIT_CORE, rlimit);
  },
  // The limit just read, written back as it was.
  setrlimit: (n) => {
    libc.getrlimit(LINUX.RLIMIT_CORE, rlimit);
    for (let i = 0; i < n; i++) libc.setrlimit(LINUX.RLIMIT_CORE, rlimit);
  },
  __errno_location: (n) => {
    for (let i = 0; i < n; i++) libc.__errno_location();
  },
  // Each descriptor opened is closed again right away.
  open: (n) => {
    const flags = LINUX.O_RDONLY | LINUX.O_CLOEXEC;
    for (let i = 0; i < n; i++) {
      const opened = libc.open(devNull, flags);
      if (opened >= 0) libc.close(opened);
    }
  },
  read: (n) => {
    for (let i = 0; i < n; i++) libc.read(fd, base, 0);
  },
  pread: (n) => {
    for (let i = 0; i < n; i++) libc.pread(fd, base, 0, 0);
  },
  // fd -1: EBADF, nothing written anywhere.
  write: (n) => {
    for (let i = 0; i < n; i++) libc.write(-1, base, 0);
  },
  close: (n) => {
    for (let i = 0; i < n; i++) libc.close(-1);
  },
  isatty: (n) => {
    for (let i = 0; i < n; i++) libc.isatty(fd);
  },
  // /dev/null is no terminal: ENOTTY, nothing read or set.
  tcgetattr: (n) => {
    for (let i = 0; i < n; i++) libc.tcgetattr(fd, termios);
  },
  tcsetattr: (n) => {
    for (let i = 0; i < n; i++) libc.tcsetattr(fd, LINUX.TCSANOW, termios);
  },
  syscall: (n) => {
    for (let i = 0; i < n; i++) libc.syscall(NO_SYSCALL, 0);
  },
  ftruncate: (n) => {
    for (let i = 0; i < n; i++) libc.ftruncate(-1, 0);
  },
  // A read of the flag, never a change.
  prctl: (n) => {
    for (let i = 0; i < n; i++) libc.prctl(LINUX.PR_GET_DUMPABLE, 0, 0, 0, 0);
  },
  // Descriptor -1: EBADF at once.
  getsockopt: (n) => {
    const value = new Uint8Array(12);
    const size = new Uint8Array(4);
    for (let i = 0; i < n; i++) libc.getsockopt(-1, 1, 17, value, size);
  },
  getsockname: (n) => {
    const address = new Uint8Array(110);
    const size = new Uint8Array(4);
    for (let i = 0; i < n; i++) libc.getsockname(-1, address, size);
  },
  geteuid: (n) => {
    for (let i = 0; i < n; i++) libc.geteuid();
  },
};

// First the pattern that crashed most often (the bench's ffi_ptr workload;
// docs/node-ffi-fast-call-crash.md): the calls one allocation makes, once
// each, then a short tight loop of explicit_bzero, 200 then 2,000 calls.
const data = libc.mmap(0n, 3 * page, LINUX.PROT_NONE, anonymous, -1, 0);
if (data === LINUX.MAP_FAILED) throw new Error("mmap of three pages failed");
const user = data + BigInt(page);
libc.mprotect(user, page, LINUX.PROT_READ | LINUX.PROT_WRITE);
libc.madvise(user, page, LINUX.MADV_DONTDUMP);
libc.madvise(user, page, LINUX.MADV_WIPEONFORK);
libc.mlock(user, page);
libc.getrandom?.(user, 16, 0);
const wipe = (address: bigint, length: number) =>
  libc.explicit_bzero?.(address, length);
const short = (n: number) => {
  for (let i = 0; i < n; i++) wipe(user + 4064n, 0);
};
short(200);
short(2000);
libc.munmap(data, 3 * page);

// Then 40,000 tight calls to each function of the table.
const names = Object.keys(LINUX_LIBC) as (keyof Libc)[];
for (const name of names) loops[name](calls);
libc.close(fd);
libc.munmap(base, page);
const bound = Object.values(libc).filter((fn) => fn !== undefined).length;
console.log(`ok ${bound} ${calls}`);
