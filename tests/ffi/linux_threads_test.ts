/**
 * Finding the process-wide table (ffi/linux_threads.ts, `sharedTable`)
 * in /proc/self/maps, over a fake libc and a fake maps file: the address
 * the map shows, whatever `Array.prototype.findIndex` was replaced with
 * after import.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createLinuxThreads } from "../../ffi/linux_threads.ts";
import { test } from "../_harness.ts";

const NAME = "secmem-test-table";
const LENGTH = 65536;
// The second of the agreed addresses: the first was taken by something
// else when the table was made.
const AT = 0x40_c000_0000n;
const MAPS = [
  "3ec0000000-3ec0010000 rw-p 00000000 00:00 0 ",
  `${AT.toString(16)}-${(AT + BigInt(LENGTH)).toString(16)} rw-s 00000000` +
  ` 00:01 4242                       /memfd:${NAME} (deleted)`,
  "",
].join("\n");

function threads() {
  const libc = { memfd_create: () => -1 } as unknown as Parameters<
    typeof createLinuxThreads
  >[0];
  return createLinuxThreads(libc, () => MAPS, "x64");
}

test("the table is found at the address the map shows", () => {
  assert.equal(threads().sharedTable(NAME, LENGTH, true), AT);
  assert.equal(threads().sharedTable(NAME, 2 * LENGTH, true), undefined);
});

for (
  const [what, value] of [
    ["finding the first address", () => 0],
    ["finding none", () => -1],
  ] as const
) {
  test(`Array.prototype.findIndex replaced after import, ${what}: the table is still found where it is`, () => {
    const found = threads();
    const saved = Object.getOwnPropertyDescriptor(
      Array.prototype,
      "findIndex",
    )!;
    Object.defineProperty(Array.prototype, "findIndex", { ...saved, value });
    let at: bigint | undefined;
    try {
      at = found.sharedTable(NAME, LENGTH, true);
    } finally {
      Object.defineProperty(Array.prototype, "findIndex", saved);
    }
    assert.equal(at, AT);
  });
}

for (
  const [what, target, key, value] of [
    [
      "String.prototype.startsWith answering yes",
      String.prototype,
      "startsWith",
      () => true,
    ],
    [
      "String.prototype.endsWith answering no",
      String.prototype,
      "endsWith",
      () => false,
    ],
    ["Array.prototype.map answering nothing", Array.prototype, "map", () => []],
    [
      "Array.prototype[Symbol.iterator] yielding nothing",
      Array.prototype,
      Symbol.iterator,
      function* () {},
    ],
  ] as const
) {
  test(`${what}, replaced after import: the table is still found where the map shows it`, () => {
    const found = threads();
    const saved = Object.getOwnPropertyDescriptor(target, key)!;
    Object.defineProperty(target, key, { ...saved, value });
    let at: unknown;
    try {
      at = found.sharedTable(NAME, LENGTH, true);
    } catch (error) {
      at = error;
    } finally {
      Object.defineProperty(target, key, saved);
    }
    assert.equal(at, AT);
  });
}
