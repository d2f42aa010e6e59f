/**
 * A fake macOS under ffi/darwin_memory.ts: a runtime adapter whose `open`
 * returns a libSystem that keeps pages the way xnu's VM map does (one
 * entry per mapping call, with protection, inheritance and a user wire
 * count) and answers `proc_pidinfo(PROC_PIDREGIONINFO)` from that record.
 * It records every call with its arguments, and can be told to lie (report
 * success and change nothing), so a test can see the self-test catch it.
 *
 * @module
 */

import { DARWIN } from "../ffi/darwin.ts";
import type {
  BoundLibrary,
  RuntimeAdapter,
  SymbolTable,
} from "../ffi/types.ts";

/** A way for the fake kernel to lie while returning success. */
export type Lie =
  | "mlock-does-not-wire"
  | "mprotect-does-nothing"
  | "minherit-does-nothing"
  | "unwired-at-noaccess"
  | "getentropy-writes-nothing"
  | "memset_s-does-nothing"
  | "no-region-info"
  | "guard-wired";

/** Knobs for the fake. */
export interface FakeDarwinOptions {
  /** What getpagesize() answers: 16384 on arm64, 4096 on x86_64. */
  pageSize?: number;
  lie?: Lie;
  /** mlock fails with EAGAIN this many times. */
  wireRefusals?: number;
  /** getrlimit(RLIMIT_MEMLOCK) answers these raw values. */
  memlock?: { soft: bigint; hard: bigint };
}

/** One call into the fake libSystem. */
export interface DarwinCall {
  name: string;
  args: unknown[];
}

interface Page {
  mapping: number;
  protection: number;
  inheritance: number;
  wired: number;
  bytes: Uint8Array;
}

/** The fake and what it saw. */
export interface FakeDarwin {
  adapter: RuntimeAdapter;
  calls: DarwinCall[];
  /** Pages mapped now. */
  mappedPages(): number;
  /** Calls of one name. */
  named(name: string): DarwinCall[];
  /** The next `count` mlock calls fail with EAGAIN. */
  refuseWires(count: number): void;
}

const ERRNO_ADDRESS = 0x7000_0000n;
const MAP_BASE = 0x1_0000_0000n;

