/**
 * The agent under malformed input: 10,000 cases over the framing and
 * every message type (mutated, truncated, extended, oversized, split into
 * pieces), while a well-behaved client keeps signing. The agent must
 * answer every well-framed request with one reply, close a stream whose
 * framing is beyond repair, never crash or hang, and hold no more guarded
 * memory afterwards than before.
 */

import assert from "node:assert/strict";
import { createConnection, type Socket } from "node:net";
import { test } from "./_harness.ts";
import { os } from "./_platform.ts";
import { say } from "./_forensics.ts";
import { connectAgent, startAgent } from "../agent.ts";
import { stats } from "../mod.ts";
import { ed25519Verify } from "../src/keys/_ed25519.ts";
import { EXT, FrameReader, FrameWriter, MSG } from "../src/agent/_protocol.ts";

const linuxOnly = os === "linux" ? false : "the agent runs on Linux";

/** xorshift32: the same cases every run. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function templates(blob: Uint8Array): Uint8Array[] {
  const body = (w: FrameWriter) => w.frame().slice(4);
  const ext = (name: string) => new FrameWriter(MSG.EXTENSION).string(name);
  const pub = new Uint8Array(32).fill(3);
  const seed = new Uint8Array(64).fill(5);
  const other = blob.slice();
  // Far from the good key (16 bytes apart), so no few flips make a
  // removal of the other client's key out of it.
  for (let i = other.length - 16; i < other.length; i++) other[i] ^= 0xff;
  return [
    body(new FrameWriter(MSG.REQUEST_IDENTITIES)),
    body(
      new FrameWriter(MSG.SIGN_REQUEST).string(blob).string("data").uint32(0),
    ),
    body(new FrameWriter(MSG.SIGN_REQUEST).string(other).string("x").uint32(4)),
    body(
      new FrameWriter(MSG.ADD_IDENTITY).string("ssh-ed25519").string(pub)
        .string(seed).string("c"),
    ),
    body(
      new FrameWriter(MSG.ADD_ID_CONSTRAINED).string("ssh-ed25519").string(pub)
        .string(seed).string("c").byte(1).uint32(60),
    ),
    body(
      new FrameWriter(MSG.ADD_ID_CONSTRAINED).string("ssh-rsa").string(pub)
        .string(seed).string("c").byte(2),
    ),
    body(new FrameWriter(MSG.REMOVE_IDENTITY).string(other)),
    body(new FrameWriter(MSG.UNLOCK).string("nothing")),
    body(new FrameWriter(9)),
    body(new FrameWriter(20).string("pkcs11").string("pin")),
    body(ext(EXT.QUERY)),
    body(ext(EXT.ADD_SECRET).string("f").string(new Uint8Array(32)).uint32(0)),
    body(ext(EXT.GENERATE_SECRET).string("g").uint32(32).uint32(0)),
    body(ext(EXT.REMOVE_SECRET).string("g")),
    body(ext(EXT.LIST_SECRETS)),
    body(ext(EXT.GENERATE_KEY).string("fuzz").uint32(0)),
    body(ext(EXT.HMAC).string("s").string("SHA-256").string("data")),
    body(ext(EXT.ENCRYPT).string("s").string("plain").string("")),
    body(ext(EXT.DECRYPT).string("s").string(new Uint8Array(60)).string("")),
    body(ext("session-bind@openssh.com").string("x")),
  ];
}

/** One case: a body mutated from a template (or random), well framed. */
function mutate(rand: (n: number) => number, bases: Uint8Array[]): Uint8Array {
  const base = bases[rand(bases.length)];
  let body = base.slice();
  switch (rand(6)) {
    case 0: // truncate
      body = body.slice(0, 1 + rand(body.length));
      break;
    case 1: // flip bytes
      for (let i = rand(4) + 1; i > 0; i--) {
        body[rand(body.length)] ^= 1 << rand(8);
      }
      break;
    case 2: { // extend with junk
      const more = new Uint8Array(rand(64));
      for (let i = 0; i < more.length; i++) more[i] = rand(256);
      body = new Uint8Array([...body, ...more]);
      break;
    }
    case 3: { // a length field set huge
      if (body.length > 5) {
        const at = 1 + rand(body.length - 4);
        body[at] = 0xff;
      }
      break;
    }
    case 4: { // random type, random contents
      body = new Uint8Array(1 + rand(40));
      for (let i = 0; i < body.length; i++) body[i] = rand(256);
      break;
    }
    default:
      break; // the template itself
  }
  // A valid LOCK or REMOVE_ALL would stop the other client's work by
  // design: those types are fuzzed only malformed.
  if (body[0] === MSG.LOCK) body = body.slice(0, 3);
  if (body[0] === MSG.REMOVE_ALL_IDENTITIES) body = new Uint8Array([19, 0]);
  return body;
}

