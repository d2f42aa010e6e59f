/**
 * The memfd_secret backend: the mapping and its flags, no descriptor left,
 * unreadable through /proc/self/mem, absent from forked children, lock-limit
 * failures as errors (never SIGBUS), `auto` falling back, nothing left
 * mapped on failure.
 *
 * @module
 */

import { mkdtempSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LINUX_LIBC_CANDIDATES } from "../ffi/linux.ts";
import { loadAdapter } from "../ffi/load.ts";
import type { Needle } from "../src/doctor/_scan.ts";
import { spawnSync } from "node:child_process";
import { capabilities, SecretBuffer, stats } from "../mod.ts";
import { native } from "../src/core/_native.ts";
import { mappingAround, readMaps, withScratch } from "../src/doctor/_procfs.ts";
import { needleOf } from "./_forensics.ts";
import { scanMemory } from "../src/doctor/_scan.ts";
import { test } from "./_harness.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "./_error_code.ts";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { linuxOnly } from "./_platform.ts";

const support = linuxOnly ? undefined : capabilities().secretMemory;
const needsSecretmem: string | false = linuxOnly ||
  (support?.available ? false : `memfd_secret unavailable: ${support?.detail}`);

/**
 * The name memfd_secret's file has in /proc/self/maps and as the target of
 * its descriptor's /proc/self/fd link. Compared exactly: a substring match
 * would count stdout redirected to a file whose path says "secretmem".
 */
const SECRETMEM_FILE = "/secretmem (deleted)";

/** How many secret-memory mappings this process has. */
function secretMappings(): number {
  return readMaps().filter((e) => e.path === SECRETMEM_FILE).length;
}

/** Descriptors of this process that point at a secret-memory file. */
function secretDescriptors(): string[] {
  return readdirSync("/proc/self/fd").flatMap((fd) => {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      return target === SECRETMEM_FILE ? [target] : [];
    } catch {
      return []; // the descriptor readdir itself used, now closed
    }
  });
}

test("backend option: unknown values are refused and nothing is mapped", () => {
  const before = stats();
  assertThrowsCode(
    () =>
      SecretBuffer.alloc(8, {
        backend: "tmpfs" as unknown as "auto",
      }),
    "INVALID_ARGUMENT",
  );
  assert.deepEqual(stats(), before);
}, { skip: linuxOnly });

test("anonymous stays the default backend", () => {
  using buffer = SecretBuffer.alloc(8);
  assert.deepEqual(buffer.backend, "anonymous");
}, { skip: linuxOnly });

test(
  "secretmem mapping: [secretmem] file, shared, locked, no dump, no fork, guarded",
  () => {
    const before = stats();
    const secretBefore = secretMappings();
    const buffer = SecretBuffer.random(32, { backend: "secretmem" });
    assert.deepEqual(buffer.backend, "secretmem");
    assert.deepEqual(stats().secretmemBuffers, before.secretmemBuffers + 1);
    const { before: guard1, at, after: guard2 } = mappingAround(buffer.address);
    assert(at !== undefined, "the data pages are mapped");
    // The kernel names the file "secretmem"; maps shows it as deleted.
    assert.equal(at.path, SECRETMEM_FILE);
    assert.deepEqual(at.perms, "---s", "shared, inaccessible at rest");
    for (const flag of ["lo", "dd", "dc"]) {
      assert(
        at.flags.includes(flag),
        `VmFlags ${at.flags.join(" ")} lack ${flag}`,
      );
    }
    assert(
      guard1?.perms === "---p" && guard1.end === at.start,
      "leading guard",
    );
    assert(
      guard2?.perms === "---p" && guard2.start === at.end,
      "trailing guard",
    );
    const address = buffer.address;
    buffer.destroy();
    // The range may be mapped again at once (by the scratch buffer that
    // reads smaps), but never by secret memory.
    const now = mappingAround(address).at;
    assert(
      now === undefined || now.path !== SECRETMEM_FILE,
      "unmapped at destroy",
    );
    assert.deepEqual(secretMappings(), secretBefore, "no secret mapping left");
    assert.deepEqual(stats(), before);
  },
  { skip: needsSecretmem },
);

