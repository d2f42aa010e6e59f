/**
 * Review R9: accessors planted on Array.prototype or Object.prototype
 * after import, and arrays or records the library fills at call time.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, stats } from "../mod.ts";
import { findCopies } from "../forensics.ts";
import { AgentClient, connectAgent, startAgent } from "../agent.ts";
import {
  Ed25519Key,
  formatSshPublicKey,
  sshSign,
  sshVerify,
  X25519Key,
} from "../keys.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { definedWhile } from "./_replaced.ts";
import { childScript, runChild } from "./_child.ts";

test(
  "findCopies under a setter planted on Array.prototype at a live buffer's index: its range is neither handed out nor scanned",
  () => {
    // Two live buffers of the same bytes: the other's pages must stay out
    // of the scan (a hit there would tell its bytes to whoever picks the
    // needle), and the main thread enters none of its buffers in the
    // process table, so liveRanges() is what leaves them out.
    using key = SecretBuffer.alloc(32);
    using other = SecretBuffer.random(32);
    other.read((from) => key.write((to) => to.set(from)));
    assert.equal(findCopies(key).copies, 0, "control");
    // `other` went into the live set last: its range is the last one (a
    // setter at an earlier index leaves a hole the scan trips on, and
    // refuses).
    const index = stats().liveBuffers - 1;
    assert(index >= 0);
    let handed = 0;
    const copies = definedWhile(Array.prototype, index, {
      set(value: unknown) {
        if (Array.isArray(value) && typeof value[0] === "bigint") {
          handed++;
        }
      },
    }, () => findCopies(key).copies);
    assert.equal(handed, 0, "a setter was handed a buffer's range");
    assert.equal(copies, 0, "another live buffer's pages were scanned");
  },
  { skip: linuxOnly },
);

test(
  "fromStream under a then getter planted on Object.prototype: no answer of the BYOB reader, as the library checked it, is handed to it",
  async () => {
    const data = new Uint8Array(64);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff;
    let sent = false;
    const stream = new ReadableStream({
      type: "bytes",
      pull(controller) {
        const request = controller.byobRequest!;
        if (sent) {
          controller.close();
          request.respond(0);
          return;
        }
        sent = true;
        (request.view as Uint8Array).set(data);
        request.respond(data.length);
      },
    });
    // The runtime's own read results ({ value, done }) are its business;
    // the record the library builds from one has a count besides.
    let handed = 0;
    let secret: SecretBuffer | undefined;
    // Planted for the whole read: the library's awaits come after the
    // call returns.
    Object.defineProperty(Object.prototype, "then", {
      configurable: true,
      get(this: object) {
        if (Object.hasOwn(this, "count") && Object.hasOwn(this, "value")) {
          handed++;
          // Could answer "done, nothing read" in the library's stead.
          return (resolve: (value: unknown) => void) =>
            resolve({
              __proto__: null,
              done: true,
              value: undefined,
              count: 0,
            });
        }
        return undefined;
      },
    });
    try {
      secret = await SecretBuffer.fromStream(stream, { maxSize: 128 });
    } finally {
      delete (Object.prototype as { then?: unknown }).then;
    }
    try {
      assert.equal(handed, 0, "a then getter was handed the checked answer");
      assert(secret.equals(data), "the secret read is not the stream's");
    } finally {
      secret?.destroy();
    }
  },
);

test(
  "startAgent and connectAgent under a then getter planted on Object.prototype: neither the agent nor the client is handed to it",
  async () => {
    const handed: string[] = [];
    // Planted for the whole start: the library's awaits come after the
    // call returns. It only notes what it is handed; one that answered
    // with a function could resolve the caller's await with an impostor,
    // and the caller's next addKeyFile or addSecret would hand it the key.
    Object.defineProperty(Object.prototype, "then", {
      configurable: true,
      get(this: object) {
        if (Object.hasOwn(this, "addKeyFile")) handed[handed.length] = "agent";
        if (this instanceof AgentClient) handed[handed.length] = "client";
        return undefined;
      },
    });
    let agent;
    let client;
    try {
      agent = await startAgent({ harden: false });
      client = await connectAgent(agent.socketPath);
    } finally {
      delete (Object.prototype as { then?: unknown }).then;
    }
    try {
      assert.deepEqual(handed, [], "a then getter was handed the agent");
    } finally {
      client?.close();
      await agent?.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "a symbol bound at first use under an Array.prototype[Symbol.iterator] replaced after import: the replacement does not choose the library opened",
  () => {
    const result = runChild(childScript("r9_lazy_iterator.ts"));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^asked 0$/m, result.stdout);
    const step = /^step (.*)$/m.exec(result.stdout);
    assert(step !== null, result.stdout);
    assert.doesNotMatch(
      step[1],
      /r9-planted/,
      "the planted library was opened",
    );
    assert.doesNotMatch(step[1], /threw/, step[1]);
  },
  { skip: linuxOnly },
);

test(
  "a symbol Deno binds at first use under a nonblocking getter planted on Object.prototype: bound as a plain call",
  () => {
    const result = runChild(childScript("r9_nonblocking.ts"));
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^asked 0$/m, result.stdout);
    const step = /^step (.*)$/m.exec(result.stdout);
    assert(step !== null, result.stdout);
    assert.equal(JSON.parse(step[1]).status, "done", step[1]);
  },
  { skip: linuxOnly || (runtime !== "deno" && "Deno's binding only") },
);

test(
  "an AgentClient closed under an Array.prototype.splice replaced after import: its pending requests are handed to no one",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      const pending = client.list();
      let handed = 0;
      const splice = Array.prototype.splice;
      Object.defineProperty(Array.prototype, "splice", {
        configurable: true,
        writable: true,
        value: function (this: unknown[], ...args: unknown[]) {
          const out = Reflect.apply(splice, this, args) as unknown[];
          // Each holds the resolve of a request still waiting: one could
          // answer a decrypt or sign in the agent's stead.
          for (let i = 0; i < out.length; i++) {
            const entry = out[i] as { resolve?: unknown };
            if (typeof entry?.resolve === "function") handed++;
          }
          return out;
        },
      });
      try {
        client.close();
      } finally {
        Object.defineProperty(Array.prototype, "splice", {
          configurable: true,
          writable: true,
          value: splice,
        });
      }
      await assert.rejects(pending);
      assert.equal(handed, 0, "a replaced splice was handed pending requests");
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "sshSign under an Array.prototype.push replaced after import: the key signs the caller's message, not one of the replacement's choosing",
  () => {
    using key = Ed25519Key.generate();
    const message = new TextEncoder().encode("pay 10 to alice");
    const line = formatSshPublicKey(key.publicKey);
    // The replacement swaps the 64-byte digest of the message for one of
    // its own (here any 64 bytes; the digest of its own message in an
    // attack): the key would sign what the caller never asked for.
    const theirs = new Uint8Array(64).fill(0x41);
    let signature: string;
    const push = Array.prototype.push;
    Object.defineProperty(Array.prototype, "push", {
      configurable: true,
      writable: true,
      value: function (this: unknown[], ...items: unknown[]) {
        if (
          items.length === 1 && items[0] instanceof Uint8Array &&
          items[0].length === 64
        ) items[0] = theirs;
        return Reflect.apply(push, this, items);
      },
    });
    try {
      signature = sshSign(key, message, "file");
    } finally {
      Object.defineProperty(Array.prototype, "push", {
        configurable: true,
        writable: true,
        value: push,
      });
    }
    assert.equal(
      sshVerify(line, message, "file", signature),
      true,
      "the signature is not over the caller's message",
    );
  },
);

test(
  "ageEncrypt under an Array.prototype.map replaced after import: the file key is wrapped to the caller's recipients only",
  () => {
    using ours = X25519Key.generate();
    using theirs = X25519Key.generate();
    const planted = theirs.ageRecipient;
    const plaintext = new TextEncoder().encode("the payroll file");
    const map = Array.prototype.map;
    let file: Uint8Array;
    Object.defineProperty(Array.prototype, "map", {
      configurable: true,
      writable: true,
      value: function (this: unknown[], ...args: unknown[]) {
        const out = Reflect.apply(map, this, args) as unknown[];
        // A list of age1… strings: the caller's recipients. The
        // replacement asks the library's own parser for its recipient too.
        if (typeof this[0] === "string" && this[0].startsWith("age1")) {
          out[out.length] = (args[0] as (r: string) => unknown)(planted);
        }
        return out;
      },
    });
    try {
      file = ageEncrypt(plaintext, { recipients: [ours.ageRecipient] });
    } finally {
      Object.defineProperty(Array.prototype, "map", {
        configurable: true,
        writable: true,
        value: map,
      });
    }
    using back = ageDecrypt(file, { identities: [ours] });
    assert(back.equals(plaintext));
    assert.throws(
      () => ageDecrypt(file, { identities: [theirs] }).destroy(),
      "a key the caller never named opens the file",
    );
  },
);
