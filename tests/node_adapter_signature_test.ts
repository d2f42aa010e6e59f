/**
 * The Node adapter declares every function with a signature node:ffi's fast
 * call path refuses (ffi/node.ts: padded to nine arguments), and passes the
 * caller's arguments through in place, zeros after them. Checked over a fake
 * `node:ffi` that records what it is asked for, so it runs in every runtime
 * and proves every table, not only the one this OS loads; the stress test
 * (node_ffi_stress_test.ts) shows the real Node living with it.
 *
 * @module
 */

import assert from "node:assert/strict";
import { test } from "./_harness.ts";
import { createNodeAdapter } from "../ffi/node.ts";
import { LINUX_LIBC } from "../ffi/linux.ts";
import {
  WINDOWS_BCRYPT,
  WINDOWS_KERNEL32,
  WINDOWS_PRNG,
} from "../ffi/windows.ts";
import type { SymbolTable } from "../ffi/types.ts";

interface Declared {
  arguments: string[];
  return: string;
}

/** A fake node:ffi whose functions return what they were called with. */
function fakeNode() {
  const declared = new Map<string, Declared>();
  const ffi = {
    DynamicLibrary: class {
      getSymbol(): bigint {
        return 1n;
      }
      getFunction(name: string, signature: Declared) {
        declared.set(name, signature);
        return (...args: unknown[]) => args;
      }
      close(): void {}
    },
    toArrayBuffer: () => new ArrayBuffer(0),
    getInt32: () => 0,
  };
  const adapter = createNodeAdapter({
    getBuiltinModule: (id) => id === "node:ffi" ? ffi : undefined,
    on: () => undefined,
    exit: () => {
      throw new Error("exit");
    },
    versions: { node: "26.10.0" },
  });
  return { adapter, declared };
}

const TABLES: Record<string, SymbolTable> = {
  "Linux libc": LINUX_LIBC,
  "Windows kernel32": WINDOWS_KERNEL32,
  "Windows ProcessPrng": WINDOWS_PRNG,
  "Windows bcrypt": WINDOWS_BCRYPT,
};

for (const [label, table] of Object.entries(TABLES)) {
  test(`Node adapter: every ${label} function is declared with 9 arguments, the real ones first`, () => {
    const { adapter, declared } = fakeNode();
    adapter.open(["fake"], table);
    for (const [name, fn] of Object.entries(table)) {
      const signature = declared.get(name);
      assert.ok(signature, `${name} was not bound`);
      assert.equal(signature.arguments.length, 9, name);
      assert.deepEqual(
        signature.arguments.slice(fn.parameters.length),
        Array(9 - fn.parameters.length).fill("int32"),
        name,
      );
    }
  });
}

test("Node adapter: a padded call passes the arguments in place and zeros after them", () => {
  const { adapter } = fakeNode();
  const libc = adapter.open(["fake"], {
    mprotect: { parameters: ["pointer", "usize", "i32"], result: "i32" },
  }) as unknown as Record<string, (...args: unknown[]) => unknown>;
  // The fake returns its arguments; the adapter converts the size to bigint.
  assert.deepEqual(libc.mprotect(4096n, 4096, 3), [
    4096n,
    4096n,
    3,
    0,
    0,
    0,
    0,
    0,
    0,
  ]);
});
