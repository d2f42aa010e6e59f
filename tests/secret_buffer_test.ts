/**
 * What only SecretBuffer does. The behaviour every secret shares (content,
 * scopes, equality, redaction, use after destroy, bad sizes) is one table,
 * tests/_cases.ts, run against SecretBuffer and pool slots alike by
 * tests/pool_cases_test.ts.
 *
 * @module
 */

import { SecretBuffer, stats } from "../mod.ts";
import assert from "node:assert/strict";
import { assertThrowsCode } from "./_error_code.ts";
import { test } from "./_harness.ts";

test("size 0 is allowed and behaves like any buffer", () => {
  using empty = SecretBuffer.alloc(0);
  assert.deepEqual(empty.read((b) => b.length), 0);
  assert(empty.equals(new Uint8Array(0)));
  using fromEmpty = SecretBuffer.from(new Uint8Array(0));
  assert(fromEmpty.equals(empty));
});

test("bad options and arguments are INVALID_ARGUMENT and leave nothing mapped", () => {
  const before = stats();
  const cases: [string, () => unknown][] = [
    ["lock", () => SecretBuffer.alloc(8, { lock: "maybe" as "required" })],
    [
      "placement",
      () => SecretBuffer.alloc(8, { placement: "middle" as "end" }),
    ],
    ["options", () => SecretBuffer.alloc(8, "fast" as unknown as undefined)],
    [
      "from(string)",
      () => SecretBuffer.from("secret" as unknown as Uint8Array),
    ],
    ["from(array)", () => SecretBuffer.from([1, 2] as unknown as Uint8Array)],
    ["from(null)", () => SecretBuffer.from(null as unknown as Uint8Array)],
    [
      "wipeSource",
      () =>
        SecretBuffer.from(new Uint8Array(1), {
          wipeSource: "yes" as unknown as boolean,
        }),
    ],
  ];
  for (const [label, call] of cases) {
    assertThrowsCode(call, "INVALID_ARGUMENT", label);
  }
  using buffer = SecretBuffer.alloc(1);
  const after = stats();
  assertThrowsCode(
    () => buffer.read(42 as unknown as () => 0),
    "INVALID_ARGUMENT",
    "read(42)",
  );
  assertThrowsCode(
    () => buffer.write(undefined as unknown as () => 0),
    "INVALID_ARGUMENT",
    "write()",
  );
  assert.deepEqual(buffer.state, "noaccess");
  assert.deepEqual(stats(), after);
  assert.deepEqual(after.liveBuffers, before.liveBuffers + 1);
});

test("a misspelt option is refused, not silently defaulted", () => {
  const before = stats();
  const error = assertThrowsCode(
    () => SecretBuffer.alloc(8, { lok: "best-effort" } as unknown as undefined),
    "INVALID_ARGUMENT",
  );
  assert(
    error.message.includes('"lok"') && error.message.includes("lock"),
    error.message,
  );
  assertThrowsCode(
    () =>
      SecretBuffer.from(
        new Uint8Array(1),
        { wipesource: false } as unknown as undefined,
      ),
    "INVALID_ARGUMENT",
  );
  assert.deepEqual(stats(), before);
  using kept = SecretBuffer.from(new Uint8Array([1]), {
    wipeSource: false,
    lock: "best-effort",
  });
  assert.deepEqual(kept.size, 1);
});
