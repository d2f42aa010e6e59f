/**
 * `BigInt` and `Number` replaced after the library's import never run inside
 * it: every address, length and offset that reaches a system call is
 * converted by the constructors taken at load. A replacement that saw them
 * could shift a protection change or a wipe onto other memory (review R4).
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { SecretBuffer, SecretPool } from "../mod.ts";
import { hmacKey } from "../crypto.ts";

test("BigInt and Number replaced after import are never called by buffers, pools or keyed contexts", () => {
  const host = globalThis as unknown as Record<string, unknown>;
  const saved = { BigInt: host.BigInt, Number: host.Number };
  const calls = { BigInt: 0, Number: 0 };
  for (const name of ["BigInt", "Number"] as const) {
    // Counts calls, and answers as the original does (statics included).
    host[name] = new Proxy(saved[name] as (value: unknown) => unknown, {
      apply(target, self, args) {
        calls[name]++;
        return Reflect.apply(target, self, args);
      },
    });
  }
  try {
    const buffer = SecretBuffer.from(new Uint8Array([1, 2, 3]));
    buffer.write((bytes) => bytes[0] = 7);
    assert.equal(buffer.read((bytes) => bytes[0]), 7);
    const copy = SecretBuffer.random(32);
    copy.destroy();
    buffer.destroy();
    const pool = new SecretPool();
    const slot = pool.from(new Uint8Array([4, 5]));
    assert.equal(slot.read((bytes) => bytes[1]), 5);
    slot.destroy();
    using key = SecretBuffer.random(32);
    const mac = hmacKey("SHA-256", key);
    mac.mac(new Uint8Array([1]));
    mac.destroy();
    pool.destroy();
  } finally {
    host.BigInt = saved.BigInt;
    host.Number = saved.Number;
  }
  assert.deepEqual(calls, { BigInt: 0, Number: 0 });
});
