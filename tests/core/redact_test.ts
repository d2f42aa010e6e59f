/**
 * The printing hooks (src/core/_redact.ts): JSON, Deno's and Node's inspect
 * and Object.prototype.toString print the class's description or name,
 * never its content, and a getter planted on Object.prototype does not
 * shape the hooks.
 *
 * @module
 */

import assert from "node:assert/strict";
import { inspect } from "node:util";
import { redact, redactAndFreeze } from "../../src/core/_redact.ts";
import { test } from "../_harness.ts";

function holder(tag?: string) {
  class Holder {
    secret = "hunter2";
    toString(): string {
      return "Holder(7 bytes)";
    }
  }
  redact(Holder.prototype, tag);
  return Holder;
}

test("JSON, inspect and String print the description, never the fields", () => {
  const Holder = holder("Holder");
  const value = new Holder();
  assert.equal(JSON.stringify(value), '"Holder(7 bytes)"');
  assert.equal(JSON.stringify({ key: value }), '{"key":"Holder(7 bytes)"}');
  assert.equal(inspect(value), "Holder(7 bytes)");
  assert.equal(
    inspect({ nested: [value] }, { depth: 5 }).includes("hunter2"),
    false,
  );
  assert.equal(Object.prototype.toString.call(value), "[object Holder]");
  if ("Deno" in globalThis) {
    const deno = (globalThis as unknown as {
      Deno: { inspect(value: unknown): string };
    }).Deno;
    assert.equal(deno.inspect(value), "Holder(7 bytes)");
  }
  if ("Bun" in globalThis) {
    const bun = (globalThis as unknown as {
      Bun: { inspect(value: unknown): string };
    }).Bun;
    assert.equal(bun.inspect(value).includes("hunter2"), false);
  }
});

test("the hooks are defined like a class body's: not enumerable, configurable until frozen, one shared frozen function", () => {
  const A = holder();
  const B = holder("B");
  for (const key of ["toJSON", Symbol.for("nodejs.util.inspect.custom")]) {
    const found = Object.getOwnPropertyDescriptor(A.prototype, key)!;
    assert.equal(found.enumerable, false);
    assert.equal(found.configurable, true);
    assert.equal(typeof found.value, "function");
    assert.ok(Object.isFrozen(found.value), "nothing can hang state on it");
    assert.equal(
      found.value,
      Object.getOwnPropertyDescriptor(B.prototype, key)!.value,
    );
  }
  assert.equal(
    Object.getOwnPropertyDescriptor(A.prototype, Symbol.toStringTag),
    undefined,
    "no tag unless asked",
  );
  const tag = Object.getOwnPropertyDescriptor(B.prototype, Symbol.toStringTag)!;
  assert.equal(typeof tag.get, "function");
  assert.equal(tag.set, undefined);
});

test("a getter planted on Object.prototype does not shape the hooks", () => {
  let ran = 0;
  const planted: PropertyKey[] = [
    "get",
    "set",
    "value",
    "enumerable",
    "writable",
  ];
  for (const key of planted) {
    // Null-prototype descriptors: the getters planted so far must not
    // shape the next one.
    Object.defineProperty(Object.prototype, key, {
      __proto__: null,
      configurable: true,
      get() {
        ran++;
        return key === "enumerable" || key === "writable" ? true : () => "leak";
      },
    } as PropertyDescriptor);
  }
  let Holder;
  try {
    Holder = holder("Holder");
  } finally {
    for (const key of planted) {
      delete (Object.prototype as Record<PropertyKey, unknown>)[key];
    }
  }
  assert.equal(ran, 0);
  const found = Object.getOwnPropertyDescriptor(Holder.prototype, "toJSON")!;
  assert.equal(found.enumerable, false);
  assert.equal(JSON.stringify(new Holder()), '"Holder(7 bytes)"');
});

test("redactAndFreeze: hooks defined, then the prototype and the class frozen", () => {
  class Sealed {
    toString(): string {
      return "Sealed";
    }
  }
  redactAndFreeze(Sealed, "Sealed");
  assert.ok(Object.isFrozen(Sealed.prototype));
  assert.ok(Object.isFrozen(Sealed));
  assert.equal(JSON.stringify(new Sealed()), '"Sealed"');
  assert.equal(Object.prototype.toString.call(new Sealed()), "[object Sealed]");
  assert.throws(() => {
    "use strict";
    (Sealed.prototype as { toString(): string }).toString = () => "leak";
  }, TypeError);
});
