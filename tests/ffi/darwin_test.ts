/**
 * The macOS layer (ffi/darwin_memory.ts) over a fake macOS kernel
 * (tests/_fake_darwin.ts), in every runtime on any OS: the constants each
 * call receives, 16 KiB and 4 KiB pages, the start-up self-test passing on
 * a faithful kernel, and failing closed, with the step named, on a kernel
 * that reports success and does not do the work.
 *
 * @module
 */

import assert from "node:assert/strict";
import { capabilities, SecretBuffer, SecretMemoryError } from "../../mod.ts";
import { DARWIN } from "../../ffi/darwin.ts";
import { createDarwinMemory } from "../../ffi/darwin_memory.ts";
import { LINUX } from "../../ffi/linux.ts";
import { useNativeForTesting } from "../../src/core/_native.ts";
import { createFakeDarwin, type Lie } from "../_fake_darwin.ts";
import { test } from "../_harness.ts";

function darwin(options: Parameters<typeof createFakeDarwin>[0] = {}) {
  const fake = createFakeDarwin(options);
  return { fake, memory: createDarwinMemory(fake.adapter, "arm64") };
}

function isUnsupported(error: unknown): boolean {
  return error instanceof SecretMemoryError &&
    error.code === "UNSUPPORTED_PLATFORM";
}

test("darwin: constants are xnu's, not Linux's", () => {
  // The values the citations in ffi/darwin.ts point at.
  assert.equal(DARWIN.MAP_ANON, 0x1000);
  assert.equal(DARWIN.MAP_PRIVATE, 0x2);
  assert.equal(DARWIN.MAP_FIXED, 0x10);
  assert.equal(DARWIN.MAP_NORESERVE, 0x40);
  assert.equal(DARWIN.MADV_ZERO_WIRED_PAGES, 6);
  assert.equal(DARWIN.VM_INHERIT_NONE, 2);
  assert.equal(DARWIN.RLIMIT_MEMLOCK, 6);
  assert.equal(DARWIN.RLIM_INFINITY, (1n << 63n) - 1n);
  assert.equal(DARWIN.EAGAIN, 35);
  assert.equal(DARWIN.ENOSYS, 78);
  assert.equal(DARWIN.O_CLOEXEC, 0x01000000);
  assert.equal(DARWIN.PROC_PIDREGIONINFO, 7);
  assert.equal(DARWIN.REGIONINFO_SIZE, 96);
  assert.equal(DARWIN.GETENTROPY_MAX, 256);
  // Where Linux differs, the darwin table must not have Linux's value.
  assert.notEqual(DARWIN.MAP_ANON, LINUX.MAP_ANONYMOUS);
  assert.notEqual(DARWIN.RLIMIT_MEMLOCK, LINUX.RLIMIT_MEMLOCK);
  assert.notEqual(DARWIN.EAGAIN, LINUX.EAGAIN);
  assert.notEqual(DARWIN.O_CLOEXEC, LINUX.O_CLOEXEC);
  assert.ok(!("MADV_DONTDUMP" in DARWIN), "macOS has no MADV_DONTDUMP");
});

