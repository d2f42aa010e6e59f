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

/**
 * Runs `command` on a pty (tests/children/input_pty.py), typing
 * `passphrase` and Enter at each prompt that contains a string of
 * `prompts`; returns the exit status and what the terminal showed.
 */
export function onPty(
  prompts: string[],
  passphrase: string,
  command: string[],
): { status: number | null; shown: string } {
  const keys = Array.from(
    new TextEncoder().encode(passphrase + "\n"),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const script = fileURLToPath(
    new URL("./children/input_pty.py", import.meta.url),
  );
  const r = spawnSync(
    "python3",
    [script, ...prompts.flatMap((p) => [p, keys]), "--", ...command],
    { encoding: "utf8", timeout: 180_000 },
  );
  if (r.error !== undefined) throw r.error;
  return { status: r.status, shown: r.stdout + r.stderr };
}

/** A fresh private directory, and its removal. */
export function scratch(): { dir: string; done: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "secmem-formats-"));
  return { dir, done: () => rmSync(dir, { recursive: true, force: true }) };
}
