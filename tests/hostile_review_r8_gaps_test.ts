/**
 * Review R8, the gaps whose fix lies in src/core or src/pool, outside
 * this review's files. F5 (`isOwnSource` in src/core/_open.ts): a Worker's `SecretBuffer.from()` of a view over
 * another thread's open guarded pages (a scope's view whose buffer was
 * transferred to it) is not recognised, and its default wipe zeroes that
 * thread's secret inside a write scope, or faults (killing the process)
 * inside a read scope. README.md documents it ("Guarded sources of
 * from()"); these tests state the claim the house rules make ("no wipe of
 * memory that is not the caller's", "bad input never crashes the
 * process") and fail until the core fix lands. F6 (`arenaRanges` in
 * src/pool/_arena.ts, `guardedRanges` in src/core/_process_table.ts,
 * `openRangesOfEveryThread` in src/core/_open_ranges.ts build their lists
 * with `push` at call time): an `Array.prototype.push` replaced after
 * import can slip a range of its choosing into what `findCopies` leaves
 * out, and hide a copy whose address it knows. Kept in a file of its own
 * so that it can be merged, or left out, on its own.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, SecretPool } from "../mod.ts";
import { findCopies } from "../forensics.ts";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

for (const scope of ["write", "read"]) {
  test(
    `a Worker's from() of the main thread's ${scope} scope view (buffer transferred to it) leaves that secret intact, and the process alive`,
    () => {
      const child = runChild(childScript("r8_worker_from.ts"), [scope]);
      assert.equal(child.status, 0, `exit ${child.status}: ${child.stderr}`);
      assert(child.stdout.includes("worker said copied 32"), child.stdout);
      assert(child.stdout.includes("main secret intact true"), child.stdout);
    },
    { skip: linuxOnly },
  );
}

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
