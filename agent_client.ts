/**
 * The agent's client alone, with no FFI anywhere in its imports: a Deno app
 * using it keeps its sandbox (`--allow-read`/`--allow-write` for the
 * socket, `--allow-env=SSH_AUTH_SOCK`), and Node needs no
 * `--experimental-ffi`. Decrypted plaintext comes back as bytes; see
 * `decryptToSecret` in `./agent` for a SecretBuffer.
 *
 * @example Sign with the first key of the running agent
 * ```ts ignore
 * import { connectAgent } from "@secmem/secmem/agent/client";
 *
 * const agent = await connectAgent();
 * const [key] = await agent.list();
 * const signature = await agent.sign(key.blob, new TextEncoder().encode("hi"));
 * console.log(signature.length); // 64
 * agent.close();
 * ```
 *
 * @module
 */

export {
  type AddKeyOptions,
  AgentClient,
  type AgentIdentity,
  connectAgent,
  type ReadableSecret,
} from "./src/agent/client.ts";
