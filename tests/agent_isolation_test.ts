/**
 * The key stays in the agent: while it holds a key, another process of the
 * same (unprivileged) user can neither read its memory nor ptrace it, its
 * core is off, and a scan of its present pages finds no copy of the key
 * outside guarded pages; after the key is removed, none anywhere.
 */

import assert from "node:assert/strict";
import process from "node:process";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { runtime, test } from "./_harness.ts";
import { os } from "./_platform.ts";
import { say, which } from "./_forensics.ts";
import { childScript } from "./_child.ts";
import { SecretBuffer } from "../mod.ts";
import { readOpenSSHPrivateKey } from "../src/keys/_openssh.ts";
import {
  ensureOpenSSH,
  keyPair,
  scanAgent,
  scratch,
  startAgentChild,
} from "./agent_support.ts";

const NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"];
const obstacle = os !== "linux"
  ? "the agent runs on Linux"
  : !which("setpriv")
  ? "needs setpriv (util-linux)"
  : process.getuid?.() !== 0
  ? "needs root to run the agent as another user and scan it"
  : false;

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

function asNobody(command: string[], env: Record<string, string>) {
  const r = spawnSync(NOBODY[0], [...NOBODY.slice(1), ...command], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function probe(pid: number, env: Record<string, string>) {
  const r = asNobody([
    "/usr/bin/python3",
    fileURLToPath(childScript("agent_ptrace.py")),
    String(pid),
  ], env);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { uid: number; mem: string; ptrace: string };
}

test(
  "isolation: the same user cannot read or ptrace the agent, its core is off, and no copy of a held key lies outside guarded pages; none after removal",
  async () => {
    ensureOpenSSH();
    const { dir, done } = scratch();
    // Open to uid 65534 like /tmp, sticky like /tmp: the agent refuses a
    // socket under a directory others could rename it out of.
    chmodSync(dir, 0o1777);
    const env = {
      HOME: dir,
      TMPDIR: dir,
      DENO_DIR: join(dir, "deno"),
      XDG_CACHE_HOME: dir,
    };
    const comment = `isolation-${
      hex(crypto.getRandomValues(new Uint8Array(8)))
    }`;
    keyPair(dir, "id", comment);
    const keyFile = join(dir, "id");
    chownSync(keyFile, 65534, 65534);
    const file = SecretBuffer.from(readFileSync(keyFile));
    const { seed } = readOpenSSHPrivateKey(file);
    file.destroy();
    const seedHex = seed.read((s) => hex(s));
    seed.destroy();
    const commentHex = hex(new TextEncoder().encode(comment));

    const control = await startAgentChild(["--no-harden"], NOBODY, env);
    const agent = await startAgentChild([], NOBODY, env);
    try {
      // A control agent (not hardened), same user: the probe gets in.
      const open = probe(control.pid, env);
      assert.equal(open.uid, 65534);
      assert.equal(open.mem, "opened");
      assert.equal(open.ptrace, "attached");

      const sock = { ...env, SSH_AUTH_SOCK: agent.socket };
      const added = asNobody(["ssh-add", keyFile], sock);
      assert.equal(added.status, 0, added.stderr);
      assert.match(
        asNobody(["ssh-add", "-l"], sock).stdout,
        new RegExp(comment),
      );
      // Use the key once, so the scan sees the agent after a signature.
      const signed = asNobody(
        ["ssh-keygen", "-Y", "sign", "-f", `${keyFile}.pub`, "-n", "file"],
        sock,
      );
      void signed;

      const closed = probe(agent.pid, env);
      assert.equal(closed.uid, 65534);
      assert.match(closed.mem, /^refused Permission denied/);
      assert.match(closed.ptrace, /^refused Operation not permitted/);
      const limits = readFileSync(`/proc/${agent.pid}/limits`, "utf8");
      assert.match(limits, /^Max core file size\s+0\s+0\s+bytes/m);
      // Not dumpable: the kernel gives its /proc files to root.
      assert.equal(
        spawnSync("stat", ["-c", "%u", `/proc/${agent.pid}/mem`], {
          encoding: "utf8",
        }).stdout.trim(),
        "0",
      );

      const atRest = scanAgent(agent.pid, "readable", [seedHex, commentHex]);
      assert.equal(
        atRest.counts[0],
        0,
        `a copy of the seed outside guarded pages: ${atRest.where.join("; ")}`,
      );
      assert.ok(
        atRest.counts[1] >= 1,
        "the scan must see the agent's heap (the comment)",
      );
      const everywhere = scanAgent(agent.pid, "all", [seedHex]);
      assert.ok(
        everywhere.counts[0] >= 1,
        "the held key itself must be seen in its guarded pages",
      );

      assert.equal(
        asNobody(["ssh-add", "-d", `${keyFile}.pub`], sock).status,
        0,
      );
      const removed = scanAgent(agent.pid, "all", [seedHex]);
      assert.equal(removed.counts[0], 0, "a copy of the seed after removal");

      agent.stop("SIGTERM");
      const end = await agent.exited;
      // Deno's node:child_process reports the signal it sent even when the
      // child handled it and exited 0; the removed directory below is what
      // only the agent's own handler does.
      assert.ok(
        end === 0 || (runtime === "deno" && end === "SIGTERM"),
        `${end}`,
      );
      assert.ok(
        !existsSync(dirname(agent.socket)),
        "the socket directory is gone",
      );
      say(
        `  probe as uid 65534: control mem ${open.mem}, ptrace ${open.ptrace}; agent mem ${closed.mem}, ptrace ${closed.ptrace}`,
      );
      say(
        `  seed copies: outside guarded pages at rest ${
          atRest.counts[0]
        } (heap control found ${atRest.counts[1]}, ${
          (atRest.scanned / 1048576).toFixed(0)
        } MiB scanned), in all pages while held ${
          everywhere.counts[0]
        }, after removal ${removed.counts[0]}`,
      );
    } finally {
      control.stop("SIGKILL");
      agent.stop("SIGKILL");
      await control.exited;
      await agent.exited;
      done();
    }
  },
  { skip: obstacle },
);
