/**
 * Binding a symbol table in two steps (ffi/_lazy.ts): the eager symbols
 * at once, each other one at its first read, once; a required symbol that
 * cannot be had fails where it is read, an optional one reads undefined.
 * Over a fake adapter that records what it was asked to bind.
 *
 * @module
 */

import assert from "node:assert/strict";
import { openInTwoSteps } from "../../ffi/_lazy.ts";
import { createLinuxMemory } from "../../ffi/linux_memory.ts";
import type { RuntimeAdapter, SymbolTable } from "../../ffi/types.ts";
import { SecretMemoryError } from "../../src/core/errors.ts";
import { test } from "../_harness.ts";

const TABLE = {
  first: { parameters: ["i32"], result: "i32" },
  second: { parameters: ["i32"], result: "i32" },
  rare: { parameters: ["i32"], result: "i32" },
  absent: { parameters: [], result: "i32" },
  maybe: { parameters: [], result: "i32", optional: true },
} as const satisfies SymbolTable;

/** The library the fake opens: `absent` and `maybe` are not in it. */
const EXPORTED: Record<string, (x?: number) => number> = {
  first: (x = 0) => x + 1,
  second: (x = 0) => x + 2,
  rare: (x = 0) => x + 3,
};

function fakeAdapter(asked: string[][]): RuntimeAdapter {
  return {
    runtime: "node",
    version: "fake",
    open(candidates, symbols) {
      assert.deepEqual(candidates, ["libfake.so"]);
      asked.push(Object.keys(symbols));
      const bound: Record<string, unknown> = {};
      for (const [name, fn] of Object.entries(symbols)) {
        if (EXPORTED[name] !== undefined) bound[name] = EXPORTED[name];
        else if (!fn.optional) {
          throw new SecretMemoryError(
            "FFI_UNAVAILABLE",
            `Cannot open a native library (libfake.so: no ${name})`,
          );
        }
      }
      return bound as never;
    },
    view: () => new ArrayBuffer(0),
    readInt32: () => 0,
    onExit() {},
    onSignal() {},
    exit: (code) => {
      throw new Error(`exit ${code}`);
    },
  };
}

test("the eager symbols are bound at once, in one open, and nothing else", () => {
  const asked: string[][] = [];
  const lib = openInTwoSteps(fakeAdapter(asked), ["libfake.so"], TABLE, [
    "first",
    "second",
  ]);
  assert.deepEqual(asked, [["first", "second"]]);
  assert.equal(lib.first(1), 2);
  assert.equal(lib.second(1), 3);
  assert.deepEqual(asked, [["first", "second"]], "no open for eager reads");
});

test("another symbol is bound alone at its first read, and once", () => {
  const asked: string[][] = [];
  const lib = openInTwoSteps(fakeAdapter(asked), ["libfake.so"], TABLE, [
    "first",
  ]);
  assert.equal(lib.rare(10), 13);
  assert.equal(lib.rare(20), 23);
  const { rare } = lib;
  assert.equal(rare(0), 3);
  assert.deepEqual(asked, [["first"], ["rare"]]);
  // Every symbol of the table is there to be seen, bound or not.
  assert.deepEqual(Object.keys(lib).sort(), Object.keys(TABLE).sort());
});

test("a missing required eager symbol fails the open; a lazy one fails its read, every time", () => {
  assert.throws(
    () =>
      openInTwoSteps(fakeAdapter([]), ["libfake.so"], TABLE, [
        "first",
        "absent",
      ]),
    (error: unknown) =>
      error instanceof SecretMemoryError && error.code === "FFI_UNAVAILABLE",
  );
  const asked: string[][] = [];
  const lib = openInTwoSteps(fakeAdapter(asked), ["libfake.so"], TABLE, [
    "first",
  ]);
  for (let i = 0; i < 2; i++) {
    assert.throws(
      () => lib.absent,
      (error: unknown) =>
        error instanceof SecretMemoryError && error.code === "FFI_UNAVAILABLE",
    );
  }
  assert.deepEqual(asked, [["first"], ["absent"], ["absent"]]);
  assert.equal(lib.first(0), 1, "the rest still works");
});

test("a missing optional symbol reads undefined, asked once", () => {
  const asked: string[][] = [];
  const lib = openInTwoSteps(fakeAdapter(asked), ["libfake.so"], TABLE, [
    "first",
  ]);
  assert.equal(lib.maybe, undefined);
  assert.equal(lib.maybe ?? "fallback", "fallback");
  assert.deepEqual(asked, [["first"], ["maybe"]]);
});

test("on a libc without explicit_bzero, memset is bound with the eager symbols, before any wipe: a wipe never binds", () => {
  const asked: string[][] = [];
  const wiped: number[] = [];
  const adapter: RuntimeAdapter = {
    ...fakeAdapter([]),
    open(_candidates, symbols) {
      asked.push(Object.keys(symbols));
      const bound: Record<string, unknown> = {};
      for (const name of Object.keys(symbols)) {
        if (name === "explicit_bzero") continue; // an old glibc
        bound[name] = name === "sysconf"
          ? () => 4096n
          : name === "memset"
          ? (_address: bigint, _value: number, length: number) => {
            wiped.push(length);
            return 0n;
          }
          : () => 0n;
      }
      return bound as never;
    },
  };
  const memory = createLinuxMemory(adapter, "x64");
  const before = asked.flat();
  assert.ok(before.includes("memset"), `bound at start: ${before.join()}`);
  const opens = asked.length;
  memory.wipe(0x1000n, 32);
  assert.deepEqual(wiped, [32], "the wipe went through memset");
  assert.equal(asked.length, opens, "the wipe bound a symbol");
});