/** Builds a fake adapter over a fake macOS kernel. */
export function createFakeDarwin(options: FakeDarwinOptions = {}): FakeDarwin {
  const page = options.pageSize ?? 16384;
  const big = BigInt(page);
  const lie = options.lie;
  const pages = new Map<bigint, Page>();
  const calls: DarwinCall[] = [];
  let errno = 0;
  let nextMapping = 1;
  let nextAddress = MAP_BASE;
  let wireRefusals = options.wireRefusals ?? 0;
  const memlock = options.memlock ??
    { soft: DARWIN.RLIM_INFINITY, hard: DARWIN.RLIM_INFINITY };

  const failWith = (code: number): number => {
    errno = code;
    return -1;
  };
  const eachPage = (address: bigint, length: number) => {
    const list: bigint[] = [];
    for (let at = 0n; at < BigInt(length); at += big) list.push(address + at);
    return list;
  };
  const allMapped = (address: bigint, length: number) =>
    address % big === 0n &&
    eachPage(address, length).every((a) => pages.has(a));

  function pageAt(address: bigint): { page: Page; offset: number } {
    const start = address - (address % big);
    const found = pages.get(start);
    if (found === undefined) {
      throw new Error(`fake darwin: 0x${address.toString(16)} is not mapped`);
    }
    return { page: found, offset: Number(address - start) };
  }

  function touch(address: bigint, length: number, write: boolean) {
    for (const at of eachPage(address - (address % big), length)) {
      const { protection } = pageAt(at).page;
      const allowed = write ? (protection & 2) !== 0 : (protection & 1) !== 0;
      if (!allowed) {
        throw new Error(`fake darwin: ${write ? "write" : "read"} fault`);
      }
    }
  }

  function sameEntry(a: Page, b: Page) {
    return a.mapping === b.mapping && a.protection === b.protection &&
      a.inheritance === b.inheritance && a.wired === b.wired;
  }

  /** The entry holding `address`, as xnu's fill_procregioninfo gives it. */
  function entryAt(address: bigint) {
    const start = address - (address % big);
    const first = pages.get(start);
    if (first === undefined) return undefined;
    let low = start;
    while (pages.has(low - big) && sameEntry(pages.get(low - big)!, first)) {
      low -= big;
    }
    let high = start + big;
    while (pages.has(high) && sameEntry(pages.get(high)!, first)) high += big;
    return { address: low, size: high - low, page: first };
  }

  const lib = {
    mmap(
      address: bigint,
      length: number,
      prot: number,
      flags: number,
      fd: number,
      offset: number,
    ): bigint {
      calls.push({
        name: "mmap",
        args: [address, length, prot, flags, fd, offset],
      });
      const anonymous = (flags & DARWIN.MAP_ANON) !== 0 && fd === -1;
      if (!anonymous || (flags & DARWIN.MAP_PRIVATE) === 0 || length <= 0) {
        errno = DARWIN.EINVAL;
        return DARWIN.MAP_FAILED;
      }
      let base = address;
      if ((flags & DARWIN.MAP_FIXED) === 0) {
        base = nextAddress;
        nextAddress += BigInt(length) + 16n * big;
      } else if (address % big !== 0n) {
        errno = DARWIN.EINVAL;
        return DARWIN.MAP_FAILED;
      }
      const mapping = nextMapping++;
      for (const at of eachPage(base, length)) {
        pages.set(at, {
          mapping,
          protection: prot,
          inheritance: 1, // VM_INHERIT_COPY, the default
          wired: 0,
          bytes: new Uint8Array(page),
        });
      }
      return base;
    },
    mprotect(address: bigint, length: number, prot: number): number {
      calls.push({ name: "mprotect", args: [address, length, prot] });
      if (!allMapped(address, length)) return failWith(DARWIN.ENOMEM);
      if (lie === "mprotect-does-nothing") return 0;
      for (const at of eachPage(address, length)) {
        const entry = pages.get(at)!;
        entry.protection = prot;
        if (lie === "unwired-at-noaccess" && prot === 0) entry.wired = 0;
      }
      return 0;
    },
    madvise(address: bigint, length: number, advice: number): number {
      calls.push({ name: "madvise", args: [address, length, advice] });
      return allMapped(address, length) ? 0 : failWith(DARWIN.EINVAL);
    },
    minherit(address: bigint, length: number, inherit: number): number {
      calls.push({ name: "minherit", args: [address, length, inherit] });
      if (!allMapped(address, length)) return failWith(DARWIN.EINVAL);
      if (lie === "minherit-does-nothing") return 0;
      for (const at of eachPage(address, length)) {
        pages.get(at)!.inheritance = inherit;
      }
      return 0;
    },
    mlock(address: bigint, length: number): number {
      calls.push({ name: "mlock", args: [address, length] });
      if (!allMapped(address, length)) return failWith(DARWIN.ENOMEM);
      if (wireRefusals > 0) {
        wireRefusals--;
        return failWith(DARWIN.EAGAIN);
      }
      if (lie === "mlock-does-not-wire") return 0;
      for (const at of eachPage(address, length)) pages.get(at)!.wired++;
      if (lie === "guard-wired") {
        const before = address - big;
        if (pages.has(before)) pages.get(before)!.wired++;
      }
      return 0;
    },
    munlock(address: bigint, length: number): number {
      calls.push({ name: "munlock", args: [address, length] });
      for (const at of eachPage(address, length)) {
        const entry = pages.get(at);
        if (entry && entry.wired > 0) entry.wired--;
      }
      return 0;
    },
    munmap(address: bigint, length: number): number {
      calls.push({ name: "munmap", args: [address, length] });
      if (address % big !== 0n) return failWith(DARWIN.EINVAL);
      for (const at of eachPage(address, length)) pages.delete(at);
      return 0;
    },
    memset_s(address: bigint, max: number, value: number, length: number) {
      calls.push({ name: "memset_s", args: [address, max, value, length] });
      if (length > max) return DARWIN.EINVAL;
      touch(address, length, true);
      if (lie === "memset_s-does-nothing") return 0;
      for (let i = 0; i < length; i++) {
        const { page: p, offset } = pageAt(address + BigInt(i));
        p.bytes[offset] = value;
      }
      return 0;
    },
    memcpy(destination: bigint, source: bigint, length: number): bigint {
      calls.push({ name: "memcpy", args: [destination, source, length] });
      touch(source, length, false);
      touch(destination, length, true);
      for (let i = 0; i < length; i++) {
        const from = pageAt(source + BigInt(i));
        const to = pageAt(destination + BigInt(i));
        to.page.bytes[to.offset] = from.page.bytes[from.offset];
      }
      return destination;
    },
    getentropy(address: bigint, length: number): number {
      calls.push({ name: "getentropy", args: [address, length] });
      if (length > DARWIN.GETENTROPY_MAX) return failWith(DARWIN.EINVAL);
      touch(address, length, true);
      if (lie === "getentropy-writes-nothing") return 0;
      for (let i = 0; i < length; i++) {
        const { page: p, offset } = pageAt(address + BigInt(i));
        p.bytes[offset] = 1 + Math.floor(Math.random() * 255);
      }
      return 0;
    },
    getpagesize: (): number => page,
    getrlimit(resource: number, out: Uint8Array): number {
      calls.push({ name: "getrlimit", args: [resource] });
      if (resource !== DARWIN.RLIMIT_MEMLOCK) return failWith(DARWIN.EINVAL);
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      view.setBigUint64(0, memlock.soft, true);
      view.setBigUint64(8, memlock.hard, true);
      return 0;
    },
    setrlimit(resource: number, limit: Uint8Array): number {
      calls.push({ name: "setrlimit", args: [resource] });
      const view = new DataView(limit.buffer, limit.byteOffset, 16);
      memlock.soft = view.getBigUint64(0, true);
      return 0;
    },
    __error: (): bigint => ERRNO_ADDRESS,
    getpid: (): number => 4242,
    proc_pidinfo(
      pid: number,
      flavor: number,
      arg: number,
      out: Uint8Array,
      size: number,
    ): number {
      calls.push({ name: "proc_pidinfo", args: [pid, flavor, arg, size] });
      if (pid !== 4242 || flavor !== DARWIN.PROC_PIDREGIONINFO) {
        return failWith(DARWIN.EINVAL);
      }
      if (lie === "no-region-info" || size < DARWIN.REGIONINFO_SIZE) return 0;
      // The region holding arg, or else the next one above it.
      let entry = entryAt(BigInt(arg));
      if (entry === undefined) {
        const above = [...pages.keys()].filter((a) => a > BigInt(arg)).sort(
          (a, b) => (a < b ? -1 : 1),
        );
        if (above.length === 0) return 0;
        entry = entryAt(above[0])!;
      }
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      out.fill(0);
      view.setUint32(DARWIN.REGIONINFO_PROTECTION, entry.page.protection, true);
      view.setUint32(4, 7, true); // pri_max_protection: rwx
      view.setUint32(
        DARWIN.REGIONINFO_INHERITANCE,
        entry.page.inheritance,
        true,
      );
      view.setUint32(
        DARWIN.REGIONINFO_USER_WIRED_COUNT,
        entry.page.wired,
        true,
      );
      view.setBigUint64(DARWIN.REGIONINFO_ADDRESS, entry.address, true);
      view.setBigUint64(DARWIN.REGIONINFO_SIZE_FIELD, entry.size, true);
      return DARWIN.REGIONINFO_SIZE;
    },
    open: (): number => failWith(DARWIN.ENOENT),
    read: (): number => 0,
    pread: (): number => 0,
    write: (): number => 0,
    close: (): number => 0,
  };

  const adapter: RuntimeAdapter = {
    runtime: "deno",
    version: "fake",
    open<S extends SymbolTable>(
      candidates: readonly string[],
      _symbols: S,
    ): BoundLibrary<S> {
      calls.push({ name: "dlopen", args: [candidates[0]] });
      return lib as unknown as BoundLibrary<S>;
    },
    view(address, length) {
      // The self-test views exactly one page: hand out the page's own
      // storage, so writes through either side are seen by the other.
      const { page: p, offset } = pageAt(address);
      if (offset !== 0 || length !== page) {
        throw new Error("fake darwin: views cover one whole page");
      }
      touch(address, length, false);
      return p.bytes.buffer as ArrayBuffer;
    },
    readInt32: (address) => {
      if (address !== ERRNO_ADDRESS) throw new Error("fake darwin: not errno");
      return errno;
    },
    onExit: () => {},
    onSignal: () => {},
    exit: () => {
      throw new Error("fake darwin: exit");
    },
  };

  return {
    adapter,
    calls,
    mappedPages: () => pages.size,
    named: (name) => calls.filter((c) => c.name === name),
    refuseWires: (count) => void (wireRefusals = count),
  };
}
