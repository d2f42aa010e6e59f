/**
 * Review R10: the agent's lock back-off and client replies, age's chunk
 * nonces, and built-ins the library still looked up at call time.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  AgentClient,
  connectAgent,
  decryptToSecret,
  startAgent,
} from "../agent.ts";
import { Ed25519Key, ed25519Verify, X25519Key } from "../keys.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import { decrypt, encrypt, scryptSync } from "../crypto.ts";
import { SecretBuffer } from "../mod.ts";
import { Enclave } from "../enclave.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { replacedWhile } from "./_replaced.ts";
import { childScript, runChild } from "./_child.ts";
import { Keyring } from "../src/agent/_keys.ts";
import { holds } from "./_forensics.ts";

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

test(
  "Ed25519Key.sign under Math.floor replaced after import: one message signed twice gives one signature (no nonce with two challenges, which gives away the scalar)",
  () => {
    using key = Ed25519Key.generate();
    const message = new Uint8Array([1, 2, 3, 4]);
    const honest = key.sign(message);
    // SHA-512 ran Math.floor on its length field at call time. Sign hashes
    // three times: the seed, the nonce (prefix ‖ M), the challenge
    // (R ‖ A ‖ M). This one answers right but for the challenge's length,
    // which it varies from one signature to the next: the nonce r stays,
    // the challenge k changes, and S1 - S2 = (k1 - k2)·a.
    const realFloor = Math.floor;
    const challengeBits = (64 + message.length) * 8;
    let fault = 0;
    const faulty = (x: number) =>
      x === challengeBits / 0x100000000 ? ++fault : realFloor(x);
    const first = replacedWhile(Math, "floor", faulty, () => key.sign(message));
    const second = replacedWhile(
      Math,
      "floor",
      faulty,
      () => key.sign(message),
    );
    assert.deepEqual(
      first,
      honest,
      "the first signature is not the honest one",
    );
    assert.deepEqual(
      second,
      honest,
      "the second signature is not the honest one",
    );
    assert(ed25519Verify(key.publicKey, message, second));
  },
);

test(
  "a SecretPool slot first viewed under Math.floor replaced after import: its view is its own, not another slot's (which it would read)",
  () => {
    const result = runChild(childScript("r10_pool_alias.ts"));
    assert.equal(result.status, 0, result.stderr || `signal ${result.signal}`);
    assert.match(
      result.stdout,
      /^read 0(,0){15}$/m,
      "the fresh slot read other bytes (another slot's secret)",
    );
  },
  { skip: linuxOnly },
);

test(
  "ageEncrypt under Math.floor, Math.ceil or Math.max replaced after import: the file opens whole (no chunk nonce out of sequence, no chunk left unsealed)",
  () => {
    using identity = X25519Key.generate();
    // Four chunks and a bit.
    const plaintext = new Uint8Array(4 * 65536 + 100);
    for (let i = 0; i < plaintext.length; i++) plaintext[i] = (i * 31) & 0xff;
    // Each answers wrong for the arguments age counted chunks and nonces
    // with (Math.floor answering 0 instead repeats a nonce every 256
    // chunks, which needs a 16 MiB file to show).
    const cases: [string, (...args: number[]) => number][] = [
      ["floor", () => 7],
      ["ceil", () => 1],
      ["max", () => 1],
    ];
    for (const [key, value] of cases) {
      const file = replacedWhile(
        Math,
        key,
        value,
        () => ageEncrypt(plaintext, { recipients: [identity.ageRecipient] }),
      );
      using opened = ageDecrypt(file, { identities: [identity] });
      assert(opened.equals(plaintext), `Math.${key}: the file opened wrong`);
    }
  },
);

test(
  "encrypt under Math.floor replaced after import: the message opens (Poly1305's length block is the standard one)",
  () => {
    using key = SecretBuffer.random(32);
    const plaintext = new Uint8Array([9, 8, 7, 6, 5]);
    const aad = new Uint8Array([1, 2, 3]);
    const sealed = replacedWhile(
      Math,
      "floor",
      () => 1,
      () => encrypt(key, plaintext, { aad }),
    );
    using opened = decrypt(key, sealed, { aad });
    assert(opened.equals(plaintext));
  },
);

test(
  "SecretBuffer.fromHex and fromBase64 under Math.floor replaced after import: a 32-byte key decodes to 32 bytes (not cut short, unannounced)",
  () => {
    const hex = "00112233445566778899aabbccddeeff" +
      "102132435465768798a9bacbdcedfe0f";
    const expected = new Uint8Array(32);
    for (let i = 0; i < 32; i++) {
      expected[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
    }
    const base64 = btoa(String.fromCharCode(...expected));
    for (
      const [what, make] of [
        ["fromHex", () => SecretBuffer.fromHex(hex)],
        ["fromBase64", () => SecretBuffer.fromBase64(base64)],
      ] as const
    ) {
      using key = replacedWhile(Math, "floor", () => 4, make);
      assert.equal(key.size, 32, `${what}: the key was cut short`);
      assert(key.equals(expected), `${what}: decoded wrong`);
    }
  },
);

test(
  "Enclave.seal under Math.ceil or Math.floor replaced after import: the enclave opens to the secret sealed",
  () => {
    const bytes = new Uint8Array(40);
    for (let i = 0; i < bytes.length; i++) bytes[i] = 0x30 + i;
    for (const key of ["ceil", "floor"]) {
      using enclave = replacedWhile(
        Math,
        key,
        () => 1,
        () => Enclave.seal(SecretBuffer.from(bytes.slice())),
      );
      using opened = enclave.open();
      assert(opened.equals(bytes), `Math.${key}: opened wrong`);
    }
  },
);

test(
  "scryptSync under Math.min replaced after import: a passphrase longer than a block derives the key it derives otherwise",
  () => {
    const passphrase = new Uint8Array(200);
    for (let i = 0; i < passphrase.length; i++) passphrase[i] = 0x41 + i % 26;
    const params = {
      salt: new Uint8Array(16),
      N: 1024,
      r: 8,
      p: 1,
      length: 32,
    };
    using secret = SecretBuffer.from(passphrase.slice());
    using honest = scryptSync(secret, params);
    // Answers one past the passphrase's end where the passphrase is
    // hashed down to a key (it is longer than a block).
    const realMin = Math.min;
    using replaced = replacedWhile(
      Math,
      "min",
      (a: number, b: number) => a === passphrase.length ? a + 1 : realMin(a, b),
      () => scryptSync(secret, params),
    );
    assert(replaced.equals(honest), "Math.min changed the derived key");
  },
);

test(
  "the agent's lock back-off under a wall clock that steps: an hour back does not keep the right passphrase out, an hour on does not let a guess in within the back-off",
  () => {
    const result = runChild(childScript("r10_lock_clock.ts"));
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stdout,
      /^back true$/m,
      "the wall clock stepped back kept the right passphrase out",
    );
    assert.match(
      result.stdout,
      /^forward false$/m,
      "the wall clock stepped on let a guess through within the back-off",
    );
  },
);

test(
  "ageDecrypt with a Proxy claiming 2^32 - 1 identities, none a key: refused as INVALID_ARGUMENT at the first element read",
  () => {
    using identity = X25519Key.generate();
    const file = ageEncrypt(new Uint8Array([1, 2, 3]), {
      recipients: [identity.ageRecipient],
    });
    let reads = 0;
    const claimed = new Proxy([] as unknown[], {
      get(target, key, receiver) {
        if (key === "length") return 2 ** 32 - 1;
        if (typeof key === "string" && /^[0-9]+$/.test(key)) {
          // Stands in for minutes of reads and a heap run out.
          if (++reads > 100_000) throw new Error("read 100,000 elements");
          return undefined;
        }
        return Reflect.get(target, key, receiver);
      },
    });
    assert.throws(
      () => ageDecrypt(file, { identities: claimed as X25519Key[] }),
      (error: unknown) =>
        (error as { code?: unknown }).code === "INVALID_ARGUMENT",
    );
    assert.equal(reads, 1, "elements read past the first that is no key");
  },
);

test(
  "AgentClient.prototype.request replaced after import: decryptToSecret's plaintext is not handed to it",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      await client.generateSecret("wrap");
      const plaintext = new Uint8Array(32).fill(0x6b);
      const sealed = await client.encrypt("wrap", plaintext.slice());
      const prototype = AgentClient.prototype as unknown as {
        request(frame: Uint8Array): Promise<Uint8Array>;
      };
      const original = prototype.request;
      let handed = 0;
      let planted = false;
      try {
        prototype.request = function (this: unknown, frame: Uint8Array) {
          const reply = Reflect.apply(original, this, [frame]) as Promise<
            Uint8Array
          >;
          return reply.then((bytes) => {
            if (holds(bytes, plaintext)) handed++;
            return bytes;
          });
        };
        planted = true;
      } catch {
        // Frozen: the assignment throws (modules are strict).
      }
      try {
        using secret = await decryptToSecret(client, "wrap", sealed);
        assert(secret.equals(plaintext), "decryptToSecret answered wrong");
      } finally {
        if (planted) prototype.request = original;
      }
      assert.equal(handed, 0, "a replaced request was handed the plaintext");
      assert(Object.isFrozen(AgentClient.prototype));
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "the agent's keyring under Number.prototype.toString replaced after import: a sign request for a key not held is refused, not signed by another",
  () => {
    const keys = new Keyring();
    try {
      using other = Ed25519Key.generate();
      // Replaced for the keyring's whole life, as in an agent's process
      // that loaded the replacement: it answers "" for every byte, so an
      // id says only which bytes are below 16.
      const signature = replacedWhile(
        Number.prototype,
        "toString",
        () => "",
        () => {
          const held = keys.addKey(SecretBuffer.random(32), "held", 0);
          const blob = held.blob.slice();
          blob.set(other.publicKey, blob.length - 32);
          // The other key's blob, its bytes below 16 where the held one's
          // are (the id was all the keyring compared).
          for (let i = blob.length - 32; i < blob.length; i++) {
            const low = held.blob[i] < 16;
            if (low !== blob[i] < 16) blob[i] = low ? blob[i] & 15 : 16;
          }
          return keys.sign(blob, new Uint8Array([1, 2, 3]));
        },
      );
      assert.equal(signature, undefined, "signed with a key not named");
    } finally {
      keys.clear();
    }
  },
);
