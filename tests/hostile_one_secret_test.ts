/**
 * Attacker review of the shared secret behaviour (src/core/_secret.ts): a
 * scope's fast path and the slow path must leave a secret in the same state
 * whatever fails while it opens.
 *
 * @module
 */

import assert from "node:assert/strict";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { isWindows } from "./_platform.ts";
import { SecretBuffer, SecretPool } from "../mod.ts";
import {
  native,
  type NativeMemory,
  useNativeForTesting,
} from "../src/core/_native.ts";

// The real layer, with protect() made to fail while `failing.on` is set
// (as mprotect does with ENOMEM at the map limit).
function failingProtect(): { memory: NativeMemory; on: boolean } {
  const real = native();
  const failing = { on: false, memory: undefined as unknown as NativeMemory };
  failing.memory = new Proxy(real, {
    get(target, key) {
      if (key === "protect" && failing.on) {
        return () => {
          throw new Error("mprotect: ENOMEM (injected)");
        };
      }
      const value = Reflect.get(target, key);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
  return failing;
}

test("a buffer whose pages fail to open in read() is not left with a scope open", () => {
  const failing = failingProtect();
  useNativeForTesting(failing.memory);
  try {
    const buffer = SecretBuffer.alloc(8);
    buffer.write((bytes) => bytes.fill(7));
    failing.on = true;
    assert.throws(() => buffer.read((bytes) => bytes[0]), /ENOMEM/);
    failing.on = false;
    assert.equal(buffer.state, "noaccess");
    // No scope is left open: after a read the pages rest closed again
    // (not readable for good), and a write is allowed.
    assert.equal(buffer.read((bytes) => bytes[0]), 7);
    assert.equal(buffer.state, "noaccess");
    buffer.write((bytes) => bytes.fill(9));
    assert.equal(buffer.read((bytes) => bytes[0]), 9);
    buffer.destroy();
  } finally {
    useNativeForTesting(undefined);
  }
});

test("a slot whose page fails to open in read() is not left with a scope open", () => {
  const failing = failingProtect();
  useNativeForTesting(failing.memory);
  try {
    const pool = new SecretPool();
    const slot = pool.alloc(8);
    slot.write((bytes) => bytes.fill(7));
    failing.on = true;
    assert.throws(() => slot.read((bytes) => bytes[0]));
    failing.on = false;
    // Written first: with the read left counted, the slot's level says
    // open while its page is closed, and a read would fault the process.
    slot.write((bytes) => bytes.fill(9));
    assert.equal(slot.read((bytes) => bytes[0]), 9);
    assert.equal(slot.state, "noaccess");
    slot.destroy();
    pool.destroy();
  } finally {
    useNativeForTesting(undefined);
  }
});

// A view kept past its secret (transferred away, so no detach reaches it):
// after many new secrets, reading it faults or finds the wiped bytes, never
// a new secret.
for (const which of ["buffer", "slot", "pool"]) {
  test(`a view kept past its ${which}'s end never shows a later secret`, () => {
    const child = runChild(childScript("kept_view.ts"), [which]);
    assert.match(child.stdout, /ready/, child.stderr);
    const read = /read (\d+) (\d+)/.exec(child.stdout);
    if (read === null) {
      // The kept range is quarantined: touching it ends the child, by a
      // signal on POSIX; Windows (Wine) reports an exit code instead.
      if (isWindows) assert.notEqual(child.status, 0, child.stderr);
      else assert.notEqual(child.signal, null, child.stderr);
    } else {
      assert.equal(read[2], "0", `${read[2]} of ${read[1]} bytes are new`);
    }
  });
}
