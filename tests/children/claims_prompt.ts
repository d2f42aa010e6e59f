/**
 * Child for tests/claims_prompt_test.ts, run on a pty by
 * tests/children/input_pty.py.
 *
 * - `timers`: a 10 ms interval runs while `promptSecret` waits; after its
 *   fifth tick (the prompt still waiting) it prints `ticks 5 while
 *   waiting`, the cue on which the driver types. A prompt that blocked the
 *   thread would never let the tick run, and nothing would be typed.
 * - `read <path>`: `fromFile(path)`, for Deno run without `--allow-read`
 *   and without `--no-prompt`, so that the read permission is in state
 *   "prompt".
 *
 * Prints `size N` or `error CODE`, never the bytes.
 *
 * Usage: claims_prompt.ts timers | claims_prompt.ts read <path>
 *
 * @module
 */

import { promptSecret, SecretBuffer, SecretMemoryError } from "../../mod.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [mode, path] = host.Deno?.args ?? host.process.argv.slice(2);

async function outcome(reading: Promise<SecretBuffer>): Promise<string> {
  try {
    const secret = await reading;
    const size = secret.size;
    secret.destroy();
    return `size ${size}`;
  } catch (error) {
    if (!(error instanceof SecretMemoryError)) throw error;
    return `error ${error.code}`;
  }
}

if (mode === "timers") {
  let ticks = 0;
  let waiting = true;
  const interval = setInterval(() => {
    ticks++;
    if (ticks === 5 && waiting) console.log("ticks 5 while waiting");
  }, 10);
  const reading = promptSecret("Passphrase: ", { maxSize: 64 });
  const result = await outcome(reading);
  waiting = false;
  clearInterval(interval);
  console.log(`${result} after ${ticks >= 5 ? "5 or more" : ticks} ticks`);
} else {
  console.log(await outcome(SecretBuffer.fromFile(path)));
}
