/**
 * Review R11: the agent's expiry timer and other call-time built-ins left
 * on secret paths after review R10.
 *
 * @module
 */

import assert from "node:assert/strict";
import { connectAgent, startAgent } from "../agent.ts";
import {
  Ed25519Key,
  formatSshPublicKey,
  sshSign,
  sshVerify,
  X25519Key,
} from "../keys.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { assertExpiresUnder } from "./agent_support.ts";
import { replacedWhile } from "./_replaced.ts";

// Bun's and Node's timers are objects whose unref sits on a prototype any
// module can reach; Deno's are numbers, unref'd by Deno.unrefTimer.
const probe: unknown = setTimeout(() => {}, 0);
clearTimeout(probe as number);
const timerProto = typeof probe === "object" && probe !== null
  ? Object.getPrototypeOf(probe) as { unref(): unknown }
  : undefined;

test(
  "a secret with a lifetime is destroyed on time, with no request, while the timers' unref is replaced by one that cancels the timer",
  () =>
    assertExpiresUnder(() => {
      const proto = timerProto!;
      const unref = proto.unref;
      // An unref that cancels the timer it is asked to unref: the expiry
      // timer never fired, and the secret stayed until the next request.
      proto.unref = function (this: unknown) {
        clearTimeout(this as number);
        return this;
      };
      return () => {
        proto.unref = unref;
      };
    }),
  {
    skip: linuxOnly ||
      (timerProto === undefined ? "timers are numbers here" : false),
  },
);

const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as {
  set(source: ArrayLike<number>, offset?: number): void;
};

test(
  "sshSign under a typed array set replaced after import: the key signs the caller's message, not bytes of the replacement's choosing",
  () => {
    using key = Ed25519Key.generate();
    const message = new TextEncoder().encode("pay 10 to alice");
    const line = formatSshPublicKey(key.publicKey);
    const set = TypedArrayPrototype.set;
    // The replacement copies as asked, then fills the 64-byte digest's
    // place with its own: the blob the key signs is the replacement's.
    const signature = replacedWhile(
      TypedArrayPrototype,
      "set",
      function (
        this: Uint8Array,
        source: ArrayLike<number>,
        offset?: number,
      ) {
        Reflect.apply(set, this, [source, offset]);
        if (source.length === 64 && this.length > 64) {
          this.fill(0x41, offset, (offset ?? 0) + 64);
        }
      },
      () => sshSign(key, message, "file"),
    );
    assert.equal(
      sshVerify(line, message, "file", signature),
      true,
      "the signature is not over the caller's message",
    );
  },
);

test(
  "sshSign under String.prototype.charCodeAt replaced after import: the signed namespace is the caller's",
  () => {
    using key = Ed25519Key.generate();
    const message = new TextEncoder().encode("pay 10 to alice");
    const line = formatSshPublicKey(key.publicKey);
    const charCodeAt = String.prototype.charCodeAt;
    // "file" read as "git\x7f"'s bytes would be signed: a signature the
    // caller made for one namespace would verify in another.
    const signature = replacedWhile(
      String.prototype,
      "charCodeAt",
      function (this: string, i: number) {
        return this === "file"
          ? [0x67, 0x69, 0x74, 0x21][i]
          : Reflect.apply(charCodeAt, this, [i]);
      },
      () => sshSign(key, message, "file"),
    );
    assert.equal(
      sshVerify(line, message, "file", signature),
      true,
      "the signature is not for the caller's namespace",
    );
  },
);

test(
  "the agent reads a secret's name by the decoder taken at load: a TextDecoder decode replaced after import cannot choose another secret for an HMAC",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    const decode = TextDecoder.prototype.decode;
    try {
      await client.generateSecret("a");
      await client.generateSecret("b");
      const data = new Uint8Array([1, 2, 3]);
      const expected = await client.hmac("b", data);
      // The request leaves before the call's first await; the agent reads
      // it later, while the replacement answers "a" for the bytes of "b".
      const pending = client.hmac("b", data);
      // Writable but not configurable under Bun: assigned.
      TextDecoder.prototype.decode = function (
        this: TextDecoder,
        ...args: unknown[]
      ) {
        const text = Reflect.apply(decode, this, args) as string;
        return text === "b" ? "a" : text;
      };
      let mac: Uint8Array;
      try {
        mac = await pending;
      } finally {
        TextDecoder.prototype.decode = decode;
      }
      assert.deepEqual(mac, expected, "the HMAC is under another secret");
    } finally {
      TextDecoder.prototype.decode = decode;
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "sshVerify under String.prototype.split replaced after import: a signature by another key is not accepted for the trusted key line",
  () => {
    using trusted = Ed25519Key.generate();
    using theirs = Ed25519Key.generate();
    const message = new TextEncoder().encode("pay 10 to mallory");
    const line = formatSshPublicKey(trusted.publicKey);
    const theirLine = formatSshPublicKey(theirs.publicKey);
    const forged = sshSign(theirs, message, "file");
    const split = String.prototype.split;
    // The replacement answers the attacker's key for the trusted line.
    const answer = replacedWhile(
      String.prototype,
      "split",
      function (this: string, ...args: unknown[]) {
        const text = this === line ? theirLine : this;
        return Reflect.apply(split, text, args);
      },
      () => sshVerify(line, message, "file", forged),
    );
    assert.equal(answer, false, "another key's signature was accepted");
  },
);

test(
  "sshVerify under Array.prototype[Symbol.iterator] replaced after import: the hash algorithm checked is the signature's own",
  () => {
    using key = Ed25519Key.generate();
    const message = new TextEncoder().encode("pay 10 to alice");
    const line = formatSshPublicKey(key.publicKey);
    const signature = sshSign(key, message, "file");
    const iterator = Array.prototype[Symbol.iterator];
    // The replacement chooses the algorithm pair sshVerify destructures
    // (here only its name; a look-alike algorithm object, whose digest is
    // the replacement's, would let a signature over one message verify
    // for another).
    const answer = replacedWhile(
      Array.prototype,
      Symbol.iterator,
      function (this: unknown[]) {
        const items = this.length === 2 && this[1] === "sha512"
          ? [this[0], "sha256"]
          : this;
        return Reflect.apply(iterator, items, []);
      },
      () => sshVerify(line, message, "file", signature),
    );
    assert.equal(answer, true, "the signature was checked as another's");
  },
);

test(
  "ageEncrypt under String.prototype.slice replaced after import: the header holds the shares age made, and the file opens",
  () => {
    using identity = X25519Key.generate();
    const plaintext = new Uint8Array([1, 2, 3, 4]);
    const slice = String.prototype.slice;
    // The replacement changes the first character of each header line it
    // is asked to cut: another share, and no one could open the file.
    const file = replacedWhile(
      String.prototype,
      "slice",
      function (this: string, ...args: unknown[]) {
        const part = Reflect.apply(slice, this, args) as string;
        return part.length > 0 && part[0] !== "A"
          ? "A" + Reflect.apply(slice, part, [1])
          : part;
      },
      () => ageEncrypt(plaintext, { recipients: [identity.ageRecipient] }),
    );
    using opened = ageDecrypt(file, { identities: [identity] });
    assert(opened.equals(plaintext), "the file opened wrong");
  },
);
