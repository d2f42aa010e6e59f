/**
 * A fake native layer for unit tests of the core: it records every call,
 * tracks each page's protection, and refuses what the real OS would refuse
 * (writing to pages that are not writable, touching unmapped pages), so a
 * test can check the order of steps and the cleanup after a failure without
 * a real mapping.
 *
 * @module
 */

import type {
  CommitResult,
  NativeMemory,
  Protection,
} from "../src/core/_native.ts";
import { SecretMemoryError } from "../src/core/errors.ts";
import { useNativeForTesting } from "../src/core/_native.ts";

/** Knobs for failure injection. */
export interface FakeOptions {
  pageSize?: number;
  /** commit(lock = true) answers "lock-limit" this many times. */
  lockRefusals?: number;
  /** raiseLockLimit() answers this. */
  canRaise?: boolean;
  /** The n-th call (1-based) of this name throws. */
  failOn?: { name: string; nth: number };
  /** Paths the stand-in permission model refuses to let the program read. */
  readRefused?: readonly string[];
  /** The /proc files `procText` answers with; any other path is ENOENT. */
  procFiles?: Readonly<Record<string, string>>;
}

/** The fake and what it saw. */
export interface Fake {
  memory: NativeMemory;
  /** Every call, as `name` or `name:detail`. */
  calls: string[];
  /** Bytes mapped now. */
  mapped(): number;
  /** Reads bytes through the fake's own record of memory. */
  peek(address: bigint, length: number): Uint8Array;
}

