/**
 * Keys given to `secmem-agent` at start: `--key FILE` (listed by OpenSSH's
 * own `ssh-add -l`/`-L`), the errors of a bad key file (nothing left
 * listening, no directory left behind), and `--prompt` (a lock passphrase
 * typed on a real pseudo-terminal; the agent starts locked), with a scan
 * of the agent's memory at rest for the key and the passphrase.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "./_harness.ts";
import { os } from "./_platform.ts";
import { onTerminal as typeOn, ptyOnly, type TerminalRun } from "./_tools.ts";
import { say } from "./_forensics.ts";
import { runtimeCommand } from "./_child.ts";
import { SecretBuffer } from "../mod.ts";
import { connectAgent, startAgent } from "../agent.ts";
import { assertRejectsCode } from "./_error_code.ts";
import { readOpenSSHPrivateKey } from "../src/keys/_openssh.ts";
import {
  AGENT,
  backoffPassed,
  ensureOpenSSH,
  keyPair,
  processEnv,
  run,
  scanAgent,
  scratch,
  startAgentChild,
  waitOutBackoff,
  withAgent,
} from "./agent_support.ts";

const linux = os === "linux" ? false : "the agent runs on Linux";
const pty = linux || ptyOnly;
const root =
  (globalThis as unknown as { process: { getuid?(): number } }).process
    .getuid?.() === 0;

const hex = (bytes: Uint8Array): string =>
  Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const hexOf = (text: string): string => hex(new TextEncoder().encode(text));

/** The key's seed, as hex, read the way the agent reads it. */
function seedHexOf(path: string): string {
  const { seed } = readOpenSSHPrivateKey(
    SecretBuffer.from(readFileSync(path)),
  );
  try {
    return seed.read(hex);
  } finally {
    seed.destroy();
  }
}

/** The key and comment fields of `ssh-add -L` lines, or of a .pub file. */
function publicLines(text: string): string[] {
  return text.trim().split("\n").filter((line) => line !== "").sort();
}

