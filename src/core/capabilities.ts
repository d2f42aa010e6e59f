/**
 * What this machine and runtime give, as probed through the native layer.
 *
 * @module
 */

import { native } from "./_native.ts";

/** The protections a buffer gets on this platform. */
export interface Protections {
  /** Pages are locked in RAM, so they are not swapped out. */
  lock: boolean;
  /** Pages are left out of core dumps. */
  dontDump: boolean;
  /** Forked children get the pages zeroed (`wipe`), not at all (`omit`), or a copy (`none`). */
  forkProtection: "wipe" | "omit" | "none";
  /** Inaccessible guard pages fence each buffer. */
  guardPages: boolean;
  /** Buffers rest inaccessible between scopes. */
  noaccessAtRest: boolean;
  /**
   * Locked pages stay locked while they rest inaccessible. False on
   * Windows: Microsoft documents that PAGE_NOACCESS memory cannot be
   * locked and not whether a lock survives the change, so pages at rest
   * may be paged out there (docs/windows-lock.md).
   */
  lockedAtRest: boolean;
}

/** The platform as secmem sees it. */
export interface Capabilities {
  /** The runtime running secmem. */
  runtime: "deno" | "bun" | "node";
  /** Its version. */
  runtimeVersion: string;
  /** The operating system. */
  os: "linux" | "darwin" | "windows";
  /** The CPU architecture, in Node's words (`x64`, `arm64`). */
  arch: string;
  /** The OS page size in bytes. */
  pageSize: number;
  /** What each buffer gets here. */
  protections: Protections;
  /** The locked-memory limit in bytes (`Infinity`: none). */
  memlock: { soft: number; hard: number };
  /**
   * Whether `backend: "secretmem"` works here (memfd_secret(2), probed
   * once), and what the probe saw.
   */
  secretMemory: { available: boolean; detail: string };
  /**
   * Whether CI runs the suite on this OS. False on macOS: no Mac has run
   * secmem yet, and it allocates only after a start-up self-test passes.
   */
  tested: boolean;
}

/**
 * Reports the runtime, OS, page size, which protections buffers get here,
 * and the locked-memory limit.
 *
 * @returns A fresh report.
 * @throws {SecretMemoryError} `FFI_UNAVAILABLE` or `UNSUPPORTED_PLATFORM`
 * where secmem cannot run.
 *
 * @example Refuse to run without locked memory
 * ```ts
 * import { capabilities } from "@secmem/secmem";
 *
 * const caps = capabilities();
 * if (!caps.protections.lock) throw new Error("memory locking is unavailable");
 * ```
 */
export function capabilities(): Capabilities {
  const memory = native();
  const { soft, hard } = memory.lockLimit();
  return {
    runtime: memory.runtime,
    runtimeVersion: memory.runtimeVersion,
    os: memory.os,
    arch: memory.arch,
    pageSize: memory.pageSize,
    protections: {
      lock: memory.features.lock,
      dontDump: memory.features.dontDump,
      forkProtection: memory.features.forkProtection,
      guardPages: true,
      noaccessAtRest: true,
      // Linux keeps mlock across PROT_NONE (smaps shows `lo` at rest);
      // macOS's self-test reads the wire count back at rest.
      lockedAtRest: memory.features.lock && memory.os !== "windows",
    },
    memlock: { soft, hard },
    secretMemory: memory.secretMemory?.() ??
      { available: false, detail: `memfd_secret(2) is Linux-only` },
    // Linux runs natively and under qemu-aarch64, Windows under Wine.
    tested: memory.os !== "darwin",
  };
}