test(
  "secretmem: bytes round-trip through scopes, and from/random take the option",
  () => {
    using a = SecretBuffer.from(new Uint8Array([1, 2, 3]), {
      backend: "secretmem",
    });
    assert.deepEqual(a.read((b) => [...b]), [1, 2, 3]);
    a.write((b) => b.set([9], 2));
    assert.deepEqual(a.read((b) => b[2]), 9);
    using r = SecretBuffer.random(4096, {
      backend: "secretmem",
      placement: "start",
    });
    assert(r.read((b) => b.some((x) => x !== 0)), "random bytes were written");
    assert.deepEqual(r.state, "noaccess");
  },
  { skip: needsSecretmem },
);

test("secretmem: no descriptor is left open", () => {
  assert.deepEqual(secretDescriptors(), []);
  const count = readdirSync("/proc/self/fd").length;
  using _buffer = SecretBuffer.random(32, { backend: "secretmem" });
  assert.deepEqual(secretDescriptors(), []);
  assert.deepEqual(readdirSync("/proc/self/fd").length, count);
}, { skip: needsSecretmem });

test(
  "secretmem: /proc/self/mem cannot read the pages (anonymous pages it can)",
  () => {
    const memory = native();
    const attempt = (backend: "anonymous" | "secretmem") => {
      using buffer = SecretBuffer.random(32, { backend });
      const fd = memory.openRead("/proc/self/mem");
      try {
        return withScratch((scratch) => {
          try {
            memory.readInto(fd, scratch.address, 32, Number(buffer.address));
            return buffer.read((bytes) =>
                scratch.view.subarray(0, 32).every((b, i) => b === bytes[i])
              )
              ? "read"
              : "different";
          } catch (error) {
            return (error as { errno?: number }).errno;
          }
        });
      } finally {
        memory.close(fd);
      }
    };
    assert.deepEqual(attempt("anonymous"), "read", "control: anonymous pages");
    assert.deepEqual(attempt("secretmem"), 5, "EIO for secret memory");
  },
  { skip: needsSecretmem },
);

test("secretmem: no copy of the secret in process memory after destroy", () => {
  const buffer = SecretBuffer.random(32, { backend: "secretmem" });
  const needle = needleOf(buffer);
  buffer.destroy();
  const control = new Uint8Array(32).map((_, i) => (i * 97 + 13) & 0xff);
  assert(
    scanMemory(needleOf(control)).hits.length > 0,
    "the scan sees the heap",
  );
  assert.deepEqual(scanMemory(needle).hits, []);
}, { skip: needsSecretmem });

test("secretmem: a forked child does not have the mapping", () => {
  const result = runChild(childScript("secretmem_fork.ts"));
  assert.deepEqual(result.status, 0, result.stderr);
  const report = JSON.parse(result.stdout.trim().split("\n").pop()!);
  assert.deepEqual(report.parentHasSecret, true);
  assert(report.childMappings > 0, "the child's maps were read");
  assert.deepEqual(
    report.childHasAnonymous,
    true,
    "control: wipe-on-fork pages are inherited (zeroed)",
  );
  assert.deepEqual(report.childHasSecret, false);
}, { skip: needsSecretmem });