function framed(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body.length + 4);
  new DataView(out.buffer).setUint32(0, body.length);
  out.set(body, 4);
  return out;
}

function open(path: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    s.once("connect", () => resolve(s));
    s.once("error", reject);
  });
}

/** Writes `bytes` in random pieces; resolves with the replies' types. */
async function exchange(
  socket: Socket,
  bytes: Uint8Array,
  expected: number,
  rand: (n: number) => number,
): Promise<number[]> {
  const types: number[] = [];
  const reader = new FrameReader();
  const done = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the agent hung")), 20_000);
    socket.on("data", (chunk: Uint8Array) => {
      reader.push(chunk, (body) => types.push(body[0]));
      if (types.length >= expected) {
        clearTimeout(timer);
        socket.removeAllListeners("data");
        resolve();
      }
    });
    socket.once(
      "close",
      () => reject(new Error("the agent closed a well-framed stream")),
    );
  });
  for (let at = 0; at < bytes.length;) {
    const n = 1 + rand(Math.min(512, bytes.length - at));
    socket.write(bytes.subarray(at, at + n));
    at += n;
    if (rand(4) === 0) await new Promise((r) => setTimeout(r, 0));
  }
  await done;
  socket.removeAllListeners("close");
  return types;
}

/** A stream with broken framing: the agent must close it, not hang. */
async function broken(path: string, bytes: Uint8Array): Promise<"closed"> {
  const socket = await open(path);
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the agent hung")), 20_000);
    socket.on("data", () => {});
    socket.on("error", () => {});
    socket.once("close", () => {
      clearTimeout(timer);
      resolve("closed");
    });
    socket.write(bytes);
    // A truncated frame waits for more: the peer's end must close it.
    socket.end();
  });
}

