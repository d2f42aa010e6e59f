/**
 * Binding native functions (ffi/: each runtime's adapter, and the lazy
 * binding of ffi/_lazy.ts, which runs when a symbol is first used, long
 * after import) while an accessor for a symbol's name is planted on
 * Object.prototype: the library must call the function it bound, never the
 * planted one. A planted `mprotect` that does nothing would leave a
 * secret's pages readable through a kept view after its scope. Deno fills
 * its own table of symbols by assignment, so there the planted setter gets
 * the function: the binding must then fail (closed), never call the
 * planted getter's.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { openInTwoSteps } from "../ffi/_lazy.ts";
import { loadAdapter } from "../ffi/load.ts";
import { LINUX_LIBC_CANDIDATES } from "../ffi/linux.ts";
import { SecretMemoryError } from "../src/core/errors.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const TABLE = {
  getpid: { parameters: [], result: "i32" },
  getppid: { parameters: [], result: "i32" },
} as const;

/** `fn()` with accessors for both names planted on Object.prototype. */
function planted<T>(fn: () => T): T {
  for (const name of Object.keys(TABLE)) {
    Object.defineProperty(Object.prototype, name, {
      get: () => () => -4242,
      set() {},
      configurable: true,
    });
  }
  try {
    return fn();
  } finally {
    for (const name of Object.keys(TABLE)) {
      delete (Object.prototype as Record<string, unknown>)[name];
    }
  }
}

/** What `fn` gives, or the code of the SecretMemoryError it throws. */
function outcome(fn: () => unknown): unknown {
  try {
    return fn();
  } catch (error) {
    if (error instanceof SecretMemoryError) return error.code;
    throw error;
  }
}

// Deno cannot bind under the planted setter; Bun and Node can.
const refused = (runtime: string) =>
  runtime === "deno" ? "FFI_UNAVAILABLE" : undefined;

test(
  "an accessor planted on Object.prototype for a symbol's name: the adapter binds the real function, or refuses",
  () => {
    const adapter = loadAdapter();
    const pid = planted(() =>
      outcome(() => adapter.open(LINUX_LIBC_CANDIDATES, TABLE).getpid())
    );
    assert.equal(pid, refused(adapter.runtime) ?? process.pid);
  },
  { skip: linuxOnly },
);

test(
  "an accessor planted on Object.prototype for a symbol's name: a symbol bound at first use is the real function, or refused",
  () => {
    const adapter = loadAdapter();
    const library = openInTwoSteps(adapter, LINUX_LIBC_CANDIDATES, TABLE, [
      "getpid",
    ]);
    const parent = planted(() => outcome(() => library.getppid()));
    assert.equal(parent, refused(adapter.runtime) ?? process.ppid);
    assert.equal(library.getpid(), process.pid);
  },
  { skip: linuxOnly },
);
