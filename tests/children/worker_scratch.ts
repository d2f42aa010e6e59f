/**
 * Child for tests/worker_scratch_test.ts: starts Workers one after
 * another, each making and destroying one buffer and then ending on its
 * own (no terminate()), so that whatever a Worker leaves mapped is left
 * by secmem, not cut short by us.
 *
 * Usage: worker_scratch.ts <count>
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { startWorker, workerOrMain } from "./_worker.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[]; exit(code: number): never };
  process: { argv: string[]; exit(code: number): never };
};

function worker(
  _job: string,
  post: (message: unknown) => void,
): Promise<void> {
  SecretBuffer.random(32).destroy();
  post("done");
  // Deno's web Worker ends only when it closes itself.
  (globalThis as unknown as { close?: () => void }).close?.();
  return Promise.resolve();
}

async function main(): Promise<void> {
  const count = Number((host.Deno?.args ?? host.process.argv.slice(2))[0]);
  for (let i = 0; i < count; i++) {
    const started = await startWorker<string>(import.meta.url, "one");
    await started.report;
    await started.terminate();
  }
  console.log(`workers=${count}`);
  (host.Deno ?? host.process).exit(0);
}

await workerOrMain(import.meta.url, worker, main);