test("darwin: each call gets the darwin value (mmap flags, minherit, madvise, rlimit, proc_pidinfo)", () => {
  const { fake, memory } = darwin();
  const base = memory.reserve(3 * memory.pageSize);
  const data = base + BigInt(memory.pageSize);
  assert.equal(memory.commit(data, memory.pageSize, true), "ok");
  memory.keepOutOfDumpsAndForks(data, memory.pageSize);
  memory.protect(data, memory.pageSize, "noaccess");
  memory.lockLimit();
  memory.release(base, 3 * memory.pageSize);

  const mmaps = fake.named("mmap").map((c) => [c.args[2], c.args[3]]);
  // PROT_NONE reservations: MAP_PRIVATE | MAP_ANON | MAP_NORESERVE.
  assert.ok(mmaps.some(([p, f]) => p === 0 && f === 0x1042), `${mmaps}`);
  // Data pages: PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANON | MAP_FIXED.
  assert.ok(mmaps.some(([p, f]) => p === 3 && f === 0x1012), `${mmaps}`);
  assert.ok(mmaps.every(([, f]) => ((f as number) & 0x20) === 0));
  assert.deepEqual(fake.named("minherit").at(-1)?.args[2], 2);
  assert.deepEqual(fake.named("madvise").map((c) => c.args[2]), [6, 6]);
  assert.ok(fake.named("getrlimit").every((c) => c.args[0] === 6));
  assert.ok(
    fake.named("proc_pidinfo").every((c) =>
      c.args[1] === 7 && c.args[3] === 96
    ),
  );
  assert.equal(fake.named("dlopen")[0].args[0], "/usr/lib/libSystem.B.dylib");
  assert.equal(fake.mappedPages(), 0);
});

for (const pageSize of [16384, 4096]) {
  test(`darwin: ${pageSize}-byte pages are asked of the OS and used throughout`, () => {
    const { fake, memory } = darwin({ pageSize });
    assert.equal(memory.pageSize, pageSize);
    assert.equal(memory.os, "darwin");
    const report = memory.selfTest();
    assert.equal(report.passed, true, report.failure ?? "");
    const reservation = fake.named("mmap")[0];
    assert.equal(reservation.args[1], 3 * pageSize, "guard + data + guard");
    assert.ok(
      fake.named("mlock").every((c) => c.args[1] === pageSize),
      "one data page locked",
    );
  });
}

test("darwin: the self-test passes on a faithful kernel and leaves nothing mapped", () => {
  const { fake, memory } = darwin();
  const report = memory.selfTest();
  assert.equal(report.passed, true, report.failure ?? "");
  assert.deepEqual(report.held, [
    "reserve three pages PROT_NONE",
    "commit and mlock the data page",
    "the data page is wired after mlock",
    "minherit(VM_INHERIT_NONE) on the data page",
    "getentropy fills the data page through a view",
    "memset_s wipes the data page",
    "mprotect noaccess, read back",
    "mprotect readonly, read back",
    "mprotect readwrite, read back",
    "at rest (PROT_NONE) the data page stays wired",
    "the leading guard page is PROT_NONE and not wired",
    "the trailing guard page is PROT_NONE and not wired",
    "munmap releases the whole reservation",
  ]);
  assert.equal(fake.mappedPages(), 0);
  // Run once: a second reservation does not test again.
  const before = fake.calls.length;
  const base = memory.reserve(3 * memory.pageSize);
  assert.equal(fake.calls.length, before + 1);
  memory.release(base, 3 * memory.pageSize);
});

const LIES: Record<Lie, string> = {
  "mlock-does-not-wire": "the data page is wired after mlock",
  "unwired-at-noaccess": "at rest (PROT_NONE) the data page stays wired",
  "mprotect-does-nothing": "mprotect noaccess, read back",
  "minherit-does-nothing": "minherit(VM_INHERIT_NONE) on the data page",
  "getentropy-writes-nothing": "getentropy fills the data page through a view",
  "memset_s-does-nothing": "memset_s wipes the data page",
  "no-region-info": "the data page is wired after mlock",
  "guard-wired": "the leading guard page is PROT_NONE and not wired",
};

for (const [lie, step] of Object.entries(LIES) as [Lie, string][]) {
  test(`darwin: a kernel that lies (${lie}) fails closed at "${step}"`, () => {
    const { fake, memory } = darwin({ lie });
    const first = (() => {
      try {
        memory.reserve(3 * memory.pageSize);
      } catch (error) {
        return error;
      }
      assert.fail("reserve succeeded on a lying kernel");
    })();
    assert.ok(isUnsupported(first), String(first));
    assert.match((first as Error).message, /^Cannot protect memory on macOS/);
    assert.ok(
      (first as Error).message.includes(step),
      `${(first as Error).message} names "${step}"`,
    );
    assert.equal(fake.mappedPages(), 0, "the self-test unmapped its pages");
    // Every later allocation is refused too, without testing again.
    const calls = fake.calls.length;
    assert.throws(() => memory.reserve(4096), isUnsupported);
    assert.equal(fake.calls.length, calls);
  });
}

