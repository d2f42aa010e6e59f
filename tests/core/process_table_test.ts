/**
 * The process table (src/core/_process_table.ts) in one process: each fake
 * thread is a private instance of the module over one fake native layer
 * and one shared table, and a fake thread clock says which threads have
 * ended (see `_fake_threads.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import type { NativeMemory } from "../../src/core/_native.ts";
import { test } from "../_harness.ts";
import { fakeProcess } from "./_fake_threads.ts";

const PAGE = 4096;

test("a thread's first record claims the table: reach goes from thread to process", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  assert.equal(a.table.reach(), "thread");
  const r = p.region();
  const entry = a.table.recordRegion(
    a.memory,
    r.base,
    r.total,
    r.data,
    r.dataLength,
  );
  assert.ok(entry >= 0, `entry ${entry}`);
  assert.equal(a.table.reach(), "process");
  assert.deepEqual(p.tableNames, ["secmem-regions-v2"]);
  assert.deepEqual(a.table.guardedRanges(), [[r.data, r.data + BigInt(PAGE)]]);
});

test("an ended thread's region is wiped and quarantined, never unmapped, and only once", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  const b = await p.thread(102, 6000);
  const r = p.region();
  a.table.recordRegion(a.memory, r.base, r.total, r.data, r.dataLength);
  b.table.recordRegion(b.memory, p.region().base, 3 * PAGE, 0n, 0);
  assert.equal(b.table.otherThreadEntries(), 1);
  const before = p.fake.peek(r.data, 16);
  assert.ok(before.some((byte) => byte !== 0), "the fake secret is written");

  p.end(101);
  p.fake.calls.length = 0;
  assert.equal(b.table.reclaimEnded(b.memory), 1);
  // Opened, wiped, then given back as unlocked inaccessible pages.
  assert.deepEqual(p.fake.calls, [
    "protect:readwrite",
    "wipe",
    "commit:unlocked",
    "protect:noaccess",
  ]);
  assert.ok(!p.fake.calls.includes("release"), "never unmapped");
  assert.throws(() => p.fake.memory.wipe(r.data, 1), /noaccess/);
  assert.deepEqual(p.fake.peek(r.data, 16), new Uint8Array(16));
  assert.equal(b.table.reclaimedEntries(), 1);
  // Counted in address space: the whole reservation, guard pages too.
  assert.deepEqual(b.table.quarantinedFromEnded(), {
    buffers: 1,
    bytes: r.total,
  });
  assert.equal(b.table.otherThreadEntries(), 0);
  assert.ok(
    !b.table.guardedRanges().some(([start]) => start === r.data),
    "the reclaimed range left the table",
  );

  p.fake.calls.length = 0;
  assert.equal(b.table.reclaimEnded(b.memory), 0, "never reclaimed twice");
  assert.deepEqual(p.fake.calls, []);
});

test("a live thread's region is never reclaimed", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  const b = await p.thread(102, 6000);
  const r = p.region();
  a.table.recordRegion(a.memory, r.base, r.total, r.data, r.dataLength);
  p.fake.calls.length = 0;
  assert.equal(b.table.reclaimEnded(b.memory), 0);
  assert.deepEqual(p.fake.calls, []);
  // Nor while its state cannot be told (-1: /proc unreadable for it).
  p.clock.set(101, -1);
  assert.equal(b.table.reclaimEnded(b.memory), 0);
  assert.deepEqual(p.fake.calls, []);
  assert.equal(b.table.otherThreadEntries(), 1);
  assert.deepEqual(b.table.guardedRanges(), [[r.data, r.data + BigInt(PAGE)]]);
});

test("a newer thread with an ended thread's id is told apart by its start time, and reclaims at its first use", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  const r = p.region();
  a.table.recordRegion(a.memory, r.base, r.total, r.data, r.dataLength);
  // The kernel gives id 101 to a new thread, started later.
  p.fake.calls.length = 0;
  const c = await p.thread(101, 7000);
  assert.equal(c.table.reclaimedEntries(), 0, "nothing happens at import");
  c.table.recordRegion(c.memory, p.region().base, 3 * PAGE, 0n, 0);
  assert.equal(c.table.reclaimedEntries(), 1);
  assert.ok(p.fake.calls.includes("wipe"), p.fake.calls.join());
  // The old thread's record was freed and the new one is not taken for it.
  assert.equal(c.table.otherThreadEntries(), 0);
});

test("two copies of secmem in one thread share its record", async () => {
  const p = fakeProcess();
  const first = await p.thread(101, 5000);
  const second = await p.thread(101, 5000);
  const other = await p.thread(102, 6000);
  const r = p.region();
  first.table.recordRegion(first.memory, r.base, r.total, r.data, r.dataLength);
  second.table.recordRegion(second.memory, p.region().base, 3 * PAGE, 0n, 0);
  other.table.recordRegion(other.memory, p.region().base, 3 * PAGE, 0n, 0);
  assert.equal(first.table.otherThreadEntries(), 1, "only the other thread's");
  assert.equal(second.table.otherThreadEntries(), 1);
  assert.equal(other.table.otherThreadEntries(), 2);
});

test("a region forgotten by its thread is not reclaimed after it ends; a wrong base is ignored", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  const b = await p.thread(102, 6000);
  const kept = p.region();
  const gone = p.region();
  const keptEntry = a.table.recordRegion(
    a.memory,
    kept.base,
    kept.total,
    kept.data,
    kept.dataLength,
  );
  const goneEntry = a.table.recordRegion(
    a.memory,
    gone.base,
    gone.total,
    gone.data,
    gone.dataLength,
  );
  a.table.forgetRegion(goneEntry, gone.base);
  // A base that does not match (an entry inherited across fork) is left.
  a.table.forgetRegion(keptEntry, kept.base + 1n);
  b.table.recordRegion(b.memory, p.region().base, 3 * PAGE, 0n, 0);
  assert.equal(b.table.otherThreadEntries(), 1);
  p.end(101);
  assert.equal(b.table.reclaimEnded(b.memory), 1);
  assert.deepEqual(b.table.quarantinedFromEnded(), {
    buffers: 1,
    bytes: kept.total,
  });
});

test("a reclaimer that fails leaves the entry marked; after it ends, the next thread finishes the work", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  let refuse = true;
  const b = await p.thread(102, 6000, (memory): NativeMemory => ({
    ...memory,
    protect(address, length, protection) {
      if (refuse) throw new Error("fake: mprotect refused");
      memory.protect(address, length, protection);
    },
  }));
  const r = p.region();
  a.table.recordRegion(a.memory, r.base, r.total, r.data, r.dataLength);
  b.table.recordRegion(b.memory, p.region().base, 3 * PAGE, 0n, 0);
  p.end(101);
  p.fake.calls.length = 0;
  assert.equal(b.table.reclaimEnded(b.memory), 0, "never throws");
  assert.ok(!p.fake.calls.includes("wipe"));
  assert.equal(
    b.table.reclaimEnded(b.memory),
    0,
    "its own mark is not retried by itself",
  );
  refuse = false;

  p.end(102);
  const c = await p.thread(103, 8000);
  c.table.recordRegion(c.memory, p.region().base, 3 * PAGE, 0n, 0);
  // b's own region and a's, whose work b left half done.
  assert.equal(c.table.reclaimedEntries(), 2);
  assert.ok(p.fake.calls.includes("wipe"));
  assert.equal(c.table.reclaimEnded(c.memory), 0);
});

test("held mappings: counted per thread before the table, carried into it, seen across threads in batches", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  const b = await p.thread(102, 6000);
  for (let i = 0; i < 3; i++) a.table.mappingHeld();
  assert.equal(a.table.heldMappings(), 3);
  a.table.recordRegion(a.memory, p.region().base, 3 * PAGE, 0n, 0);
  b.table.recordRegion(b.memory, p.region().base, 3 * PAGE, 0n, 0);
  assert.equal(b.table.heldMappings(), 3, "carried into the table at attach");
  for (let i = 0; i < 64; i++) a.table.mappingHeld();
  assert.equal(a.table.heldMappings(), 67);
  assert.equal(b.table.heldMappings(), 67, "a full batch is published");
  a.table.mappingReleased();
  assert.equal(a.table.heldMappings(), 66);
  assert.ok(
    b.table.heldMappings() - 66 <= 64,
    "another thread lags by at most a batch",
  );
});

test("no table where the native layer has none, or a thread cannot read its own start", async () => {
  const p = fakeProcess();
  const bare = await p.thread(101, 5000, (memory) => ({
    ...memory,
    sharedTable: undefined,
  }));
  const r = p.region();
  assert.equal(
    bare.table.recordRegion(bare.memory, r.base, r.total, r.data, r.dataLength),
    -1,
  );
  assert.equal(bare.table.reach(), "thread");
  assert.equal(bare.table.reclaimEnded(bare.memory), 0);
  assert.deepEqual(bare.table.guardedRanges(), []);
  bare.table.mappingHeld();
  assert.equal(bare.table.heldMappings(), 1);

  const blind = await p.thread(102, 6000);
  p.clock.set(102, -1);
  assert.equal(
    blind.table.recordRegion(
      blind.memory,
      r.base,
      r.total,
      r.data,
      r.dataLength,
    ),
    -1,
  );
  assert.equal(blind.table.reach(), "thread");
  assert.deepEqual(p.tableNames, [], "the table is never mapped for it");
});