/** Runs the command (background start) with `args`; waits for its end. */
function startCommand(args: string[], env: Record<string, string>) {
  const command = runtimeCommand(AGENT, args);
  const r = spawnSync(command[0], command.slice(1), {
    encoding: "utf8",
    timeout: 120_000,
    env: { ...processEnv(), ...env, NO_COLOR: "1" },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** secmem-agent directories the agent made under `dir`. */
const leftovers = (dir: string): string[] =>
  readdirSync(dir).filter((name) => name.startsWith("secmem-agent-"));

/**
 * The base64 lines of a PEM key file but the first, as hex: a copy of the
 * file's text. The first line is the same for every unencrypted Ed25519
 * file ("openssh-key-v1", "none", "none", "ssh-ed…"), so code may hold it.
 */
function pemLines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n")
    .filter((line) => line !== "" && !line.startsWith("-----"))
    .slice(1)
    .map(hexOf);
}

test(
  "--key FILE: ssh-add -l and -L list the keys read at start, with the file's comment or --comment; -t applies",
  async () => {
    ensureOpenSSH();
    const { dir, done } = scratch();
    const first = keyPair(dir, "first", "from-the-file");
    const second = keyPair(dir, "second", "ignored");
    const agent = await startAgentChild(
      [
        "--key",
        join(dir, "first"),
        "--key",
        join(dir, "second"),
        "--comment",
        "given at start",
      ],
      [],
      { TMPDIR: dir },
    );
    let timed: Awaited<ReturnType<typeof startAgentChild>> | undefined;
    try {
      const listed = run(["ssh-add", "-L"], agent.socket);
      assert.equal(listed.status, 0, listed.stderr);
      const secondKey = second.split(" ").slice(0, 2).join(" ");
      assert.deepEqual(
        publicLines(listed.stdout),
        [first, `${secondKey} given at start`].sort(),
      );
      const fingerprints = run(["ssh-add", "-l"], agent.socket);
      assert.equal(fingerprints.status, 0, fingerprints.stderr);
      const ofFile = run(
        ["ssh-keygen", "-lf", join(dir, "first.pub")],
        undefined,
      );
      const [bits, print] = ofFile.stdout.split(" ");
      assert.ok(
        fingerprints.stdout.split("\n").includes(
          `${bits} ${print} from-the-file (ED25519)`,
        ),
        `${fingerprints.stdout} lacks ${print}`,
      );
      assert.match(fingerprints.stdout, / given at start \(ED25519\)$/m);

      // A signature by the key read at start verifies with its .pub.
      writeFileSync(join(dir, "message"), "hello");
      const signed = run([
        "ssh-keygen",
        "-Y",
        "sign",
        "-f",
        join(dir, "first.pub"),
        "-n",
        "file",
        join(dir, "message"),
      ], agent.socket);
      assert.equal(signed.status, 0, signed.stderr);
      writeFileSync(join(dir, "signers"), `me ${first}\n`);
      const verified = run(
        [
          "ssh-keygen",
          "-Y",
          "verify",
          "-f",
          join(dir, "signers"),
          "-I",
          "me",
          "-n",
          "file",
          "-s",
          join(dir, "message.sig"),
        ],
        undefined,
        { input: "hello" },
      );
      assert.equal(verified.status, 0, verified.stderr);

      // -t gives the keys read at start a lifetime, as it does ssh-add's.
      timed = await startAgentChild(
        ["-t", "5", "--key", join(dir, "first")],
        [],
        { TMPDIR: dir },
      );
      assert.match(
        run(["ssh-add", "-l"], timed.socket).stdout,
        /from-the-file/,
      );
      let left = "";
      for (let i = 0; i < 60; i++) {
        left = run(["ssh-add", "-l"], timed.socket).stdout;
        if (left.includes("no identities")) break;
        await new Promise((wake) => setTimeout(wake, 500));
      }
      assert.match(left, /no identities/, "the key outlived -t 5");
    } finally {
      agent.stop();
      timed?.stop();
      await agent.exited;
      await timed?.exited;
      assert.deepEqual(leftovers(dir), [], "the agents removed their sockets");
      done();
    }
  },
  { skip: linux },
);

test(
  "--key with a missing, truncated, passphrase-protected, public, large or endless key file: a message naming the file, exit 1, nothing left behind",
  () => {
    ensureOpenSSH();
    const { dir, done } = scratch();
    try {
      keyPair(dir, "good", "good");
      const good = readFileSync(join(dir, "good"), "utf8");
      writeFileSync(join(dir, "truncated"), good.slice(0, good.length / 2));
      writeFileSync(join(dir, "garbled"), good.replace(/\n[A-Za-z]/, "\n*"));
      const locked = run([
        "ssh-keygen",
        "-q",
        "-t",
        "ed25519",
        "-N",
        "a passphrase",
        "-f",
        join(dir, "locked"),
      ], undefined);
      assert.equal(locked.status, 0, locked.stderr);
      const cases: [string, RegExp][] = [
        ["missing", /ENOENT; no such file: check the path/],
        ["truncated", /truncated\?\); --key takes the private key file/],
        ["garbled", /garbled; --key takes the private key file/],
        ["locked", /protected by a passphrase .*run ssh-add on the file/],
        ["good.pub", /does not start with .*ssh-keygen -t ed25519/],
        // A wrong path to something large, or to a device that never ends.
        ["large", /longer than 64 KiB.*; --key takes the private key file/],
        ["/dev/zero", /longer than 64 KiB.*; --key takes the private key file/],
      ];
      writeFileSync(join(dir, "large"), new Uint8Array(100_000).fill(65));
      const socket = join(dir, "explicit.sock");
      for (const [name, remedy] of cases) {
        const path = name.startsWith("/") ? name : join(dir, name);
        // Background start (the way a shell runs it), and -D with -a.
        for (const extra of [[], ["-D", "-a", socket]]) {
          const r = startCommand(["--key", path, ...extra], { TMPDIR: dir });
          assert.equal(r.status, 1, `${name}: ${r.stderr}`);
          assert.equal(r.stdout, "", `${name}: printed ${r.stdout}`);
          assert.ok(
            r.stderr.includes(`Cannot hold the key in "${path}" (--key): `),
            `${name}: ${r.stderr}`,
          );
          assert.match(r.stderr, remedy, name);
          assert.deepEqual(leftovers(dir), [], `${name}: a directory left`);
          assert.ok(!existsSync(socket), `${name}: a socket left`);
        }
      }
      const r = startCommand(["--comment", "x"], { TMPDIR: dir });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /Cannot use --comment: it names the key of the/);
    } finally {
      done();
    }
  },
  { skip: linux },
);

/** Runs the agent with `args` on a new pty, answering each prompt. */
function onTerminal(
  args: string[],
  answers: [string, string][],
  env: Record<string, string>,
): TerminalRun {
  return typeOn(answers, runtimeCommand(AGENT, args), { env });
}

