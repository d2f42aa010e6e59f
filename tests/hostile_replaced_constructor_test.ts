/**
 * A global `Uint8Array` (or another typed-array constructor) replaced
 * after import, by a polyfill or a hostile dependency, is never called by
 * the library: every array it makes, and
 * every view over guarded pages, comes from the constructor as it was at
 * load. The replacement here records what it is handed; called, it would
 * have been handed the ArrayBuffer over a secret's pages (and could keep
 * it), or could have returned an object of its own where a result or an
 * out-parameter is read.
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, SecretPool } from "../mod.ts";
import { encrypt, hmac, hmacKey } from "../crypto.ts";
import { Enclave } from "../enclave.ts";
import { Ed25519Key, X25519Key } from "../keys.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import { definedWhile } from "./_replaced.ts";
import { secretBytes } from "../src/agent/_protocol.ts";
import { entryStack, popEntry, pushEntry } from "../src/core/_intrinsics.ts";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";

const Real = Uint8Array;

/** Runs `during` with a recording Uint8Array in place; returns what it saw. */
function recording(during: () => void): unknown[] {
  const handed: unknown[] = [];
  class Recorder extends Real {
    constructor(...args: unknown[]) {
      handed.push(args[0]);
      // deno-lint-ignore no-explicit-any
      super(...(args as [any]));
    }
  }
  definedWhile(globalThis, "Uint8Array", {
    value: Recorder,
    writable: true,
  }, during);
  return handed;
}

test("secrets, pools and their scopes never call a replaced global Uint8Array", () => {
  const plain = new Real([
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    10,
    11,
    12,
    13,
    14,
    15,
    16,
  ]);
  const handed = recording(() => {
    using a = SecretBuffer.random(32);
    using b = SecretBuffer.from(plain);
    using c = SecretBuffer.fromHex("00112233445566778899aabbccddeeff");
    a.read(() => {});
    b.write(() => {});
    using copy = c.slice();
    copy.equals(b);
    using pool = new SecretPool();
    using slot = pool.alloc(32);
    slot.write(() => {});
    slot.read(() => {});
  });
  assert.deepEqual(handed.length, 0, `called ${handed.length} times`);
});

test("crypto, the Enclave, keys and age never call a replaced global Uint8Array", () => {
  const message = new Real(64);
  using key = SecretBuffer.random(32);
  using identity = X25519Key.generate();
  const recipient = identity.ageRecipient;
  using signer = Ed25519Key.generate();
  const context = hmacKey("SHA-256", key);
  const handed = recording(() => {
    encrypt(key, message);
    hmac("SHA-256", key, message);
    context.mac(message);
    Enclave.seal(key).destroy();
    signer.sign(message);
    const file = ageEncrypt(message, { recipients: [recipient] });
    ageDecrypt(file, { identities: [identity] }).destroy();
  });
  assert.deepEqual(handed.length, 0, `called ${handed.length} times`);
});

test("the process table, a pool's arena and Ed25519 made after every typed-array constructor was replaced never call one", () => {
  const child = runChild(childScript("replaced_typed_arrays.ts"));
  assert.equal(child.status, 0, child.stdout + child.stderr);
  const seen = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "");
  assert.equal(seen.valid, true, "the signature did not verify");
  assert.deepEqual(seen.calls, {
    Uint8Array: 0,
    Int8Array: 0,
    Uint16Array: 0,
    Int32Array: 0,
    Uint32Array: 0,
    BigInt64Array: 0,
    Float64Array: 0,
  });
});

test("the agent's frames are made over an ArrayBuffer taken at load, not a replaced global", () => {
  const handed: unknown[] = [];
  const RealBuffer = ArrayBuffer;
  class Recorder extends RealBuffer {
    constructor(length: number) {
      super(length);
      handed.push(this);
    }
  }
  definedWhile(globalThis, "ArrayBuffer", {
    value: Recorder,
    writable: true,
  }, () => {
    secretBytes(32);
  });
  assert.equal(handed.length, 0, "the replacement made a frame's buffer");
});

test("a replaced typed-array length getter drops no entry of the open ranges' free stack", () => {
  const stack = entryStack();
  const TYPED = Object.getPrototypeOf(Int32Array.prototype) as object;
  definedWhile(TYPED, "length", {
    get: () => 1 << 30,
  }, () => {
    for (let entry = 0; entry < 200; entry++) pushEntry(stack, entry);
  });
  const popped: number[] = [];
  for (let entry = popEntry(stack); entry >= 0; entry = popEntry(stack)) {
    popped.push(entry);
  }
  assert.equal(popped.length, 200);
});
