/**
 * Helpers for the agent's tests: start `agent.ts -D` under the current
 * runtime as a child, run OpenSSH's tools against it, make key files.
 *
 * @module
 */

import process from "node:process";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Skip } from "./_harness.ts";
import assert from "node:assert/strict";
import { childScript, runtimeCommand } from "./_child.ts";
import { holds, which } from "./_forensics.ts";
import {
  type Agent,
  type AgentClient,
  connectAgent,
  decryptToSecret,
  startAgent,
} from "../agent.ts";
import { BACKOFF_STEP_MS } from "../src/agent/_lock.ts";
import { SecretBuffer } from "../mod.ts";

/** The repository's agent.ts. */
export const AGENT = fileURLToPath(new URL("../agent.ts", import.meta.url));

/** Installs openssh-client and openssh-server when missing. */
export function ensureOpenSSH(): void {
  const script = fileURLToPath(
    new URL("../scripts/apt_ensure.sh", import.meta.url),
  );
  if (which("ssh-add") && which("ssh-keygen") && which("sshd") !== undefined) {
    return;
  }
  const r = spawnSync("bash", [script, "openssh-client", "openssh-server"], {
    encoding: "utf8",
    timeout: 900_000,
  });
  if (r.status !== 0) throw new Skip(`cannot install OpenSSH: ${r.stderr}`);
}

/** A private scratch directory. */
export function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "secmem-agent-test-"));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A running agent child. */
export interface AgentChild {
  socket: string;
  pid: number;
  /** Resolves with the exit code (or signal) when the agent ends. */
  exited: Promise<number | string>;
  stderr(): string;
  stop(signal?: "SIGTERM" | "SIGINT" | "SIGHUP" | "SIGKILL"): void;
}

/** Starts `agent.ts -D ARGS`, behind `wrapper` (for example setpriv). */
export async function startAgentChild(
  args: readonly string[] = [],
  wrapper: readonly string[] = [],
  env: Record<string, string> = {},
): Promise<AgentChild> {
  const command = [...wrapper, ...runtimeCommand(AGENT, ["-D", ...args])];
  const child = spawn(command[0], command.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...processEnv(), ...env, NO_COLOR: "1" },
  });
  let out = "";
  let err = "";
  child.stderr!.on(
    "data",
    (c: Uint8Array) => err += new TextDecoder().decode(c),
  );
  const exited = new Promise<number | string>((resolve) =>
    child.on("exit", (code, signal) => resolve(code ?? signal ?? -1))
  );
  const socket = await new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", (c: Uint8Array) => {
      out += new TextDecoder().decode(c);
      const m = /SSH_AUTH_SOCK=([^;]+);/.exec(out);
      if (m && out.includes("echo Agent pid")) resolve(m[1]);
    });
    exited.then((code) =>
      reject(new Error(`the agent ended (${code}) before it started: ${err}`))
    );
  });
  const pid = Number(/SSH_AGENT_PID=(\d+)/.exec(out)![1]);
  return {
    socket,
    pid,
    exited,
    stderr: () => err,
    stop: (signal = "SIGTERM") => void child.kill(signal),
  };
}

