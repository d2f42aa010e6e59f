/**
 * The core's native interface on Windows, built from kernel32 (and the
 * system generator in bcryptprimitives or bcrypt) as bound by whichever
 * runtime adapter is running. Plain TypeScript over bound calls.
 *
 * What Windows gives, and what it does not:
 * - Guard pages and rest state: `PAGE_NOACCESS`, as on Linux.
 * - Locking: `VirtualLock` keeps pages in the working set, so they are not
 *   paged out. It is bounded by the process's minimum working-set size, not
 *   by a limit the user sets; secmem grows that size when a lock is refused.
 * - No call keeps a range out of crash dumps, and there is no fork, so
 *   `keepOutOfDumpsAndForks` has nothing to do; `features` says so rather than pretend.
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import type {
  CommitResult,
  LockLimit,
  NativeMemory,
  PlatformFeatures,
  Protection,
} from "./contract.ts";
import {
  WINDOWS,
  WINDOWS_BCRYPT,
  WINDOWS_BCRYPT_CANDIDATES,
  WINDOWS_KERNEL32,
  WINDOWS_KERNEL32_CANDIDATES,
  WINDOWS_PRNG,
  WINDOWS_PRNG_CANDIDATES,
} from "./windows.ts";
import type { RuntimeAdapter } from "./types.ts";

// Taken at load, as src/core/_intrinsics.ts takes it for src/: a global
// Uint8Array replaced by other code would be handed the memory each view
// covers, or would make the out-parameters a call is read back from.
const Bytes = Uint8Array;
const Words = Uint16Array;
const Buffers = ArrayBuffer;
const charCodeAt = String.prototype.charCodeAt;
const apply = Reflect.apply;

/**
 * The little-endian word at `at`, by index: DataView's methods and a view's
 * `buffer` getter, read at call time, could be replaced after import (and
 * choose the page size, the lock limit or a thread's identity).
 */
function word32(bytes: Uint8Array, at: number): number {
  return (bytes[at] | bytes[at + 1] << 8 | bytes[at + 2] << 16 |
    bytes[at + 3] << 24) >>> 0;
}

/** The little-endian 64-bit word at 0, as a number (exact below 2^53). */
function word64(bytes: Uint8Array): number {
  return word32(bytes, 0) + word32(bytes, 4) * 4294967296;
}

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;
// No Math at call time: a Math.min replaced after import answering 0 made
// every ReadFile ask for no bytes, and a file read as empty.
const smaller = (a: number, b: number): number => a < b ? a : b;
const larger = (a: number, b: number): number => a > b ? a : b;

/** Which system generator `fillRandom` calls. */
export type WindowsRandomSource = "ProcessPrng" | "BCryptGenRandom" | "none";

/** The native interface on Windows, plus the generator it found. */
export interface WindowsMemory extends NativeMemory {
  /** The generator behind `fillRandom`; `none` if neither library opened. */
  readonly randomSource: WindowsRandomSource;
}

const PROTECTION_FLAGS: Record<Protection, number> = {
  noaccess: WINDOWS.PAGE_NOACCESS,
  readonly: WINDOWS.PAGE_READONLY,
  readwrite: WINDOWS.PAGE_READWRITE,
};

/** The name of a Win32 error code that `WINDOWS` lists, if any. */
const errorName = (code: number): string | undefined =>
  Object.entries(WINDOWS).find(([name, value]) =>
    name.startsWith("ERROR_") && value === code
  )?.[0];

const HINTS: Record<string, string> = {
  "VirtualAlloc(MEM_RESERVE)":
    "the process may be out of address space or memory",
  "VirtualAlloc(MEM_COMMIT)":
    "the system commit limit may be reached; enlarge the paging file or free memory",
  CreateFileW: "check that the path exists and is readable",
};

