/**
 * The process table (src/core/_process_table.ts) in one process: each fake
 * thread is a private instance of the module over one fake native layer
 * and one shared table, and a fake thread clock says which threads have
 * ended (see `_fake_threads.ts`).
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "../_harness.ts";
import {
  type FakeProcess,
  fakeProcess,
  type FakeThread,
  PID,
  protectFails,
} from "./_fake_threads.ts";

/** Enters the fake region `r` for `thread`: the entry, or -1. */
const enter = (
  thread: FakeThread,
  r: ReturnType<FakeProcess["region"]>,
): number =>
  thread.table.recordRegion(
    thread.memory,
    r.base,
    r.total,
    r.data,
    r.dataLength,
  );

const PAGE = 4096;

/** The owner word the table should hold for thread `tid` started at `ticks`. */
const word = (tid: number, ticks: number): bigint =>
  (BigInt(tid) << 41n) | BigInt(ticks);

/** Entry `entry`'s owner word and flags, read from the shared table's bytes. */
function entryOf(
  bytes: ArrayBuffer | undefined,
  entry: number,
): { owner: bigint; flags: number } {
  assert.ok(bytes !== undefined, "the table is mapped");
  const slot = (64 + entry * 48) / 8;
  return {
    owner: new BigInt64Array(bytes)[slot],
    flags: new Int32Array(bytes)[(slot + 1) * 2],
  };
}

test("a thread's first entry maps the table: reach goes from thread to process", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  assert.equal(a.table.reach(), "thread");
  const r = p.region();
  const entry = enter(a, r);
  assert.ok(entry >= 0, `entry ${entry}`);
  assert.equal(a.table.reach(), "process");
  assert.deepEqual(p.tableNames, ["secmem-regions-v3"]);
  assert.deepEqual(a.table.guardedRanges(), [[r.data, r.data + BigInt(PAGE)]]);
});

test("an ended thread's region is wiped and quarantined, never unmapped, and only once", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  const b = await p.thread(102, 6000);
  const r = p.region();
  enter(a, r);
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

test('Map.prototype.get replaced to answer "alive" for an ended thread: an ended thread\'s region is still reclaimed', async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  const b = await p.thread(102, 6000);
  const r = p.region();
  enter(a, r);
  p.end(101);
  const get = Map.prototype.get;
  // Only thread 101's owner word is lied about: the fake's own Maps (some
  // keyed by bigint addresses) must still answer.
  Map.prototype.get = function (this: Map<unknown, unknown>, key: unknown) {
    return key === word(101, 5000) ? false : Reflect.apply(get, this, [key]);
  };
  let reclaimed: number;
  try {
    reclaimed = b.table.reclaimEnded(b.memory);
  } finally {
    Map.prototype.get = get;
  }
  assert.equal(reclaimed, 1, "the ended thread's secret outlived the sweep");
  assert.deepEqual(p.fake.peek(r.data, 16), new Uint8Array(16));
});

