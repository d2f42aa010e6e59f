/**
 * Child for tests/claims_input_test.ts: counts how many timer callbacks
 * run while `fromStdin` (or, with `sync`, `fromStdinSync`) waits for a
 * writer that starts late. If read(2) blocks the thread, none can run:
 * the promise settles before the event loop turns again.
 *
 * Usage: claims_stdin_block.ts [sync]
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [mode] = host.Deno?.args ?? host.process.argv.slice(2);

let ticks = 0;
const timer = setInterval(() => ticks++, 5);
// Let the timer prove it runs before the read starts.
await new Promise((wait) => setTimeout(wait, 50));
const before = ticks;
const secret = mode === "sync"
  ? SecretBuffer.fromStdinSync()
  : await SecretBuffer.fromStdin();
const during = ticks - before;
clearInterval(timer);
console.log(`ticks before ${before} during ${during} size ${secret.size}`);
secret.destroy();
