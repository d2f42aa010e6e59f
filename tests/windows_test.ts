/**
 * The Windows layer exercised for real (under Wine on the CI machines):
 * VirtualAlloc pages, their states, ProcessPrng, the working-set lock
 * limit, and the access violation that a buffer at rest raises. Skipped
 * on other systems.
 *
 * @module
 */

import {
  existsSync,
  mkdtempSync,
  rmdirSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { capabilities, SecretBuffer, stats } from "../mod.ts";
import { createBunAdapter } from "../ffi/bun.ts";
import { createDenoAdapter } from "../ffi/deno.ts";
import type { RuntimeAdapter } from "../ffi/types.ts";
import type { NodeLikeProcess } from "../ffi/_process.ts";
import {
  createWindowsMemory,
  type WindowsMemory,
} from "../ffi/windows_memory.ts";
import { SecretMemoryError } from "../src/core/errors.ts";
import { native } from "../src/core/_native.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "./_error_code.ts";
import { runChild } from "./_child.ts";
import { runtime, test } from "./_harness.ts";
import { windowsOnly } from "./_platform.ts";

const env = (globalThis as unknown as {
  process: { env: Record<string, string | undefined> };
}).process.env;

/** Set by tests/windows/run.sh in its pass under a 64 KiB lock limit. */
const lockLimitPass = env.SECMEM_TEST_LOCK_LIMIT !== undefined;
const onlyInLockPass = windowsOnly ||
  (!lockLimitPass &&
    "runs in tests/windows/run.sh's second pass, under a small lock limit");
const notInLockPass = windowsOnly ||
  (lockLimitPass && "not part of the lock-limit pass");

const memory = (): WindowsMemory => native() as WindowsMemory;
const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

test("capabilities report what Windows gives and what it does not", () => {
  const caps = capabilities();
  assert.deepEqual(caps.os, "windows");
  assert(
    caps.pageSize >= 4096 && (caps.pageSize & (caps.pageSize - 1)) === 0,
    `page size from GetSystemInfo is a power of two: ${caps.pageSize}`,
  );
  assert.deepEqual(caps.protections, {
    lock: true,
    dontDump: false,
    forkProtection: "none",
    guardPages: true,
    noaccessAtRest: true,
    // Not established by Microsoft's documentation: docs/windows-lock.md.
    lockedAtRest: false,
  });
  assert(caps.memlock.soft > 0, "the minimum working set is known");
  assert(caps.memlock.hard >= caps.memlock.soft, "maximum >= minimum");
}, { skip: notInLockPass });

test(
  "VirtualAlloc pages: reserve, commit, protect, copy, wipe, release",
  () => {
    const m = memory();
    const page = m.pageSize;
    const base = m.reserve(3 * page);
    const data = base + BigInt(page);
    try {
      assert.deepEqual(m.commit(data, page, true), "ok");
      const bytes = new Uint8Array(m.view(data, page));
      assert(bytes.every((b) => b === 0), "committed pages start zeroed");
      bytes.fill(0x5a, 0, 64);
      m.copy(data + 1024n, data, 64);
      assert(bytes.subarray(1024, 1088).every((b) => b === 0x5a), "copied");
      m.protect(data, page, "readonly");
      assert.deepEqual(bytes[1024], 0x5a, "readable while readonly");
      m.protect(data, page, "readwrite");
      m.wipe(data, page);
      assert(bytes.every((b) => b === 0), "RtlZeroMemory cleared the page");
      m.protect(data, page, "noaccess");
      bytes.buffer.transfer(0);
    } finally {
      m.release(base, 3 * page);
    }
  },
  { skip: notInLockPass },
);

test("fillRandom writes ProcessPrng bytes straight into the pages", () => {
  const m = memory();
  assert.deepEqual(m.randomSource, "ProcessPrng");
  const page = m.pageSize;
  const base = m.reserve(page);
  try {
    m.commit(base, page, false);
    const bytes = new Uint8Array(m.view(base, page));
    m.fillRandom(base, 64);
    const first = hex(bytes.subarray(0, 64));
    assert(bytes.subarray(64).every((b) => b === 0), "only 64 bytes filled");
    m.fillRandom(base, 64);
    assert.notDeepEqual(hex(bytes.subarray(0, 64)), first, "two fills differ");
    assert.notDeepEqual(first, "00".repeat(64), "not left zeroed");
    bytes.buffer.transfer(0);
  } finally {
    m.release(base, page);
  }
}, { skip: notInLockPass });

/** This runtime's adapter, opened afresh (Deno or Bun; Node has none yet). */
function freshAdapter(): RuntimeAdapter {
  const host = globalThis as unknown as {
    // deno-lint-ignore no-explicit-any
    Deno: any;
    Bun: { version: string };
    process: NodeLikeProcess;
  };
  return runtime === "deno"
    ? createDenoAdapter(host.Deno)
    : createBunAdapter(host.process, host.Bun.version);
}

test(
  "fillRandom falls back to BCryptGenRandom without bcryptprimitives",
  () => {
    const real = freshAdapter();
    const refused: string[] = [];
    const adapter: RuntimeAdapter = {
      ...real,
      open(candidates, symbols) {
        if (candidates.includes("bcryptprimitives.dll")) {
          refused.push(...candidates);
          throw new SecretMemoryError("FFI_UNAVAILABLE", "refused by the test");
        }
        return real.open(candidates, symbols);
      },
    };
    const m = createWindowsMemory(adapter, "x64");
    assert.deepEqual(refused, ["bcryptprimitives.dll"]);
    assert.deepEqual(m.randomSource, "BCryptGenRandom");
    const page = m.pageSize;
    const base = m.reserve(page);
    try {
      m.commit(base, page, false);
      const bytes = new Uint8Array(m.view(base, page));
      m.fillRandom(base, page);
      const first = hex(bytes);
      m.fillRandom(base, page);
      assert.notDeepEqual(hex(bytes), first, "two fills differ");
      bytes.buffer.transfer(0);
    } finally {
      m.release(base, page);
    }
  },
  { skip: notInLockPass || (runtime === "node" && "no Node adapter yet") },
);

test("CreateFileW and ReadFile read a file straight into the pages", () => {
  const m = memory();
  const folder = mkdtempSync(join(tmpdir(), "secmem-"));
  const path = join(folder, "seed.bin");
  const content = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 0xff);
  writeFileSync(path, content);
  const page = m.pageSize;
  const base = m.reserve(page);
  const fd = m.openRead(path);
  try {
    m.commit(base, page, false);
    const bytes = new Uint8Array(m.view(base, page));
    assert.deepEqual(m.readInto(fd, base, page), 300);
    assert.deepEqual(bytes.slice(0, 300), content);
    assert.deepEqual(m.readInto(fd, base, page), 0, "end of file");
    assert.deepEqual(
      m.readInto(fd, base + 400n, 10, 290),
      10,
      "read at offset",
    );
    assert.deepEqual(bytes.slice(400, 410), content.slice(290));
    assert.deepEqual(m.readInto(fd, base, 10, 5000), 0, "offset past the end");
    bytes.buffer.transfer(0);
  } finally {
    m.close(fd);
    m.release(base, page);
    // Bun under Wine fails rmSync(recursive) with EFAULT; remove by hand.
    unlinkSync(path);
    rmdirSync(folder);
  }
  const missing = assertThrowsCode(
    () => m.openRead(join(folder, "missing")),
    "OS_ERROR",
  );
  assert(missing.errno === 2 || missing.errno === 3, `errno ${missing.errno}`);
  assert.deepEqual(missing.syscall, "CreateFileW");
}, { skip: notInLockPass });