/** Builds Windows' native memory layer over a runtime adapter. */
export function createWindowsMemory(
  adapter: RuntimeAdapter,
  arch: string,
): WindowsMemory {
  const kernel32 = adapter.open(WINDOWS_KERNEL32_CANDIDATES, WINDOWS_KERNEL32);
  // The runtime itself may call Win32 between two FFI calls and overwrite
  // the thread's last error; reading it first thing after a failed call is
  // the best any FFI caller can do.
  const lastError = (): number => kernel32.GetLastError();

  /** Turns a failed call into a typed error; read the error code first. */
  function fail(call: string, code: number): never {
    const name = errorName(code) ?? "Windows error";
    const hint = HINTS[call];
    throw new SecretMemoryError(
      "OS_ERROR",
      `Cannot complete ${call}: ${name} (${code})${hint ? `; ${hint}` : ""}`,
      { errno: code, syscall: call },
    );
  }

  function check(call: string, ok: number): void {
    if (ok === 0) fail(call, lastError());
  }

  const systemInfo = new Bytes(WINDOWS.SYSTEM_INFO_SIZE);
  kernel32.GetSystemInfo(systemInfo);
  const pageSize = word32(systemInfo, WINDOWS.SYSTEM_INFO_PAGE_SIZE);
  if (pageSize === 0 || (pageSize & (pageSize - 1)) !== 0) {
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      `Cannot use the page size Windows reported (${pageSize}): it is not a power of two`,
    );
  }

  // The working set bounds VirtualLock: a process may lock about its
  // minimum working-set size, less a few pages Windows keeps for itself.
  const process = kernel32.GetCurrentProcess();
  const minimumBytes = new Bytes(8);
  const maximumBytes = new Bytes(8);

  function workingSet(): { minimum: number; maximum: number } {
    check(
      "GetProcessWorkingSetSize",
      kernel32.GetProcessWorkingSetSize(process, minimumBytes, maximumBytes),
    );
    return {
      minimum: word64(minimumBytes),
      maximum: word64(maximumBytes),
    };
  }

  /**
   * Grows the working set by at least `bytes`, and at least doubles it, so
   * that a program making many buffers is not refused one buffer at a time.
   * Returns whether the minimum really grew: Wine, for one, accepts the
   * call and changes nothing.
   */
  function growWorkingSet(bytes: number): boolean {
    const { minimum, maximum } = workingSet();
    const step = larger(bytes, minimum);
    const grown = kernel32.SetProcessWorkingSetSize(
      process,
      minimum + step,
      larger(maximum, minimum) + step,
    );
    return grown !== 0 && workingSet().minimum > minimum;
  }

  /** Locks committed pages; returns 0 or the error code. */
  function lock(address: bigint, length: number): number {
    return kernel32.VirtualLock(address, length) !== 0 ? 0 : lastError();
  }

  const features: PlatformFeatures = {
    lock: true,
    // No Win32 call keeps a range out of crash dumps that any debugger or
    // MiniDumpWriteDump takes; say so instead of pretending.
    dontDump: false,
    // Windows has no fork: a child process never inherits private pages.
    forkProtection: "none",
  };

  const random = openRandom(adapter);

  /** Standard handles stand in for descriptors 0, 1 and 2. */
  function handleOf(fd: number): bigint {
    const standard = [
      WINDOWS.STD_INPUT_HANDLE,
      WINDOWS.STD_OUTPUT_HANDLE,
      WINDOWS.STD_ERROR_HANDLE,
    ][fd];
    if (standard === undefined) return BigInt(fd);
    const handle = kernel32.GetStdHandle(standard);
    if (handle === WINDOWS.INVALID_HANDLE_VALUE) {
      fail("GetStdHandle", lastError());
    }
    return handle;
  }

  const countBytes = new Bytes(4);

  return {
    sharedSection(name, length) {
      // Named per process: the Local namespace is the whole session's.
      const section = kernel32.CreateFileMappingW(
        WINDOWS.INVALID_HANDLE_VALUE,
        0n,
        WINDOWS.PAGE_READWRITE,
        0,
        length,
        wideString(`Local\\${name}-${kernel32.GetCurrentProcessId()}`),
      );
      if (section === 0n) return undefined;
      // The handle is kept open for the life of the process: a view keeps
      // the memory, but the name may go with the last handle (Wine).
      const address = kernel32.MapViewOfFile(section, FILE_MAP_WRITE, 0, 0, 0);
      if (address === 0n) kernel32.CloseHandle(section);
      return address === 0n ? undefined : address;
    },

    currentThread() {
      // The creation time tells a thread from a later one given its id.
      const creation = new Bytes(8);
      const exit = new Bytes(8);
      const kernel = new Bytes(8);
      const user = new Bytes(8);
      if (
        kernel32.GetThreadTimes(
          kernel32.GetCurrentThread(),
          creation,
          exit,
          kernel,
          user,
        ) === 0
      ) return undefined;
      const low = word32(creation, 0);
      return { id: kernel32.GetCurrentThreadId(), started: low & 0x7fff_ffff };
    },

    runtime: adapter.runtime,
    runtimeVersion: adapter.version,
    os: "windows",
    arch,
    pageSize,
    features,
    randomSource: random.source,

    reserve(length) {
      // Windows rounds every reservation's base to the allocation
      // granularity (64 KiB), so small buffers use more address space than
      // on Linux, but only the committed pages use memory.
      const address = kernel32.VirtualAlloc(
        0n,
        length,
        WINDOWS.MEM_RESERVE,
        WINDOWS.PAGE_NOACCESS,
      );
      if (address === 0n) fail("VirtualAlloc(MEM_RESERVE)", lastError());
      return address;
    },

    commit(address, length, wantLock): CommitResult {
      if (!wantLock) {
        // MEM_COMMIT over pages already committed keeps them as they are:
        // their bytes, and their VirtualLock. A range quarantined after a
        // view escaped (the core recommits it unlocked) must hold no lock
        // for good, so the old pages go first: unlocked (the result is
        // ignored; pages never locked answer ERROR_NOT_LOCKED) and
        // decommitted, which leaves the reservation. On a fresh
        // reservation both are no-ops.
        kernel32.VirtualUnlock(address, length);
        check(
          "VirtualFree(MEM_DECOMMIT)",
          kernel32.VirtualFree(address, length, WINDOWS.MEM_DECOMMIT),
        );
      }
      const committed = kernel32.VirtualAlloc(
        address,
        length,
        WINDOWS.MEM_COMMIT,
        WINDOWS.PAGE_READWRITE,
      );
      if (committed === 0n) fail("VirtualAlloc(MEM_COMMIT)", lastError());
      if (!wantLock) return "ok";
      let code = lock(address, length);
      if (code === WINDOWS.ERROR_WORKING_SET_QUOTA) {
        growWorkingSet(length);
        code = lock(address, length);
      }
      if (code === 0) return "ok";
      // Give the pages back, so that a refused lock leaves the reservation
      // as it was, as a refused MAP_LOCKED does on Linux.
      check(
        "VirtualFree(MEM_DECOMMIT)",
        kernel32.VirtualFree(address, length, WINDOWS.MEM_DECOMMIT),
      );
      // Wine turns a refused mlock(2) (RLIMIT_MEMLOCK) into ACCESS_DENIED;
      // Windows does not return it for committed read-write pages.
      if (
        code === WINDOWS.ERROR_WORKING_SET_QUOTA ||
        code === WINDOWS.ERROR_ACCESS_DENIED
      ) {
        return "lock-limit";
      }
      fail("VirtualLock", code);
    },

    keepOutOfDumpsAndForks() {
      // Nothing to ask of Windows: see `features` (no dump exclusion, no
      // fork). Kept as a call so the core's steps stay the same everywhere.
    },

    protect(address, length, protection) {
      const previous = new Bytes(4);
      check(
        "VirtualProtect",
        kernel32.VirtualProtect(
          address,
          length,
          PROTECTION_FLAGS[protection],
          previous,
        ),
      );
    },

    release(address) {
      // MEM_RELEASE takes the reservation's base and a size of 0, and frees
      // the whole reservation; freed pages are unlocked with it.
      check(
        "VirtualFree(MEM_RELEASE)",
        kernel32.VirtualFree(address, 0, WINDOWS.MEM_RELEASE),
      );
    },

    // RtlSecureZeroMemory is an inline in the headers, not an export. A call
    // through FFI cannot be elided by any compiler: the JIT cannot see into
    // the callee, and the callee cannot see that the memory is freed next.
    wipe(address, length) {
      kernel32.RtlZeroMemory(address, length);
    },

    copy(destination, source, length) {
      kernel32.RtlMoveMemory(destination, source, length);
    },

    fillRandom: random.fill,

    view: (address, length) => adapter.view(address, length),

    lockLimit(): LockLimit {
      const { minimum, maximum } = workingSet();
      return { soft: minimum, hard: maximum };
    },

    raiseLockLimit: () => growWorkingSet(0),

    crashDialog: () =>
      (kernel32.GetErrorMode() & WINDOWS.SEM_NOGPFAULTERRORBOX) === 0,

    disableCrashDialog() {
      // SetErrorMode replaces the whole mode: keep the bits already set.
      kernel32.SetErrorMode(
        kernel32.GetErrorMode() | WINDOWS.SEM_NOGPFAULTERRORBOX,
      );
    },

    readPermission: (path) =>
      adapter.readPermission?.(path) ?? { granted: true },

    openRead(path) {
      const handle = kernel32.CreateFileW(
        wideString(path),
        WINDOWS.GENERIC_READ,
        WINDOWS.FILE_SHARE_READ | WINDOWS.FILE_SHARE_WRITE |
          WINDOWS.FILE_SHARE_DELETE,
        0n,
        WINDOWS.OPEN_EXISTING,
        WINDOWS.FILE_ATTRIBUTE_NORMAL,
        0n,
      );
      if (handle === WINDOWS.INVALID_HANDLE_VALUE) {
        fail("CreateFileW", lastError());
      }
      // Kernel handles are small multiples of 4, never 0, 1 or 2, so they
      // fit a number and do not collide with the standard descriptors.
      return Number(handle);
    },

    readInto(fd, address, length, offset) {
      const handle = handleOf(fd);
      if (offset !== undefined) {
        // Unlike pread(2), this moves the handle's position.
        check(
          "SetFilePointerEx",
          kernel32.SetFilePointerEx(handle, offset, 0n, WINDOWS.FILE_BEGIN),
        );
      }
      const wanted = smaller(length, WINDOWS.MAX_DWORD_CHUNK);
      if (kernel32.ReadFile(handle, address, wanted, countBytes, 0n) === 0) {
        const code = lastError();
        // End of a file read at an offset, and a closed pipe, are end of input.
        if (
          code === WINDOWS.ERROR_HANDLE_EOF ||
          code === WINDOWS.ERROR_BROKEN_PIPE
        ) {
          return 0;
        }
        fail("ReadFile", code);
      }
      return word32(countBytes, 0);
    },

    writeFrom(fd, address, length) {
      const wanted = smaller(length, WINDOWS.MAX_DWORD_CHUNK);
      check(
        "WriteFile",
        kernel32.WriteFile(handleOf(fd), address, wanted, countBytes, 0n),
      );
      return word32(countBytes, 0);
    },

    close(fd) {
      // The standard handles belong to the process, not to the caller.
      if (fd <= 2) return;
      check("CloseHandle", kernel32.CloseHandle(BigInt(fd)));
    },

    onExit: (listener) => adapter.onExit(listener),
    onSignal: (signal, listener) => adapter.onSignal(signal, listener),
    exit: (code) => adapter.exit(code),
  };
}

