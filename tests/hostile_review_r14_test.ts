/**
 * Review R14: the agent, the keys and the prompt under built-ins replaced
 * after import.
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
  "AgentClient decrypt, decryptToSecret and hmac under a constructor and a then replaced on Promise.prototype: no reply holding the plaintext or the MAC is handed to them",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      await client.generateSecret("wrap");
      const plaintext = new Uint8Array(48);
      for (let i = 0; i < plaintext.length; i++) plaintext[i] = 0xb0 ^ i;
      const sealed = await client.encrypt("wrap", plaintext.slice());
      const data = new Uint8Array([4, 5, 6]);
      const mac = await client.hmac("wrap", data);

      const seen: Uint8Array[] = [];
      const realThen = Promise.prototype.then;
      const realConstructor = Object.getOwnPropertyDescriptor(
        Promise.prototype,
        "constructor",
      )!;
      let decrypted: Uint8Array | undefined;
      let again: Uint8Array | undefined;
      let secret: SecretBuffer | undefined;
      // An await of a promise whose constructor is not the built-in one
      // resolves a new promise with it, which calls its `then`.
      Object.defineProperty(Promise.prototype, "constructor", {
        configurable: true,
        writable: true,
        value: function Other() {},
      });
      Promise.prototype.then = function (
        this: Promise<unknown>,
        ok?: ((value: unknown) => unknown) | null,
        no?: ((reason: unknown) => unknown) | null,
      ) {
        return Reflect.apply(realThen, this, [(value: unknown) => {
          if (value instanceof Uint8Array) seen[seen.length] = value.slice();
          return typeof ok === "function" ? ok(value) : value;
        }, no]);
      } as typeof realThen;
      try {
        decrypted = await client.decrypt("wrap", sealed);
        secret = await decryptToSecret(client, "wrap", sealed);
        again = await client.hmac("wrap", data);
      } finally {
        Promise.prototype.then = realThen;
        Object.defineProperty(
          Promise.prototype,
          "constructor",
          realConstructor,
        );
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
          "a replaced Promise.prototype.then was handed a reply with the plaintext or the MAC",
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
