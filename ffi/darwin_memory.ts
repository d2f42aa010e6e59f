/**
 * The core's native interface on macOS (x86_64 and arm64), built from the
 * libSystem table bound by whichever runtime adapter is running.
 *
 * What macOS gives, and what it does not:
 * - Guard pages and rest state: `PROT_NONE`, as on Linux. Pages are 16 KiB
 *   on arm64 and 4 KiB on x86_64 (and under Rosetta): asked, never assumed.
 * - Locking: `mlock` wires the pages; the wire limit is RLIMIT_MEMLOCK
 *   (xnu sets the map's user_wire_limit from it) and a system-wide cap.
 * - Fork: `minherit(VM_INHERIT_NONE)` leaves the data pages out of a child.
 * - Core dumps: no call keeps a range out of one (there is no
 *   MADV_DONTDUMP), so `features.dontDump` is false. MADV_ZERO_WIRED_PAGES
 *   is asked for as well: xnu then zeroes pages still wired when the
 *   mapping goes away, a second wipe should ours never run.
 *
 * No macOS machine has run this file. So it fails closed: before the first
 * reservation it maps guard, data and guard pages, locks, protects and
 * reads every property back from the kernel (`proc_pidinfo`
 * PROC_PIDREGIONINFO: protection, inheritance, user wire count), and if
 * anything is not as intended, every allocation throws
 * `UNSUPPORTED_PLATFORM` naming the step that failed.
 *
 * @module
 */

import { SecretMemoryError } from "../src/core/errors.ts";
import type {
  CommitResult,
  NativeMemory,
  PlatformFeatures,
  Protection,
} from "./contract.ts";
import {
  DARWIN,
  DARWIN_LIBSYSTEM,
  DARWIN_LIBSYSTEM_CANDIDATES,
} from "./darwin.ts";
import type { BoundLibrary, RuntimeAdapter } from "./types.ts";
import { createPosix, type Posix } from "./posix_memory.ts";

// Taken at load, as src/core/_intrinsics.ts takes it for src/: a global
// Uint8Array replaced by other code would be handed the memory each view
// covers, or would make the out-parameters a call is read back from.
const Bytes = Uint8Array;

// Taken at load: a replacement made later must not see or shift an
// address, a length or an offset.
const BigInt = globalThis.BigInt;
const Number = globalThis.Number;

type LibSystem = BoundLibrary<typeof DARWIN_LIBSYSTEM>;

/**
 * What the kernel reports for each protection: VM_PROT_READ 1 and
 * VM_PROT_WRITE 2 (osfmk/mach/vm_prot.h) are the PROT_* bits.
 */
const VM_PROTECTION: Record<Protection, number> = {
  noaccess: 0,
  readonly: 1,
  readwrite: 3,
};

/** One VM region as `proc_pidinfo(PROC_PIDREGIONINFO)` describes it. */
export interface DarwinRegion {
  address: bigint;
  size: bigint;
  /** VM_PROT_* bits: 1 read, 2 write. */
  protection: number;
  /** VM_INHERIT_*: 0 share, 1 copy, 2 none. */
  inheritance: number;
  /** How many times user calls (mlock) wired the region. */
  userWiredCount: number;
}

/** What the start-up self-test proved, or where it stopped. */
export interface DarwinSelfTest {
  passed: boolean;
  /** The checks that held, in order. */
  held: string[];
  /** The check that did not hold, with what was seen. */
  failure?: string;
}

/** The native interface on macOS, plus its self-test. */
export interface DarwinMemory extends NativeMemory {
  /**
   * Runs the self-test once (later calls return the same report); every
   * reservation runs it first and refuses to proceed if it failed.
   */
  selfTest(): DarwinSelfTest;
  /** The region holding `address`, read back from the kernel. */
  region(address: bigint): DarwinRegion | undefined;
}

