/**
 * Child of tests/input/patched_builtins_test.ts. Its stdin is a FIFO opened
 * read-write and non-blocking, holding "pass" without a line end: the
 * prompt reads those bytes, then waits (EAGAIN) for more. `setTimeout` is
 * replaced after import by one that counts its calls; a separate interval
 * ends the line (usage: prompt_patched_timer.ts <fifo>). Prints the secret's size and the replaced timer's calls
 * as JSON, never the bytes.
 *
 * @module
 */

import { appendFileSync } from "node:fs";
import { promptSecret } from "../../mod.ts";

const host = globalThis as unknown as Record<string, unknown> & {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
// The FIFO behind stdin, opened again to write the line end.
const [fifo] = host.Deno?.args ?? host.process.argv.slice(2);
const real = host.setTimeout as (fn: () => void, ms: number) => unknown;
let replacedCalls = 0;
host.setTimeout = (fn: () => void, ms: number) => {
  replacedCalls++;
  return real(fn, ms);
};

let ticks = 0;
const interval = setInterval(() => {
  // A few ticks: the prompt has read "pass" and waits for more by now.
  if (++ticks === 5) appendFileSync(fifo, "\n");
}, 10);
const secret = await promptSecret("Passphrase: ", {
  maxSize: 64,
  allowPipe: true,
});
clearInterval(interval);
const size = secret.size;
secret.destroy();
console.log(JSON.stringify({ size, replacedCalls }));
