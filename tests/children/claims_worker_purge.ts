/**
 * Child for tests/claims_worker_purge_test.ts: the main thread's `purge()`
 * while a running Worker holds a buffer. The Worker allocates a 32-byte
 * buffer of a known pattern and waits for a go file; the main thread, once
 * `stats().otherThreadBuffers` counts it, allocates one of its own, calls
 * `purge()`, writes the go file, and the Worker reports whether its buffer
 * is still alive and holds the pattern. Prints `key=value` lines.
 *
 * Usage: claims_worker_purge.ts <go file>
 *
 * @module
 */

import { existsSync, writeFileSync } from "node:fs";
import { purge, SecretBuffer, stats } from "../../mod.ts";
import { startWorker, workerOrMain } from "./_worker.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[]; exit(code: number): never };
};

const pattern = (i: number) => (i * 7 + 3) & 0xff;
const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

interface Report {
  state: string;
  intact: boolean;
}

async function worker(
  go: string,
  post: (message: unknown) => void,
): Promise<void> {
  const own = SecretBuffer.from(
    Uint8Array.from({ length: 32 }, (_, i) => pattern(i)),
  );
  while (!existsSync(go)) await sleep(20);
  const state = own.state;
  const intact = state === "destroyed"
    ? false
    : own.read((bytes) => bytes.every((b, i) => b === pattern(i)));
  post({ state, intact } satisfies Report);
  await new Promise(() => {});
}

async function main(): Promise<void> {
  const go = (host.Deno?.args ?? host.process.argv.slice(2))[0];
  const started = await startWorker<Report>(import.meta.url, go);
  for (let i = 0; i < 500 && stats().otherThreadBuffers < 1; i++) {
    await sleep(20);
  }
  const mine = SecretBuffer.random(32);
  const before = stats().otherThreadBuffers;
  purge();
  const after = stats().otherThreadBuffers;
  writeFileSync(go, "");
  const report = await started.report;
  console.log(`other before purge=${before}`);
  console.log(`other after purge=${after}`);
  console.log(`main buffer=${mine.state}`);
  console.log(`worker buffer=${report.state} intact=${report.intact}`);
  await started.terminate();
  host.process.exit(0);
}

await workerOrMain(import.meta.url, worker, main);
