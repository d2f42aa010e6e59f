/**
 * The arithmetic of a pool arena (src/pool/_slot_layout.ts), checked
 * exhaustively for every class on 4, 16 and 64 KiB pages: each slot lies on
 * one page between two canaries, nothing overlaps, and every request size
 * gets the smallest class that holds it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { CANARY_SIZE } from "../../src/core/_layout.ts";
import {
  arenaPages,
  canaryBefore,
  canaryOffset,
  classIndexFor,
  geometryFor,
  MAX_ARENA_BYTES,
  MAX_SLOT_SIZE,
  SLOT_SIZES,
  slotOffset,
} from "../../src/pool/_slot_layout.ts";
import { test } from "../_harness.ts";

const PAGES = [4096, 16384, 65536];

test("every size from 1 to the largest gets the smallest class that holds it", () => {
  for (let size = 1; size <= MAX_SLOT_SIZE; size++) {
    const index = classIndexFor(size);
    const slot = SLOT_SIZES[index];
    assert.ok(slot >= size, `size ${size} -> ${slot}`);
    if (index > 0) assert.ok(SLOT_SIZES[index - 1] < size, `size ${size}`);
  }
  assert.equal(SLOT_SIZES.at(-1), MAX_SLOT_SIZE);
  assert.ok(Object.isFrozen(SLOT_SIZES));
});

test("each slot lies on one page, between the canary before it and the one after it, and nothing overlaps", () => {
  for (const pageSize of PAGES) {
    for (const slotSize of SLOT_SIZES) {
      const geometry = geometryFor(slotSize, pageSize);
      assert.ok(geometry.slotsPerPage >= 1, `${slotSize} on ${pageSize}`);
      const pages = 3;
      const used: [number, number, string][] = [];
      for (let index = 0; index < geometry.slotsPerPage * pages; index++) {
        const at = slotOffset(geometry, index);
        const page = Math.floor(at / pageSize);
        assert.equal(
          Math.floor((at + slotSize - 1) / pageSize),
          page,
          `slot ${index} of ${slotSize} straddles a page of ${pageSize}`,
        );
        const before = canaryOffset(geometry, canaryBefore(geometry, index));
        const after = canaryOffset(geometry, canaryBefore(geometry, index) + 1);
        assert.equal(before + CANARY_SIZE, at, "canary right before");
        assert.equal(after, at + slotSize, "canary right after");
        assert.equal(Math.floor((after + CANARY_SIZE - 1) / pageSize), page);
        used.push([at, at + slotSize, `slot ${index}`]);
        used.push([before, before + CANARY_SIZE, `canary before ${index}`]);
        used.push([after, after + CANARY_SIZE, `canary after ${index}`]);
      }
      // Neighbours share the canary between them; nothing else overlaps.
      const distinct = [
        ...new Map(used.map((range) => [`${range[2][0]}${range[0]}`, range]))
          .values(),
      ].sort((a, b) => a[0] - b[0]);
      for (let i = 1; i < distinct.length; i++) {
        assert.ok(
          distinct[i - 1][1] <= distinct[i][0],
          `${distinct[i - 1][2]} overlaps ${
            distinct[i][2]
          } (${slotSize} on ${pageSize})`,
        );
      }
      // As many slots as fit: one more would not.
      assert.ok(
        CANARY_SIZE + (geometry.slotsPerPage + 1) * geometry.stride > pageSize,
      );
    }
  }
});

test("arenas start at one page and double up to the largest arena", () => {
  for (const pageSize of PAGES) {
    const most = MAX_ARENA_BYTES / pageSize;
    assert.equal(arenaPages(0, pageSize), 1);
    assert.equal(arenaPages(1, pageSize), 2);
    assert.equal(arenaPages(3, pageSize), Math.min(8, most));
    assert.equal(arenaPages(40, pageSize), most);
    assert.equal(arenaPages(1e6, pageSize), most);
  }
  // Pages larger than the largest arena: still one page.
  assert.equal(arenaPages(5, 2 * MAX_ARENA_BYTES), 1);
});