/** Builds a fake native layer. */
export function createFake(options: FakeOptions = {}): Fake {
  const pageSize = options.pageSize ?? 4096;
  const calls: string[] = [];
  const reservations = new Map<bigint, number>();
  const pages = new Map<
    bigint,
    { protection: Protection | "reserved"; bytes: Uint8Array }
  >();
  const counts = new Map<string, number>();
  let nextBase = 0x10000000n;
  let lockRefusals = options.lockRefusals ?? 0;

  function record(name: string, detail?: string) {
    calls.push(detail === undefined ? name : `${name}:${detail}`);
    const n = (counts.get(name) ?? 0) + 1;
    counts.set(name, n);
    if (options.failOn?.name === name && options.failOn.nth === n) {
      throw new Error(`fake: ${name} failed on purpose`);
    }
  }

  function pageOf(address: bigint) {
    const start = address - (address % BigInt(pageSize));
    const page = pages.get(start);
    if (page === undefined) {
      throw new Error(`fake: 0x${address.toString(16)} is not mapped`);
    }
    return { page, offset: Number(address - start) };
  }

  function access(
    address: bigint,
    length: number,
    write: boolean,
    fn: (bytes: Uint8Array, index: number) => void,
  ) {
    for (let i = 0; i < length; i++) {
      const { page, offset } = pageOf(address + BigInt(i));
      const allowed = write
        ? page.protection === "readwrite"
        : page.protection !== "noaccess" && page.protection !== "reserved";
      if (!allowed) {
        throw new Error(
          `fake: ${write ? "write" : "read"} to a ${page.protection} page`,
        );
      }
      fn(page.bytes, offset);
    }
  }

  // Views are copies that the fake keeps in step with its pages.
  const views: { address: bigint; buffer: ArrayBuffer }[] = [];
  function syncViews(address: bigint, length: number) {
    for (const v of views) {
      if (v.buffer.detached) continue;
      const bytes = new Uint8Array(v.buffer);
      for (let i = 0; i < bytes.length; i++) {
        const at = v.address + BigInt(i);
        if (at < address || at >= address + BigInt(length)) continue;
        const { page, offset } = pageOf(at);
        bytes[i] = page.bytes[offset];
      }
    }
  }
  function flushViews() {
    for (const v of views) {
      if (v.buffer.detached) continue;
      const bytes = new Uint8Array(v.buffer);
      for (let i = 0; i < bytes.length; i++) {
        const { page, offset } = pageOf(v.address + BigInt(i));
        if (page.protection === "readwrite") page.bytes[offset] = bytes[i];
      }
    }
  }

  const memory: NativeMemory = {
    runtime: "deno",
    runtimeVersion: "fake",
    os: "linux",
    arch: "fake",
    pageSize,
    features: { lock: true, dontDump: true, forkProtection: "wipe" },
    reserve(length) {
      record("reserve");
      const base = nextBase;
      nextBase += BigInt(length + pageSize * 16);
      reservations.set(base, length);
      for (let at = 0; at < length; at += pageSize) {
        pages.set(base + BigInt(at), {
          protection: "reserved",
          bytes: new Uint8Array(pageSize),
        });
      }
      return base;
    },
    commit(address, length, lock): CommitResult {
      record("commit", lock ? "locked" : "unlocked");
      if (lock && lockRefusals > 0) {
        lockRefusals--;
        return "lock-limit";
      }
      for (let at = 0; at < length; at += pageSize) {
        const page = pageOf(address + BigInt(at)).page;
        page.protection = "readwrite";
        page.bytes.fill(0);
      }
      return "ok";
    },
    keepOutOfDumpsAndForks(address, length) {
      record("keepOutOfDumpsAndForks");
      pageOf(address);
      pageOf(address + BigInt(length - 1));
    },
    protect(address, length, protection) {
      flushViews();
      record("protect", protection);
      for (let at = 0; at < length; at += pageSize) {
        const page = pageOf(address + BigInt(at)).page;
        if (page.protection === "reserved") {
          throw new Error("fake: protect of uncommitted page");
        }
        page.protection = protection;
      }
    },
    release(address, length) {
      record("release");
      if (reservations.get(address) !== length) {
        throw new Error("fake: release of an unknown range");
      }
      reservations.delete(address);
      for (let at = 0; at < length; at += pageSize) {
        pages.delete(address + BigInt(at));
      }
    },
    wipe(address, length) {
      flushViews();
      record("wipe");
      access(address, length, true, (bytes, i) => (bytes[i] = 0));
      syncViews(address, length);
    },
    copy(destination, source, length) {
      flushViews();
      record("copy");
      const temp = new Uint8Array(length);
      let k = 0;
      access(source, length, false, (bytes, i) => (temp[k++] = bytes[i]));
      k = 0;
      access(destination, length, true, (bytes, i) => (bytes[i] = temp[k++]));
      syncViews(destination, length);
    },
    fillRandom(address, length) {
      flushViews();
      record("fillRandom");
      access(
        address,
        length,
        true,
        (bytes, i) => (bytes[i] = 1 + Math.floor(Math.random() * 255)),
      );
      syncViews(address, length);
    },
    view(address, length) {
      const buffer = new ArrayBuffer(length);
      views.push({ address, buffer });
      syncViews(address, length);
      return buffer;
    },
    lockLimit: () => ({ soft: 65536, hard: 131072 }),
    raiseLockLimit() {
      record("raiseLockLimit");
      return options.canRaise ?? false;
    },
    readPermission(path) {
      record("readPermission", path);
      return options.readRefused?.includes(path)
        ? { granted: false, flag: `--allow-read=${path}` }
        : { granted: true };
    },
    openRead: () => {
      throw new Error("fake: no files");
    },
    readInto: () => 0,
    procText(path) {
      record("procText", path);
      const text = options.procFiles?.[path];
      if (text !== undefined) return text;
      throw new SecretMemoryError(
        "OS_ERROR",
        `Cannot complete open: ENOENT (fake: no ${path})`,
        { errno: 2, syscall: "open" },
      );
    },
    writeFrom: () => 0,
    close: () => {},
    onExit: () => {},
    onSignal: () => {},
    exit: () => {
      throw new Error("fake: exit");
    },
  };

  return {
    memory,
    calls,
    mapped: () => [...reservations.values()].reduce((a, b) => a + b, 0),
    peek(address, length) {
      flushViews();
      const out = new Uint8Array(length);
      for (let i = 0; i < length; i++) {
        const { page, offset } = pageOf(address + BigInt(i));
        out[i] = page.bytes[offset];
      }
      return out;
    },
  };
}

/** Runs `body` with a fresh fake installed as the native layer. */
export function withFakeNative(
  options: FakeOptions,
  body: (fake: Fake) => void,
): void {
  const fake = createFake(options);
  useNativeForTesting(fake.memory);
  try {
    body(fake);
  } finally {
    useNativeForTesting(undefined);
  }
}
