/**
 * Review R5: the keys, age and agent entries against callers and peers that
 * lie. Each test states the claim it checks; each was first seen to fail
 * (or to hold) against the code it names.
 *
 * @module
 */

import assert from "node:assert/strict";
import { createConnection, createServer, type Socket } from "node:net";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "./_harness.ts";
import { os } from "./_platform.ts";
import { assertRejectsCode, assertThrowsCode } from "./_error_code.ts";
import { SecretBuffer } from "../mod.ts";
import {
  Ed25519Key,
  ed25519Verify,
  formatSshPublicKey,
  parseSshPublicKey,
  sshSign,
  X25519Key,
} from "../keys.ts";
import { ageDecrypt, ageEncrypt } from "../age.ts";
import { connectAgent, startAgent } from "../agent.ts";
import { FrameReader, FrameWriter, MSG } from "../src/agent/_protocol.ts";

const linuxOnly = os === "linux" ? false : "the agent runs on Linux";

/** Sends one request body on a fresh raw connection; the reply's body. */
function exchange(path: string, body: Uint8Array): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const socket: Socket = createConnection(path);
    const frames = new FrameReader();
    socket.on("data", (chunk: Uint8Array) => {
      frames.push(chunk, (reply) => {
        resolve(reply.slice());
        socket.destroy();
      });
    });
    socket.on("error", reject);
    socket.on("close", () => reject(new Error("closed without a reply")));
    const framed = new Uint8Array(body.length + 4);
    new DataView(framed.buffer).setUint32(0, body.length);
    framed.set(body, 4);
    socket.write(framed);
  });
}

/**
 * Starts an agent and closes it at once: a start that should have been
 * refused leaves nothing running.
 */
async function started(options: Parameters<typeof startAgent>[0]) {
  const agent = await startAgent(options);
  await agent.close();
}

const bodyOf = (w: FrameWriter): Uint8Array => w.frame().slice(4);

