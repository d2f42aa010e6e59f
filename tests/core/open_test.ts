/**
 * The source probe (src/core/_open.ts) and the list of open ranges every
 * copy reads (src/core/_open_ranges.ts): `isOwnSource` must say yes for a
 * view over guarded memory that is readable now, ours or another copy's,
 * and no for a caller's copy of the same bytes. Over private copies of the
 * modules, one private list and a fake thread clock (`_copies.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import { probeProcess, region } from "./_copies.ts";
import { replacedWhile } from "../_replaced.ts";

const pattern = (length: number, seed: number) =>
  new Uint8Array(length).map((_, i) => (i * 53 + seed) & 0xff | 1);

test("nothing open anywhere: a caller's array is not ours, after one look at the list", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  assert.equal(copy.ranges.othersOpen(copy.memory), false);
  assert.equal(copy.open.isOwnSource(pattern(32, 1)), false);
  assert.equal(copy.open.isOwnSource(new Uint8Array(0)), false);
});

test("an open region: a new view over its buffer is ours, a copy of its bytes is not; closed, it is not probed", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const r = region(copy, pages, 48);
    new Uint8Array(r.user).set(pattern(48, 7));
    copy.open.markRegionOpen(r);
    const { isOwnSource } = copy.open;
    assert.equal(isOwnSource(new Uint8Array(r.user)), true);
    assert.equal(isOwnSource(new Uint8Array(r.user, 0, 3)), true, "short");
    assert.equal(isOwnSource(new Uint8Array(r.user).slice()), false);
    assert.equal(isOwnSource(pattern(3, 7)), false, "short copy");
    // A view longer than the buffer cannot be over it, whatever it holds.
    const longer = new Uint8Array(64);
    longer.set(pattern(48, 7));
    assert.equal(isOwnSource(longer), false);
    assert.deepEqual(new Uint8Array(r.user), pattern(48, 7), "bytes put back");
    // In the list every copy reads, while open.
    assert.ok(r.openEntry >= 0);

    // Another region stays open, so the probe runs; this one is at rest
    // (its pages would fault) and must not be probed.
    const still = region(copy, pages, 8);
    copy.open.markRegionOpen(still);
    r.protection = "noaccess";
    copy.open.markRegionClosed(r);
    assert.equal(r.openEntry, -1);
    assert.equal(isOwnSource(new Uint8Array(r.user, 8)), true, "known by mark");
    assert.equal(
      isOwnSource(new Uint8Array(r.user, 0, 40)),
      false,
      "not probed at rest",
    );
    // Over the open region's memory, but longer than it: not its.
    assert.equal(isOwnSource(pages.view(0, 12)), false);
    copy.open.markRegionClosed(still);
    assert.equal(copy.open.openMappingAt(pages.data, 8), undefined);
  } finally {
    pages.release();
  }
});

test("a region whose buffer was transferred away inside a scope is probed through a view of its own", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const r = region(copy, pages, 40);
    new Uint8Array(r.user).set(pattern(40, 11));
    copy.open.markRegionOpen(r);
    const moved = r.user.transfer();
    assert.equal(copy.open.isOwnSource(new Uint8Array(moved)), true);
    assert.equal(copy.open.isOwnSource(new Uint8Array(moved).slice()), false);
    copy.open.markRegionClosed(r);
    assert.equal(
      copy.ranges.othersOpen(copy.memory),
      false,
      "unmapping closes it",
    );
    moved.transfer(0);
  } finally {
    pages.release();
  }
});

test("a read-only region is probed with its pages writable for that instant", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const pages = process.map();
  try {
    const r = region(copy, pages, 32, "readonly");
    new Uint8Array(r.user).set(pattern(32, 13));
    copy.memory.protect(pages.data, pages.length, "readonly");
    copy.open.markRegionOpen(r);
    assert.equal(copy.open.isOwnSource(new Uint8Array(r.user)), true);
    assert.equal(copy.open.isOwnSource(pattern(32, 13)), false);
    r.protection = "noaccess";
    copy.open.markRegionClosed(r);
  } finally {
    copy.memory.protect(pages.data, pages.length, "readwrite");
    pages.release();
  }
});

const finished = () => ({ done: true, value: undefined });
const REPLACED_WALKS: [string, object, string, unknown][] = [
  ["Array.prototype.push", Array.prototype, "push", () => 0],
  [
    "the array iterator's next",
    Object.getPrototypeOf([][Symbol.iterator]()),
    "next",
    finished,
  ],
  [
    "the generator's next",
    Object.getPrototypeOf(function* () {}).prototype,
    "next",
    finished,
  ],
];

test("another copy's open range: a view over it is never taken for a caller's (whatever walk was replaced after import), a copy of it is", async () => {
  const process = probeProcess();
  const sources = await process.copy();
  const npm = await process.copy();
  const pages = process.map();
  try {
    pages.view().set(pattern(64, 17));
    const entry = npm.ranges.markOpen(
      npm.memory,
      pages.data,
      pages.data + 64n,
      true,
    );
    assert.ok(entry >= 0);
    assert.equal(sources.ranges.othersOpen(sources.memory), true);
    assert.equal(npm.ranges.othersOpen(npm.memory), false, "its own entry");
    const theirs = pages.view(0, 64);
    assert.equal(sources.open.isOwnSource(theirs), true);
    assert.equal(
      sources.open.isOwnSource(pages.view(20, 30)),
      true,
      "inside it",
    );
    assert.equal(sources.open.isOwnSource(theirs.slice()), false, "a copy");
    assert.equal(sources.open.isOwnSource(pattern(64, 99)), false);
    assert.deepEqual(pages.view(0, 64), pattern(64, 17), "bytes put back");
    // Still found with a built-in replaced after import that the list or
    // the probe could have walked by.
    const told: Record<string, boolean> = {};
    for (const [name, target, key, value] of REPLACED_WALKS) {
      told[name] = replacedWhile(
        target,
        key,
        value,
        () => sources.open.isOwnSource(theirs),
      );
    }
    assert.deepEqual(told, {
      "Array.prototype.push": true,
      "the array iterator's next": true,
      "the generator's next": true,
    });
    // Read-only: a copy of its bytes cannot be told from the memory, and is
    // taken for it (copied, never wiped).
    npm.ranges.markAccess(entry, false);
    assert.equal(sources.open.isOwnSource(theirs.slice()), true);
    assert.equal(sources.open.isOwnSource(pattern(64, 99)), false);
    npm.ranges.markClosed(entry);
    assert.equal(sources.ranges.othersOpen(sources.memory), false);
    assert.equal(sources.open.isOwnSource(theirs.slice()), false);
  } finally {
    pages.release();
  }
});

test("a range another thread opened is not ours to read; once that thread ends, its entry is freed", async () => {
  const process = probeProcess();
  const main = await process.copy(101, 5000);
  const worker = await process.copy(102, 6000);
  const pages = process.map();
  try {
    pages.view().set(pattern(64, 21));
    worker.ranges.markOpen(worker.memory, pages.data, pages.data + 64n, true);
    assert.equal(main.ranges.othersOpen(main.memory), true);
    // Another thread's range may close at any moment: never read, so a
    // view over it is not told (the worker's own copy tells its own).
    assert.deepEqual(main.ranges.foreignRanges(), []);
    process.clock.delete(102);
    // A copy looks for ended threads at most once a second, by a clock
    // taken at load that a test cannot set: a copy that has not looked yet
    // frees the entry, and then every copy sees it gone.
    const later = await process.copy(101, 5000);
    assert.equal(later.ranges.othersOpen(later.memory), false, "freed");
    assert.equal(main.ranges.othersOpen(main.memory), false);

    // The same when the id now names a thread that started later.
    const worker2 = await process.copy(103, 6100);
    worker2.ranges.markOpen(worker2.memory, pages.data, pages.data + 64n, true);
    process.clock.set(103, 9000);
    const look = await process.copy(101, 5000);
    assert.equal(look.ranges.othersOpen(look.memory), false, "freed");
    // While its state cannot be told (-1), an entry is kept.
    const worker3 = await process.copy(104, 6200);
    worker3.ranges.markOpen(worker3.memory, pages.data, pages.data + 64n, true);
    process.clock.set(104, -1);
    const blind = await process.copy(101, 5000);
    assert.equal(blind.ranges.othersOpen(blind.memory), true, "kept");
  } finally {
    pages.release();
  }
});

test("a live thread's open range is kept when Map.prototype.get was replaced after import", async () => {
  const process = probeProcess();
  const worker = await process.copy(102, 6000);
  const pages = process.map();
  try {
    worker.ranges.markOpen(worker.memory, pages.data, pages.data + 64n, true);
    const look = await process.copy(101, 5000);
    // The fake thread clock is a Map too: it alone is answered truly.
    const get = Map.prototype.get;
    const open = replacedWhile(
      Map.prototype,
      "get",
      function (this: Map<unknown, unknown>, key: unknown) {
        return this === process.clock ? Reflect.apply(get, this, [key]) : 1;
      },
      () => look.ranges.othersOpen(look.memory),
    );
    assert.equal(open, true, "the worker still runs: its range stays open");
  } finally {
    pages.release();
  }
});

test("a newer thread with the same id does not read the ranges an ended thread left", async () => {
  const process = probeProcess();
  const old = await process.copy(101, 5000);
  const pages = process.map();
  try {
    old.ranges.markOpen(old.memory, pages.data, pages.data + 64n, true);
    const newer = await process.copy(101, 7000);
    assert.equal(newer.ranges.othersOpen(newer.memory), true);
    assert.deepEqual(newer.ranges.foreignRanges(), [], "not its to read");
    const again = await process.copy(101, 5000);
    assert.equal(again.ranges.foreignRanges(), undefined, "not attached yet");
    again.ranges.othersOpen(again.memory);
    assert.deepEqual(again.ranges.foreignRanges(), [
      { start: pages.data, end: pages.data + 64n, writable: true },
    ]);
  } finally {
    pages.release();
  }
});

test("a range no entry could be had for makes every source count as another copy's", async () => {
  const process = probeProcess();
  const filler = await process.copy();
  const other = await process.copy();
  const entries: number[] = [];
  for (;;) {
    const entry = filler.ranges.markOpen(
      filler.memory,
      0x1000n,
      0x1001n,
      false,
    );
    entries.push(entry);
    if (entry < 0) break;
  }
  assert.equal(entries.at(-1), filler.ranges.UNRECORDED_ENTRY);
  assert.equal(entries.length, (65536 - 64) / 32 + 1, "the list's frozen size");
  assert.equal(other.ranges.foreignRanges(), undefined);
  assert.equal(other.open.isOwnSource(pattern(32, 3)), true);
  // Every recorded range closed: the one without an entry still counts.
  for (const entry of entries.slice(0, -1)) filler.ranges.markClosed(entry);
  assert.equal(other.ranges.othersOpen(other.memory), true);
  assert.equal(other.open.isOwnSource(pattern(32, 3)), true);
  filler.ranges.markClosed(entries.at(-1)!);
  assert.equal(other.ranges.othersOpen(other.memory), false);
  assert.equal(other.open.isOwnSource(pattern(32, 3)), false);
});

test("sharesFirstByte and startsWith tell the same memory from equal bytes", async () => {
  const process = probeProcess();
  const copy = await process.copy();
  const { sharesFirstByte, startsWith } = copy.open;
  const buffer = new ArrayBuffer(16);
  const ours = new Uint8Array(buffer);
  ours.set(pattern(16, 2));
  assert.equal(sharesFirstByte(ours, 4, new Uint8Array(buffer, 4)), true);
  assert.equal(sharesFirstByte(ours, 4, new Uint8Array(buffer, 5)), false);
  assert.equal(sharesFirstByte(ours, 4, ours.slice(4)), false);
  assert.deepEqual(ours, pattern(16, 2), "put back");
  assert.equal(startsWith(ours, ours.slice(3), 8, 3), true);
  assert.equal(startsWith(ours, ours.slice(3), 14, 3), false, "ours too short");
  const differs = ours.slice(3);
  differs[7] ^= 1;
  assert.equal(startsWith(ours, differs, 8, 3), false);
});
