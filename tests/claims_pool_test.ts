/**
 * Evidence for the pool's trade-off as the README states it: opening one
 * slot opens its whole page, and on a 4 KiB page that page holds 85 slots
 * of 32 bytes, every one of them readable while the scope is open.
 *
 * @module
 */

import assert from "node:assert/strict";
import { capabilities, SecretPool, type SecretSlot } from "../mod.ts";
import { native } from "../src/core/_native.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const page = linuxOnly ? 0 : capabilities().pageSize;
const fourKiB: string | false = linuxOnly ||
  (page === 4096
    ? false
    : `the claim is for 4 KiB pages; this one has ${page}`);

test(
  "a 4 KiB page holds 85 slots of 32 bytes, and a read scope on one opens all 85",
  () => {
    using pool = new SecretPool();
    const slots: SecretSlot[] = [];
    for (let i = 0; i < 400; i++) {
      slots.push(pool.from(new Uint8Array(32).fill(i & 0xff)));
    }
    try {
      const byPage = new Map<bigint, SecretSlot[]>();
      for (const slot of slots) {
        const start = slot.address / BigInt(page);
        const end = (slot.address + 31n) / BigInt(page);
        assert.equal(start, end, "a slot straddles two pages");
        const list = byPage.get(start) ?? [];
        list.push(slot);
        byPage.set(start, list);
      }
      const counts = [...byPage.values()].map((list) => list.length);
      assert.equal(Math.max(...counts), 85, `slots per page: ${counts}`);

      // A full page: inside one slot's read scope, each neighbour's bytes
      // are there to read through a plain view of the page.
      const [pageNumber, full] = [...byPage].find(([, list]) =>
        list.length === 85
      )!;
      const memory = native();
      const fill = new Map(full.map((slot) => [slot, slot.read((b) => b[0])]));
      const seen = full[0].read(() => {
        const bytes = new Uint8Array(
          memory.view(pageNumber * BigInt(page), page),
        );
        return full.filter((slot) => {
          const at = Number(slot.address - pageNumber * BigInt(page));
          const expected = fill.get(slot);
          return bytes.subarray(at, at + 32).every((b) => b === expected);
        }).length;
      });
      assert.equal(seen, 85);
    } finally {
      for (const slot of slots) slot.destroy();
    }
  },
  { skip: fourKiB },
);