/** MapViewOfFile's access for reading and writing. */
const FILE_MAP_WRITE = 0x2;

/** `text` as a NUL-terminated UTF-16 string, as wide-character calls want. */
function wideString(text: string): Uint8Array {
  const buffer = new Buffers(2 * (text.length + 1));
  const units = new Words(buffer);
  for (let i = 0; i < text.length; i++) {
    units[i] = apply(charCodeAt, text, [i]) as number;
  }
  return new Bytes(buffer);
}

interface RandomSource {
  source: WindowsRandomSource;
  fill(address: bigint, length: number): void;
}

/**
 * Opens the system generator: `ProcessPrng` where bcryptprimitives.dll has
 * it (Windows 10 and later), else `BCryptGenRandom` from bcrypt.dll. Either
 * writes straight into the pages; nothing passes through the JS heap.
 */
function openRandom(adapter: RuntimeAdapter): RandomSource {
  const failures: string[] = [];
  try {
    const prng = adapter.open(WINDOWS_PRNG_CANDIDATES, WINDOWS_PRNG);
    return {
      source: "ProcessPrng",
      fill(address, length) {
        if (prng.ProcessPrng(address, length) === 0) {
          throw new SecretMemoryError(
            "OS_ERROR",
            "Cannot fill random bytes: ProcessPrng returned FALSE",
            { syscall: "ProcessPrng" },
          );
        }
      },
    };
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    failures.push((error as Error).message);
  }
  try {
    const bcrypt = adapter.open(WINDOWS_BCRYPT_CANDIDATES, WINDOWS_BCRYPT);
    return {
      source: "BCryptGenRandom",
      fill(address, length) {
        for (let done = 0; done < length;) {
          const chunk = smaller(length - done, WINDOWS.MAX_DWORD_CHUNK);
          const status = bcrypt.BCryptGenRandom(
            0n,
            address + BigInt(done),
            chunk,
            WINDOWS.BCRYPT_USE_SYSTEM_PREFERRED_RNG,
          );
          if (status !== 0) {
            const hex = (status >>> 0).toString(16).padStart(8, "0");
            throw new SecretMemoryError(
              "OS_ERROR",
              `Cannot fill random bytes: BCryptGenRandom returned NTSTATUS 0x${hex}`,
              { errno: status >>> 0, syscall: "BCryptGenRandom" },
            );
          }
          done += chunk;
        }
      },
    };
  } catch (error) {
    if (!isUnavailable(error)) throw error;
    failures.push((error as Error).message);
  }
  return {
    source: "none",
    fill() {
      throw new SecretMemoryError(
        "UNSUPPORTED_PLATFORM",
        `Cannot fill random bytes: neither bcryptprimitives.dll nor bcrypt.dll could be opened (${
          failures.join("; ")
        })`,
      );
    },
  };
}

function isUnavailable(error: unknown): boolean {
  return error instanceof SecretMemoryError && error.code === "FFI_UNAVAILABLE";
}