test("darwin: a refused wire (EAGAIN) is lock-limit; the page goes back to PROT_NONE, unwired", () => {
  const { fake, memory } = darwin();
  assert.equal(memory.selfTest().passed, true);
  const page = memory.pageSize;
  const base = memory.reserve(3 * page);
  const data = base + BigInt(page);
  // As xnu does once the map's user_wire_limit (RLIMIT_MEMLOCK) is reached.
  fake.refuseWires(1);
  assert.equal(memory.commit(data, page, true), "lock-limit");
  const after = memory.region(data);
  assert.equal(after?.protection, 0, "back to PROT_NONE");
  assert.equal(after?.userWiredCount, 0, "not wired");
  assert.equal(memory.commit(data, page, true), "ok", "the next try locks");
  memory.release(base, 3 * page);
  assert.equal(fake.mappedPages(), 0);
});

test("darwin: a self-test whose own lock is refused fails closed at the lock", () => {
  const { fake, memory } = darwin({ wireRefusals: 1 });
  const report = memory.selfTest();
  assert.equal(report.passed, false);
  assert.match(report.failure ?? "", /^commit and mlock the data page/);
  assert.equal(fake.mappedPages(), 0);
  assert.throws(() => memory.reserve(4096), isUnsupported);
});

test("darwin: fillRandom asks getentropy for at most 256 bytes a call", () => {
  const { fake, memory } = darwin();
  assert.equal(memory.selfTest().passed, true);
  const page = memory.pageSize;
  const base = memory.reserve(3 * page);
  const data = base + BigInt(page);
  memory.commit(data, page, true);
  const before = fake.named("getentropy").length;
  memory.fillRandom(data, 1000);
  const sizes = fake.named("getentropy").slice(before).map((c) => c.args[1]);
  assert.deepEqual(sizes, [256, 256, 256, 232]);
  memory.release(base, 3 * page);
});

test("darwin: RLIM_INFINITY (2^63 - 1) reads as no limit", () => {
  const { memory } = darwin();
  assert.deepEqual(memory.lockLimit(), { soft: Infinity, hard: Infinity });
  const { memory: limited } = darwin({
    memlock: { soft: 65536n, hard: 1048576n },
  });
  assert.deepEqual(limited.lockLimit(), { soft: 65536, hard: 1048576 });
  assert.equal(limited.raiseLockLimit(), true);
  assert.deepEqual(limited.lockLimit(), { soft: 1048576, hard: 1048576 });
});

test("darwin: capabilities say tested: false and what macOS gives", () => {
  const { memory } = darwin();
  useNativeForTesting(memory);
  try {
    const caps = capabilities();
    assert.equal(caps.os, "darwin");
    assert.equal(caps.tested, false);
    assert.equal(caps.pageSize, 16384);
    assert.deepEqual(caps.protections, {
      lock: true,
      dontDump: false,
      forkProtection: "omit",
      guardPages: true,
      noaccessAtRest: true,
      lockedAtRest: true,
    });
    assert.equal(caps.secretMemory.available, false);
  } finally {
    useNativeForTesting(undefined);
  }
});

test("darwin: SecretBuffer.alloc on a lying kernel throws UNSUPPORTED_PLATFORM", () => {
  const { fake, memory } = darwin({ lie: "unwired-at-noaccess" });
  useNativeForTesting(memory);
  try {
    assert.throws(() => SecretBuffer.alloc(32), (error) => {
      assert.ok(isUnsupported(error), String(error));
      assert.match((error as Error).message, /stays wired/);
      return true;
    });
    assert.equal(fake.mappedPages(), 0);
  } finally {
    useNativeForTesting(undefined);
  }
});