test(
  "fuzz: 10,000 malformed, truncated, oversized and split frames of every type; the agent answers or closes, and other clients keep working",
  async () => {
    const agent = await startAgent({ harden: false });
    const good = await connectAgent(agent.socketPath);
    try {
      const blob = await good.generateKey("good");
      await good.generateSecret("s");
      const baseline = stats().liveBuffers;
      const mapped = stats().mappedBytes;
      const rand = prng(0x5ec3e);
      const bases = templates(blob);
      const counts = {
        cases: 0,
        replies: 0,
        failures: 0,
        closed: 0,
        goodSigns: 0,
      };
      let fuzz = await open(agent.socketPath);
      const ok = new Set<number>([
        MSG.FAILURE,
        MSG.SUCCESS,
        MSG.IDENTITIES_ANSWER,
        MSG.SIGN_RESPONSE,
        MSG.EXTENSION_FAILURE,
      ]);
      while (counts.cases < 8_000) {
        const batch = 40;
        const bodies = Array.from({ length: batch }, () => mutate(rand, bases));
        const bytes = new Uint8Array(
          bodies.reduce((n, b) => n + b.length + 4, 0),
        );
        let at = 0;
        for (const b of bodies) {
          bytes.set(framed(b), at);
          at += b.length + 4;
        }
        const types = await exchange(fuzz, bytes, batch, rand);
        assert.equal(types.length, batch);
        for (const t of types) {
          assert.ok(ok.has(t), `reply type ${t}`);
          if (t === MSG.FAILURE || t === MSG.EXTENSION_FAILURE) {
            counts.failures++;
          }
        }
        counts.replies += types.length;
        counts.cases += batch;
        if (counts.cases % 400 === 0) {
          const m = new TextEncoder().encode(`check ${counts.cases}`);
          const sig = await good.sign(blob, m);
          assert.ok(ed25519Verify(blob.subarray(19), m, sig));
          counts.goodSigns++;
        }
      }
      fuzz.destroy();
      while (counts.cases < 10_000) {
        let bytes: Uint8Array;
        switch (rand(4)) {
          case 0: // a zero length
            bytes = new Uint8Array([0, 0, 0, 0, 11]);
            break;
          case 1: { // above the cap
            bytes = new Uint8Array(4 + rand(64));
            new DataView(bytes.buffer).setUint32(
              0,
              256 * 1024 + 1 + rand(1 << 30),
            );
            break;
          }
          case 2: { // a frame cut short, then the end of the stream
            const body = mutate(rand, bases);
            bytes = framed(body).slice(0, 1 + rand(body.length + 3));
            break;
          }
          default: { // garbage
            bytes = new Uint8Array(1 + rand(300));
            for (let i = 0; i < bytes.length; i++) bytes[i] = rand(256);
          }
        }
        await broken(agent.socketPath, bytes);
        counts.closed++;
        counts.cases++;
        if (counts.cases % 200 === 0) {
          const m = new TextEncoder().encode(`after ${counts.cases}`);
          assert.ok(
            ed25519Verify(blob.subarray(19), m, await good.sign(blob, m)),
          );
          counts.goodSigns++;
        }
      }
      // Memory: what the fuzz added (keys it generated, secrets it made)
      // goes with a removal; nothing else is held.
      for (const key of await good.list()) {
        if (key.comment !== "good") await good.remove(key.blob);
      }
      for (const s of await good.secrets()) {
        if (s.name !== "s") await good.removeSecret(s.name);
      }
      assert.equal(stats().liveBuffers, baseline);
      assert.equal(stats().mappedBytes, mapped);
      fuzz = await open(agent.socketPath);
      fuzz.destroy();
      say(
        `  ${counts.cases} cases: ${counts.replies} replies (${counts.failures} failures), ${counts.closed} broken streams closed, ${counts.goodSigns} signatures by the other client verified; live buffers ${baseline} before and after`,
      );
    } finally {
      good.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "a peer that sends its requests and then ends its side still gets every answer, and then the agent closes the connection",
  async () => {
    const agent = await startAgent({ harden: false });
    try {
      agent.generateKey("half");
      const list = framed(new Uint8Array([MSG.REQUEST_IDENTITIES]));
      const requests = new Uint8Array(list.length * 3);
      for (let i = 0; i < 3; i++) requests.set(list, i * list.length);
      const socket = await open(agent.socketPath);
      const types: number[] = [];
      const comments: string[] = [];
      const reader = new FrameReader();
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error("the agent hung")),
          20_000,
        );
        socket.on("data", (chunk: Uint8Array) =>
          reader.push(chunk, (body) => {
            types.push(body[0]);
            // IDENTITIES_ANSWER: count, blob, comment (the last field).
            const tail = body.subarray(body.length - 4);
            comments.push(new TextDecoder().decode(tail));
          }));
        socket.on("error", reject);
        socket.once("close", () => {
          clearTimeout(timer);
          resolve();
        });
        // Half-close: the agent sees the end of input with all requests
        // already sent, and must answer them before it closes.
        socket.end(requests);
      });
      assert.deepEqual(types, [
        MSG.IDENTITIES_ANSWER,
        MSG.IDENTITIES_ANSWER,
        MSG.IDENTITIES_ANSWER,
      ]);
      assert.deepEqual(comments, ["half", "half", "half"]);
    } finally {
      await agent.close();
    }
  },
  { skip: linuxOnly },
);
