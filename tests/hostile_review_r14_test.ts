/**
 * Review R14: the agent, the keys and the prompt under built-ins replaced
 * after import.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { startAgent } from "../agent.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import {
  assertRepliesUnseen,
  nobodyPeerSkip,
  peerAsNobody,
  scratch,
} from "./agent_support.ts";
import { childScript, runChild } from "./_child.ts";
import { definedWhile, replacedWhile, spyOnAwaits } from "./_replaced.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import {
  Ed25519Key,
  formatSshPublicKey,
  sshSign,
  sshVerify,
  X25519Key,
} from "../keys.ts";
import { SecretBuffer } from "../mod.ts";
import { ed25519Blob, Keyring } from "../src/agent/_keys.ts";
import { ed25519PublicKey as publicOf } from "../src/keys/_ed25519.ts";

test(
  "AgentClient decrypt, decryptToSecret and hmac under a constructor and a then replaced on Promise.prototype: no reply holding the plaintext or the MAC is handed to them",
  () =>
    assertRepliesUnseen(
      (note) =>
        spyOnAwaits((value) => {
          if (value instanceof Uint8Array) note(value);
        }),
      "a replaced Promise.prototype.then",
    ),
  { skip: linuxOnly },
);

test(
  "the agent's keyring under a length getter replaced on %TypedArray%.prototype: a sign request for a key not held is refused, not answered by another key",
  () => {
    const keys = new Keyring(() => 0, () => () => {});
    try {
      using other = SecretBuffer.random(32);
      const publicKey = new Uint8Array(32);
      other.read((seed) => publicOf(publicKey, seed));
      const notHeld = ed25519Blob(publicKey);
      const typed = Object.getPrototypeOf(Uint8Array.prototype);
      const real = Object.getOwnPropertyDescriptor(typed, "length")!.get!;
      // Every ssh-ed25519 blob (51 bytes, "ssh-ed25519" at 4) claims to be
      // empty: as ids in the keyring's map, all of them were "".
      const blobLength = function (this: Uint8Array) {
        const length = Reflect.apply(real, this, []) as number;
        return length === 51 && this[4] === 0x73 && this[14] === 0x39
          ? 0
          : length;
      };
      const signature = definedWhile(
        typed,
        "length",
        { get: blobLength },
        () => {
          // In place before the key was added, as it is for the agent's
          // whole run once planted.
          keys.addKey(SecretBuffer.random(32), "held", 0);
          return keys.sign(notHeld, new Uint8Array([1, 2, 3]));
        },
      );
      assert.equal(
        signature,
        undefined,
        "a key not held was answered with the signature of another",
      );
      assert.equal(keys.keys().length, 1);
    } finally {
      keys.clear();
    }
  },
);

const ownUid = process.getuid?.() ?? -1;

test(
  "a peer of another uid is refused when Function.prototype.bind was replaced before startAgent: the peer check is not one the replacement made",
  async () => {
    const { dir, done } = scratch();
    chmodSync(dir, 0o755);
    const socket = join(dir, "bound.sock");
    const bind = Function.prototype.bind;
    // Binds as the built-in does, except the native layer's unixPeer,
    // which it answers with the agent's own uid and socket path.
    Function.prototype.bind = function (
      this: (...args: unknown[]) => unknown,
      ...args: unknown[]
    ) {
      if (this.name === "unixPeer") {
        return () => ({ pid: 1, uid: ownUid, gid: 0, path: socket });
      }
      return Reflect.apply(bind, this, args);
    } as typeof bind;
    let agent;
    try {
      agent = await startAgent({ harden: false, socket });
    } finally {
      Function.prototype.bind = bind;
    }
    try {
      // Anyone may reach the socket: only the peer check is left.
      chmodSync(socket, 0o777);
      assert.equal(
        await peerAsNobody(socket),
        "closed",
        "another uid was answered",
      );
    } finally {
      await agent.close();
      done();
    }
  },
  { skip: nobodyPeerSkip },
);

test(
  "sshVerify under a subarray replaced on %TypedArray%.prototype: a signature by another key is not accepted as the key line's",
  () => {
    using trusted = Ed25519Key.generate();
    using other = Ed25519Key.generate();
    const message = new Uint8Array([7, 7, 7]);
    const line = formatSshPublicKey(trusted.publicKey);
    // Signed by the other key: must not verify for the trusted one's line.
    const signature = sshSign(other, message, "file");
    assert.equal(sshVerify(line, message, "file", signature), false);
    const trustedKey = trusted.publicKey;
    const otherKey = other.publicKey;
    const subarray = Uint8Array.prototype.subarray;
    const typed = Object.getPrototypeOf(Uint8Array.prototype);
    // The decoded key line's blob, cut to size, answered with a blob of
    // the other key: the key the signature is checked against.
    const cut = function (
      this: Uint8Array,
      start?: number,
      end?: number,
    ): Uint8Array {
      const view = Reflect.apply(subarray, this, [start, end]) as Uint8Array;
      let trustedBlob = view.byteLength === 51;
      for (let i = 0; i < 32 && trustedBlob; i++) {
        trustedBlob = view[19 + i] === trustedKey[i];
      }
      if (!trustedBlob) return view;
      const swapped = Uint8Array.from(view);
      for (let i = 0; i < 32; i++) swapped[19 + i] = otherKey[i];
      return swapped;
    };
    const verdict = replacedWhile(
      typed,
      "subarray",
      cut,
      () => sshVerify(line, message, "file", signature),
    );
    assert.equal(verdict, false, "another key's signature was accepted");
  },
);

test(
  "ageEncrypt under a charCodeAt replaced on String.prototype: the file is encrypted to the recipient given, not to one the replacement names",
  () => {
    using meant = X25519Key.generate();
    using other = X25519Key.generate();
    const given = meant.ageRecipient;
    const swapped = other.ageRecipient;
    const charCodeAt = String.prototype.charCodeAt;
    // The recipient string given answers the other recipient's characters
    // (same length, checksum and all).
    const answer = function (this: string, at: number): number {
      const text = `${this}`;
      return Reflect.apply(charCodeAt, text === given ? swapped : text, [at]);
    };
    const file = replacedWhile(
      String.prototype,
      "charCodeAt",
      answer,
      () => ageEncrypt(new Uint8Array([1, 2, 3]), { recipients: [given] }),
    );
    assert.throws(
      () => ageDecrypt(file, { identities: [other] }).destroy(),
      "the file was encrypted to the replacement's recipient",
    );
    ageDecrypt(file, { identities: [meant] }).destroy();
  },
);

test(
  "promptSecret under a constructor and a then replaced on Promise.prototype: no byte typed is handed to them",
  () => {
    const result = runChild(childScript("r14_prompt.ts"), [], {
      input: "hunter2\n",
    });
    assert.equal(result.status, 0, result.stderr);
    const answer = JSON.parse(result.stdout) as { size: number; seen: string };
    assert.equal(answer.size, 7, "the prompt read another line");
    assert(
      !answer.seen.includes("hunter"),
      `the typed bytes were handed to a replaced then: ${answer.seen}`,
    );
  },
  { skip: linuxOnly },
);

test(
  "SecretBuffer.fromStream under a constructor and a then replaced on Promise.prototype: no read's bytes are handed to them",
  async () => {
    const secret = [0x73, 0x33, 0x63, 0x72, 0x33, 0x74];
    const stream = new ReadableStream({
      type: "bytes",
      pull(controller) {
        const request = controller.byobRequest!;
        const view = request.view as Uint8Array;
        for (let i = 0; i < secret.length; i++) view[i] = secret[i];
        request.respond(secret.length);
        controller.close();
      },
    });
    const seen: number[][] = [];
    // Copies, at once, the bytes of any view it is handed in a result.
    const restore = spyOnAwaits((result) => {
      const value = (result as { value?: unknown } | null)?.value;
      if (value instanceof Uint8Array) {
        const bytes: number[] = [];
        for (let i = 0; i < value.byteLength; i++) bytes[i] = value[i];
        seen[seen.length] = bytes;
      }
    });
    let read: SecretBuffer | undefined;
    try {
      read = await SecretBuffer.fromStream(stream);
    } finally {
      restore();
    }
    try {
      assert(read.equals(new Uint8Array(secret)), "the stream read wrong");
      const leaked = seen.filter((bytes) =>
        bytes.length === secret.length && bytes[0] === secret[0] &&
        bytes[5] === secret[5]
      );
      assert.equal(leaked.length, 0, "a read's bytes were handed to then");
    } finally {
      read.destroy();
    }
  },
  {
    // Node's own web streams resolve a BYOB read's promise with another
    // promise, which calls the replaced then inside the runtime, where
    // secmem's awaits do not reach (left, see review R14's report).
    skip: linuxOnly ||
      (runtime === "node"
        ? "Node's web streams call then inside the runtime"
        : false),
  },
);
