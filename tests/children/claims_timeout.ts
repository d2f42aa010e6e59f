/**
 * Child for tests/claims_timeout_test.ts: `fromFile` on a FIFO that no
 * writer opens, under a clock this child moves. `Date.now` is replaced
 * before secmem loads (secmem takes its clock at load), so the child can
 * stand 29 s or 31 s after the call without waiting for them. Prints
 * one line per step: `<case> pending` or `<case> <error code | size N>`.
 *
 * Usage: claims_timeout.ts <fifo>
 *
 * @module
 */

import { closeSync, openSync, writeSync } from "node:fs";
import type { SecretBuffer as Secret } from "../../mod.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [fifo] = host.Deno?.args ?? host.process.argv.slice(2);

const realNow = Date.now;
let offset = 0;
Date.now = () => realNow() + offset;
const { SecretBuffer, SecretMemoryError } = await import("../../mod.ts");

const sleep = (ms: number) => new Promise((wake) => setTimeout(wake, ms));

/** How `promise` stands after `ms` real milliseconds. */
async function outcome(promise: Promise<unknown>, ms: number): Promise<string> {
  const pending = Symbol("pending");
  const result = await Promise.race([
    promise.then(
      (value) => {
        const secret = value as Secret;
        const size = secret.size;
        secret.destroy();
        return `size ${size}`;
      },
      (error) => {
        if (!(error instanceof SecretMemoryError)) throw error;
        return `${error.code} ${/\((\d+) ms\)/.exec(error.message)?.[1] ?? ""}`;
      },
    ),
    sleep(ms).then(() => pending),
  ]);
  return result === pending ? "pending" : String(result);
}

const step = (name: string, result: string) => console.log(`${name} ${result}`);

// An explicit timeout first: the moved clock must end it (control).
// Each call reads the clock once it has opened the FIFO, a few turns of
// the event loop after it is made: the clock moves only after that.
const short = SecretBuffer.fromFile(fifo, { timeout: 1000 });
await sleep(300);
offset += 1100;
step("explicit-1000", await outcome(short, 2000));

// The default: still waiting 29 s on, given up by 31 s. (Real time runs
// on as well: the 300 ms sleeps below, and the wait in outcome().)
const byDefault = SecretBuffer.fromFile(fifo);
await sleep(300);
offset += 28_400;
step("default-29s", await outcome(byDefault, 300));
offset += 2000;
step("default-31s", await outcome(byDefault, 2000));

// Infinity: still waiting a thousand years on; a writer then ends it.
const forEver = SecretBuffer.fromFile(fifo, { timeout: Infinity });
await sleep(300);
offset += 1000 * 365 * 24 * 3600 * 1000;
step("infinity-later", await outcome(forEver, 300));
const writer = openSync(fifo, "w");
writeSync(writer, new Uint8Array([7]));
closeSync(writer);
step("infinity-written", await outcome(forEver, 5000));