test(
  "agent client: data whose own length lies, or a duck-typed object, is refused or signed as its real bytes, never as something else",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      const blob = await client.generateKey("r5");
      const publicKey = blob.subarray(blob.length - 32);
      // A look-alike with a length and no bytes: before the fix the agent
      // signed four zero bytes the caller never gave.
      await assertRejectsCode(
        () => client.sign(blob, { length: 4 } as unknown as Uint8Array),
        "INVALID_ARGUMENT",
      );
      // A real array whose own `length` says 2: what is signed must be
      // its 6 real bytes (the intrinsic length), not a prefix.
      const data = new TextEncoder().encode("abcdef");
      Object.defineProperty(data, "length", { value: 2 });
      const signature = await client.sign(blob, data);
      assert.ok(
        ed25519Verify(publicKey, new TextEncoder().encode("abcdef"), signature),
        "the signature covers the bytes the array holds",
      );
      // The same for an HMAC's data.
      await client.generateSecret("h");
      await assertRejectsCode(
        () => client.hmac("h", { length: 8 } as unknown as Uint8Array),
        "INVALID_ARGUMENT",
      );
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "agent client: a size or lifetime beyond uint32 is refused, not wrapped (2^32 + 16 bytes is not 16, 2^32 s is not forever)",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      await assertRejectsCode(
        () => client.generateSecret("big", 2 ** 32 + 16),
        "INVALID_ARGUMENT",
      );
      await assertRejectsCode(
        () => client.generateSecret("neg", 32, -1),
        "INVALID_ARGUMENT",
      );
      await assertRejectsCode(
        () => client.generateKey("k", 2 ** 32),
        "INVALID_ARGUMENT",
      );
      await assertRejectsCode(
        () => client.generateSecret("frac", 32.5),
        "INVALID_ARGUMENT",
      );
      assert.deepEqual(await client.secrets(), [], "nothing was made");
      assert.deepEqual(await client.list(), [], "no key was made");
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "agent: ADD_ID_CONSTRAINED with a lifetime of 0 does not hold the key past the agent's -t default (OpenSSH expires it at once)",
  async () => {
    const agent = await startAgent({ harden: false, lifetime: 600 });
    const client = await connectAgent(agent.socketPath);
    try {
      using seed = SecretBuffer.random(32);
      using key = Ed25519Key.fromSeed(seed);
      const secret = new Uint8Array(64);
      seed.read((s) => secret.set(s));
      secret.set(key.publicKey, 32);
      const reply = await exchange(
        agent.socketPath,
        bodyOf(
          new FrameWriter(MSG.ADD_ID_CONSTRAINED).string("ssh-ed25519")
            .string(key.publicKey).string(secret).string("zero")
            .byte(1).uint32(0),
        ),
      );
      // Two lifetimes: which one would hold? Refused.
      const twice = await exchange(
        agent.socketPath,
        bodyOf(
          new FrameWriter(MSG.ADD_ID_CONSTRAINED).string("ssh-ed25519")
            .string(key.publicKey).string(secret).string("twice")
            .byte(1).uint32(60).byte(1).uint32(7200),
        ),
      );
      assert.equal(twice[0], MSG.FAILURE, "two lifetime constraints");
      secret.fill(0);
      // Either refused, or accepted and gone at once: never held forever.
      assert.ok(
        reply[0] === MSG.FAILURE || reply[0] === MSG.SUCCESS,
        `reply ${reply[0]}`,
      );
      assert.deepEqual(
        (await client.list()).map((k) => k.comment),
        [],
        "the key is not held",
      );
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "agent client: a peer that answers with garbage gets a SecretMemoryError (INPUT_ERROR), never a RangeError",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "r5-"));
    const path = join(dir, "fake.sock");
    // A fake agent: claims 1000 identities, then ends the frame.
    const replies = [
      bodyOf(new FrameWriter(MSG.IDENTITIES_ANSWER).uint32(1000)),
      bodyOf(new FrameWriter(MSG.SIGN_RESPONSE).uint32(99)),
      bodyOf(new FrameWriter(MSG.SUCCESS).uint32(5)),
    ];
    let next = 0;
    const server = createServer((socket) => {
      socket.on("data", () => {
        const body = replies[next++ % replies.length];
        const framed = new Uint8Array(body.length + 4);
        new DataView(framed.buffer).setUint32(0, body.length);
        framed.set(body, 4);
        socket.write(framed);
      });
    });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    const client = await connectAgent(path);
    try {
      await assertRejectsCode(() => client.list(), "INPUT_ERROR");
      await assertRejectsCode(
        () => client.sign(new Uint8Array(4), new Uint8Array(1)),
        "INPUT_ERROR",
      );
      await assertRejectsCode(() => client.secrets(), "INPUT_ERROR");
      // A key file cut inside its fields is the caller's bad argument.
      const cut = new TextEncoder().encode(
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n-----END OPENSSH PRIVATE KEY-----\n",
      );
      await assertRejectsCode(() => client.add(cut), "INVALID_ARGUMENT");
    } finally {
      client.close();
      await new Promise((resolve) => server.close(resolve));
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { skip: linuxOnly },
);

test(
  "sshSign: a look-alike key or a non-key gets INVALID_ARGUMENT, and the look-alike's methods never run",
  () => {
    using real = Ed25519Key.generate();
    let ran = 0;
    const lookalike = Object.create(Ed25519Key.prototype, {
      sign: { value: () => (ran++, new Uint8Array(64)) },
      publicKey: { get: () => (ran++, real.publicKey) },
    });
    assertThrowsCode(
      () => sshSign(lookalike, new Uint8Array(1), "file"),
      "INVALID_ARGUMENT",
    );
    assert.equal(ran, 0, "the look-alike's code ran inside sshSign");
    assertThrowsCode(
      () => sshSign(null as unknown as Ed25519Key, new Uint8Array(1), "file"),
      "INVALID_ARGUMENT",
    );
    assertThrowsCode(
      () => sshSign({} as unknown as Ed25519Key, new Uint8Array(1), "file"),
      "INVALID_ARGUMENT",
    );
  },
);

test(
  "ageDecrypt: an armored file whose own length or slice lies is read by its real bytes",
  () => {
    using identity = X25519Key.generate();
    const plain = new TextEncoder().encode("armored r5");
    const file = ageEncrypt(plain, {
      recipients: [identity.ageRecipient],
      armor: true,
    });
    const lying = file.slice();
    // A few bytes past the end: before the fix, the armor reader walked to
    // this length (at 2^28 Deno died of heap exhaustion after 80 s).
    Object.defineProperty(lying, "length", { value: file.length + 64 });
    Object.defineProperty(lying, "slice", {
      value: () => new Uint8Array(0),
    });
    using out = ageDecrypt(lying, { identities: [identity] });
    out.read((bytes) => assert.deepEqual([...bytes], [...plain]));
    const binary = ageEncrypt(plain, { recipients: [identity.ageRecipient] });
    const lyingBinary = binary.slice();
    Object.defineProperty(lyingBinary, "slice", {
      value: () => new Uint8Array(0),
    });
    using again = ageDecrypt(lyingBinary, { identities: [identity] });
    again.read((bytes) => assert.deepEqual([...bytes], [...plain]));
  },
);

test(
  "agent: a name with a leading byte-order mark is its own name, not an alias of the name without it",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      await client.generateSecret("x");
      // Raw bytes EF BB BF 78 ("\uFEFFx"): remove-secret of it must not
      // remove "x".
      const name = new Uint8Array([0xef, 0xbb, 0xbf, 0x78]);
      await exchange(
        agent.socketPath,
        bodyOf(
          new FrameWriter(MSG.EXTENSION).string("remove-secret@secmem")
            .string(name),
        ),
      );
      assert.deepEqual(
        (await client.secrets()).map((s) => s.name),
        ["x"],
        "removing \\uFEFFx removed x",
      );
      // Through the client, it is a name of its own too.
      await client.generateSecret("\uFEFFx");
      assert.deepEqual(
        (await client.secrets()).map((s) => s.name).sort(),
        ["x", "\uFEFFx"].sort(),
      );
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "formatSshPublicKey: a key array whose own slice lies is formatted by its real bytes",
  () => {
    using key = Ed25519Key.generate();
    const publicKey = key.publicKey;
    const lying = publicKey.slice();
    Object.defineProperty(lying, "slice", {
      value: () => new Uint8Array(32).fill(7),
    });
    assert.equal(formatSshPublicKey(lying), formatSshPublicKey(publicKey));
    assert.deepEqual(
      [...parseSshPublicKey(formatSshPublicKey(lying))],
      [...publicKey],
    );
  },
);

test(
  "agent: a socket path under a directory other users can write is refused before the socket exists (they could replace it and pose as the agent)",
  async () => {
    const dir = mkdtempSync(join(tmpdir(), "r5-open-"));
    try {
      chmodSync(dir, 0o777); // world-writable, not sticky
      const inOpen = join(dir, "agent.sock");
      await assertRejectsCode(
        () => startAgent({ harden: false, socket: inOpen }),
        "INVALID_ARGUMENT",
      );
      assert.equal(existsSync(inOpen), false, "a socket was left behind");
      // A private directory inside the open one: the open one can still
      // rename it away.
      const inner = join(dir, "mine");
      mkdirSync(inner, { mode: 0o700 });
      await assertRejectsCode(
        () => startAgent({ harden: false, socket: join(inner, "a.sock") }),
        "INVALID_ARGUMENT",
      );
      // Group-writable is as open.
      chmodSync(dir, 0o770);
      await assertRejectsCode(
        () => startAgent({ harden: false, socket: inOpen }),
        "INVALID_ARGUMENT",
      );
      // Private (or sticky, like /tmp itself above it): accepted.
      chmodSync(dir, 0o700);
      const agent = await startAgent({ harden: false, socket: inOpen });
      await agent.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  { skip: linuxOnly },
);

test(
  "formatSshPublicKey: a comment with a line break (a second authorized_keys line) or that is not a string is refused",
  () => {
    using key = Ed25519Key.generate();
    const publicKey = key.publicKey;
    for (
      const comment of [
        "me\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOtherKey evil@host",
        "me\r\nx",
        "tab\tok?\u0000",
        null,
        42,
        Symbol("c"),
        new Proxy(new Uint8Array(1), {}),
      ]
    ) {
      assertThrowsCode(
        () => formatSshPublicKey(publicKey, comment as unknown as string),
        "INVALID_ARGUMENT",
        String(
          typeof comment === "string"
            ? JSON.stringify(comment)
            : typeof comment,
        ),
      );
    }
    // What ssh-keygen writes still goes through.
    assert.ok(
      formatSshPublicKey(publicKey, "me@host (laptop)").endsWith(
        " me@host (laptop)",
      ),
    );
  },
);

test(
  "ageEncrypt: a work factor that is a Proxy, a detached array or a Symbol gets INVALID_ARGUMENT, not a TypeError from the message",
  () => {
    using passphrase = SecretBuffer.fromText("r5");
    const detached = new Uint8Array(4);
    structuredClone(detached.buffer, { transfer: [detached.buffer] });
    for (
      const workFactor of [
        new Proxy(new Uint8Array(1), {}),
        detached,
        Symbol("w"),
        {
          toString: () => {
            throw new Error("ran");
          },
        },
      ]
    ) {
      assertThrowsCode(
        () =>
          ageEncrypt(new Uint8Array(1), {
            passphrase,
            workFactor: workFactor as unknown as number,
          }),
        "INVALID_ARGUMENT",
      );
    }
  },
);

test(
  'startAgent and the Agent\'s methods: options and arguments of the wrong type or range get INVALID_ARGUMENT (no path "null" in the cwd, no TypeError from a message, no 1-byte HMAC key)',
  async () => {
    const hostile: unknown[] = [
      null,
      -1,
      Symbol("s"),
      new Proxy(new Uint8Array(1), {}),
      {
        toString: () => {
          throw new Error("ran");
        },
      },
    ];
    for (const value of hostile) {
      const what = typeof value;
      await assertRejectsCode(
        () => started({ harden: false, socket: value as string }),
        "INVALID_ARGUMENT",
        `socket ${what}`,
      );
      await assertRejectsCode(
        () => started({ harden: false, lifetime: value as number }),
        "INVALID_ARGUMENT",
        `lifetime ${what}`,
      );
      await assertRejectsCode(
        () => started({ harden: false, maxConnections: value as number }),
        "INVALID_ARGUMENT",
        `maxConnections ${what}`,
      );
    }
    assert.equal(existsSync("null"), false, "a socket named null in the cwd");
    await assertRejectsCode(
      () => started({ harden: false, maxConnections: 0 }),
      "INVALID_ARGUMENT",
      "maxConnections 0",
    );
    const agent = await startAgent({ harden: false });
    try {
      for (const value of hostile) {
        const what = typeof value;
        assertThrowsCode(
          () => agent.generateKey(value as string),
          "INVALID_ARGUMENT",
          `comment ${what}`,
        );
        assertThrowsCode(
          () => agent.generateKey("c", value as number),
          "INVALID_ARGUMENT",
          `lifetime ${what}`,
        );
      }
      // The sizes the add-secret extension takes, 16 to 64 bytes.
      for (const size of [1, 15, 65, 4096]) {
        const key = SecretBuffer.random(size);
        assertThrowsCode(
          () => agent.addSecret("s", key),
          "INVALID_ARGUMENT",
          `${size}-byte secret`,
        );
        key.destroy();
      }
      const client = await connectAgent(agent.socketPath);
      try {
        assert.deepEqual(await client.secrets(), []);
        assert.deepEqual(await client.list(), []);
      } finally {
        client.close();
      }
    } finally {
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "agent client: list()'s publicKey line holds one line, whatever comment another client of the agent gave the key",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      using seed = SecretBuffer.random(32);
      using key = Ed25519Key.fromSeed(seed);
      const secret = new Uint8Array(64);
      seed.read((s) => secret.set(s));
      secret.set(key.publicKey, 32);
      const comment = "c\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOther evil";
      const reply = await exchange(
        agent.socketPath,
        bodyOf(
          new FrameWriter(MSG.ADD_IDENTITY).string("ssh-ed25519")
            .string(key.publicKey).string(secret).string(comment),
        ),
      );
      secret.fill(0);
      assert.equal(reply[0], MSG.SUCCESS);
      const [listed] = await client.list();
      assert.equal(listed.comment, comment, "the comment itself, as held");
      assert.ok(
        !/[\r\n]/.test(listed.publicKey),
        `a line break in ${JSON.stringify(listed.publicKey)}`,
      );
      assert.ok(listed.publicKey.startsWith(formatSshPublicKey(key.publicKey)));
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);