/** Builds macOS's native memory layer over a runtime adapter. */
export function createDarwinMemory(
  adapter: RuntimeAdapter,
  arch: string,
): DarwinMemory {
  const lib: LibSystem = adapter.open(
    DARWIN_LIBSYSTEM_CANDIDATES,
    DARWIN_LIBSYSTEM,
  );
  // errno is per thread; secmem calls from the JS thread only, so the
  // address __error() gives once stays right.
  const posix = createPosix(lib, adapter, DARWIN, {
    errnoAddress: lib.__error(),
    mmapHint: "the process may be out of address space or memory",
  });
  const { errno } = posix;
  // Typed here, so that the compiler sees that a call to it never returns.
  const fail: Posix["fail"] = posix.fail;

  const pageSize = lib.getpagesize();
  if (pageSize < 4096 || (pageSize & (pageSize - 1)) !== 0) {
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      `Cannot use the page size macOS reported (${pageSize}): it is not a power of two of at least 4096`,
    );
  }

  const features: PlatformFeatures = {
    lock: true,
    // No call excludes a range from a core dump on macOS.
    dontDump: false,
    // minherit(VM_INHERIT_NONE): a child has no mapping there at all.
    forkProtection: "omit",
  };

  const regionBytes = new Bytes(DARWIN.REGIONINFO_SIZE);
  const regionView = new DataView(regionBytes.buffer);
  const pid = lib.getpid();

  function region(address: bigint): DarwinRegion | undefined {
    const size = lib.proc_pidinfo(
      pid,
      DARWIN.PROC_PIDREGIONINFO,
      // The kernel takes the region holding `arg`, or the next one. User
      // addresses stay below 2^47, so a number holds them exactly.
      Number(address),
      regionBytes,
      DARWIN.REGIONINFO_SIZE,
    );
    if (size !== DARWIN.REGIONINFO_SIZE) return undefined;
    const found: DarwinRegion = {
      address: regionView.getBigUint64(DARWIN.REGIONINFO_ADDRESS, true),
      size: regionView.getBigUint64(DARWIN.REGIONINFO_SIZE_FIELD, true),
      protection: regionView.getUint32(DARWIN.REGIONINFO_PROTECTION, true),
      inheritance: regionView.getUint32(DARWIN.REGIONINFO_INHERITANCE, true),
      userWiredCount: regionView.getUint32(
        DARWIN.REGIONINFO_USER_WIRED_COUNT,
        true,
      ),
    };
    // "Or the next one": a region that does not hold the address is none.
    const holds = found.address <= address &&
      address < found.address + found.size;
    return holds ? found : undefined;
  }

  /**
   * Private anonymous pages, placed at `address` exactly unless it is 0n,
   * and unbacked while inaccessible; a failure throws.
   */
  function map(address: bigint, length: number, prot: number): bigint {
    const fixed = address === 0n ? 0 : DARWIN.MAP_FIXED;
    const unbacked = prot === DARWIN.PROT_NONE ? DARWIN.MAP_NORESERVE : 0;
    const flags = DARWIN.MAP_PRIVATE | DARWIN.MAP_ANON | fixed | unbacked;
    const mapped = lib.mmap(address, length, prot, flags, -1, 0);
    if (mapped === DARWIN.MAP_FAILED) fail("mmap", errno());
    return mapped;
  }

  const reserve = (length: number): bigint => map(0n, length, DARWIN.PROT_NONE);

  function commit(
    address: bigint,
    length: number,
    lock: boolean,
  ): CommitResult {
    map(address, length, DARWIN.PROT_READ | DARWIN.PROT_WRITE);
    if (!lock || lib.mlock(address, length) === 0) return "ok";
    const code = errno();
    // Put the reservation back as it was, as a refused MAP_LOCKED leaves
    // it on Linux: inaccessible and unbacked.
    map(address, length, DARWIN.PROT_NONE);
    // xnu's mlock gives EAGAIN for KERN_RESOURCE_SHORTAGE: the map's
    // user_wire_limit (RLIMIT_MEMLOCK) or the system's wire limit.
    if (code === DARWIN.EAGAIN) return "lock-limit";
    fail("mlock", code);
  }

  function keepOutOfDumpsAndForks(address: bigint, length: number): void {
    if (lib.minherit(address, length, DARWIN.VM_INHERIT_NONE) !== 0) {
      fail("minherit(VM_INHERIT_NONE)", errno());
    }
    // Defence in depth, and absent from some releases: not required.
    lib.madvise(address, length, DARWIN.MADV_ZERO_WIRED_PAGES);
  }

  function wipe(address: bigint, length: number): void {
    if (length === 0) return;
    // memset_s may not be elided (C11 K.3.7.4.1); it returns an errno_t.
    const result = lib.memset_s(address, length, 0, length);
    if (result !== 0) fail("memset_s", result);
  }

  function fillRandom(address: bigint, length: number): void {
    for (let done = 0; done < length;) {
      // Not Math.min, which other code may have replaced since load: a
      // chunk of 0 would loop for ever (as windows_memory.ts's `smaller`).
      const left = length - done;
      const chunk = left < DARWIN.GETENTROPY_MAX ? left : DARWIN.GETENTROPY_MAX;
      if (lib.getentropy(address + BigInt(done), chunk) !== 0) {
        fail("getentropy", errno());
      }
      done += chunk;
    }
  }

  let proof: DarwinSelfTest | undefined;
  // The test drives the layer's own calls, but reserves with the plain
  // call: the layer's `reserve` waits for the proof being made.
  const selfTest = (): DarwinSelfTest => proof ??= runSelfTest(layer, reserve);

  /** Every reservation passes here first: no proof, no memory. */
  function proven(): void {
    const { passed, failure } = selfTest();
    if (!passed) {
      throw new SecretMemoryError(
        "UNSUPPORTED_PLATFORM",
        `Cannot protect memory on macOS: the start-up self-test failed at ${failure}; secmem refuses to hand out memory it could not prove guarded and locked here`,
      );
    }
  }

  const layer: DarwinMemory = {
    ...posix.members,
    os: "darwin",
    arch,
    pageSize,
    features,
    selfTest,
    region,

    reserve(length) {
      proven();
      return reserve(length);
    },
    commit,
    keepOutOfDumpsAndForks,
    wipe,
    fillRandom,
    // No isTerminal/quietTerminal: darwin's struct termios differs from
    // Linux's (tcflag_t is an unsigned long; other bits and c_cc indices)
    // and nothing here can test it, so the prompt reads piped input only.
  };
  return layer;
}