test(
  "secretmem under RLIMIT_MEMLOCK: MEMLOCK_LIMIT, no SIGBUS, auto falls back",
  () => {
    const command = runtimeCommand(childScript("secretmem_limit.ts"));
    const result = spawnSync("setpriv", [
      "--inh-caps=-ipc_lock",
      "--bounding-set=-ipc_lock",
      "prlimit",
      "--memlock=65536",
      "--",
      ...command,
    ], { encoding: "utf8", timeout: 60_000 });
    assert.deepEqual(result.signal, null, result.stderr);
    assert.deepEqual(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout.trim().split("\n").pop()!);
    assert.deepEqual(report.code, "MEMLOCK_LIMIT");
    assert(
      report.allocated > 0 && report.allocated <= 16,
      `${report.allocated} one-page buffers under 64 KiB`,
    );
    assert.deepEqual(
      report.liveAtLimit,
      report.allocated,
      "the refused buffer left nothing",
    );
    assert.deepEqual(report.secretmemAtLimit, report.allocated);
    assert.deepEqual(report.readable, true);
    assert.deepEqual(report.autoBackend, "anonymous");
    assert.deepEqual(
      report.autoLocked,
      false,
      "best-effort: unlocked anonymous pages",
    );
    assert.deepEqual(report.liveAfter, 0);
  },
  {
    skip: needsSecretmem ||
      (spawnSync("setpriv", ["--version"]).status === 0
        ? false
        : "needs setpriv"),
  },
);

/**
 * Counts where each needle occurs in a (sparse) core file: only the data
 * runs (lseek SEEK_DATA/SEEK_HOLE) are read, into guarded scratch memory.
 */
function scanFile(path: string, needles: Needle[]): number[] {
  const SEEK_DATA = 3;
  const SEEK_HOLE = 4;
  const { lseek } = loadAdapter().open(LINUX_LIBC_CANDIDATES, {
    lseek: { parameters: ["i32", "i64", "i32"], result: "i64" },
  });
  const memory = native();
  const counts = needles.map(() => 0);
  const chunk = 1 << 16; // within the procfs scratch (1 MiB)
  const overlap = 64;
  const fd = memory.openRead(path);
  try {
    withScratch((scratch) => {
      let at = 0;
      for (;;) {
        const start = lseek(fd, at, SEEK_DATA);
        if (start < 0) break; // ENXIO: no data after `at`
        const end = lseek(fd, start, SEEK_HOLE);
        for (let offset = start; offset < end;) {
          const length = Math.min(chunk, end - offset);
          const got = memory.readInto(fd, scratch.address, length, offset);
          if (got <= 0) break;
          const view = scratch.view.subarray(0, got);
          needles.forEach(({ masked, mask }, n) => {
            const first = masked[0] ^ mask[0];
            for (
              let i = view.indexOf(first);
              i >= 0 && i + masked.length <= got;
              i = view.indexOf(first, i + 1)
            ) {
              let same = true;
              for (let j = 1; j < masked.length && same; j++) {
                same = (view[i + j] ^ mask[j]) === masked[j];
              }
              // A match straddling two reads is counted in the second.
              if (same && (i < got - overlap || offset + got >= end)) {
                counts[n]++;
              }
            }
          });
          offset += got < length || offset + got >= end ? got : got - overlap;
        }
        at = end;
      }
    });
  } finally {
    memory.close(fd);
  }
  return counts;
}

const fromHex = (hex: string) =>
  new Uint8Array(hex.match(/../g)!.map((h) => parseInt(h, 16)));

test("secretmem: a core dump holds the heap control but not the secret", () => {
  const dir = mkdtempSync(join(tmpdir(), "secmem-core-"));
  try {
    const result = runChild(childScript("secretmem_core.ts"), [], {
      cwd: dir,
      shellPrefix: "ulimit -c unlimited;",
    });
    const cores = readdirSync(dir).filter((name) => name.startsWith("core"));
    assert(
      cores.length === 1,
      `one core file, got ${cores.join(", ")}; ${result.stderr.slice(0, 300)}`,
    );
    const line = result.stdout.split("\n").find((l) => l.startsWith("{"))!;
    const report = JSON.parse(line);
    const needle = (n: { masked: string; mask: string }): Needle => ({
      masked: fromHex(n.masked),
      mask: fromHex(n.mask),
    });
    const [control, secret] = scanFile(join(dir, cores[0]), [
      needle(report.control),
      needle(report.secret),
    ]);
    console.log(`    core: control found ${control} time(s), secret ${secret}`);
    assert(control > 0, "the core holds the heap control (the scan sees)");
    assert.deepEqual(secret, 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, { skip: needsSecretmem });
