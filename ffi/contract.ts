/**
 * The contract between the core and the OS, as ffi/ implements it:
 * page-level memory primitives, randomness, file reads, and the process
 * hooks. The core never calls FFI; it calls this. `load.ts` builds the real
 * implementation for the running runtime and OS, and unit tests may install
 * a fake through `src/core/_native.ts`.
 *
 * @module
 */

import type { ReadPermission, RuntimeName, StopSignal } from "./types.ts";

export type { ReadPermission };

/** Page protection of a range. */
export type Protection = "noaccess" | "readonly" | "readwrite";

/** The operating systems secmem knows about. */
export type OsName = "linux" | "darwin" | "windows";

/** A limit on locked memory in bytes; `Infinity` when there is none. */
export interface LockLimit {
  soft: number;
  hard: number;
}

/** What the platform can do beyond plain mapping, as probed at load. */
export interface PlatformFeatures {
  /** Pages can be locked in RAM (mlock, VirtualLock). */
  lock: boolean;
  /** Pages can be excluded from core dumps (MADV_DONTDUMP). */
  dontDump: boolean;
  /** Forked children get the pages zeroed (MADV_WIPEONFORK) or not at all. */
  forkProtection: "wipe" | "omit" | "none";
}

/** Result of committing pages: `lock-limit` if the lock limit refused. */
export type CommitResult = "ok" | "lock-limit";

/** Whether memfd_secret(2) pages can be had here, and what was seen. */
export interface SecretMemorySupport {
  available: boolean;
  /** What the probe saw, for example `ENOSYS: ...`. */
  detail: string;
}

/** The other end of a connected Unix socket, and where ours is bound. */
export interface UnixPeer {
  pid: number;
  uid: number;
  gid: number;
  /** The path the local end is bound to; "" when it is unnamed. */
  path: string;
}

/** The OS and runtime services the core uses. */
export interface NativeMemory {
  readonly runtime: RuntimeName;
  readonly runtimeVersion: string;
  readonly os: OsName;
  readonly arch: string;
  /** The OS page size in bytes, asked of the OS. */
  readonly pageSize: number;
  readonly features: PlatformFeatures;

  /** Maps `length` bytes of inaccessible, unbacked address space. */
  reserve(length: number): bigint;
  /**
   * Backs `length` bytes at `address` (inside a reservation) with readable,
   * writable, zeroed pages, locked in RAM when `lock` is true.
   */
  commit(address: bigint, length: number, lock: boolean): CommitResult;
  /**
   * Backs `length` bytes at `address` (inside a reservation) with readable,
   * writable, zeroed memfd_secret(2) pages: locked, prefaulted, out of the
   * kernel's direct map, out of core dumps and forked children; the
   * descriptor is already closed on return. `unsupported` when the kernel
   * refuses memfd_secret (see `secretMemory`). Absent off Linux.
   */
  commitSecret?(address: bigint, length: number): CommitResult | "unsupported";
  /** Probes memfd_secret(2) once (a descriptor opened and closed). */
  secretMemory?(): SecretMemorySupport;
  /**
   * Linux: gives committed pages back, leaving them reserved and
   * inaccessible exactly as `reserve` made them, so the range merges into
   * one mapping with the guard pages around it. Absent elsewhere (the core
   * then commits fresh unlocked pages and makes them inaccessible).
   */
  decommit?(address: bigint, length: number): void;
  /** Keeps committed pages out of core dumps and out of forked children. */
  keepOutOfDumpsAndForks(address: bigint, length: number): void;
  /** Changes the protection of committed pages. */
  protect(address: bigint, length: number, protection: Protection): void;
  /** Unmaps a whole reservation (which also unlocks it). */
  release(address: bigint, length: number): void;
  /** Zeroes memory with a call the compiler cannot elide. */
  wipe(address: bigint, length: number): void;
  /** Copies between native ranges without passing through the JS heap. */
  copy(destination: bigint, source: bigint, length: number): void;
  /** Fills memory from the OS random generator, in place. */
  fillRandom(address: bigint, length: number): void;
  /** A zero-copy `ArrayBuffer` over native memory. */
  view(address: bigint, length: number): ArrayBuffer;

  /** The current lock limit (RLIMIT_MEMLOCK or the working-set quota). */
  lockLimit(): LockLimit;
  /** Raises the soft lock limit to the hard one; false if it cannot. */
  raiseLockLimit(): boolean;

  // Process hardening (`hardenProcess`): each member is absent where the
  // OS has no such switch. Failures throw `OS_ERROR`.
  /**
   * Linux: whether the process is dumpable (PR_GET_DUMPABLE). A process
   * that is not gets no core dump, and no other process of the same user
   * may ptrace it or open its /proc/PID/mem.
   */
  dumpable?(): boolean;
  /** Linux: makes the process not dumpable (PR_SET_DUMPABLE 0). */
  disableDumping?(): void;
  /** Linux: RLIMIT_CORE, in bytes (`Infinity`: unlimited). */
  coreLimit?(): LockLimit;
  /** Linux: sets RLIMIT_CORE's soft and hard limit to `bytes`. */
  setCoreLimit?(bytes: number): void;
  /**
   * Windows: whether a crash shows the Windows Error Reporting dialog
   * (SEM_NOGPFAULTERRORBOX is not in the error mode).
   */
  crashDialog?(): boolean;
  /** Windows: adds SEM_NOGPFAULTERRORBOX to the error mode. */
  disableCrashDialog?(): void;

