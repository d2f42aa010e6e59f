/**
 * `secmem-agent`: an ssh-agent whose keys live in guarded memory, in a
 * hardened process. As a command it takes ssh-agent's flags where they
 * fit and prints the lines a shell evaluates:
 *
 * ```sh
 * eval "$(deno run --allow-ffi --allow-read --allow-write --allow-env --allow-net --allow-run jsr:@secmem/secmem/agent)"
 * ssh-add ~/.ssh/id_ed25519
 * ```
 *
 * Flags: `-a SOCKET` (bind here), `-D` (stay in the foreground), `-t LIFE`
 * (default key lifetime: seconds, or 1h30m style), `-k` (stop the agent of
 * SSH_AGENT_PID), `--key FILE` (an unencrypted OpenSSH Ed25519 key to hold
 * from the start; repeatable), `--comment TEXT` (its comment), `--prompt`
 * (ask for a lock passphrase and start locked), `--generate COMMENT`
 * (make a key inside),
 * `--secret NAME` (make a 32-byte secret for the HMAC/AEAD extensions;
 * repeatable), `--exit-with-parent`, `--no-harden`.
 *
 * As a module it starts the same agent in-process (`startAgent`) and
 * re-exports the client (`connectAgent`).
 *
 * @example Start an agent in this process and sign through it
 * ```ts ignore
 * import { connectAgent, startAgent } from "@secmem/secmem/agent";
 *
 * const agent = await startAgent();
 * const blob = agent.generateKey("example");
 * const client = await connectAgent(agent.socketPath);
 * const signature = await client.sign(blob, new Uint8Array([1, 2, 3]));
 * console.log(signature.length); // 64
 * client.close();
 * await agent.close();
 * ```
 *
 * @module
 */

import { SecretBuffer } from "./src/secret_buffer.ts";
import type { AgentClient } from "./src/agent/client.ts";
import { runAgentCommand } from "./src/agent/command.ts";
import { isProgram, programArgs } from "./src/core/_program.ts";

export {
  type Agent,
  type AgentOptions,
  startAgent,
} from "./src/agent/server.ts";
export {
  type AddKeyOptions,
  AgentClient,
  type AgentIdentity,
  connectAgent,
  type ReadableSecret,
} from "./src/agent/client.ts";

/**
 * `client.decrypt`, with the plaintext moved into a SecretBuffer (the
 * reply's bytes are wiped): for apps that have FFI.
 *
 * @param client A connected client.
 * @param name The agent's 32-byte secret.
 * @param message nonce ‖ ciphertext ‖ tag.
 * @param aad The associated data it was sealed with.
 * @returns The plaintext, at rest.
 * @throws {SecretMemoryError} `ACCESS_DENIED` when the agent refuses
 * (unknown secret, forged message).
 *
 * @example Decrypt a data key
 * ```ts ignore
 * import { connectAgent, decryptToSecret } from "@secmem/secmem/agent";
 *
 * const agent = await connectAgent();
 * const sealed = await agent.encrypt("wrap", new Uint8Array(32));
 * using key = await decryptToSecret(agent, "wrap", sealed);
 * console.log(key.size); // 32
 * agent.close();
 * ```
 */
export async function decryptToSecret(
  client: AgentClient,
  name: string,
  message: Uint8Array,
  aad?: Uint8Array,
): Promise<SecretBuffer> {
  return SecretBuffer.from(await client.decrypt(name, message, aad));
}

if (isProgram((import.meta as { main?: unknown }).main, import.meta.url)) {
  runAgentCommand(programArgs(), import.meta.url);
}