test("SecretBuffer: alloc, write, read, destroy", () => {
  const before = stats();
  const key = SecretBuffer.alloc(32);
  assert.deepEqual(key.read((b) => hex(b)), "00".repeat(32));
  key.write((b) => b.set(Array.from({ length: 32 }, (_, i) => i)));
  assert.deepEqual(key.read((b) => b[31]), 31);
  assert(key.equals(Uint8Array.from({ length: 32 }, (_, i) => i)));
  assert.deepEqual(stats().liveBuffers, before.liveBuffers + 1);
  assert(stats().lockedBytes > before.lockedBytes, "VirtualLock held");
  const kept = key.read((b) => b);
  key.destroy();
  key.destroy();
  assert.deepEqual(key.state, "destroyed");
  assert.deepEqual(kept.length, 0, "views are detached after destroy");
  assertThrowsCode(() => key.read(() => 0), "DESTROYED");
  assert.deepEqual(stats().liveBuffers, before.liveBuffers);
}, { skip: notInLockPass });

test("SecretBuffer: access states follow the scopes", () => {
  const key = SecretBuffer.from(new Uint8Array([1, 2, 3]));
  try {
    assert.deepEqual(key.state, "noaccess");
    key.read(() => {
      assert.deepEqual(key.state, "readonly");
      assertThrowsCode(() => key.write(() => 0), "ACCESS_DENIED");
    });
    key.write((b) => {
      assert.deepEqual(key.state, "readwrite");
      b[0] = 9;
      key.read((inner) => assert.deepEqual(inner[0], 9));
      assert.deepEqual(
        key.state,
        "readwrite",
        "an inner read keeps write access",
      );
    });
    assert.deepEqual(key.state, "noaccess");
    key.protect("readonly");
    assert.deepEqual(key.state, "readonly");
    assert.deepEqual(key.view[0], 9);
    key.protect("noaccess");
    assert.deepEqual(key.state, "noaccess");
  } finally {
    key.destroy();
  }
}, { skip: notInLockPass });

