/**
 * Review R8, F6: `arenaRanges` (src/pool/_arena.ts), `guardedRanges`
 * (src/core/_process_table.ts) and `openRangesOfEveryThread`
 * (src/core/_open_ranges.ts) built the ranges `findCopies` leaves out with
 * `push` at call time, so an `Array.prototype.push` replaced after import
 * could slip a range of its choosing in and hide a copy whose address it
 * knows. They append by the intrinsics now.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, SecretPool } from "../mod.ts";
import { findCopies } from "../forensics.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

test(
  "findCopies under an Array.prototype.push that slips in a range around a known copy: the copy is still counted",
  () => {
    // A live pool: its arenas are among the ranges findCopies leaves out.
    const pool = new SecretPool();
    using slot = pool.random(32);
    using key = SecretBuffer.random(32);
    const copy = new Uint8Array(new ArrayBuffer(32));
    key.read((bytes) => copy.set(bytes));
    try {
      const found = findCopies(key);
      assert(found.copies >= 1, `control: found ${found.copies}`);
      const at = found.addresses[0];
      const push = Array.prototype.push;
      const saved = Object.getOwnPropertyDescriptor(Array.prototype, "push")!;
      Object.defineProperty(Array.prototype, "push", {
        ...saved,
        value: function (this: unknown[], ...items: unknown[]) {
          const count = Reflect.apply(push, this, items) as number;
          const pair = items[0];
          if (Array.isArray(pair) && typeof pair[0] === "bigint") {
            Reflect.apply(push, this, [[at, at + 32n]]);
          }
          return count;
        },
      });
      let outcome: unknown;
      try {
        outcome = findCopies(key).copies;
      } catch (error) {
        outcome = error;
      } finally {
        Object.defineProperty(Array.prototype, "push", saved);
      }
      if (typeof outcome === "number") {
        assert(outcome >= 1, `found ${outcome} copies of a live heap copy`);
      }
      assert(slot.size === 32);
    } finally {
      copy.fill(0);
      pool.destroy();
    }
  },
  { skip: linuxOnly },
);
