/**
 * The core's native interface on Linux, built from the libc table bound by
 * whichever runtime adapter is running. Plain TypeScript over bound calls:
 * no runtime FFI is touched here.
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import type {
  CommitResult,
  NativeMemory,
  PlatformFeatures,
  SecretMemorySupport,
} from "./contract.ts";
import { LINUX, LINUX_LIBC, LINUX_LIBC_CANDIDATES } from "./linux.ts";
import type { BoundLibrary, RuntimeAdapter } from "./types.ts";
import { createLinuxThreads } from "./linux_threads.ts";
import { openInTwoSteps } from "./_lazy.ts";
import { createPosix, type Posix } from "./posix_memory.ts";
import { createProcReader } from "./procfs.ts";

// Taken at load, as src/core/_intrinsics.ts takes it for src/: a global
// Uint8Array replaced by other code would be handed the memory each view
// covers, or would make the out-parameters a call is read back from.
const Bytes = Uint8Array;

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;
// The agent lets a connection in by the peer's uid and socket path read
// here: a DataView getter, Math.min or decode replaced after import could
// answer the agent's own uid or path for any peer.
const apply = Reflect.apply;
const decodeText = TextDecoder.prototype.decode;
const pathDecoder = new TextDecoder();

/** The little-endian 32-bit word at `at` (x86_64 and aarch64 both are). */
function wordAt(bytes: Uint8Array, at: number): number {
  return (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 |
    bytes[at + 3] << 24) >>> 0;
}

type Libc = BoundLibrary<typeof LINUX_LIBC>;

/**
 * The calls a secret's life makes (map, protect, fill, wipe, unmap; the
 * process table's memfd and /proc reads; errno), bound when the layer is
 * built. The rest (locking limits, the prompt's terminal calls, hardening,
 * the agent's socket checks, the fallback wipe) are bound at first use:
 * `openInTwoSteps`.
 */
const EAGER: readonly (keyof typeof LINUX_LIBC)[] = [
  "__errno_location",
  "sysconf",
  "explicit_bzero",
  "mmap",
  "mprotect",
  "madvise",
  "munmap",
  "getrandom",
  "syscall",
  "open",
  "read",
  "close",
  "memfd_create",
  "ftruncate",
];

/** How address space is reserved: inaccessible, unbacked, uncharged. */
const RESERVED = LINUX.MAP_PRIVATE | LINUX.MAP_ANONYMOUS | LINUX.MAP_NORESERVE;

const READ_WRITE = LINUX.PROT_READ | LINUX.PROT_WRITE;

