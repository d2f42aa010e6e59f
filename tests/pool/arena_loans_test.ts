/**
 * Loans on a pool arena (src/pool/_arena.ts with src/core/_lend.ts): a view
 * lent from a slot lives on the arena, is probed only while its page is
 * open, and a slot given back with a view still out is quarantined, never
 * handed out again. Over the real native layer, so that views alias the
 * pages (the probe changes a byte through one and reads it through the
 * other).
 *
 * @module
 */

import assert from "node:assert/strict";
import { native } from "../../src/core/_native.ts";
import { lend } from "../../src/core/_lend.ts";
import { isOwnSource } from "../../src/core/_open.ts";
import { Arena } from "../../src/pool/_arena.ts";
import { geometryFor } from "../../src/pool/_slot_layout.ts";
import { test } from "../_harness.ts";

const pattern = (length: number) =>
  new Uint8Array(length).map((_, i) => (i * 41 + 3) & 0xff | 1);

/** An arena of two pages of 64-byte slots, resting noaccess. */
function arena(): Arena {
  const memory = native();
  return Arena.map(
    memory,
    geometryFor(64, memory.pageSize),
    2,
    "best-effort",
    0,
  );
}

test("a view lent from a slot is the arena's while its page is open, and not probed once it is closed", () => {
  const memory = native();
  const a = arena();
  try {
    const index = a.take(48);
    a.relevel(index, 2);
    const lent = lend(memory, a.userAddress(index), 48);
    assert.equal(a.loans?.has(lent.loan), true, "on the arena");
    lent.view.set(pattern(48));
    const alias = new Uint8Array(lent.view.buffer);
    assert.equal(isOwnSource(alias), true);
    assert.equal(isOwnSource(lent.view.slice()), false, "a copy");
    // Read-only: probed with the page writable for that instant.
    a.relevel(index, 1);
    assert.equal(a.protectionOf(index), "readonly");
    assert.equal(isOwnSource(alias), true);
    assert.equal(isOwnSource(pattern(48)), false);
    assert.equal(a.protectionOf(index), "readonly", "put back");
    // Its page closed while a slot on the other page is open: the arena
    // is still probed, but the loan is not read (it would fault and end
    // this process), so a copy of its bytes is not taken for it.
    const { slotsPerPage } = a.geometry;
    const first = Array.from({ length: slotsPerPage - 1 }, () => a.take(48));
    const other = a.take(48);
    assert.equal(Math.floor(other / slotsPerPage), 1, "on the second page");
    a.relevel(other, 2);
    a.relevel(index, 0);
    assert.equal(a.protectionOf(index), "noaccess");
    assert.equal(isOwnSource(pattern(48)), false);
    a.relevel(other, 0);
    for (const slot of [...first, other]) a.release(slot);
    assert.equal(lent.giveBack(), true);
    assert.equal(a.loans?.size, 0);
    assert.equal(a.release(index), true);
    assert.equal(a.quarantinedSlots, 0, "a loan given back leaves no trace");
  } finally {
    a.unmap();
  }
});

test("a slot given back with a view still lent is quarantined, and so is its arena", () => {
  const memory = native();
  const a = arena();
  const index = a.take(32);
  a.relevel(index, 2);
  const lent = lend(memory, a.userAddress(index), 32);
  const moved = (lent.view.buffer as ArrayBuffer).transfer();
  assert.equal(lent.giveBack(), false, "transferred away");
  // Still told as ours, through a view of the probe's own.
  assert.equal(isOwnSource(new Uint8Array(moved)), true);
  a.relevel(index, 0);
  assert.equal(a.release(index), true);
  assert.equal(a.quarantinedSlots, 1);
  const again = Array.from({ length: a.capacity - 1 }, () => a.take(32));
  assert(!again.includes(index), "a quarantined slot was handed out again");
  for (const slot of again) a.release(slot);
  a.unmap();
  assert.equal(a.escaped, true, "the arena is quarantined, not unmapped");
  assert.equal(moved.byteLength, 32);
  moved.transfer(0);
});
