/**
 * Signatures per second over the socket: secmem's agent against OpenSSH's
 * ssh-agent, same key (Ed25519), same client (the FFI-free one), same run,
 * one request at a time and 8 in flight (8 connections). Each phase runs
 * for SECONDS (default 3), alternating agents twice.
 *
 * Usage: <runtime> bench/agent_bench.ts [SECONDS]
 * (the agent under test runs under the same runtime as this script.)
 *
 * @module
 */

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import process from "node:process";
import { connectAgent } from "../agent_client.ts";
import { runtimeCommand } from "../tests/_child.ts";

const seconds = Number(process.argv.at(-1)) > 0
  ? Number(process.argv.at(-1))
  : 3;
const dir = mkdtempSync(join(tmpdir(), "agent-bench-"));
const key = join(dir, "id");
spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]);

function waitLine(
  child: ReturnType<typeof spawn>,
  pattern: RegExp,
): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    child.stdout!.on("data", (c: Uint8Array) => {
      out += new TextDecoder().decode(c);
      const m = pattern.exec(out);
      if (m) resolve(m[1]);
    });
  });
}

const agentTs = fileURLToPath(new URL("../agent.ts", import.meta.url));
const command = runtimeCommand(agentTs, ["-D", "--key", key]);
const ours = spawn(command[0], command.slice(1), {
  stdio: ["ignore", "pipe", "inherit"],
});
const oursSocket = await waitLine(ours, /SSH_AUTH_SOCK=([^;]+);/);
const opensshSocket = join(dir, "openssh.sock");
const openssh = spawn("ssh-agent", ["-D", "-a", opensshSocket], {
  stdio: ["ignore", "pipe", "inherit"],
});
await waitLine(openssh, /SSH_AUTH_SOCK=([^;]+);/);
spawnSync("ssh-add", ["-q", key], {
  env: { ...process.env, SSH_AUTH_SOCK: opensshSocket },
});

const message = new Uint8Array(64).fill(0x61);

async function rate(socket: string, inFlight: number): Promise<number> {
  const clients = await Promise.all(
    Array.from({ length: inFlight }, () => connectAgent(socket)),
  );
  const [{ blob }] = await clients[0].list();
  let count = 0;
  const end = performance.now() + seconds * 1000;
  await Promise.all(clients.map(async (c) => {
    while (performance.now() < end) {
      await c.sign(blob, message);
      count++;
    }
  }));
  for (const c of clients) c.close();
  return count / seconds;
}

const rows: string[] = [];
const runtime = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";
for (const inFlight of [1, 8]) {
  const a: number[] = [];
  const b: number[] = [];
  for (let round = 0; round < 2; round++) {
    a.push(await rate(oursSocket, inFlight));
    b.push(await rate(opensshSocket, inFlight));
  }
  const o = Math.max(...a);
  const s = Math.max(...b);
  rows.push(
    `| ${runtime} | ${inFlight} | ${o.toFixed(0)} | ${s.toFixed(0)} | ${
      (o / s).toFixed(2)
    }× |`,
  );
}
console.log(
  "| runtime | in flight | secmem agent (sig/s) | OpenSSH ssh-agent (sig/s) | ratio |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const row of rows) console.log(row);
ours.kill("SIGTERM");
openssh.kill("SIGTERM");
rmSync(dir, { recursive: true, force: true });
process.exit(0);
