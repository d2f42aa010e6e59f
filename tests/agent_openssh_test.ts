/**
 * The agent against clients no one here wrote: OpenSSH's ssh-add,
 * ssh-keygen -Y and ssh logging in to a local sshd, each through the
 * agent's socket with SSH_AUTH_SOCK.
 */

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readFileSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { test } from "./_harness.ts";
import { os } from "./_platform.ts";
import { which } from "./_forensics.ts";
import {
  ensureOpenSSH,
  keyPair,
  run,
  scratch,
  startAgentChild,
  waitOutBackoff,
} from "./agent_support.ts";

const linuxOnly = os === "linux" ? false : "the agent runs on Linux";

function askpass(dir: string, name: string, phrase: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\necho '${phrase}'\n`);
  chmodSync(path, 0o755);
  return path;
}

test(
  "ssh-add adds, lists (-l, -L), removes (-d, -D), times out (-t) and locks (-x/-X) keys as with OpenSSH's agent",
  async () => {
    ensureOpenSSH();
    const { dir, done } = scratch();
    const agent = await startAgentChild();
    try {
      const pub = keyPair(dir, "id", "agent@test");
      const key = join(dir, "id");
      const added = run(["ssh-add", key], agent.socket);
      assert.equal(added.status, 0, added.stderr);
      const fingerprint = run(["ssh-keygen", "-lf", `${key}.pub`], undefined)
        .stdout.split(" ")[1];
      const listed = run(["ssh-add", "-l"], agent.socket);
      assert.equal(listed.status, 0);
      assert.match(
        listed.stdout,
        new RegExp(
          `^256 ${
            fingerprint.replace(/[+/]/g, "\\$&")
          } agent@test \\(ED25519\\)$`,
          "m",
        ),
      );
      const lines = run(["ssh-add", "-L"], agent.socket);
      assert.equal(lines.stdout.trim(), pub);

      assert.equal(
        run(["ssh-add", "-d", `${key}.pub`], agent.socket).status,
        0,
      );
      assert.equal(run(["ssh-add", "-l"], agent.socket).status, 1); // no identities
      assert.notEqual(
        run(["ssh-add", "-d", `${key}.pub`], agent.socket).status,
        0,
      );

      const second = keyPair(dir, "id2", "second");
      assert.equal(run(["ssh-add", key], agent.socket).status, 0);
      assert.equal(run(["ssh-add", join(dir, "id2")], agent.socket).status, 0);
      assert.equal(
        run(["ssh-add", "-L"], agent.socket).stdout.trim().split("\n").length,
        2,
      );
      assert.equal(run(["ssh-add", "-D"], agent.socket).status, 0);
      assert.match(
        run(["ssh-add", "-l"], agent.socket).stdout,
        /no identities/,
      );

      // -t: the key goes by itself.
      const timed = run(["ssh-add", "-t", "1", key], agent.socket);
      assert.equal(timed.status, 0, timed.stderr);
      assert.match(timed.stderr, /Lifetime set to 1 seconds/);
      assert.equal(run(["ssh-add", "-l"], agent.socket).status, 0);
      await new Promise((r) => setTimeout(r, 1600));
      assert.match(
        run(["ssh-add", "-l"], agent.socket).stdout,
        /no identities/,
      );

      // -c (confirm) is a constraint this agent cannot honour: refused.
      assert.notEqual(run(["ssh-add", "-c", key], agent.socket).status, 0);
      assert.match(
        run(["ssh-add", "-l"], agent.socket).stdout,
        /no identities/,
      );

      // -x / -X: lock with a passphrase; a wrong one does not unlock.
      assert.equal(run(["ssh-add", key], agent.socket).status, 0);
      const env = (phrase: string) => ({
        SSH_ASKPASS: askpass(dir, `ask-${phrase}`, phrase),
        SSH_ASKPASS_REQUIRE: "force",
        DISPLAY: ":0",
      });
      const locked = run(["ssh-add", "-x"], agent.socket, {
        env: env("right"),
      });
      assert.equal(locked.status, 0, locked.stderr);
      assert.match(
        run(["ssh-add", "-l"], agent.socket).stdout,
        /no identities/,
      );
      const signWhileLocked = run(
        ["ssh-keygen", "-Y", "sign", "-f", `${key}.pub`, "-n", "file"],
        agent.socket,
        { input: "x" },
      );
      void signWhileLocked;
      assert.notEqual(
        run(["ssh-add", "-x"], agent.socket, { env: env("again") }).status,
        0,
      );
      assert.notEqual(
        run(["ssh-add", "-X"], agent.socket, { env: env("wrong") }).status,
        0,
      );
      assert.match(
        run(["ssh-add", "-l"], agent.socket).stdout,
        /no identities/,
      );
      // The wrong passphrase holds every unlock off for 100 ms.
      waitOutBackoff();
      assert.equal(
        run(["ssh-add", "-X"], agent.socket, { env: env("right") }).status,
        0,
      );
      assert.match(run(["ssh-add", "-l"], agent.socket).stdout, /agent@test/);
      void second;
    } finally {
      agent.stop();
      await agent.exited;
      done();
    }
  },
  { skip: linuxOnly },
);

test(
  "ssh-keygen -Y sign through the agent (no private key file) makes a signature ssh-keygen -Y verify accepts",
  async () => {
    ensureOpenSSH();
    const { dir, done } = scratch();
    const agent = await startAgentChild(["--generate", "made-inside"]);
    try {
      const line = run(["ssh-add", "-L"], agent.socket).stdout.trim();
      assert.match(line, /^ssh-ed25519 AAAA\S+ made-inside$/);
      writeFileSync(join(dir, "key.pub"), `${line}\n`);
      writeFileSync(join(dir, "message"), "signed through the agent\n");
      const signed = run([
        "ssh-keygen",
        "-Y",
        "sign",
        "-f",
        join(dir, "key.pub"),
        "-n",
        "file",
        join(dir, "message"),
      ], agent.socket);
      assert.equal(signed.status, 0, signed.stderr);
      writeFileSync(join(dir, "allowed"), `me ${line}\n`);
      const verify = (message: string) =>
        run(
          [
            "ssh-keygen",
            "-Y",
            "verify",
            "-f",
            join(dir, "allowed"),
            "-I",
            "me",
            "-n",
            "file",
            "-s",
            join(dir, "message.sig"),
          ],
          undefined,
          { input: message },
        );
      const ok = verify("signed through the agent\n");
      assert.equal(ok.status, 0, ok.stderr);
      assert.match(ok.stdout, /Good "file" signature for me/);
      assert.notEqual(verify("something else\n").status, 0);
    } finally {
      agent.stop();
      await agent.exited;
      done();
    }
  },
  { skip: linuxOnly },
);

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test(
  "ssh logs in to a local sshd with the agent's key, and only with it",
  async () => {
    ensureOpenSSH();
    const sshd = which("sshd") ?? "/usr/sbin/sshd";
    const { dir, done } = scratch();
    const agent = await startAgentChild(["--generate", "login"]);
    mkdirSync("/run/sshd", { recursive: true });
    const port = await freePort();
    run([
      "ssh-keygen",
      "-q",
      "-t",
      "ed25519",
      "-N",
      "",
      "-f",
      join(dir, "host"),
    ], undefined);
    const line = run(["ssh-add", "-L"], agent.socket).stdout.trim();
    writeFileSync(join(dir, "authorized_keys"), `${line}\n`);
    writeFileSync(join(dir, "agent.pub"), `${line}\n`);
    writeFileSync(
      join(dir, "sshd_config"),
      [
        `Port ${port}`,
        "ListenAddress 127.0.0.1",
        `HostKey ${join(dir, "host")}`,
        `PidFile ${join(dir, "sshd.pid")}`,
        "UsePAM no",
        "StrictModes no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        "AuthenticationMethods publickey",
        "PermitRootLogin prohibit-password",
        `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
        "",
      ].join("\n"),
    );
    const server = spawn(sshd, ["-f", join(dir, "sshd_config"), "-D", "-e"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    server.stderr!.on(
      "data",
      (c: Uint8Array) => log += new TextDecoder().decode(c),
    );
    try {
      for (let i = 0; i < 100 && !log.includes("Server listening"); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const user = run(["id", "-un"], undefined).stdout.trim();
      const ssh = () =>
        run([
          "ssh",
          "-F",
          "/dev/null",
          "-p",
          String(port),
          "-o",
          "BatchMode=yes",
          "-o",
          "IdentitiesOnly=yes",
          "-o",
          `IdentityFile=${join(dir, "agent.pub")}`,
          "-o",
          "PasswordAuthentication=no",
          "-o",
          "KbdInteractiveAuthentication=no",
          "-o",
          `UserKnownHostsFile=${join(dir, "known_hosts")}`,
          "-o",
          "StrictHostKeyChecking=accept-new",
          `${user}@127.0.0.1`,
          "echo logged-in-as-$(id -un)",
        ], agent.socket);
      const ok = ssh();
      assert.equal(ok.status, 0, `${ok.stderr}\n${log}`);
      assert.equal(ok.stdout.trim(), `logged-in-as-${user}`);
      // Control: the same login once the agent no longer holds the key.
      assert.equal(run(["ssh-add", "-D"], agent.socket).status, 0);
      const refused = ssh();
      assert.notEqual(refused.status, 0);
      assert.match(refused.stderr, /Permission denied \(publickey\)/);
      assert.ok(!existsSync(join(dir, "agent")), "no private key file exists");
      void readFileSync;
    } finally {
      server.kill("SIGTERM");
      agent.stop();
      await agent.exited;
      done();
    }
  },
  { skip: linuxOnly },
);
