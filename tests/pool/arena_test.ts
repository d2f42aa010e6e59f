/**
 * Retiring a pool arena (src/pool/_arena.ts, `unmap`) over the fake native
 * layer: what it counts when giving the mapping back fails.
 *
 * @module
 */

import assert from "node:assert/strict";
import { heldMappings } from "../../src/core/_map_limit.ts";
import { Arena, arenaRanges } from "../../src/pool/_arena.ts";
import { geometryFor } from "../../src/pool/_slot_layout.ts";
import { createFake, type FakeOptions } from "../_fake_native.ts";
import { test } from "../_harness.ts";

const PAGE = 4096;

/**
 * An arena of two pages of 64-byte slots over a fresh fake, resting
 * noaccess, with one slot holding non-zero bytes through its view.
 */
function filledArena(options: FakeOptions = {}) {
  const fake = createFake(options);
  const arena = Arena.map(
    fake.memory,
    geometryFor(64, PAGE),
    2,
    "best-effort",
    0,
  );
  const index = arena.take(48);
  arena.relevel(index, 2);
  const view = arena.view(index);
  view.fill(0xa5);
  arena.relevel(index, 0);
  return { fake, arena, view };
}

test("unmap that gives the mapping back counts it as given back (control)", () => {
  const { arena } = filledArena();
  const held = heldMappings();
  assert.deepEqual(arena.unmap(), { live: 1, corrupted: 0 });
  assert.equal(heldMappings(), held - 1);
});

test("unmap whose release throws: wiped and detached, the error reaches the caller, the mapping still counted as held", () => {
  const { fake, arena, view } = filledArena({
    failOn: { name: "release", nth: 1 },
  });
  const held = heldMappings();
  assert.throws(() => arena.unmap(), /fake: release failed on purpose/);
  assert.equal(heldMappings(), held, "still mapped, so still held");
  assert.equal(arena.live, false);
  assert.equal(view.length, 0, "the slot's view is detached");
  assert.deepEqual(
    fake.peek(arena.dataAddress, arena.dataLength),
    new Uint8Array(arena.dataLength),
    "every data byte wiped",
  );
  assert.deepEqual(fake.calls.slice(-3), [
    "protect:readwrite",
    "wipe",
    "release",
  ]);
  assert.deepEqual(arena.unmap(), { live: 0, corrupted: 0 }, "once only");
  assert.equal(heldMappings(), held);
});

test("an arena whose constructor throws is released and not counted: held mappings and the scan's ranges are as before", () => {
  const fake = createFake();
  const held = heldMappings();
  const ranges = arenaRanges().length;
  const fill = Int32Array.prototype.fill;
  // Replaced after import: the constructor's fill of its page entries throws.
  Int32Array.prototype.fill = () => {
    throw new Error("fill replaced");
  };
  try {
    assert.throws(
      () => Arena.map(fake.memory, geometryFor(64, PAGE), 2, "best-effort", 0),
      /fill replaced/,
    );
  } finally {
    Int32Array.prototype.fill = fill;
  }
  assert.equal(fake.calls.at(-1), "release", "given back");
  assert.equal(heldMappings(), held, "still counted as held");
  assert.equal(arenaRanges().length, ranges, "still listed as mapped");
});
