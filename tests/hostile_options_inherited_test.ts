/**
 * An option is what the caller's own object says, never what
 * Object.prototype says: a property planted there (prototype pollution, a
 * data-only bug elsewhere in the program) must not turn off the wiping of
 * a source, open a pool's slots at rest, or pick a backend or a lock
 * policy for callers who passed no such option. Checked by outcome: the
 * source bytes, the slot's state, the buffer's backend.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  hardenProcess,
  type HardenResult,
  SecretBuffer,
  SecretPool,
} from "../mod.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

/** `fn()` with `Object.prototype[key] = value` planted, then removed. */
function planted<T>(key: string, value: unknown, fn: () => T): T {
  Object.defineProperty(Object.prototype, key, {
    value,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  try {
    return fn();
  } finally {
    delete (Object.prototype as Record<string, unknown>)[key];
  }
}

test("Object.prototype.wipeSource = false: from() still wipes the source (with no options and with {})", () => {
  for (const options of [undefined, {}]) {
    const source = new Uint8Array([7, 7, 7, 7]);
    using buffer = planted(
      "wipeSource",
      false,
      () => SecretBuffer.from(source, options),
    );
    assert.equal(buffer.size, 4);
    assert.deepEqual([...source], [0, 0, 0, 0], "the source was not wiped");

    const pool = new SecretPool();
    const again = new Uint8Array([9, 9]);
    using slot = planted("wipeSource", false, () => pool.from(again, options));
    assert.equal(slot.size, 2);
    assert.deepEqual([...again], [0, 0], "pool.from left the source");
  }
});

test("Object.prototype.rest = 'readwrite': a pool made with no rest option rests noaccess", () => {
  for (const options of [undefined, {}]) {
    const pool = planted("rest", "readwrite", () => new SecretPool(options));
    using slot = pool.alloc(8);
    assert.equal(slot.state, "noaccess", "the slot rests open");
  }
});

test("Object.prototype.backend and .placement: a buffer made with no such option gets the defaults", () => {
  using buffer = planted(
    "backend",
    "secretmem",
    () => planted("placement", "start", () => SecretBuffer.alloc(8)),
  );
  assert.equal(buffer.backend, "anonymous");
});

test(
  "an accessor planted on Object.prototype for a step's name: hardenProcess reports the step it took, not the planted one",
  () => {
    // A setter that drops the step, and a getter that says it is in place.
    Object.defineProperty(Object.prototype, "dumpable", {
      get: () => ({ status: "already" }),
      set() {},
      configurable: true,
    });
    let result: HardenResult;
    try {
      result = hardenProcess({
        skip: ["dumpable", "coreLimit", "crashDialog"],
      });
    } finally {
      delete (Object.prototype as Record<string, unknown>).dumpable;
    }
    assert.ok(Object.hasOwn(result.steps, "dumpable"), "the step was dropped");
    assert.deepEqual(result.steps.dumpable, { status: "skipped" });
    assert.equal(result.hardened, false, "nothing was put in place");
  },
  { skip: linuxOnly },
);

test(
  "a native method this OS lacks, planted on Object.prototype, is not called: Linux has no crash dialog to harden",
  () => {
    let called = 0;
    const planted = { crashDialog: () => false, disableCrashDialog: () => {} };
    for (const [key, fn] of Object.entries(planted)) {
      Object.defineProperty(Object.prototype, key, {
        value: (...args: unknown[]) => {
          called++;
          return (fn as (...args: unknown[]) => unknown)(...args);
        },
        writable: true,
        configurable: true,
      });
    }
    let result: HardenResult;
    try {
      // Only the crash dialog step: the other two would change this process.
      result = hardenProcess({ skip: ["dumpable", "coreLimit"] });
    } finally {
      for (const key of Object.keys(planted)) {
        delete (Object.prototype as Record<string, unknown>)[key];
      }
    }
    assert.equal(called, 0, "a planted native method ran");
    assert.equal(result.steps.crashDialog.status, "unsupported");
    assert.equal(result.crashDialog, undefined);
    assert.equal(result.hardened, false, "nothing was put in place");
  },
  { skip: linuxOnly },
);
