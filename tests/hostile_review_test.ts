/**
 * The fourth attacker review (of this round's new code), each finding
 * reproduced as a test that failed before its fix:
 * - a `crypto.getRandomValues` replaced after import cannot repeat a nonce;
 * - an SSH signature namespace is ASCII: a wider character was cut to a
 *   byte, so a signature made in one namespace verified in another;
 * - uppercase Bech32 refuses control bytes (0x10-0x19 read as digits);
 * - `ageDecrypt` takes only real X25519Key identities (a Proxy passed
 *   `instanceof` and ran its own `agree` inside the file key's scope);
 * - the agent client sends names as UTF-8: a name cut to bytes reached
 *   another secret.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, SecretMemoryError, stats } from "../mod.ts";
import { aeadKey } from "../crypto.ts";
import { Ed25519Key, sshSign, sshVerify, X25519Key } from "../keys.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import { connectAgent, startAgent } from "../agent.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const isCode = (code: string) => (error: unknown) =>
  error instanceof SecretMemoryError && error.code === code;

test("a crypto.getRandomValues replaced after import cannot repeat an aeadKey nonce", () => {
  const host = globalThis.crypto;
  const original = host.getRandomValues;
  using key = SecretBuffer.random(32);
  using sealer = aeadKey(key);
  const plain = new TextEncoder().encode("attack at dawn!!");
  try {
    // Other code in the process replaces the generator with zeros.
    host.getRandomValues = (<T extends ArrayBufferView | null>(view: T): T => {
      if (view !== null) new Uint8Array(view.buffer).fill(0);
      return view;
    }) as typeof original;
    const one = sealer.encrypt(plain);
    const two = sealer.encrypt(plain);
    const nonce = (message: Uint8Array) => Array.from(message.subarray(0, 24));
    assert.notDeepEqual(nonce(one), nonce(two), "the nonce repeated");
    assert.ok(
      nonce(one).some((b) => b !== 0),
      "the nonce came from the replaced generator",
    );
  } finally {
    host.getRandomValues = original;
  }
});

test("an SSH signature namespace with a character above ASCII is refused, never cut to a byte", () => {
  using key = Ed25519Key.generate();
  const message = new TextEncoder().encode("hello");
  assert.throws(
    () => sshSign(key, message, "\u0167it"),
    isCode("INVALID_ARGUMENT"),
  );
  const signature = sshSign(key, message, "git");
  const line = `ssh-ed25519 ${
    btoa(String.fromCharCode(
      0,
      0,
      0,
      11,
      ...new TextEncoder().encode("ssh-ed25519"),
      0,
      0,
      0,
      32,
      ...key.publicKey,
    ))
  }`;
  assert.equal(sshVerify(line, message, "git", signature), true);
  for (const other of ["\u0167it", "git\u0100"]) {
    assert.throws(
      () => sshVerify(line, message, other, signature),
      isCode("INVALID_ARGUMENT"),
    );
  }
});

test("an uppercase age identity with control bytes for digits is refused", () => {
  const id =
    "AGE-SECRET-KEY-1GFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPYYSJZGFPQ4EGAEX";
  using good = X25519Key.fromAgeIdentity(
    SecretBuffer.from(new TextEncoder().encode(id)),
  );
  assert.match(good.ageRecipient, /^age1/);
  const bytes = new TextEncoder().encode(id);
  let replaced = 0;
  for (let i = 16; i < bytes.length; i++) {
    if (bytes[i] >= 0x30 && bytes[i] <= 0x39) {
      bytes[i] -= 0x20;
      replaced++;
    }
  }
  assert.ok(replaced > 0);
  using text = SecretBuffer.from(bytes);
  const live = stats().liveBuffers;
  assert.throws(
    () => X25519Key.fromAgeIdentity(text),
    (error: unknown) => error instanceof SecretMemoryError,
  );
  assert.equal(stats().liveBuffers, live, "nothing left mapped");
});

test("ageDecrypt refuses a Proxy that claims to be an X25519Key, and runs none of its code", () => {
  using real = X25519Key.generate();
  const file = ageEncrypt(new TextEncoder().encode("secret"), {
    recipients: [real.ageRecipient],
  });
  let ran = 0;
  const fake = new Proxy(real, {
    get(target, name) {
      ran++;
      return Reflect.get(target, name);
    },
  });
  assert.ok(fake instanceof X25519Key, "the Proxy passes instanceof");
  assert.throws(
    () => ageDecrypt(file, { identities: [fake] }),
    isCode("INVALID_ARGUMENT"),
  );
  assert.equal(ran, 0, "the Proxy's traps ran");
  using plain = ageDecrypt(file, { identities: [real] });
  assert.equal(plain.size, 6);
});

test(
  "the agent client sends names as UTF-8: a wider character never names another secret",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      agent.addSecret("signing", SecretBuffer.random(32));
      const data = new Uint8Array([1]);
      const mac = await client.hmac("signing", data);
      assert.equal(mac.length, 32);
      await assert.rejects(client.hmac("\u0173igning", data));
      await assert.rejects(client.removeSecret("\u0173igning"));
      assert.deepEqual(
        (await client.secrets()).map((s: { name: string }) => s.name),
        ["signing"],
      );
      await assert.rejects(
        client.hmac("\ud800igning", data),
        isCode("INVALID_ARGUMENT"),
      );
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);
