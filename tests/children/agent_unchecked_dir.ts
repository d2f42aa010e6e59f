/**
 * Child run by Deno, with read permission only for the socket's own
 * directory: starting an agent there must be refused (`OS_ERROR`), since
 * who can write the directories above it cannot be checked. Prints the
 * error's code and message, or "started" if the agent listened.
 *
 * @module
 */

import { startAgent } from "../../agent.ts";

const socket = (globalThis as unknown as { Deno: { args: string[] } }).Deno
  .args[0];
try {
  const agent = await startAgent({ harden: false, socket });
  await agent.close();
  console.log("started");
} catch (error) {
  const { code, message } = error as { code?: string; message?: string };
  console.log(`${code}: ${message}`);
}
