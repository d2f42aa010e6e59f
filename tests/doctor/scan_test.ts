/**
 * The memory scan's descriptors (src/doctor/_scan.ts, `scanMemoryAll`)
 * over the fake native layer: each one it opened is closed whatever
 * throws, and the first error is the one the caller gets.
 *
 * @module
 */

import assert from "node:assert/strict";
import { useNativeForTesting } from "../../src/core/_native.ts";
import { scanMemoryAll } from "../../src/doctor/_scan.ts";
import { createFake } from "../_fake_native.ts";
import { test } from "../_harness.ts";

/**
 * Scans over a fake that opens /proc/self/pagemap and /proc/self/mem as
 * descriptors 3 and 4, whose scratch memory cannot be made (so the scan
 * fails, and no scratch of the fake's is kept by the module), and whose
 * closes throw as `closeThrows` says, by call. Returns what was closed
 * and what the caller caught.
 */
function scanFailing(closeThrows: (call: number) => Error | undefined): {
  closed: number[];
  caught: unknown;
} {
  const fake = createFake({
    procFiles: { "/proc/self/maps": "" },
    failOn: { name: "reserve", nth: 1 },
  });
  const descriptors: Record<string, number> = {
    "/proc/self/pagemap": 3,
    "/proc/self/mem": 4,
  };
  const closed: number[] = [];
  useNativeForTesting({
    ...fake.memory,
    openRead: (path: string) => descriptors[path],
    close(fd: number) {
      closed.push(fd);
      const error = closeThrows(closed.length);
      if (error !== undefined) throw error;
    },
  });
  let caught: unknown;
  try {
    scanMemoryAll([]);
  } catch (error) {
    caught = error;
  } finally {
    useNativeForTesting(undefined);
  }
  return { closed, caught };
}

// The fake's refusal to reserve the scratch: the scan's own error.
const SCAN_ERROR = /fake: reserve failed on purpose/;

test("scanMemoryAll: the first close throwing, the other descriptor is still closed and the scan's own error reaches the caller", () => {
  const { closed, caught } = scanFailing((call) =>
    call === 1 ? new Error("close failed") : undefined
  );
  assert.deepEqual(closed.sort(), [3, 4]);
  assert.ok(caught instanceof Error);
  assert.match(caught.message, SCAN_ERROR);
});

test("scanMemoryAll: every close throwing, each descriptor is still closed once and the scan's own error reaches the caller", () => {
  const { closed, caught } = scanFailing((call) =>
    new Error(`close ${call} failed`)
  );
  assert.deepEqual(closed.sort(), [3, 4]);
  assert.ok(caught instanceof Error);
  assert.match(caught.message, SCAN_ERROR);
});

for (
  const [what, key, value] of [
    ["Array.prototype.push doing nothing", "push", function (this: unknown[]) {
      return this.length;
    }],
    [
      "Array.prototype[Symbol.iterator] yielding nothing",
      Symbol.iterator,
      function* () {},
    ],
  ] as const
) {
  test(`scanMemoryAll under ${what} (replaced after import): both descriptors are still closed`, () => {
    const fake = createFake({
      procFiles: { "/proc/self/maps": "" },
      failOn: { name: "reserve", nth: 1 },
    });
    const descriptors: Record<string, number> = {
      "/proc/self/pagemap": 3,
      "/proc/self/mem": 4,
    };
    // Written by index: push is what is replaced.
    const closed: number[] = [];
    useNativeForTesting({
      ...fake.memory,
      openRead: (path: string) => descriptors[path],
      close(fd: number) {
        closed[closed.length] = fd;
      },
    });
    const saved = Object.getOwnPropertyDescriptor(Array.prototype, key)!;
    Object.defineProperty(Array.prototype, key, { ...saved, value });
    try {
      scanMemoryAll([]);
    } catch {
      // The fake's refused scratch: what is checked is what was closed.
    } finally {
      Object.defineProperty(Array.prototype, key, saved);
      useNativeForTesting(undefined);
    }
    assert.deepEqual(closed.sort(), [3, 4], "a descriptor left open");
  });
}
