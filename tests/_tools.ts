/**
 * The real clients the key-format and age tests talk to: `age`,
 * `age-keygen` and `ssh-keygen`, installed from apt by
 * tests/ensure_tools.sh when missing (once per process), and small
 * helpers to run them and to drive their passphrase prompts on a pty.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Skip } from "./_harness.ts";
import { os } from "./_platform.ts";

/** False where a test can drive a pty; else why it cannot (a skip). */
export const ptyOnly: string | false = os !== "linux"
  ? "needs a Linux pty"
  : spawnSync("python3", ["-c", "import pty"]).status === 0
  ? false
  : "needs python3 with the pty module to drive a terminal";

let ready: string | undefined;

/** Installs the tools if missing; throws Skip off Linux or without apt. */
export function ensureTools(): void {
  if (ready === "yes") return;
  if (os !== "linux") {
    throw new Skip("the age and OpenSSH interop runs on Linux");
  }
  if (ready === undefined) {
    const script = fileURLToPath(new URL("./ensure_tools.sh", import.meta.url));
    const result = spawnSync("/bin/sh", [script], {
      encoding: "utf8",
      timeout: 900_000,
    });
    ready = result.status === 0 ? "yes" : result.stderr.slice(-300);
  }
  if (ready !== "yes") {
    throw new Error(`cannot install age/openssh-client: ${ready}`);
  }
}

/** The result of a tool run. */
export interface ToolResult {
  status: number | null;
  stdout: Uint8Array;
  stderr: string;
}

/** Runs `command` with `input` on stdin. */
export function tool(
  command: string[],
  input?: Uint8Array | string,
): ToolResult {
  const r = spawnSync(command[0], command.slice(1), {
    input,
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined) throw r.error;
  return {
    status: r.status,
    stdout: new Uint8Array(r.stdout),
    stderr: r.stderr.toString(),
  };
}

/** Runs `command`; fails with its stderr unless it exits 0. */
export function toolOk(
  command: string[],
  input?: Uint8Array | string,
): Uint8Array {
  const r = tool(command, input);
  if (r.status !== 0) {
    throw new Error(`${command.join(" ")} exited ${r.status}: ${r.stderr}`);
  }
  return r.stdout;
}

/** What a command run on a pty did: its exit status and its screen. */
export interface TerminalRun {
  status: number | null;
  /** Everything the terminal showed, carriage returns dropped. */
  shown: string;
}

/**
 * Runs `command` on a new pty (tests/children/input_pty.py): each time the
 * terminal shows the next step's cue, types that step's keys. `settle`
 * waits half a second before typing, for Deno's permission prompt, which
 * discards keys typed before it reads. `env` is added to this process's.
 */
export function onTerminal(
  steps: [cue: string, keys: string][],
  command: string[],
  options: { settle?: boolean; env?: Record<string, string> } = {},
): TerminalRun {
  const hex = (text: string) =>
    Array.from(
      new TextEncoder().encode(text),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
  const script = fileURLToPath(
    new URL("./children/input_pty.py", import.meta.url),
  );
  const host = globalThis as unknown as {
    process: { env: Record<string, string> };
  };
  const r = spawnSync("python3", [
    script,
    ...(options.settle === true ? ["--settle"] : []),
    ...steps.flatMap(([cue, keys]) => [cue, hex(keys)]),
    "--",
    ...command,
  ], {
    encoding: "utf8",
    timeout: 180_000,
    env: { ...host.process.env, NO_COLOR: "1", ...options.env },
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, shown: r.stdout.replaceAll("\r", "") };
}

/** A fresh private directory, and its removal. */
export function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "secmem-formats-"));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}
