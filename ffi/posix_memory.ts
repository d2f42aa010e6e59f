/**
 * What Linux and macOS do alike, written once over the POSIX table both
 * bind (`posix.ts`): errno and the typed error of a failed call, page
 * protection and unmapping, the lock limit, file reads and writes, and the
 * process hooks. Each OS layer (`linux_memory.ts`, `darwin_memory.ts`)
 * spreads `members` into its NativeMemory and adds what differs: how pages
 * are reserved, committed, kept out of dumps and forks, wiped and filled. Windows has its own.
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import type { LockLimit, NativeMemory, Protection } from "./contract.ts";
import type { POSIX_FUNCTIONS } from "./posix.ts";
import type { BoundLibrary, RuntimeAdapter } from "./types.ts";

// Taken at load, as src/core/_intrinsics.ts takes it for src/: a global
// Uint8Array replaced by other code would be handed the memory each view
// covers, or would make the out-parameters a call is read back from.
const Bytes = Uint8Array;

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const Number = globalThis.Number;

// The rlimit record's words and a path's bytes, by the built-ins as they
// were at load: a `DataView.prototype.getBigUint64` replaced after import
// chose the lock limit read (and the hard limit `raiseLockLimit` set, for
// good), a `setBigUint64` was handed the record setrlimit(2) is given, and
// a replaced `TextEncoder` chose which file `openRead` opens (a secret read
// from a file of its choosing).
const apply = Reflect.apply;
const View = DataView;
const Buffers = ArrayBuffer;
const { getBigUint64, setBigUint64 } = DataView.prototype;
const encoder = new TextEncoder();
const encode = TextEncoder.prototype.encode;

type PosixLibrary = BoundLibrary<typeof POSIX_FUNCTIONS>;

/** The errno values named in messages; the numbers differ by OS. */
const ERRNO_NAMES = [
  "EPERM",
  "ENOENT",
  "EINTR",
  "EIO",
  "ENXIO",
  "EBADF",
  "ENOMEM",
  "EACCES",
  "ENOTDIR",
  "EISDIR",
  "EINVAL",
  "EMFILE",
  "ENOTTY",
  "EAGAIN",
  "ENOSYS",
] as const;

/** The constants the shared part reads from an OS table. */
export type PosixConstants =
  & Record<(typeof ERRNO_NAMES)[number], number>
  & {
    PROT_NONE: number;
    PROT_READ: number;
    PROT_WRITE: number;
    RLIMIT_MEMLOCK: number;
    /** The largest limit; at or above it a limit reads as none. */
    RLIM_INFINITY: bigint;
    O_RDONLY: number;
    O_CLOEXEC: number;
    O_NONBLOCK: number;
  };

/** What the OS layer needs besides the table and its constants. */
export interface PosixOptions {
  /** Where errno lives (`__errno_location()`, `__error()`). */
  errnoAddress: bigint;
  /** What a failed mmap most likely means here. */
  mmapHint: string;
}

/**
 * The shared NativeMemory members: all but what each OS layer adds (and
 * the optional ones, which it adds where it has them).
 */
export type PosixMembers = Omit<
  NativeMemory,
  | "os"
  | "arch"
  | "pageSize"
  | "features"
  | "reserve"
  | "commit"
  | "keepOutOfDumpsAndForks"
  | "wipe"
  | "fillRandom"
>;

/** The shared members, and the helpers an OS layer builds the rest with. */
export interface Posix {
  members: PosixMembers;
  /** errno of the calling thread, as the last failed call left it. */
  errno(): number;
  /** Throws `OS_ERROR` naming `call` and `code`; errno must be read first. */
  fail(call: string, code: number): never;
  /** `result`, unless it is negative: then `fail` with errno. */
  check(call: string, result: number): number;
  /** Makes the call again while it fails with EINTR; other failures throw. */
  retrying(call: string, run: () => number): number;
  /** A resource limit (getrlimit). */
  readLimit(resource: number): LockLimit;
  /** Sets a resource limit's soft and hard values; false if refused. */
  writeLimit(resource: number, soft: bigint, hard: bigint): boolean;
}

