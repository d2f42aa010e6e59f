/**
 * Adversarial suite, class 1: views that escape. A caller can move a
 * scope's view out of the library's reach (`transfer()`, `structuredClone`
 * or `postMessage` with a transfer list); destroy can then no longer detach
 * it. The range must never hold another secret: it is wiped, kept reserved
 * and inaccessible (quarantined), counted in `stats()`, and every operation
 * still goes by the buffer's own size.
 *
 * @module
 */

import assert from "node:assert/strict";
import { purge, SecretBuffer, SecretPool, stats } from "../mod.ts";
import { ownStatus } from "./_forensics.ts";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

function died(child: { status: number | null; signal: string | null }) {
  // Bun's crash handler reports the fault and re-raises it; either way the
  // process must not have gone on.
  return child.signal === "SIGSEGV" || child.status === 139 ||
    (child.status !== 0 && child.status !== null);
}

for (const how of ["transfer", "clone", "message"]) {
  test(
    `a view escaped by ${how} faults after destroy and never sees a new secret`,
    () => {
      const child = runChild(childScript("hostile.ts"), ["escaped-touch", how]);
      const out = child.stdout;
      assert(
        out.includes("escaped 4080"),
        `${how} did not move the pages: ${out}${child.stderr}`,
      );
      assert(out.includes("size after escape 4080"), out);
      assert(out.includes("quarantined 1"), out);
      assert(
        out.includes("landed 0"),
        `a new secret landed under the view: ${out}`,
      );
      assert(out.includes("touching"), out + child.stderr);
      assert(!out.includes("read "), `the escaped view read memory: ${out}`);
      assert(died(child), `status ${child.status} signal ${child.signal}`);
    },
    { skip: linuxOnly },
  );
}

test(
  "an escaped pool slot view faults after pool.destroy(); its address is not reused",
  () => {
    const child = runChild(childScript("hostile.ts"), ["slot-touch"]);
    const out = child.stdout;
    assert(out.includes("quarantined 1"), out + child.stderr);
    assert(out.includes("same address false"), out);
    assert(!out.includes("read "), out);
    assert(died(child), `status ${child.status} signal ${child.signal}`);
  },
  { skip: linuxOnly },
);

test("after an escape every operation goes by the buffer's own size", () => {
  const a = SecretBuffer.fromHex("01020304");
  const same = SecretBuffer.fromHex("01020304");
  const other = SecretBuffer.fromHex("01020305");
  a.read((view) => void (view.buffer as ArrayBuffer).transfer());
  assert.equal(a.read((view) => view.length), 4);
  assert.equal(a.size, 4);
  assert.equal(a.equals(same), true);
  assert.equal(a.equals(other), false, "a detached view compared as empty");
  assert.equal(other.equals(a), false);
  assert.equal(a.equals(new Uint8Array(0)), false);
  const slice = a.slice(2);
  assert(slice.equals(new Uint8Array([3, 4])));
  a.protect("readwrite");
  (a.view.buffer as ArrayBuffer).transfer();
  assert.equal(a.view.length, 4, "the view getter went by a detached view");
  a.protect("noaccess");
  for (const buffer of [a, same, other, slice]) buffer.destroy();
});

test("destroy of an escaped buffer quarantines it: wiped, counted, unlocked, never reused", () => {
  const before = stats();
  const locked = linuxOnly === false ? ownStatus("VmLck") : 0;
  const a = SecretBuffer.random(64);
  const address = a.address;
  a.read((view) =>
    void structuredClone(view, { transfer: [view.buffer as ArrayBuffer] })
  );
  a.destroy();
  assert.equal(a.state, "destroyed");
  const after = stats();
  assert.equal(after.quarantinedBuffers, before.quarantinedBuffers + 1);
  assert(after.quarantinedBytes > before.quarantinedBytes);
  assert.equal(after.liveBuffers, before.liveBuffers);
  assert.equal(after.lockedBytes, before.lockedBytes);
  if (linuxOnly === false) {
    assert.equal(
      ownStatus("VmLck"),
      locked,
      "the quarantined range stayed locked",
    );
  }
  const next: SecretBuffer[] = [];
  for (let i = 0; i < 50; i++) next.push(SecretBuffer.random(64));
  assert(
    next.every((b) => b.address !== address),
    "a new secret reused the range",
  );
  for (const b of next) b.destroy();
});

test("an escape inside a scope that destroys re-entrantly finishes cleanly", () => {
  const before = stats().quarantinedBuffers;
  const a = SecretBuffer.random(16);
  a.read((view) => {
    (view.buffer as ArrayBuffer).transfer();
    a.destroy();
  });
  assert.equal(a.state, "destroyed");
  assert.equal(stats().quarantinedBuffers, before + 1);
  const b = SecretBuffer.random(16);
  b.write((view) => {
    (view.buffer as ArrayBuffer).transfer();
  });
  assert.equal(purge().destroyed >= 1, true);
  assert.equal(stats().quarantinedBuffers, before + 2);
});

test("a pool slot whose view escaped: destroy and pool.destroy() finish and throw nothing", () => {
  const before = stats().quarantinedBuffers;
  const pool = new SecretPool();
  const slot = pool.random(32);
  const address = slot.address;
  slot.read((view) => void (view.buffer as ArrayBuffer).transfer());
  assert.equal(slot.read((view) => view.length), 32);
  const neighbour = pool.from(new Uint8Array(32).fill(7));
  slot.destroy();
  assert.equal(pool.stats().quarantinedSlots, 1);
  const more = Array.from({ length: 100 }, () => pool.alloc(32));
  assert(
    more.every((s) => s.address !== address),
    "a quarantined slot was reused",
  );
  assert(neighbour.equals(new Uint8Array(32).fill(7)));
  const slot2 = pool.random(32);
  slot2.write((view) => void (view.buffer as ArrayBuffer).transfer());
  const result = pool.destroy();
  assert.equal(result.destroyed, 102);
  assert.equal(pool.stats().arenas, 0);
  // Each arena that held an escaped slot is quarantined whole (one or two
  // here: the hundred slots may have needed a second arena).
  assert(stats().quarantinedBuffers > before);
});

test("purge reaches a pool slot whose view escaped without a TypeError", () => {
  const pool = new SecretPool();
  const slot = pool.random(8);
  slot.read((view) =>
    void structuredClone(view, { transfer: [view.buffer as ArrayBuffer] })
  );
  const result = purge();
  assert(result.destroyed >= 1);
  assert.equal(slot.state, "destroyed");
  pool.destroy();
});