/**
 * Maps guard, data and guard pages as a buffer is mapped, and checks each
 * property the way the kernel reports it, not the way the calls claim it.
 * Never throws: a failed call is a failed check. `layer` gives every call
 * but the reservation, which `reserve` makes without asking for a proof.
 */
function runSelfTest(
  layer: DarwinMemory,
  reserve: (length: number) => bigint,
): DarwinSelfTest {
  const page = layer.pageSize;
  const held: string[] = [];
  let base: bigint | undefined;
  let step = "reserve three pages PROT_NONE";
  const expect = (ok: boolean, seen: string) => {
    if (!ok) throw new SelfTestFailure(`${step}: ${seen}`);
    held.push(step);
  };
  const describe = (r: DarwinRegion | undefined) =>
    r === undefined
      ? "no region there"
      : `region 0x${
        r.address.toString(16)
      }+${r.size} protection ${r.protection} inheritance ${r.inheritance} wired ${r.userWiredCount}`;
  try {
    base = reserve(3 * page);
    const data = base + BigInt(page);
    const after = data + BigInt(page);
    expect(base % BigInt(page) === 0n, `unaligned 0x${base.toString(16)}`);

    step = "commit and mlock the data page";
    expect(layer.commit(data, page, true) === "ok", "the lock was refused");

    step = "the data page is wired after mlock";
    const wired = layer.region(data);
    expect(wired !== undefined && wired.userWiredCount >= 1, describe(wired));

    step = "minherit(VM_INHERIT_NONE) on the data page";
    layer.keepOutOfDumpsAndForks(data, page);
    const secluded = layer.region(data);
    expect(
      secluded?.inheritance === DARWIN.VM_INHERIT_NONE,
      describe(secluded),
    );

    step = "getentropy fills the data page through a view";
    layer.fillRandom(data, page);
    const view = layer.view(data, page);
    const bytes = new Bytes(view);
    expect(bytes.some((b) => b !== 0), "the page is still all zeros");

    step = "memset_s wipes the data page";
    layer.wipe(data, page);
    expect(bytes.every((b) => b === 0), "non-zero bytes remain");
    // Detach before the pages go away, as a buffer's destroy does.
    view.transfer(0);

    for (const protection of ["noaccess", "readonly", "readwrite"] as const) {
      step = `mprotect ${protection}, read back`;
      layer.protect(data, page, protection);
      const seen = layer.region(data);
      expect(
        seen !== undefined && seen.protection === VM_PROTECTION[protection] &&
          seen.address === data && seen.size === BigInt(page),
        describe(seen),
      );
    }

    step = "at rest (PROT_NONE) the data page stays wired";
    layer.protect(data, page, "noaccess");
    const rest = layer.region(data);
    expect(
      rest !== undefined && rest.protection === 0 && rest.userWiredCount >= 1,
      describe(rest),
    );

    for (const [name, address] of [["leading", base], ["trailing", after]]) {
      step = `the ${name} guard page is PROT_NONE and not wired`;
      const guard = layer.region(address as bigint);
      expect(
        guard !== undefined && guard.protection === 0 &&
          guard.userWiredCount === 0,
        describe(guard),
      );
    }

    step = "munmap releases the whole reservation";
    layer.release(base, 3 * page);
    base = undefined;
    const gone = layer.region(data);
    expect(gone === undefined || gone.userWiredCount === 0, describe(gone));
    return { passed: true, held };
  } catch (error) {
    if (base !== undefined) {
      try {
        layer.release(base, 3 * page);
      } catch {
        // Already failing closed; the failure below is the one to report.
      }
    }
    const failure = error instanceof SelfTestFailure
      ? error.message
      : `${step}: ${error instanceof Error ? error.message : String(error)}`;
    return { passed: false, held, failure };
  }
}

class SelfTestFailure extends Error {}
