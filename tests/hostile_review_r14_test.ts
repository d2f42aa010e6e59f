/**
 * Review R14: the agent, the keys and the prompt under built-ins replaced
 * after import.
 *
 * @module
 */

import assert from "node:assert/strict";
import process from "node:process";
import { spawn } from "node:child_process";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { connectAgent, decryptToSecret, startAgent } from "../agent.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { holds, which } from "./_forensics.ts";
import { scratch } from "./agent_support.ts";
import { childScript, runChild } from "./_child.ts";
import { definedWhile, replacedWhile } from "./_replaced.ts";
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

// A peer that sends REQUEST_IDENTITIES and says whether it was answered.
const PEER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
try:
    s.sendall(b"\\0\\0\\0\\x01\\x0b")
    data = s.recv(4096)
except (ConnectionResetError, BrokenPipeError):
    data = b""
print("answered" if data else "closed")
`;

/** The peer run as uid 65534, the agent's event loop left free. */
function peerAsNobody(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("setpriv", [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      "/usr/bin/python3",
      "-c",
      PEER,
      socket,
    ]);
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => out += chunk);
    child.stderr.on("data", (chunk) => err += chunk);
    child.on("error", reject);
    child.on("close", () => resolve(out.trim() || `no answer: ${err}`));
  });
}

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
  {
    skip: linuxOnly ||
      (ownUid !== 0 ? "needs root to connect as another uid" : false) ||
      (which("setpriv") ? false : "needs setpriv"),
  },
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
    const realThen = Promise.prototype.then;
    const realConstructor = Object.getOwnPropertyDescriptor(
      Promise.prototype,
      "constructor",
    )!;
    Object.defineProperty(Promise.prototype, "constructor", {
      configurable: true,
      writable: true,
      value: function Other() {},
    });
    // Copies, at once, the bytes of any view it is handed in a result.
    Promise.prototype.then = function (
      this: Promise<unknown>,
      ok?: ((value: unknown) => unknown) | null,
      no?: ((reason: unknown) => unknown) | null,
    ) {
      return Reflect.apply(realThen, this, [(result: unknown) => {
        const value = (result as { value?: unknown } | null)?.value;
        if (value instanceof Uint8Array) {
          const bytes: number[] = [];
          for (let i = 0; i < value.byteLength; i++) bytes[i] = value[i];
          seen[seen.length] = bytes;
        }
        return typeof ok === "function" ? ok(result) : result;
      }, no]);
    } as typeof realThen;
    let read: SecretBuffer | undefined;
    try {
      read = await SecretBuffer.fromStream(stream);
    } finally {
      Promise.prototype.then = realThen;
      Object.defineProperty(Promise.prototype, "constructor", realConstructor);
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