/** Runs a command with SSH_AUTH_SOCK (and `env`); returns its result. */
export function run(
  command: readonly string[],
  socket: string | undefined,
  options: { env?: Record<string, string>; input?: string } = {},
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(command[0], command.slice(1), {
    encoding: "utf8",
    timeout: 120_000,
    input: options.input,
    env: {
      ...processEnv(),
      ...(socket === undefined ? {} : { SSH_AUTH_SOCK: socket }),
      ...options.env,
    },
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Makes an Ed25519 key pair `name` in `dir`; returns the .pub line. */
export function keyPair(dir: string, name: string, comment: string): string {
  const path = join(dir, name);
  const r = run(
    ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", path],
    undefined,
  );
  if (r.status !== 0) throw new Error(`ssh-keygen failed: ${r.stderr}`);
  return readFileSync(`${path}.pub`, "utf8").trim();
}

/** The environment of this process. */
export function processEnv(): Record<string, string> {
  return {
    ...(globalThis as unknown as { process: { env: Record<string, string> } })
      .process.env,
  };
}

/**
 * Counts copies of each hex `needles` in the agent's memory with
 * tests/children/agent_scan.py (root only): in its readable mappings, or
 * in all of them (guarded pages included).
 */
export function scanAgent(
  pid: number,
  mode: "readable" | "all",
  needles: string[],
): { counts: number[]; scanned: number; where: string[] } {
  const r = spawnSync("/usr/bin/python3", [
    fileURLToPath(childScript("agent_scan.py")),
    String(pid),
    mode,
    ...needles,
  ], { encoding: "utf8", timeout: 300_000, maxBuffer: 1 << 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

/**
 * Runs `body` with an in-process agent (not hardened), a client connected
 * to it and a scratch directory; closes all three however it ends.
 */
export async function withAgent(
  body: (agent: Agent, client: AgentClient, dir: string) => Promise<void>,
): Promise<void> {
  ensureOpenSSH();
  const { dir, done } = scratch();
  const agent = await startAgent({ harden: false });
  const client = await connectAgent(agent.socketPath);
  try {
    await body(agent, client, dir);
  } finally {
    client.close();
    await agent.close();
    done();
  }
}

/**
 * Waits out the lock's back-off after `wrong` wrong passphrases in a row
 * (src/agent/_lock.ts), blocking: the agent it waits for is another
 * process, or ssh-add runs with spawnSync anyway.
 */
export function waitOutBackoff(wrong = 1): void {
  const ms = wrong * BACKOFF_STEP_MS + 20;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Waits out the back-off, for an agent in this process. */
export function backoffPassed(wrong = 1): Promise<void> {
  const ms = wrong * BACKOFF_STEP_MS + 20;
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Asserts that a secret added with a 1 s lifetime while `replace` holds
 * (it replaces built-ins and returns what puts them back) is destroyed on
 * time, with no request to the agent: by its own expiry timer. The agent
 * takes the caller's SecretBuffer, so its own state tells (a count of live
 * buffers would move with any other buffer the process frees meanwhile).
 */
export async function assertExpiresUnder(
  replace: () => () => void,
): Promise<void> {
  const wait = setTimeout;
  const agent = await startAgent({ harden: false });
  try {
    const secret = SecretBuffer.random(32);
    const restore = replace();
    try {
      agent.addSecret("short", secret, 1);
    } finally {
      restore();
    }
    assert.notEqual(secret.state, "destroyed", "the secret is not held");
    await new Promise((resolve) => wait(resolve, 2500));
    assert.equal(
      secret.state,
      "destroyed",
      "the secret outlived its lifetime",
    );
  } finally {
    await agent.close();
  }
}

/**
 * A peer that connects to the agent socket given as its argument, sends
 * REQUEST_IDENTITIES and prints `answered` or `closed` (or
 * `connect-failed …`).
 */
export const PEER_SCRIPT = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("connect-failed", e); sys.exit(0)
try:
    s.sendall(b"\\0\\0\\0\\x01\\x0b")
    data = s.recv(4096)
except (ConnectionResetError, BrokenPipeError):
    data = b""
print("answered" if data else "closed")
`;

/**
 * Runs `PEER_SCRIPT` as uid 65534 against `socket`, without blocking this
 * process's event loop (an agent in it must answer); resolves with what
 * it printed.
 */
export function peerAsNobody(socket: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("setpriv", nobodyPeerArgs(socket));
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => out += chunk);
    child.stderr.on("data", (chunk) => err += chunk);
    child.on("error", reject);
    child.on("close", () => resolve(out.trim() || `no answer: ${err}`));
  });
}

/**
 * Starts an agent in this process, then runs the client's `decrypt`,
 * `decryptToSecret` and `hmac` with `spy` installed (`spy` gets a `note`
 * for each array it sees, and returns what uninstalls it), checks the
 * answers, and asserts that no array noted held the plaintext or the MAC.
 */
export async function assertRepliesUnseen(
  spy: (note: (bytes: Uint8Array) => void) => () => void,
  what: string,
): Promise<void> {
  const agent = await startAgent({ harden: false });
  const client = await connectAgent(agent.socketPath);
  try {
    await client.generateSecret("wrap");
    const plaintext = new Uint8Array(48);
    for (let i = 0; i < plaintext.length; i++) plaintext[i] = 0xa0 ^ i;
    const sealed = await client.encrypt("wrap", plaintext.slice());
    const data = new Uint8Array([1, 2, 3]);
    const mac = await client.hmac("wrap", data);
    assert.equal(mac.length, 32);
    const seen: Uint8Array[] = [];
    let decrypted: Uint8Array | undefined;
    let again: Uint8Array | undefined;
    let secret: SecretBuffer | undefined;
    const uninstall = spy((bytes) => {
      seen[seen.length] = bytes.slice();
    });
    try {
      decrypted = await client.decrypt("wrap", sealed);
      secret = await decryptToSecret(client, "wrap", sealed);
      again = await client.hmac("wrap", data);
    } finally {
      uninstall();
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
        `${what} was handed a reply with the plaintext or the MAC`,
      );
    } finally {
      secret?.destroy();
    }
  } finally {
    client.close();
    await agent.close();
  }
}

/** setpriv's arguments that run `PEER_SCRIPT` against `socket` as uid 65534. */
export function nobodyPeerArgs(socket: string): string[] {
  return [
    "--reuid=65534",
    "--regid=65534",
    "--clear-groups",
    "/usr/bin/python3",
    "-c",
    PEER_SCRIPT,
    socket,
  ];
}

/**
 * Why a test that connects as uid 65534 cannot run here, or false: it
 * needs Linux, root (to change uid) and setpriv.
 */
export const nobodyPeerSkip: string | false = process.platform !== "linux"
  ? "Linux only"
  : (process.getuid?.() ?? -1) !== 0
  ? "needs root to connect as another uid"
  : which("setpriv")
  ? false
  : "needs setpriv";