/** Builds the shared part over a bound POSIX table. */
export function createPosix(
  lib: PosixLibrary,
  adapter: RuntimeAdapter,
  constants: PosixConstants,
  options: PosixOptions,
): Posix {
  const { errnoAddress, mmapHint } = options;
  const errno = (): number => adapter.readInt32(errnoAddress);
  const names: Record<number, string> = {};
  for (const name of ERRNO_NAMES) names[constants[name]] = name;
  const hints: Record<string, string> = {
    mmap: mmapHint,
    open: "check that the path exists and is readable",
  };

  function fail(call: string, code: number): never {
    const name = names[code] ?? `errno ${code}`;
    const hint = hints[call];
    throw new SecretMemoryError(
      "OS_ERROR",
      `Cannot complete ${call}: ${name}${hint ? ` (${hint})` : ""}`,
      { errno: code, syscall: call },
    );
  }

  function check(call: string, result: number): number {
    if (result < 0) fail(call, errno());
    return result;
  }

  function retrying(call: string, run: () => number): number {
    for (;;) {
      const result = run();
      if (result >= 0) return result;
      const code = errno();
      if (code !== constants.EINTR) fail(call, code);
    }
  }

  // struct rlimit { rlim_t rlim_cur, rlim_max; }: two 64-bit words on
  // every OS and architecture served here.
  const rlimitBuffer = new Buffers(16);
  const rlimitBytes = new Bytes(rlimitBuffer);
  const rlimitView = new View(rlimitBuffer);
  const toLimit = (value: bigint): number =>
    value >= constants.RLIM_INFINITY ? Infinity : Number(value);
  const readWord = (at: number): bigint =>
    apply(getBigUint64, rlimitView, [at, true]) as bigint;

  function readLimit(resource: number): LockLimit {
    check("getrlimit", lib.getrlimit(resource, rlimitBytes));
    return {
      soft: toLimit(readWord(0)),
      hard: toLimit(readWord(8)),
    };
  }

  function writeLimit(resource: number, soft: bigint, hard: bigint): boolean {
    apply(setBigUint64, rlimitView, [0, soft, true]);
    apply(setBigUint64, rlimitView, [8, hard, true]);
    return lib.setrlimit(resource, rlimitBytes) === 0;
  }

  const lockLimit = (): LockLimit => readLimit(constants.RLIMIT_MEMLOCK);

  const protection: Record<Protection, number> = {
    noaccess: constants.PROT_NONE,
    readonly: constants.PROT_READ,
    readwrite: constants.PROT_READ | constants.PROT_WRITE,
  };

  const members: PosixMembers = {
    runtime: adapter.runtime,
    runtimeVersion: adapter.version,

    protect(address, length, to) {
      if (lib.mprotect(address, length, protection[to]) !== 0) {
        fail("mprotect", errno());
      }
    },

    release(address, length) {
      if (lib.munmap(address, length) !== 0) fail("munmap", errno());
    },

    copy(destination, source, length) {
      lib.memcpy(destination, source, length);
    },

    view: (address, length) => adapter.view(address, length),

    lockLimit,

    raiseLockLimit() {
      const { soft, hard } = lockLimit();
      if (soft >= hard) return false;
      // Read again as the kernel's own word: `Infinity` has no bigint.
      const raw = readWord(8);
      return writeLimit(constants.RLIMIT_MEMLOCK, raw, raw);
    },

    readPermission: (path) =>
      adapter.readPermission?.(path) ?? { granted: true },

    openRead(path, nonBlock = false) {
      const bytes = apply(encode, encoder, [`${path}\0`]) as Uint8Array;
      const flags = constants.O_RDONLY | constants.O_CLOEXEC |
        (nonBlock ? constants.O_NONBLOCK : 0);
      return retrying("open", () => lib.open(bytes, flags));
    },

    readInto(fd, address, length, offset) {
      return offset === undefined
        ? retrying("read", () => lib.read(fd, address, length))
        : retrying("pread", () => lib.pread(fd, address, length, offset));
    },

    writeFrom(fd, address, length) {
      return retrying("write", () => lib.write(fd, address, length));
    },

    close(fd) {
      check("close", lib.close(fd));
    },

    onExit: (listener) => adapter.onExit(listener),
    onSignal: (signal, listener) => adapter.onSignal(signal, listener),
    exit: (code) => adapter.exit(code),
  };

  return { members, errno, fail, check, retrying, readLimit, writeLimit };
}
