/**
 * Child for tests/forensics_threads_test.ts: `findCopies` in one
 * thread while another thread's buffer is open (`protect("readonly")`).
 * The open buffer holds a known pattern and the scanning thread looks for
 * that pattern; a hit inside the open buffer's own pages is the oracle
 * forensics.ts means to rule out ("a hit inside another secret's pages
 * ... would tell that secret's bytes to whoever picks the needle").
 * Prints `inside=N`, the hits that fall in the other thread's buffer.
 *
 * Usage: forensics_threads.ts main-scans | worker-scans
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { findCopies } from "../../forensics.ts";
import { startWorker, workerOrMain } from "./_worker.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[]; exit(code: number): never };
  process: { argv: string[]; exit(code: number): never };
};

const pattern = () =>
  Uint8Array.from({ length: 32 }, (_, i) => (i * 37 + 11) & 0xff);

const inside = (hits: bigint[], range: [bigint, bigint]) =>
  hits.filter((a) => a >= range[0] && a < range[1]).length;

/** Kept reachable: a collected buffer is destroyed. */
const kept: SecretBuffer[] = [];

function openSecret(): [bigint, bigint] {
  // from() wipes its source: the pattern lives in the guarded pages only.
  const secret = SecretBuffer.from(pattern());
  kept.push(secret);
  secret.protect("readonly");
  return [secret.address, secret.address + BigInt(secret.size)];
}

/** A Worker's event loop kept busy: an empty one ends the Worker (Node, Bun). */
const stayAlive = () => new Promise(() => setInterval(() => {}, 1000));

async function worker(
  job: string,
  post: (message: unknown) => void,
): Promise<void> {
  if (job === "hold") {
    post(openSecret());
    await stayAlive();
  }
  post(findCopies(pattern()).addresses);
  await stayAlive();
}

async function main(): Promise<void> {
  const mode = (host.Deno?.args ?? host.process.argv.slice(2))[0];
  // The main thread has a buffer of its own in either case.
  using _mine = SecretBuffer.random(32);
  if (mode === "main-scans") {
    const held = await startWorker<[bigint, bigint]>(import.meta.url, "hold");
    const range = await held.report;
    console.log(`inside=${inside(findCopies(pattern()).addresses, range)}`);
    await held.terminate();
  } else {
    const range = openSecret();
    const scan = await startWorker<bigint[]>(import.meta.url, "scan");
    console.log(`inside=${inside(await scan.report, range)}`);
    await scan.terminate();
  }
  (host.Deno ?? host.process).exit(0);
}

await workerOrMain(import.meta.url, worker, main);