/** Builds Linux's native memory layer over a runtime adapter. */
export function createLinuxMemory(
  adapter: RuntimeAdapter,
  arch: string,
): NativeMemory {
  const libc: Libc = openInTwoSteps(
    adapter,
    LINUX_LIBC_CANDIDATES,
    LINUX_LIBC,
    EAGER,
  );
  const posix = createPosix(libc, adapter, LINUX, {
    errnoAddress: libc.__errno_location(),
    mmapHint: "the process may be out of memory or at vm.max_map_count",
  });
  const { errno, check, retrying, readLimit } = posix;
  // Typed here, so that the compiler sees that a call to it never returns.
  const fail: Posix["fail"] = posix.fail;

  const pageSize = Number(libc.sysconf(LINUX._SC_PAGESIZE));
  if (!Number.isSafeInteger(pageSize) || pageSize <= 0) {
    fail("sysconf", errno());
  }

  // The fallback is bound now, not at the first wipe: a wipe must never be
  // the call that finds a symbol missing or its permission revoked (the
  // pages would then be unmapped unwiped).
  const memset = libc.explicit_bzero === undefined ? libc.memset : undefined;
  const wipe = libc.explicit_bzero ??
    ((address: bigint, length: number) => void memset!(address, 0, length));

  const features: PlatformFeatures = {
    lock: true,
    dontDump: true,
    forkProtection: "wipe",
  };

  /** mmap with no file behind it; a failure throws. */
  function map(
    address: bigint,
    length: number,
    protection: number,
    flags: number,
  ): bigint {
    const mapped = libc.mmap(address, length, protection, flags, -1, 0);
    if (mapped === LINUX.MAP_FAILED) fail("mmap", errno());
    return mapped;
  }

  function advise(address: bigint, length: number, advice: number): number {
    return libc.madvise(address, length, advice) === 0 ? 0 : errno();
  }

  let secretSupport: SecretMemorySupport | undefined;

  /**
   * memfd_secret(O_CLOEXEC), remembering whether the kernel offers it.
   * Returns -1 when it does not; other failures throw.
   */
  function openSecret(): number {
    const fd = libc.syscall(LINUX.SYS_memfd_secret, LINUX.O_CLOEXEC);
    if (fd >= 0) {
      secretSupport ??= {
        available: true,
        detail: "memfd_secret(2) works (Linux 5.14 or newer)",
      };
      return fd;
    }
    const code = errno();
    // ENOSYS: kernel older than 5.14, built without CONFIG_SECRETMEM, or
    // secretmem disabled at boot; EPERM: a seccomp filter refuses it.
    if (code !== LINUX.ENOSYS && code !== LINUX.EPERM) {
      fail("memfd_secret", code);
    }
    secretSupport = {
      available: false,
      detail: code === LINUX.ENOSYS
        ? "ENOSYS: the kernel has no memfd_secret (older than 5.14, built without CONFIG_SECRETMEM, or secretmem.enable=0 at boot)"
        : "EPERM: memfd_secret is refused, probably by a seccomp filter (a container's default profile)",
    };
    return -1;
  }

  const procText = createProcReader(libc, posix, LINUX);
  const threads = createLinuxThreads(libc, procText, arch);

  return {
    ...posix.members,
    ...threads,
    procText,
    os: "linux",
    arch,
    pageSize,
    features,

    reserve: (length) => map(0n, length, LINUX.PROT_NONE, RESERVED),

    decommit(address, length) {
      // The reservation's own flags: a quarantined range and its guard
      // pages become one mapping, and many adjacent ones one in all.
      map(address, length, LINUX.PROT_NONE, RESERVED | LINUX.MAP_FIXED);
    },

    commit(address, length, lock): CommitResult {
      // One fixed mapping over the reservation replaces mprotect + mlock:
      // MAP_LOCKED locks and prefaults, and is refused (EAGAIN, or EPERM
      // with a zero limit) exactly where mlock would be.
      const flags = LINUX.MAP_PRIVATE | LINUX.MAP_ANONYMOUS | LINUX.MAP_FIXED |
        (lock ? LINUX.MAP_LOCKED : 0);
      const mapped = libc.mmap(address, length, READ_WRITE, flags, -1, 0);
      if (mapped !== LINUX.MAP_FAILED) return "ok";
      const code = errno();
      if (lock && (code === LINUX.EAGAIN || code === LINUX.EPERM)) {
        return "lock-limit";
      }
      fail("mmap", code);
    },

    keepOutOfDumpsAndForks(address, length) {
      const dump = advise(address, length, LINUX.MADV_DONTDUMP);
      if (dump !== 0) fail("madvise(MADV_DONTDUMP)", dump);
      if (features.forkProtection === "wipe") {
        const wiped = advise(address, length, LINUX.MADV_WIPEONFORK);
        if (wiped === 0) return;
        // Kernels before 4.14 lack WIPEONFORK; leaving the pages out of the
        // child entirely protects them just as well.
        if (wiped !== LINUX.EINVAL) fail("madvise(MADV_WIPEONFORK)", wiped);
        features.forkProtection = "omit";
      }
      const omitted = advise(address, length, LINUX.MADV_DONTFORK);
      if (omitted !== 0) fail("madvise(MADV_DONTFORK)", omitted);
    },

    commitSecret(address, length) {
      if (secretSupport?.available === false) return "unsupported";
      const fd = openSecret();
      if (fd < 0) return "unsupported";
      // The file's size is the mapping's; the pages come at the first touch.
      if (libc.ftruncate(fd, length) !== 0) {
        const code = errno();
        libc.close(fd);
        fail("ftruncate", code);
      }
      // MAP_LOCKED prefaults the pages here, so that a shortage surfaces as
      // an errno now rather than as SIGBUS at the first touch; it is also
      // where RLIMIT_MEMLOCK is checked (the pages are always locked).
      const flags = LINUX.MAP_SHARED | LINUX.MAP_FIXED | LINUX.MAP_LOCKED;
      const mapped = libc.mmap(address, length, READ_WRITE, flags, fd, 0);
      const code = mapped === LINUX.MAP_FAILED ? errno() : 0;
      // The mapping holds the file; no descriptor may outlive this call.
      libc.close(fd);
      if (code === LINUX.EAGAIN || code === LINUX.EPERM) return "lock-limit";
      if (code !== 0) fail("mmap(memfd_secret)", code);
      // A shared mapping is inherited across fork (WIPEONFORK applies to
      // private anonymous pages only), so leave it out of children.
      const omitted = advise(address, length, LINUX.MADV_DONTFORK);
      if (omitted !== 0) fail("madvise(MADV_DONTFORK)", omitted);
      return "ok";
    },

    secretMemory() {
      if (secretSupport === undefined) {
        const fd = openSecret();
        if (fd >= 0) libc.close(fd);
      }
      return secretSupport!;
    },

    wipe,

    fillRandom(address, length) {
      const getrandom = libc.getrandom;
      if (getrandom === undefined) {
        throw new SecretMemoryError(
          "UNSUPPORTED_PLATFORM",
          "Cannot fill random bytes: this libc has no getrandom (glibc 2.25 or musl 1.1.20 is needed)",
        );
      }
      let filled = 0;
      while (filled < length) {
        filled += retrying(
          "getrandom",
          () => getrandom(address + BigInt(filled), length - filled, 0),
        );
      }
    },

    dumpable: () =>
      check("prctl", libc.prctl(LINUX.PR_GET_DUMPABLE, 0, 0, 0, 0)) !== 0,

    disableDumping() {
      check("prctl", libc.prctl(LINUX.PR_SET_DUMPABLE, 0, 0, 0, 0));
    },

    coreLimit: () => readLimit(LINUX.RLIMIT_CORE),

    setCoreLimit(bytes) {
      const limit = BigInt(bytes);
      if (!posix.writeLimit(LINUX.RLIMIT_CORE, limit, limit)) {
        fail("setrlimit", errno());
      }
    },

    isTerminal: (fd) => libc.isatty(fd) === 1,

    quietTerminal(fd) {
      const saved = new Bytes(LINUX.TERMIOS_SIZE);
      check("tcgetattr", libc.tcgetattr(fd, saved));
      // By index, not slice or a DataView's methods: replaced after
      // import, they could leave ECHO set (the passphrase shown as it is
      // typed) or make `quiet` the saved settings themselves.
      const quiet = new Bytes(LINUX.TERMIOS_SIZE);
      for (let i = 0; i < LINUX.TERMIOS_SIZE; i++) quiet[i] = saved[i];
      const at = LINUX.TERMIOS_LFLAG_OFFSET;
      const lflag = (quiet[at] | quiet[at + 1] << 8 | quiet[at + 2] << 16 |
        quiet[at + 3] << 24) &
        ~(LINUX.ECHO | LINUX.ECHONL | LINUX.ICANON | LINUX.ISIG |
          LINUX.IEXTEN);
      // tcflag_t is a little-endian 32-bit word on x86_64 and aarch64.
      quiet[at] = lflag & 0xff;
      quiet[at + 1] = (lflag >>> 8) & 0xff;
      quiet[at + 2] = (lflag >>> 16) & 0xff;
      quiet[at + 3] = lflag >>> 24;
      // Without ICANON, and VMIN = VTIME = 0: read(2) returns at once, with
      // a byte or with 0 when none is typed yet, so the prompt waits with
      // timers and the event loop (signal handlers included) keeps running.
      quiet[LINUX.TERMIOS_CC_OFFSET + LINUX.VMIN] = 0;
      quiet[LINUX.TERMIOS_CC_OFFSET + LINUX.VTIME] = 0;
      check("tcsetattr", libc.tcsetattr(fd, LINUX.TCSANOW, quiet));
      return () => {
        retrying("tcsetattr", () => libc.tcsetattr(fd, LINUX.TCSANOW, saved));
      };
    },

    unixPeer(fd) {
      const cred = new Bytes(LINUX.UCRED_SIZE);
      const length = new Bytes(4);
      length[0] = LINUX.UCRED_SIZE;
      check(
        "getsockopt",
        libc.getsockopt(fd, LINUX.SOL_SOCKET, LINUX.SO_PEERCRED, cred, length),
      );
      // A short answer would leave the uid at 0 (root): refuse it.
      if (wordAt(length, 0) !== LINUX.UCRED_SIZE) {
        fail("getsockopt", LINUX.EINVAL);
      }
      const address = new Bytes(LINUX.SOCKADDR_UN_SIZE);
      const addressLength = new Bytes(4);
      // Both sizes are below 256: the low byte is the whole word.
      addressLength[0] = LINUX.SOCKADDR_UN_SIZE;
      check("getsockname", libc.getsockname(fd, address, addressLength));
      const family = address[0] | (address[1] << 8);
      if (family !== LINUX.AF_UNIX) fail("getsockname", LINUX.EINVAL);
      const answered = wordAt(addressLength, 0);
      const end = answered < LINUX.SOCKADDR_UN_SIZE
        ? answered
        : LINUX.SOCKADDR_UN_SIZE;
      let stop = 2;
      while (stop < end && address[stop] !== 0) stop++;
      const path = new Bytes(stop - 2);
      for (let i = 2; i < stop; i++) path[i - 2] = address[i];
      return {
        pid: wordAt(cred, 0) | 0,
        uid: wordAt(cred, 4),
        gid: wordAt(cred, 8),
        path: apply(decodeText, pathDecoder, [path]) as string,
      };
    },

    effectiveUid: () => libc.geteuid(),
  };
}
