/**
 * The doctor's /proc parsing and its own guarded pages (src/doctor/_procfs.ts,
 * `sealNeedle` in src/doctor/_scan.ts) over the fake native layer: one parser
 * for maps and smaps, the mapping around an address, and pages that are
 * wiped and unmapped when freed, or when making them fails half-way.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  guardedPages,
  mappingAround,
  parseMaps,
  secmemMappingOverlaps,
} from "../../src/doctor/_procfs.ts";
import { sealNeedle } from "../../src/doctor/_scan.ts";
import { withFakeNative } from "../_fake_native.ts";
import { test } from "../_harness.ts";

const SMAPS = [
  "7f0000-7f1000 ---p 00000000 00:00 0 ",
  "Size:                  4 kB",
  "VmFlags: mr mw me ",
  "7f1000-7f3000 ---p 00000000 00:00 0 ",
  "Rss:                   8 kB",
  "VmFlags: mr mw me lo dd wf",
  "7f3000-7f4000 ---p 00000000 00:00 0 ",
  "VmFlags: mr mw me",
  "7f4000-7f5000 r-xp 00001000 08:01 42    /usr/lib/libc.so.6",
  "VmFlags: rd ex mr mw me",
  "",
].join("\n");

test("parseMaps reads maps lines, and smaps lines with each mapping's VmFlags", () => {
  const maps = parseMaps(
    "7f4000-7f5000 r-xp 00001000 08:01 42    /usr/lib/libc.so.6\n" +
      "7f6000-7f7000 rw-p 00000000 00:00 0 \nnot a mapping\n",
  );
  assert.deepEqual(maps, [
    {
      start: 0x7f4000n,
      end: 0x7f5000n,
      perms: "r-xp",
      path: "/usr/lib/libc.so.6",
      flags: [],
    },
    { start: 0x7f6000n, end: 0x7f7000n, perms: "rw-p", path: "", flags: [] },
  ]);
  const smaps = parseMaps(SMAPS);
  assert.deepEqual(smaps.map((e) => e.flags.join(" ")), [
    "mr mw me",
    "mr mw me lo dd wf",
    "mr mw me",
    "rd ex mr mw me",
  ]);
  assert.deepEqual(smaps.map((e) => e.path), [
    "",
    "",
    "",
    "/usr/lib/libc.so.6",
  ]);
});

test("mappingAround and secmemMappingOverlaps read smaps through the native layer", () => {
  withFakeNative({ procFiles: { "/proc/self/smaps": SMAPS } }, (fake) => {
    const { before, at, after } = mappingAround(0x7f2000n);
    assert.deepEqual([before?.start, at?.start, after?.start], [
      0x7f0000n,
      0x7f1000n,
      0x7f3000n,
    ]);
    assert.deepEqual(at?.flags.includes("lo"), true);
    assert.deepEqual(mappingAround(0x10n), {});
    // Only a `wf` mapping is secmem's: the guards and libc are not.
    assert.equal(secmemMappingOverlaps(0x7f2fffn, 0x7f3001n), true);
    assert.equal(secmemMappingOverlaps(0x7f3000n, 0x7f5000n), false);
    assert.equal(secmemMappingOverlaps(0x7f0000n, 0x7f1000n), false);
    assert(fake.calls.includes("procText:/proc/self/smaps"));
  });
});

test("guardedPages: whole pages between guards, wiped and unmapped once by free", () => {
  withFakeNative({ lockRefusals: 1 }, (fake) => {
    const pages = guardedPages(5000);
    assert.equal(pages.size, 8192);
    assert.equal(fake.mapped(), 8192 + 2 * 4096);
    // The lock limit refused: the pages are committed unlocked instead.
    assert.deepEqual(
      fake.calls.filter((c) => c.startsWith("commit")),
      ["commit:locked", "commit:unlocked"],
    );
    assert(fake.calls.includes("keepOutOfDumpsAndForks"));
    fake.memory.fillRandom(pages.address, pages.size);
    pages.free();
    pages.free();
    assert.equal(pages.view.length, 0, "the view is detached");
    assert.equal(fake.mapped(), 0);
    assert.equal(fake.calls.filter((c) => c === "wipe").length, 1);
    assert.equal(fake.calls.filter((c) => c === "release").length, 1);
  });
});

test("guardedPages: a failure half-way leaves nothing mapped", () => {
  for (const name of ["commit", "keepOutOfDumpsAndForks"]) {
    withFakeNative({ failOn: { name, nth: 1 } }, (fake) => {
      assert.throws(() => guardedPages(16), /failed on purpose/);
      assert.equal(fake.mapped(), 0, name);
    });
  }
});

test("sealNeedle: the halves XOR to the secret; dispose, or a failure, wipes and unmaps", () => {
  withFakeNative({}, (fake) => {
    const secret = new Uint8Array([0, 1, 2, 3, 250, 0, 7, 9]);
    const needle = sealNeedle(secret);
    assert.deepEqual(
      needle.masked.map((byte, i) => byte ^ needle.mask[i]),
      secret,
    );
    const [start, end] = needle.range;
    assert.equal(end - start, 4096n);
    needle.dispose();
    needle.dispose();
    assert.equal(needle.masked.length, 0, "the halves are detached");
    assert.equal(fake.mapped(), 0);
  });
  // The mask comes from the OS generator after the pages are made.
  withFakeNative({ failOn: { name: "fillRandom", nth: 1 } }, (fake) => {
    assert.throws(() => sealNeedle(new Uint8Array(8)), /failed on purpose/);
    assert.equal(fake.mapped(), 0);
  });
});
