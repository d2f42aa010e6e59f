/**
 * Two of the Agent section's claims, proved by outcome:
 * - `decryptToSecret` hands back a SecretBuffer with the plaintext and
 *   wipes the heap reply it moved it from;
 * - under Bun the agent reads its connections itself: Bun's own socket
 *   reads (`recvfrom` into its reused native buffer, which kept a key
 *   added with ssh-add) never happen, and an idle connection is polled
 *   with backing off, not in a busy loop.
 *
 * @module
 */

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { runtime, Skip, test } from "./_harness.ts";
import { os } from "./_platform.ts";
import { say, which } from "./_forensics.ts";
import { connectAgent } from "../agent_client.ts";
import { decryptToSecret, startAgent } from "../agent.ts";
import { SecretBuffer } from "../mod.ts";
import { encrypt } from "../crypto.ts";
import { scratch, startAgentChild } from "./agent_support.ts";

const linuxOnly = os === "linux" ? false : "the agent runs on Linux";
const bytes = (text: string) => new TextEncoder().encode(text);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

test(
  "decryptToSecret: the plaintext in a SecretBuffer, the heap reply wiped",
  async () => {
    const agent = await startAgent({ harden: false });
    const client = await connectAgent(agent.socketPath);
    try {
      using key = SecretBuffer.from(new Uint8Array(32).fill(9));
      await client.addSecret("k", key);
      const sealed = encrypt(key, bytes("the plaintext"));
      using plain = await decryptToSecret(client, "k", sealed);
      assert.ok(plain instanceof SecretBuffer);
      plain.read((view) => assert.deepEqual(view, bytes("the plaintext")));

      // The reply the client returned: kept here by a client that hands
      // out its array, which decryptToSecret must leave zeroed.
      let reply: Uint8Array | undefined;
      const watched = new Proxy(client, {
        get(target, name, receiver) {
          if (name !== "decrypt") return Reflect.get(target, name, receiver);
          return async (...args: Parameters<typeof client.decrypt>) =>
            reply = await target.decrypt(...args);
        },
      });
      using again = await decryptToSecret(watched, "k", sealed);
      again.read((view) => assert.deepEqual(view, bytes("the plaintext")));
      assert.equal(reply?.length, 13);
      assert.ok(reply!.every((byte) => byte === 0), "the reply was not wiped");
    } finally {
      client.close();
      await agent.close();
    }
  },
  { skip: linuxOnly },
);

test(
  "Bun: the agent never lets Bun recv a connection, and polls an idle one with backing off",
  async () => {
    if (which("strace") === undefined) {
      throw new Skip("needs strace (.ci/run installs it)");
    }
    const { dir, done } = scratch();
    const log = join(dir, "strace.log");
    // strace starts the agent, so the agent's hardening (no ptrace by
    // this user) does not stand in the way; -ttt stamps each call (epoch seconds).
    const agent = await startAgentChild(
      ["--generate", "k"],
      [
        "strace",
        "-f",
        "-qq",
        "-ttt",
        "-e",
        "trace=read,recvfrom,recvmsg",
        "-o",
        log,
      ],
    );
    const client = await connectAgent(agent.socket);
    let idleFrom = 0;
    let idleTo = 0;
    try {
      const [key] = await client.list();
      assert.equal((await client.sign(key.blob, bytes("before"))).length, 64);
      idleFrom = Date.now();
      await sleep(1500);
      idleTo = Date.now();
      assert.equal((await client.sign(key.blob, bytes("after"))).length, 64);
    } finally {
      client.close();
      // The agent itself, not strace (the child): strace ends with it.
      process.kill(agent.pid, "SIGTERM");
      await agent.exited;
    }
    try {
      const lines = readFileSync(log, "utf8").split("\n");
      const recv = lines.filter((line) => /\brecv(from|msg)\(/.test(line));
      assert.deepEqual(recv, [], "Bun read a connection itself");
      // The empty reads of the idle connection (EAGAIN), in the idle
      // window by the wall clock of the calls.
      const at = (line: string) => {
        const m = /^\d+ +(\d+\.\d+) /.exec(line);
        return m ? Number(m[1]) * 1000 : NaN;
      };
      const from = idleFrom;
      const to = idleTo;
      const empty = lines.filter((line) => {
        if (!/ read\(\d+, .*= -1 EAGAIN/.test(line)) return false;
        const when = at(line);
        return when >= from && when <= to;
      });
      const perSecond = empty.length / ((to - from) / 1000);
      say(
        `idle ${to - from} ms: ${empty.length} empty reads (${
          perSecond.toFixed(1)
        }/s), ${recv.length} recv calls`,
      );
      // It polls (a connection is read without an event), and it backs
      // off: every 50 ms is 20 a second; a busy loop makes thousands.
      assert.ok(empty.length > 0, "no empty read while idle: not polled");
      assert.ok(
        perSecond < 100,
        `${perSecond.toFixed(0)} empty reads a second`,
      );
    } finally {
      done();
    }
  },
  {
    skip: linuxOnly ||
      (runtime !== "bun" && "the agent reads sockets itself only under Bun"),
  },
);