test("SecretBuffer.random fills from the system generator", () => {
  const a = SecretBuffer.random(64);
  const b = SecretBuffer.random(64);
  try {
    assert(!a.equals(b), "two random buffers differ");
    assert.notDeepEqual(a.read(hex), "00".repeat(64));
  } finally {
    a.destroy();
    b.destroy();
  }
}, { skip: notInLockPass });

test("a quarantined range holds no lock (VmLck under Wine)", () => {
  // The token lets the child find its own Linux process.
  const token = `secmem-quarantine-${Date.now()}-${Math.random()}`;
  const child = runChild(
    new URL("./windows/quarantine_lock.ts", import.meta.url).href,
    [token],
  );
  assert.deepEqual(child.status, 0, child.stderr.slice(-400));
  const figures = /before (\d+) live (\d+) quarantined (\d+)/.exec(
    child.stdout,
  );
  assert(figures !== null, `the child found its VmLck: ${child.stdout}`);
  const [before, live, quarantined] = figures.slice(1).map(Number);
  assert(live >= before + 12, `3 pages locked while live: ${child.stdout}`);
  // MEM_COMMIT over the locked pages used to keep them locked for good.
  assert(quarantined <= before, `lock dropped: ${child.stdout}`);
}, {
  // Windows itself has no per-process locked-bytes figure to read.
  skip: notInLockPass ||
    (!existsSync("/proc/self/status") && "needs Wine's view of /proc"),
});

for (const mode of ["end", "start", "guard", "quarantined"]) {
  const what = mode === "guard"
    ? "the trailing guard page faults inside an open scope"
    : mode === "quarantined"
    ? "touching a quarantined range kills the process"
    : `touching a buffer at rest (placement ${mode}) kills the process`;
  test(what, () => {
    const child = runChild(
      new URL("./windows/touch_at_rest.ts", import.meta.url).href,
      [mode],
    );
    const touched = /touch (0x[0-9a-f]+)/.exec(child.stdout)?.[1];
    assert(touched !== undefined, `child printed its address: ${child.stdout}`);
    assert(!child.stdout.includes("survived"), "the touch did not return");
    assert.notDeepEqual(child.status, 0, "the child exits non-zero");
    assert(child.status !== null, "Wine reports an exit code, not a signal");
    // Bun under Wine: "Segmentation fault at address 0x1C2B3000", upper case.
    const output = (child.stdout + child.stderr).toLowerCase();
    assert(
      output.includes(`segmentation fault at address ${touched}`),
      `the fault names ${touched}: ${child.stderr.slice(-400)}`,
    );
  }, { skip: notInLockPass });
}

test(
  "lock limit: a refused VirtualLock is MEMLOCK_LIMIT, then best-effort",
  () => {
    const limit = Number(env.SECMEM_TEST_LOCK_LIMIT);
    const page = memory().pageSize;
    const held: SecretBuffer[] = [];
    try {
      // Each small buffer locks one data page; the limit holds limit/page.
      let error: unknown;
      for (let i = 0; i <= limit / page && error === undefined; i++) {
        try {
          held.push(SecretBuffer.alloc(32));
        } catch (thrown) {
          error = thrown;
        }
      }
      const refused = assertThrowsCode(() => {
        if (error !== undefined) throw error;
      }, "MEMLOCK_LIMIT");
      assert(held.length <= limit / page, `refused after ${held.length}`);
      assert(refused.message.includes("working set"), refused.message);
      const locked = stats().lockedBytes;
      const loose = SecretBuffer.alloc(32, { lock: "best-effort" });
      held.push(loose);
      assert.deepEqual(stats().lockedBytes, locked, "best-effort is unlocked");
      loose.write((b) => b.fill(3));
      assert.deepEqual(loose.read((b) => b[0]), 3);
    } finally {
      for (const buffer of held) buffer.destroy();
    }
  },
  { skip: onlyInLockPass },
);
