/**
 * Built-ins other than the typed-array constructors, replaced after import
 * by a polyfill or a hostile dependency: `WeakSet.prototype.add`, the
 * functions on `Atomics`, the global `Map` and `Set`,
 * `DataView.prototype.getBigUint64` and `TextEncoder`. Each was called at
 * call time, and handed guarded memory, shared native memory, or a decision.
 *
 * @module
 */

import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  capabilities,
  purge,
  SecretBuffer,
  SecretPool,
  stats,
} from "../mod.ts";
import { encrypt } from "../crypto.ts";
import { definedWhile, replacedWhile } from "./_replaced.ts";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { isWindows, linuxOnly } from "./_platform.ts";

const RealMap = Map;
const RealSet = Set;

/** Whether `value` is memory: an ArrayBuffer or a view of one. */
function isMemory(value: unknown): boolean {
  return value instanceof ArrayBuffer || ArrayBuffer.isView(value);
}

test("a WeakSet.prototype.add replaced after import is never handed a guarded buffer or view", () => {
  const handed: unknown[] = [];
  const add = WeakSet.prototype.add;
  const has = WeakSet.prototype.has;
  replacedWhile(
    WeakSet.prototype,
    "add",
    function (this: WeakSet<object>, member: object) {
      if (isMemory(member)) handed.push(member);
      return Reflect.apply(add, this, [member]);
    },
    () =>
      replacedWhile(
        WeakSet.prototype,
        "has",
        function (this: WeakSet<object>, member: object) {
          if (isMemory(member)) handed.push(member);
          return Reflect.apply(has, this, [member]);
        },
        () => {
          using secret = SecretBuffer.random(32);
          secret.read(() => {});
          using copy = SecretBuffer.from(secret);
          copy.write(() => {});
          using pool = new SecretPool();
          using slot = pool.alloc(32);
          slot.read(() => {});
        },
      ),
  );
  assert.equal(handed.length, 0, `handed ${handed.length} times`);
});

test("functions replaced on Atomics after import are never handed the open-ranges list or the process table", () => {
  const handed: unknown[] = [];
  const names = ["load", "store", "add", "sub", "compareExchange", "or"];
  const run = (index: number): void => {
    if (index === names.length) {
      using secret = SecretBuffer.random(32);
      secret.read(() => {});
      secret.write(() => {});
      stats();
      purge();
      return;
    }
    const real = (Atomics as unknown as Record<string, unknown>)[
      names[index]
    ] as (...args: unknown[]) => unknown;
    replacedWhile(Atomics, names[index], (...args: unknown[]) => {
      handed.push(args[0]);
      return real(...args);
    }, () => run(index + 1));
  };
  run(0);
  assert.equal(handed.length, 0, `handed ${handed.length} times`);
});

test("a global Map or Set replaced after import makes none of the library's maps or sets", () => {
  let made = 0;
  class CountedMap<K, V> extends RealMap<K, V> {
    constructor(entries?: readonly (readonly [K, V])[] | null) {
      super(entries);
      made++;
    }
  }
  class CountedSet<T> extends RealSet<T> {
    constructor(values?: readonly T[] | null) {
      super(values);
      made++;
    }
  }
  const key = new Uint8Array(32);
  const message = new Uint8Array(64);
  // The crypto work area is taken again after a purge, with a new map of
  // the cipher parts laid over it.
  purge();
  definedWhile(
    globalThis,
    "Map",
    { value: CountedMap, writable: true },
    () =>
      definedWhile(
        globalThis,
        "Set",
        { value: CountedSet, writable: true },
        () => {
          using secret = SecretBuffer.from(key);
          encrypt(secret, message);
          using pool = new SecretPool();
          using slot = pool.alloc(32);
          slot.write(() => {});
          purge();
        },
      ),
  );
  assert.equal(made, 0, `made ${made} of them`);
});

test("a DataView.prototype.getBigUint64 replaced after import does not choose the lock limit", () => {
  const { memlock } = capabilities();
  const lied = replacedWhile(
    DataView.prototype,
    "getBigUint64",
    () => 4096n,
    () => capabilities().memlock,
  );
  assert.deepEqual(lied, memlock);
});

test(
  "a TextEncoder replaced after import does not choose the file a secret is read from",
  () => {
    const dir = mkdtempSync(join(tmpdir(), "secmem-r13-"));
    try {
      const asked = join(dir, "asked");
      const other = join(dir, "other");
      writeFileSync(asked, "the caller's key");
      writeFileSync(other, "the attacker's!!");
      const Real = TextEncoder;
      const encode = Real.prototype.encode;
      const swap = (text: string) =>
        Reflect.apply(encode, new Real(), [text.replace(asked, other)]);
      class Lying extends Real {
        override encode(text?: string): Uint8Array<ArrayBuffer> {
          return swap(text ?? "");
        }
      }
      const readBoth = () => {
        using fromGlobal = definedWhile(
          globalThis,
          "TextEncoder",
          { value: Lying, writable: true },
          () => SecretBuffer.fromFileSync(asked),
        );
        using fromMethod = replacedWhile(
          TextEncoder.prototype,
          "encode",
          function (text?: string) {
            return swap(text ?? "");
          },
          () => SecretBuffer.fromFileSync(asked),
        );
        return [fromGlobal, fromMethod].map((secret) =>
          secret.read((bytes) => new TextDecoder().decode(bytes))
        );
      };
      assert.deepEqual(readBoth(), ["the caller's key", "the caller's key"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  {
    skip: isWindows
      ? "Windows opens a path as UTF-16 (CreateFileW), with no TextEncoder"
      : false,
  },
);

test(
  "a global Set replaced after import cannot make hardenProcess skip its steps",
  () => {
    const child = runChild(childScript("r13_harden.ts"));
    assert.equal(child.status, 0, child.stdout + child.stderr);
    const result = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
    assert.notEqual(result.steps.dumpable.status, "skipped");
    assert.notEqual(result.steps.coreLimit.status, "skipped");
    assert.equal(result.dumpable, false);
  },
  { skip: linuxOnly },
);
