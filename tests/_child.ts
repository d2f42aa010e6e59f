/**
 * Runs a script in a child process of the same runtime, for tests that must
 * watch a process die (a fence touched) or exit (buffers wiped at exit).
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { runtime } from "./_harness.ts";

/** How a child ended and what it printed. */
export interface ChildResult {
  /** Exit code, or null when a signal ended it. */
  status: number | null;
  /** The signal that ended it, for example `SIGSEGV`. */
  signal: string | null;
  stdout: string;
  stderr: string;
}

/**
 * The command line that runs `script` under the current runtime, behind
 * `SECMEM_TEST_EXEC_WRAPPER` when that is set: under qemu-user (the aarch64
 * pass) a child must be started through the emulator again, since this
 * machine has no binfmt_misc entry for arm64 binaries.
 */
export function runtimeCommand(
  script: string,
  args: readonly string[] = [],
): string[] {
  const wrapper = (processEnv().SECMEM_TEST_EXEC_WRAPPER ?? "").split(" ")
    .filter((word) => word !== "");
  return [...wrapper, ...bareCommand(script, args)];
}

function bareCommand(script: string, args: readonly string[]): string[] {
  const path = script.startsWith("file:") ? fileURLToPath(script) : script;
  const host = globalThis as unknown as {
    Deno?: { execPath(): string };
    process: { execPath: string };
  };
  if (host.Deno !== undefined) {
    return [
      host.Deno.execPath(),
      "run",
      "--allow-all",
      "--quiet",
      path,
      ...args,
    ];
  }
  if (runtime === "node") {
    return [
      host.process.execPath,
      "--disable-warning=ExperimentalWarning",
      path,
      ...args,
    ];
  }
  return [host.process.execPath, path, ...args];
}

/** Options for `runChild`. */
export interface ChildOptions {
  /** Working directory. */
  cwd?: string;
  /** A shell prefix such as `ulimit -c unlimited;` run before the runtime. */
  shellPrefix?: string;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Bytes written to the child's stdin. */
  input?: string | Uint8Array;
  /** The whole command line, when a test needs runtime flags of its own. */
  commandOverride?: string[];
  /** Milliseconds before the child is killed (default 60 s). */
  timeout?: number;
}

/** Runs `script` (a path or file URL, usually `tests/children/*.ts`) and waits. */
export function runChild(
  script: string,
  args: readonly string[] = [],
  options: ChildOptions = {},
): ChildResult {
  const command = options.commandOverride ?? runtimeCommand(script, args);
  const env = { ...processEnv(), ...options.env, NO_COLOR: "1" };
  const result = options.shellPrefix === undefined
    ? spawnSync(command[0], command.slice(1), {
      cwd: options.cwd,
      env,
      input: options.input,
      timeout: options.timeout ?? 60_000,
      encoding: "utf8",
    })
    : spawnSync("/bin/sh", [
      "-c",
      `${options.shellPrefix} exec "$@"`,
      "sh",
      ...command,
    ], {
      cwd: options.cwd,
      env,
      input: options.input,
      timeout: options.timeout ?? 60_000,
      encoding: "utf8",
    });
  if (result.error !== undefined) throw result.error;
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
  };
}

/** A URL for a script in tests/children/. */
export function childScript(name: string): string {
  return new URL(`./children/${name}`, import.meta.url).href;
}

function processEnv(): Record<string, string> {
  const host = globalThis as unknown as {
    process: { env: Record<string, string> };
  };
  return { ...host.process.env };
}
