/**
 * The agent's client under a `then` getter planted on Object.prototype:
 * each reply resolves a promise (the request's, then the caller's await),
 * and a promise resolved with a value looks `then` up on it.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { SecretBuffer } from "../mod.ts";
import { connectAgent, decryptToSecret, startAgent } from "../agent.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { holds } from "./_forensics.ts";

test(
  "AgentClient decrypt, decryptToSecret and hmac under a then getter planted on Object.prototype: no reply holding the plaintext or the MAC is handed to it",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      await client.generateSecret("wrap");
      const plaintext = new Uint8Array(48);
      for (let i = 0; i < plaintext.length; i++) plaintext[i] = 0xa0 ^ i;
      const sealed = await client.encrypt("wrap", plaintext.slice());
      const data = new Uint8Array([1, 2, 3]);
      const mac = await client.hmac("wrap", data);
      assert.equal(mac.length, 32);

      const seen: Uint8Array[] = [];
      let decrypted: Uint8Array | undefined;
      let again: Uint8Array | undefined;
      let secret: SecretBuffer | undefined;
      // Planted for the whole exchange: the client's awaits come after
      // each call returns. It only notes what it is handed; one that
      // returned a function could also answer in the agent's stead.
      Object.defineProperty(Object.prototype, "then", {
        configurable: true,
        get(this: unknown) {
          if (this instanceof Uint8Array) seen[seen.length] = this.slice();
          return undefined;
        },
      });
      try {
        decrypted = await client.decrypt("wrap", sealed);
        secret = await decryptToSecret(client, "wrap", sealed);
        again = await client.hmac("wrap", data);
      } finally {
        delete (Object.prototype as { then?: unknown }).then;
      }
      try {
        assert.deepEqual(decrypted, plaintext, "decrypt answered wrong");
        assert(secret.equals(plaintext), "decryptToSecret answered wrong");
        assert.deepEqual(again, mac, "hmac answered wrong");
        const leaked = seen.filter((bytes) =>
          holds(bytes, plaintext) || holds(bytes, mac)
        );
        assert.equal(
          leaked.length,
          0,
          "a then getter was handed a reply with the plaintext or the MAC",
        );
      } finally {
        secret?.destroy();
      }
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);
