/**
 * Review R10: the agent's lock back-off and client replies, age's chunk
 * nonces, and built-ins the library still looked up at call time.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connectAgent, startAgent } from "../agent.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { replacedWhile } from "./_replaced.ts";

/** Whether `haystack` holds `needle` anywhere. */
function holds(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return true;
  }
  return false;
}

test(
  "AgentClient decrypt and hmac under globalThis.Promise replaced after import: the request's resolver is never handed the plaintext or the MAC",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      await client.generateSecret("wrap");
      const plaintext = new Uint8Array(48);
      for (let i = 0; i < plaintext.length; i++) plaintext[i] = 0x5c ^ i;
      const sealed = await client.encrypt("wrap", plaintext.slice());
      const data = new Uint8Array([4, 5, 6]);
      const mac = await client.hmac("wrap", data);

      // A Promise whose executor's resolve notes what it is handed. Only
      // the call itself runs under it: the request is made before the
      // call's first await.
      const seen: Uint8Array[] = [];
      const Real = Promise;
      class Noting<T> extends Real<T> {
        constructor(
          executor: (
            resolve: (value: T) => void,
            reject: (reason: unknown) => void,
          ) => void,
        ) {
          super((resolve, reject) =>
            executor((value: T) => {
              if (value instanceof Uint8Array) {
                seen[seen.length] = value.slice();
              }
              resolve(value);
            }, reject)
          );
        }
      }
      const decrypting = replacedWhile(
        globalThis,
        "Promise",
        Noting,
        () => client.decrypt("wrap", sealed),
      );
      const macing = replacedWhile(
        globalThis,
        "Promise",
        Noting,
        () => client.hmac("wrap", data),
      );
      assert.deepEqual(await decrypting, plaintext, "decrypt answered wrong");
      assert.deepEqual(await macing, mac, "hmac answered wrong");
      const leaked = seen.filter((bytes) =>
        holds(bytes, plaintext) || holds(bytes, mac)
      );
      assert.equal(
        leaked.length,
        0,
        "a Promise replaced after import was handed the plaintext or the MAC",
      );
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);
