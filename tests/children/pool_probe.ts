/**
 * Child for pool tests that need a process of their own. Modes:
 * - `finalize`: drops slots without destroying them (keeping a view of one),
 *   forces garbage collection, and reports whether the pool got them back
 *   and the kept view was detached.
 * - `exit`: leaves slots alive and exits normally; a listener added after
 *   the library's reports what was still live when it ran.
 * - `cycles N`: N pooled 32-byte alloc+destroy cycles at rest noaccess after
 *   a warm-up, for counting system calls under strace (N = 0 gives the
 *   baseline).
 *
 * @module
 */

import { SecretPool } from "../../mod.ts";
import { native } from "../../src/core/_native.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  Bun?: { gc(force: boolean): void };
  gc?: () => void;
  process: { argv: string[] };
};
const args = host.Deno?.args ?? host.process.argv.slice(2);
const mode = args[0];

function collect(): void {
  if (host.gc !== undefined) host.gc();
  else if (host.Bun !== undefined) host.Bun.gc(true);
  else throw new Error("run with --expose-gc");
}

if (mode === "finalize") {
  const pool = new SecretPool();
  using kept = pool.alloc(16);
  let view: Uint8Array | undefined;
  (() => {
    const dropped = pool.from(new Uint8Array([9, 9, 9]));
    dropped.read((bytes) => {
      view = bytes;
    });
    // Dropped while holding its page open: reclaiming must close it.
    dropped.protect("readwrite");
    for (let i = 0; i < 99; i++) pool.random(32);
  })();
  const before = pool.stats().liveSlots;
  let after = before;
  for (let round = 0; round < 50 && after > 1; round++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 10));
    after = pool.stats().liveSlots;
  }
  console.log(JSON.stringify({
    before,
    after,
    viewLength: view!.length,
    // Same page as the dropped slot (the same size class, taken first).
    keptState: kept.state,
  }));
} else if (mode === "exit") {
  const pool = new SecretPool();
  const held = [pool.random(32), pool.from(new Uint8Array([1, 2, 3]))];
  // Added after the library's own exit listener, so it runs after it.
  native().onExit(() => {
    console.log(`live at exit: ${pool.stats().liveSlots} ${held[0].state}`);
  });
  console.log(`live before exit: ${pool.stats().liveSlots}`);
} else if (mode === "cycles") {
  const cycles = Number(args[1]);
  const pool = new SecretPool();
  // Warm up: map the arena, bind every native function used below.
  const warm = pool.alloc(32);
  warm.read(() => 0);
  warm.destroy();
  console.log("start");
  for (let i = 0; i < cycles; i++) pool.alloc(32).destroy();
  console.log("end");
}
