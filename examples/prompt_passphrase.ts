/**
 * Asks for a new passphrase twice, with echo off, and checks that the two
 * match, without the passphrase ever becoming a JavaScript string: each
 * key goes from the terminal through read(2) straight into locked,
 * guarded pages, and `using` wipes them at the end of the block.
 *
 * Run it in a terminal:
 *   deno run --allow-ffi examples/prompt_passphrase.ts
 *   bun examples/prompt_passphrase.ts
 *
 * @module
 */

import { promptSecret, SecretMemoryError } from "../mod.ts";

const host = globalThis as unknown as { process: { exitCode?: number } };

try {
  using passphrase = await promptSecret("New passphrase: ");
  using repeated = await promptSecret("Repeat it: ");
  if (passphrase.equals(repeated)) {
    console.log(
      `Passphrase accepted: ${passphrase.size} bytes, held in locked memory.`,
    );
  } else {
    console.error("The two passphrases differ; nothing was kept.");
    host.process.exitCode = 1;
  }
} catch (error) {
  // Ctrl-C, Ctrl-D, or no terminal: say so and stop, without a stack trace.
  if (!(error instanceof SecretMemoryError)) throw error;
  console.error(error.message);
  host.process.exitCode = 1;
}