test(
  "--prompt on a terminal: the lock passphrase is typed twice without echo, the agent starts locked with its --key, ssh-add -X unlocks it; at rest no copy of the key or the passphrase lies outside guarded pages",
  async () => {
    ensureOpenSSH();
    const { dir, done } = scratch();
    const passphrase = `lock-${hex(crypto.getRandomValues(new Uint8Array(8)))}`;
    const pub = keyPair(dir, "id", "prompted");
    let pid = 0;
    try {
      const started = onTerminal(
        ["--key", join(dir, "id"), "--prompt"],
        [["Enter lock passphrase: ", `${passphrase}\r`], [
          "Again: ",
          `${passphrase}\r`,
        ]],
        { TMPDIR: dir },
      );
      assert.equal(started.status, 0, started.shown);
      assert.ok(!started.shown.includes(passphrase), "the passphrase echoed");
      const socket = /SSH_AUTH_SOCK=([^;]+);/.exec(started.shown)?.[1];
      pid = Number(/SSH_AGENT_PID=(\d+);/.exec(started.shown)?.[1]);
      assert.ok(socket !== undefined && pid > 0, started.shown);
      // The agent lets go of the terminal once it has asked, as ssh-agent
      // puts /dev/null on its stdin.
      assert.equal(readlinkOr(`/proc/${pid}/fd/0`), "/dev/null");

      // Locked from the first moment: nothing listed, nothing signed.
      const locked = run(["ssh-add", "-l"], socket);
      assert.equal(locked.status, 1, locked.stdout);
      assert.match(locked.stdout, /no identities/);

      if (root) {
        const needles = [
          seedHexOf(join(dir, "id")),
          hexOf(passphrase),
          ...pemLines(join(dir, "id")),
        ];
        const atRest = scanAgent(pid, "readable", needles);
        assert.deepEqual(
          atRest.counts,
          needles.map(() => 0),
          `copies outside guarded pages: ${atRest.where.join("; ")}`,
        );
        const all = scanAgent(pid, "all", needles.slice(0, 1));
        assert.ok(all.counts[0] >= 1, "the scan must see the held key");
        say(
          `  at rest, outside guarded pages: seed ${
            atRest.counts[0]
          }, passphrase ${atRest.counts[1]}, PEM lines ${
            atRest.counts.slice(2).reduce((a, b) => a + b, 0)
          }; seed in guarded pages ${all.counts[0]}`,
        );
      } else say("  (not root: memory scan skipped)");

      // ssh-add -X reads the passphrase from stdin without a terminal.
      const unlock = (words: string) =>
        run(["setsid", "-w", "ssh-add", "-X"], socket, {
          input: `${words}\n`,
          env: { DISPLAY: "", SSH_ASKPASS: "" },
        });
      assert.notEqual(unlock("wrong").status, 0);
      assert.match(run(["ssh-add", "-l"], socket).stdout, /no identities/);
      waitOutBackoff();
      const opened = unlock(passphrase);
      assert.equal(opened.status, 0, opened.stderr);
      const listed = run(["ssh-add", "-L"], socket);
      assert.equal(listed.status, 0, listed.stderr);
      assert.equal(listed.stdout.trim(), pub);
    } finally {
      if (pid > 0) {
        try {
          (globalThis as unknown as {
            process: { kill(pid: number, signal: string): void };
          }).process.kill(pid, "SIGTERM");
        } catch {
          // Already gone.
        }
        for (let i = 0; i < 100 && leftovers(dir).length > 0; i++) {
          await new Promise((wake) => setTimeout(wake, 100));
        }
      }
      assert.deepEqual(leftovers(dir), [], "the agent removed its socket");
      done();
    }
  },
  { skip: pty },
);

test(
  "--prompt: two different passphrases, Ctrl-C, or no terminal end the start with a message, exit 1 and nothing left",
  () => {
    const { dir, done } = scratch();
    try {
      const differ = onTerminal(
        ["--generate", "k", "--prompt"],
        [["Enter lock passphrase: ", "one\r"], ["Again: ", "two\r"]],
        { TMPDIR: dir },
      );
      assert.equal(differ.status, 1, differ.shown);
      assert.match(differ.shown, /the two passphrases differ/);
      assert.ok(!differ.shown.includes("SSH_AUTH_SOCK"), differ.shown);
      assert.deepEqual(leftovers(dir), []);

      const cancelled = onTerminal(
        ["-D", "--prompt"],
        [["Enter lock passphrase: ", "half\x03"]],
        { TMPDIR: dir },
      );
      assert.equal(cancelled.status, 1, cancelled.shown);
      assert.match(cancelled.shown, /cancelled \(Ctrl-C\)/);
      assert.ok(!cancelled.shown.includes("half"), cancelled.shown);
      assert.deepEqual(leftovers(dir), []);

      const piped = startCommand(["--prompt"], { TMPDIR: dir });
      assert.equal(piped.status, 1, piped.stderr);
      assert.match(piped.stderr, /Cannot use --prompt: stdin is not a term/);
      assert.deepEqual(leftovers(dir), []);
    } finally {
      done();
    }
  },
  { skip: pty },
);