test("a live thread's region is never reclaimed", async () => {
  const p = fakeProcess();
  const a = await p.thread(101, 5000);
  const b = await p.thread(102, 6000);
  const r = p.region();
  enter(a, r);
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
  enter(a, r);
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

test("two copies of secmem in one thread share its owner word", async () => {
  const p = fakeProcess();
  const first = await p.thread(101, 5000);
  const second = await p.thread(101, 5000);
  const other = await p.thread(102, 6000);
  const r = p.region();
  enter(first, r);
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
  const keptEntry = enter(a, kept);
  const goneEntry = enter(a, gone);
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
  const refuse = { on: true };
  const b = await p.thread(102, 6000, protectFails(refuse));
  const r = p.region();
  enter(a, r);
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
  refuse.on = false;

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
    enter(bare, r),
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
    enter(blind, r),
    -1,
  );
  assert.equal(blind.table.reach(), "thread");
  assert.deepEqual(p.tableNames, [], "the table is never mapped for it");
});

test("one owner word per entry: thread id above the start tick, negated while a reclaimer works", async () => {
  const p = fakeProcess();
  const a = await p.thread(4_194_303, 2 ** 41 - 1);
  const r = p.region();
  const entry = enter(a, r);
  // The largest thread id Linux hands out and the largest tick still fit.
  assert.equal(entryOf(p.tableBytes(), entry).owner, 2n ** 63n - 1n);
  assert.equal(entryOf(p.tableBytes(), entry).flags, 1, "published");
  a.table.forgetRegion(entry, r.base);
  assert.deepEqual(entryOf(p.tableBytes(), entry), { owner: 0n, flags: 0 });

  // Out of range (a thread id past 2^22, a tick past 2^41): no table, not
  // a word that could name another thread.
  for (const [tid, ticks] of [[1 << 22, 5], [7, 2 ** 41]]) {
    const q = fakeProcess();
    const t = await q.thread(tid, ticks);
    assert.equal(
      enter(t, r),
      -1,
    );
    assert.equal(t.table.reach(), "thread");
  }
});

test("thread 7 ended and its id reused by a thread started later: only the ended one's entries are taken", async () => {
  const p = fakeProcess();
  const reclaimer = await p.thread(8, 90);
  reclaimer.table.recordRegion(
    reclaimer.memory,
    p.region().base,
    3 * PAGE,
    0n,
    0,
  );
  const old = await p.thread(7, 100);
  const first = p.region();
  const oldEntry = enter(old, first);
  assert.equal(entryOf(p.tableBytes(), oldEntry).owner, word(7, 100));
  p.end(7);
  const young = await p.thread(7, 250);
  p.fake.calls.length = 0;
  const second = p.region();
  const youngEntry = enter(young, second);
  // Its first use took the ended thread's entry, and entered its own.
  assert.equal(young.table.reclaimedEntries(), 1);
  assert.deepEqual(p.fake.peek(first.data, 16), new Uint8Array(16));
  assert.equal(entryOf(p.tableBytes(), youngEntry).owner, word(7, 250));
  p.fake.calls.length = 0;
  assert.equal(reclaimer.table.reclaimEnded(reclaimer.memory), 0);
  assert.deepEqual(p.fake.calls, [], "the live thread 7 is left alone");
  assert.ok(p.fake.peek(second.data, 16).some((byte) => byte !== 0));

  p.end(7);
  assert.equal(reclaimer.table.reclaimEnded(reclaimer.memory), 1);
  assert.deepEqual(p.fake.peek(second.data, 16), new Uint8Array(16));
  assert.deepEqual(entryOf(p.tableBytes(), youngEntry), {
    owner: 0n,
    flags: 0,
  });
});

test("a reclaimer ended after the wipe, before it freed the entry: the next one frees it without wiping again", async () => {
  const p = fakeProcess();
  const owner = await p.thread(7, 100);
  // Refused from the moment the reclaimer is ended.
  const refuse = { on: false };
  const reclaimer = await p.thread(8, 200, protectFails(refuse));
  const r = p.region();
  const entry = enter(owner, r);
  p.end(7);
  refuse.on = true;
  assert.equal(reclaimer.table.reclaimEnded(reclaimer.memory), 0);
  // Marked with the reclaimer's word, negated, and not wiped yet.
  assert.deepEqual(entryOf(p.tableBytes(), entry), {
    owner: -word(8, 200),
    flags: 1,
  });
  // Stands for the reclaimer having wiped and quarantined the range, then
  // being ended before it freed the entry (WIPED is 8).
  p.fake.memory.protect(r.data, r.dataLength, "readwrite");
  p.fake.memory.wipe(r.data, r.dataLength);
  new Int32Array(p.tableBytes()!)[((64 + entry * 48) / 8 + 1) * 2] |= 8;
  p.end(8);

  const next = await p.thread(9, 300);
  p.fake.calls.length = 0;
  assert.equal(next.table.reclaimEnded(next.memory), 1, "counted once");
  assert.ok(!p.fake.calls.includes("wipe"), p.fake.calls.join());
  assert.deepEqual(entryOf(p.tableBytes(), entry), { owner: 0n, flags: 0 });
  assert.equal(next.table.reclaimEnded(next.memory), 0);
});

test("a reclaimer's mark is left alone while that reclaimer lives", async () => {
  const p = fakeProcess();
  const owner = await p.thread(7, 100);
  const stuck = await p.thread(8, 200, protectFails({ on: true }));
  const other = await p.thread(9, 300);
  const r = p.region();
  const entry = enter(owner, r);
  p.end(7);
  assert.equal(stuck.table.reclaimEnded(stuck.memory), 0);
  assert.equal(entryOf(p.tableBytes(), entry).owner, -word(8, 200));
  p.fake.calls.length = 0;
  assert.equal(other.table.reclaimEnded(other.memory), 0);
  assert.deepEqual(p.fake.calls, [], "thread 8 lives: its work is its own");
  assert.equal(entryOf(p.tableBytes(), entry).owner, -word(8, 200));
});

test("the process's first thread enters nothing and maps no table at its buffers; purge reclaims from it", async () => {
  const p = fakeProcess();
  const main = await p.thread(PID, 10);
  const r = p.region();
  assert.equal(
    enter(main, r),
    -1,
  );
  assert.deepEqual(p.tableNames, [], "no table was asked for");
  assert.equal(main.table.reach(), "thread");
  main.table.mappingHeld();
  // purge() and the exit wipe look for a table, and make none: no thread
  // entered anything, so there is nothing to reclaim.
  assert.equal(main.table.reclaimEnded(main.memory), 0);
  assert.deepEqual(p.tableNames, []);
  assert.equal(main.table.reach(), "thread");

  // A Worker's buffer is entered; the Worker is terminated.
  const worker = await p.thread(101, 500);
  const w = p.region();
  enter(worker, w);
  p.end(101);

  // Asking maps the table and counts the Worker's buffer, and wipes nothing.
  p.fake.calls.length = 0;
  main.table.joinTable(main.memory);
  assert.equal(main.table.reach(), "process");
  assert.equal(main.table.otherThreadEntries(), 1);
  assert.deepEqual(p.fake.calls, []);
  assert.ok(p.fake.peek(w.data, 16).some((byte) => byte !== 0));
  // The main thread's own count joins the process's.
  assert.equal(worker.table.heldMappings(), 1);

  // purge() (and the exit wipe, and the limits) reclaim.
  assert.equal(main.table.reclaimEnded(main.memory), 1);
  assert.deepEqual(p.fake.peek(w.data, 16), new Uint8Array(16));
  // Still nothing of the main thread's is entered.
  assert.equal(
    enter(main, r),
    -1,
  );
  assert.deepEqual(main.table.guardedRanges(), []);
});

test("a Worker reclaims at its first buffer only; later buffers do not look", async () => {
  const p = fakeProcess();
  const gone = await p.thread(7, 100);
  const r = p.region();
  enter(gone, r);
  p.end(7);
  const worker = await p.thread(8, 200);
  assert.equal(worker.table.reclaimedEntries(), 0, "nothing at import");
  worker.table.recordRegion(worker.memory, p.region().base, 3 * PAGE, 0n, 0);
  assert.equal(worker.table.reclaimedEntries(), 1);
  const later = await p.thread(9, 300);
  const s = p.region();
  enter(later, s);
  p.end(9);
  p.fake.calls.length = 0;
  for (let i = 0; i < 3; i++) {
    worker.table.recordRegion(worker.memory, p.region().base, 3 * PAGE, 0n, 0);
  }
  assert.ok(!p.fake.calls.includes("wipe"), p.fake.calls.join());
  assert.ok(p.fake.peek(s.data, 16).some((byte) => byte !== 0));
});