  /**
   * Asks the runtime's permission model whether this program may read
   * `path` (Deno's permissions, Node's `--permission`): FFI can open any
   * file, so a path a caller names is asked about first, and a refusal
   * is kept. Where the runtime has no such model (Bun), it is granted.
   */
  readPermission(path: string): ReadPermission;
  /**
   * Opens a file for reading; returns a descriptor. `nonBlocking` opens it
   * O_NONBLOCK, so a FIFO or device answers EAGAIN instead of blocking.
   */
  openRead(path: string, nonBlocking?: boolean): number;
  /**
   * Reads up to `length` bytes into native memory, at `offset` or, when
   * `offset` is omitted, from the descriptor's position. Returns the count
   * read (0 at end of input). Retries on EINTR.
   */
  readInto(
    fd: number,
    address: bigint,
    length: number,
    offset?: number,
  ): number;
  /** Writes up to `length` bytes from native memory; returns the count. */
  writeFrom(fd: number, address: bigint, length: number): number;
  /** Closes a descriptor. */
  close(fd: number): void;
  /**
   * Linux: the whole text of the /proc file at `path` (`/proc/self/maps`,
   * a thread's stat, `/proc/sys/vm/max_map_count`), read with read(2)
   * through scratch pages of the native layer's own, mapped for the read
   * and unmapped after it. Throws `OS_ERROR` with the errno of the call
   * that failed. Absent where there is no /proc.
   */
  procText?(path: string): string;

  /**
   * Whether `fd` is a terminal. Optional: an OS layer without terminal
   * control leaves it out (with `quietTerminal`), and the prompt then
   * only reads piped input.
   */
  isTerminal?(fd: number): boolean;
  /**
   * Turns off echo, line editing and the signal keys on terminal `fd`, so
   * that each key arrives as a byte (Ctrl-C as 0x03), and makes read(2)
   * return at once, with 0 when no key is waiting (VMIN = VTIME = 0), so
   * that the prompt can wait with timers. Returns a function that restores
   * the saved settings.
   */
  quietTerminal?(fd: number): () => void;

  // The process-wide table of live regions (src/core/_process_table.ts):
  // absent where threads cannot share one (then each thread sees only its
  // own buffers).
  /**
   * Linux: `length` zeroed bytes that every thread of the process finds at
   * the same address under `name`, mapped by the first thread to ask;
   * undefined when the kernel cannot provide them (or, `existingOnly`,
   * when no thread has mapped them yet).
   */
  sharedTable?(
    name: string,
    length: number,
    existingOnly?: boolean,
  ): bigint | undefined;
  /** Linux: the calling thread's id (gettid). */
  threadId?(): number;
  /**
   * Linux: the process's id (getpid), which is the thread id of its first
   * thread: that thread ending ends the process.
   */
  processId?(): number;
  /**
   * Linux: when thread `tid` of this process started, in clock ticks since
   * boot (a safe integer, below 2^41 for centuries of uptime); `null` when
   * it has certainly ended (its /proc/self/task entry is gone); -1 when
   * that cannot be told.
   */
  threadTicks?(tid: number): number | null;
  /**
   * Linux: when thread `tid` of this process started (clock ticks since
   * boot, modulo 2^31), which tells it from an earlier thread with the same
   * id; `null` when it has certainly ended (its /proc/self/task entry is
   * gone); -1 when that cannot be told.
   */
  threadStart?(tid: number): number | null;

  // The list of open ranges every copy of secmem reads
  // (src/core/_open_ranges.ts): absent where none can be shared.
  /**
   * `length` zeroed bytes that every copy of secmem in the process, in any
   * thread, finds under `name` (the same memory, at an address that may
   * differ per copy); undefined when none can be had. Linux: the memfd of
   * `sharedTable`; Windows: a named section of this process.
   */
  sharedSection?(name: string, length: number): bigint | undefined;
  /**
   * The calling thread's id and when it started (any int32 that a later
   * thread given the same id does not share), or undefined.
   */
  currentThread?(): { id: number; started: number } | undefined;

  // The agent's peer check: absent where the OS layer has none (then the
  // agent refuses every peer).
  /**
   * Linux: who is at the other end of the connected Unix socket `fd`
   * (SO_PEERCRED, as the kernel recorded it at connect), and the path the
   * local end is bound to (getsockname; "" when unnamed).
   */
  unixPeer?(fd: number): UnixPeer;
  /** Linux: this process's effective uid (geteuid). */
  effectiveUid?(): number;

  /** Runs `listener` synchronously when the process exits normally. */
  onExit(listener: () => void): void;
  /** Runs `listener` when the process receives `signal`. */
  onSignal(signal: StopSignal, listener: () => void): void;
  /** Ends the process. */
  exit(code: number): never;
}
