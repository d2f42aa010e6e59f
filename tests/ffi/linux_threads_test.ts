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
import { definedWhile } from "../_replaced.ts";

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

// The table is at the second agreed address: element 1 is the one to drop.
const PLANTED: [string, object, PropertyKey, PropertyDescriptor][] = [
  [
    "a setter on Array.prototype[1] that drops the element",
    Array.prototype,
    "1",
    { set() {} },
  ],
];

for (const [what, target, key, descriptor] of PLANTED) {
  test(`${what}, planted after import: the table is still found where the map shows it`, () => {
    const found = threads();
    let at: unknown;
    try {
      at = definedWhile(
        target,
        key,
        descriptor,
        () => found.sharedTable(NAME, LENGTH, true),
      );
    } catch (error) {
      at = error;
    }
    assert.equal(at, AT);
  });
}

// A thread's stat line; its name holds a space and a parenthesis, and its
// start time (the 22nd field) is 4242.
const STAT = "4711 (a (b) c) S 1 4711 4711 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 " +
  "2 0 4242 1000 100 18446744073709551615\n";

function statThreads() {
  const libc = { syscall: () => 4711 } as unknown as Parameters<
    typeof createLinuxThreads
  >[0];
  return createLinuxThreads(
    libc,
    (path) => path === "/proc/self/task/99/stat" ? STAT : "",
    "x64",
  );
}

test("a thread's start time is read from the 22nd field of its stat", () => {
  assert.equal(statThreads().threadStart(99), 4242);
});

const STRING_METHODS: [string, PropertyKey, unknown][] = [
  ["split", "split", () => ["0", "1"]],
  [
    "slice",
    "slice",
    () => "S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 77 ",
  ],
  ["lastIndexOf", "lastIndexOf", () => -1],
  ["indexOf", "indexOf", () => -1],
];

for (const [what, key, value] of STRING_METHODS) {
  test(`String.prototype.${what} replaced after import: a thread's start time is still the one its stat shows`, () => {
    const found = statThreads();
    let started: unknown;
    try {
      started = definedWhile(
        String.prototype,
        key,
        { value, writable: true },
        () => found.threadStart(99),
      );
    } catch (error) {
      started = error;
    }
    assert.equal(started, 4242);
  });
}

test("Number.isSafeInteger replaced after import: a start time that is no number is not taken for one", () => {
  const libc = { syscall: () => 4711 } as unknown as Parameters<
    typeof createLinuxThreads
  >[0];
  // The 22nd field is 12.5: no count of clock ticks.
  const line = "1 (x) S 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 12.5 1\n";
  const found = createLinuxThreads(libc, () => line, "x64");
  const started = definedWhile(
    Number,
    "isSafeInteger",
    { value: () => true, writable: true },
    () => found.threadStart(99),
  );
  assert.equal(started, -1, "cannot tell");
});
