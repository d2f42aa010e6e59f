/**
 * Child for the lifetime tests. Modes:
 * - `exit`: leaves buffers alive and exits; a listener added after the
 *   library's own prints how many buffers were still live at exit.
 * - `interrupt SIGINT|SIGTERM`: installs catchInterrupt, sends itself the
 *   signal.
 * - `finalize`: drops a buffer while keeping a view, forces GC, and reports
 *   whether the view was detached and the buffer unmapped.
 *
 * @module
 */

import { catchInterrupt, SecretBuffer, stats } from "../../mod.ts";
import { native } from "../../src/core/_native.ts";
import { secmemMappingOverlaps } from "../../src/doctor/_procfs.ts";

const host = globalThis as unknown as {
  Deno?: {
    args: string[];
    pid: number;
    kill(pid: number, signal: string): void;
  };
  Bun?: { gc(force: boolean): void };
  gc?: () => void;
  process: {
    argv: string[];
    pid: number;
    kill(pid: number, signal: string): void;
  };
};
const mode = host.Deno?.args[0] ?? host.process.argv[2];
const held: SecretBuffer[] = [];

function reportAtExit() {
  native().onExit(() => console.log(`live at exit: ${stats().liveBuffers}`));
}

if (mode === "exit") {
  held.push(SecretBuffer.random(32), SecretBuffer.alloc(5000));
  reportAtExit();
  console.log(`live before exit: ${stats().liveBuffers}`);
} else if (mode === "interrupt") {
  held.push(SecretBuffer.random(32));
  catchInterrupt();
  reportAtExit();
  console.log(`live before signal: ${stats().liveBuffers}`);
  const signal = host.Deno?.args[1] ?? host.process.argv[3];
  const pid = host.Deno?.pid ?? host.process.pid;
  (host.Deno ?? host.process).kill(pid, signal);
  setTimeout(() => console.log(`still running after ${signal}`), 5000);
} else if (mode === "finalize") {
  let view: Uint8Array | undefined;
  let address = 0n;
  (() => {
    const dropped = SecretBuffer.random(32);
    address = dropped.address;
    dropped.read((bytes) => {
      view = bytes;
    });
  })();
  const collect = host.Bun ? () => host.Bun!.gc(true) : host.gc!;
  for (let i = 0; i < 50 && stats().liveBuffers > 0; i++) {
    collect();
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  console.log(`live after gc: ${stats().liveBuffers}`);
  console.log(`view length: ${view!.length}`);
  console.log(`still mapped: ${secmemMappingOverlaps(address, address + 1n)}`);
}