test(
  "startAgent({ lockPassphrase }) starts locked (the caller keeps its buffer), addKeyFile takes a comment, and a non-SecretBuffer passphrase is refused before anything listens",
  async () => {
    ensureOpenSSH();
    const { dir, done } = scratch();
    const passphrase = SecretBuffer.from(new TextEncoder().encode("s3cret"));
    const agent = await startAgent({
      harden: false,
      lockPassphrase: passphrase,
    });
    const client = await connectAgent(agent.socketPath);
    try {
      assert.equal(passphrase.size, 6, "the caller still owns the passphrase");
      passphrase.destroy();
      keyPair(dir, "id", "own");
      const file = SecretBuffer.from(readFileSync(join(dir, "id")));
      agent.addKeyFile(file, undefined, "renamed");
      // The agent took the file and destroyed it.
      assert.throws(() => file.read(() => 0), /destroyed/);
      assert.deepEqual(await client.list(), [], "a locked agent lists nothing");
      await assert.rejects(
        client.unlock(new TextEncoder().encode("s3cre")),
        /refused/,
      );
      await backoffPassed();
      await client.unlock(new TextEncoder().encode("s3cret"));
      assert.deepEqual((await client.list()).map((k) => k.comment), [
        "renamed",
      ]);
      await assertRejectsCode(
        () =>
          startAgent({
            harden: false,
            socket: join(dir, "never.sock"),
            lockPassphrase: new TextEncoder().encode(
              "x",
            ) as unknown as SecretBuffer,
          }),
        "INVALID_ARGUMENT",
      );
      assert.ok(!existsSync(join(dir, "never.sock")));
    } finally {
      client.close();
      await agent.close();
      done();
    }
  },
  { skip: linux },
);

function readlinkOr(path: string): string {
  const r = spawnSync("readlink", [path], { encoding: "utf8" });
  return r.stdout.trim();
}

test(
  "the agent's API refuses look-alike SecretBuffers (made from the prototype, a Proxy, a duck with a lying size) as addKeyFile's file, addSecret's key and lockPassphrase: INVALID_ARGUMENT, the look-alike's destroy() never called, nothing held",
  () =>
    withAgent(async (agent, client, dir) => {
      keyPair(dir, "id", "own");
      const bytes = readFileSync(join(dir, "id"));
      const real = SecretBuffer.from(bytes);
      const destroyed: string[] = [];
      const lookAlikes: [string, unknown][] = [
        ["from the prototype", Object.create(SecretBuffer.prototype)],
        ["a Proxy over a real buffer", new Proxy(real, {})],
        ["a duck", {
          size: 1 << 20,
          state: "readwrite",
          read: (fn: (view: Uint8Array) => unknown) => fn(bytes),
          write: (fn: (view: Uint8Array) => unknown) => fn(bytes),
          destroy: () => destroyed.push("duck"),
        }],
      ];
      for (const [name, fake] of lookAlikes) {
        assert.throws(
          () => agent.addKeyFile(fake as SecretBuffer),
          (e: unknown) =>
            (e as { code?: string }).code === "INVALID_ARGUMENT" &&
            /expected a SecretBuffer/.test(String(e)),
          `addKeyFile, ${name}`,
        );
        assert.throws(
          () => agent.addSecret("k", fake as SecretBuffer),
          (e: unknown) => (e as { code?: string }).code === "INVALID_ARGUMENT",
          `addSecret, ${name}`,
        );
        const socket = join(dir, "never.sock");
        await assertRejectsCode(
          () =>
            startAgent({
              harden: false,
              socket,
              lockPassphrase: fake as SecretBuffer,
            }),
          "INVALID_ARGUMENT",
        );
        assert.ok(!existsSync(socket), `${name}: a socket was made`);
      }
      assert.deepEqual(destroyed, [], "a look-alike's destroy() was called");
      assert.equal(real.state, "noaccess", "the Proxy's target was left alone");
      assert.deepEqual(await client.list(), [], "a key was added");
      // The genuine buffer, after all that, is taken and destroyed.
      agent.addKeyFile(real);
      assert.equal(real.state, "destroyed");
      assert.equal((await client.list()).length, 1);
    }),
  { skip: linux },
);
