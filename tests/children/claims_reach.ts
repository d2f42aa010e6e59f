/**
 * Child for tests/claims_reach_test.ts: prints `stats().reach`, on this machine's kernel (`native`) or on the fake macOS
 * kernel of tests/_fake_darwin.ts (`darwin`), installed before secmem
 * makes its first system call, as on a Mac.
 *
 * Usage: claims_reach.ts <native|darwin>
 *
 * @module
 */

import { stats } from "../../mod.ts";
import { createDarwinMemory } from "../../ffi/darwin_memory.ts";
import { useNativeForTesting } from "../../src/core/_native.ts";
import { createFakeDarwin } from "../_fake_darwin.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [kernel] = host.Deno?.args ?? host.process.argv.slice(2);
if (kernel === "darwin") {
  useNativeForTesting(createDarwinMemory(createFakeDarwin().adapter, "arm64"));
}
// stats() attaches to the table, or finds none, as an allocation would.
console.log(`reach ${stats().reach}`);
