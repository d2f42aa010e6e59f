/**
 * Child for tests/claims_syscalls_test.ts, run under `strace -f -c`: sets
 * up, warms up, then repeats one workload `count` times, so that a run
 * with count 0 has the same start-up and the difference is the workload's.
 *
 * Usage: claims_syscalls.ts <workload> <count>
 * - alloc: `SecretBuffer.alloc(32).destroy()`
 * - secretmem: the same with `{ backend: "secretmem" }`
 * - pool-readwrite: a 32-byte slot of a `rest: "readwrite"` pool, alloc
 *   and destroy (an arena and its spare made in the warm-up)
 *
 * @module
 */

import { SecretBuffer, SecretPool } from "../../mod.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [workload, countText] = host.Deno?.args ?? host.process.argv.slice(2);
const count = Number(countText);

const pool = new SecretPool({ rest: "readwrite" });
const one: Record<string, () => void> = {
  alloc: () => SecretBuffer.alloc(32).destroy(),
  secretmem: () => SecretBuffer.alloc(32, { backend: "secretmem" }).destroy(),
  "pool-readwrite": () => pool.alloc(32).destroy(),
};
const step = one[workload];
if (step === undefined) throw new Error(`unknown workload ${workload}`);
// Warm-up: the first allocation loads the native layer and fills the
// canary pool; hold a slot so the pool's arena stays mapped throughout.
const held = pool.alloc(32);
for (let i = 0; i < 256; i++) step();
for (let i = 0; i < count; i++) step();
held.destroy();
pool.destroy();
console.log(`done ${workload} ${count}`);
