/**
 * The agent's own lifetime: the background start ssh-agent users expect,
 * `-k`, SIGINT and SIGHUP (each wipes and removes the socket), the end of
 * its parent with `--exit-with-parent`, and `-t` as the default lifetime.
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "./_harness.ts";
import { os } from "./_platform.ts";
import { runtimeCommand } from "./_child.ts";
import {
  AGENT,
  ensureOpenSSH,
  keyPair,
  processEnv,
  run,
  scratch,
  startAgentChild,
} from "./agent_support.ts";

const linuxOnly = os === "linux" ? false : "the agent runs on Linux";

async function gone(pid: number, ms = 5000): Promise<boolean> {
  for (let waited = 0; waited < ms; waited += 100) {
    if (!existsSync(`/proc/${pid}`)) return true;
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (/\) Z /.test(stat)) return true; // ended, not yet reaped
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

const quote = (words: string[]) =>
  words.map((w) => `'${w.replace(/'/g, `'\\''`)}'`).join(" ");

test(
  "without -D the agent goes to the background and prints the shell lines; -k stops it",
  async () => {
    const command = runtimeCommand(AGENT, []);
    const started = spawnSync(command[0], command.slice(1), {
      encoding: "utf8",
      timeout: 120_000,
    });
    assert.equal(started.status, 0, started.stderr);
    const socket = /^SSH_AUTH_SOCK=([^;]+); export SSH_AUTH_SOCK;$/m.exec(
      started.stdout,
    )?.[1];
    const pid = Number(
      /^SSH_AGENT_PID=(\d+); export SSH_AGENT_PID;$/m.exec(started.stdout)?.[1],
    );
    assert.ok(socket !== undefined && pid > 0, started.stdout);
    assert.ok(
      existsSync(`/proc/${pid}`),
      "the agent runs after the command returned",
    );
    // ssh-add -l: 1 means it connected and found no identities.
    const listed = run(["ssh-add", "-l"], socket);
    assert.equal(listed.status, 1, listed.stderr);
    const killer = runtimeCommand(AGENT, ["-k"]);
    const killed = spawnSync(killer[0], killer.slice(1), {
      encoding: "utf8",
      env: { ...processEnv(), SSH_AGENT_PID: String(pid) },
    });
    assert.equal(killed.status, 0, killed.stderr);
    assert.match(killed.stdout, /unset SSH_AUTH_SOCK;/);
    assert.ok(await gone(pid), "the agent still runs after -k");
    assert.ok(!existsSync(dirname(socket)), "its directory is removed");
  },
  { skip: linuxOnly },
);

test(
  "SIGINT and SIGHUP end the agent like SIGTERM: socket removed",
  async () => {
    for (const signal of ["SIGINT", "SIGHUP"] as const) {
      const agent = await startAgentChild(["--generate", "k"]);
      agent.stop(signal);
      await agent.exited;
      assert.ok(
        !existsSync(dirname(agent.socket)),
        `${signal}: directory left`,
      );
    }
  },
  { skip: linuxOnly },
);

test(
  "--exit-with-parent: the agent ends when the process that started it ends",
  async () => {
    const { dir, done } = scratch();
    try {
      const out = join(dir, "out");
      const agent = quote(runtimeCommand(AGENT, ["-D", "--exit-with-parent"]));
      // sh starts the agent, waits for its lines, then exits.
      const r = spawnSync("/bin/sh", [
        "-c",
        `${agent} > ${out} 2>&1 &
       i=0; until grep -q "echo Agent" ${out}; do i=$((i+1)); [ $i -gt 600 ] && exit 1; sleep 0.1; done`,
      ], { encoding: "utf8", timeout: 120_000 });
      assert.equal(r.status, 0, readFileSync(out, "utf8"));
      const text = readFileSync(out, "utf8");
      const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(text)![1]);
      const socket = /SSH_AUTH_SOCK=([^;]+);/.exec(text)![1];
      assert.ok(await gone(pid), "the agent outlived its parent");
      assert.ok(!existsSync(dirname(socket)));
    } finally {
      done();
    }
  },
  { skip: linuxOnly },
);

test("-t sets the lifetime of keys added without one", async () => {
  ensureOpenSSH();
  const { dir, done } = scratch();
  const agent = await startAgentChild(["-t", "1"]);
  try {
    keyPair(dir, "id", "short");
    assert.equal(run(["ssh-add", join(dir, "id")], agent.socket).status, 0);
    assert.match(run(["ssh-add", "-l"], agent.socket).stdout, /short/);
    await new Promise((r) => setTimeout(r, 1600));
    assert.match(run(["ssh-add", "-l"], agent.socket).stdout, /no identities/);
  } finally {
    agent.stop();
    await agent.exited;
    done();
  }
}, { skip: linuxOnly });
