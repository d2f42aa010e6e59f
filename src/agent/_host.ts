/**
 * The few Node-compatible built-ins the agent and its client use (`net`,
 * `fs`, `os`, `path`, `child_process`, `url`), fetched with
 * `process.getBuiltinModule`, which Deno, Bun and Node 26 all have, and
 * typed here by what is used: the package's types then need no
 * `@types/node`, and src/ imports no runtime module by name.
 *
 * @module
 */

import { SecretMemoryError } from "../core/errors.ts";

// deno-lint-ignore no-explicit-any
type Listener = (...args: any[]) => void;

/** A stream socket (`net.Socket`), as far as it is used. */
export interface NetSocket {
  on(event: string, listener: Listener): this;
  once(event: string, listener: Listener): this;
  write(data: Uint8Array, callback?: () => void): boolean;
  pause(): this;
  resume(): this;
  destroy(): this;
  end(): this;
  readonly destroyed: boolean;
}

/** A listening socket (`net.Server`), as far as it is used. */
export interface NetServer {
  maxConnections: number;
  on(event: string, listener: Listener): this;
  once(event: string, listener: Listener): this;
  off(event: string, listener: Listener): this;
  listen(path: string, callback: () => void): this;
  close(callback: () => void): this;
}

interface Net {
  createServer(options: { pauseOnConnect: boolean }): NetServer;
  createConnection(path: string): NetSocket;
}

interface Fs {
  mkdtempSync(prefix: string): string;
  chmodSync(path: string, mode: number): void;
  rmSync(path: string, options: { recursive?: boolean; force?: boolean }): void;
  openSync(path: string, flags: string): number;
  realpathSync(path: string): string;
  statSync(path: string): { mode: number; uid: number };
}

interface Os {
  tmpdir(): string;
}

interface Path {
  join(...parts: string[]): string;
  resolve(path: string): string;
  dirname(path: string): string;
}

/** A started child (`child_process.ChildProcess`), as far as it is used. */
export interface Child {
  stdout: NetSocket | null;
  stderr: NetSocket | null;
  on(event: string, listener: Listener): this;
  unref(): void;
}

interface ChildProcesses {
  spawn(
    command: string,
    args: string[],
    options: { detached: boolean; stdio: string[] },
  ): Child;
}

interface Url {
  fileURLToPath(url: string): string;
}

/** The process object, as far as the command uses it. */
export interface HostProcess {
  pid: number;
  ppid: number;
  argv: string[];
  execArgv: string[];
  execPath: string;
  env: Record<string, string | undefined>;
  exitCode?: number;
  stdout: { write(text: string | Uint8Array): boolean };
  stderr: { write(text: string | Uint8Array): boolean };
  exit(code: number): never;
  kill(pid: number, signal: string): void;
  getBuiltinModule?(id: string): unknown;
}

/** The process global (Deno, Bun and Node all define it). */
export function hostProcess(): HostProcess {
  const process = (globalThis as { process?: HostProcess }).process;
  if (process === undefined) {
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      "Cannot run the agent: this runtime has no process object (Deno 2, Bun and Node 26 do)",
    );
  }
  return process;
}

function builtin<T>(id: string): T {
  const module = hostProcess().getBuiltinModule?.(id);
  if (module === undefined) {
    throw new SecretMemoryError(
      "UNSUPPORTED_PLATFORM",
      `Cannot load ${id}: this runtime lacks process.getBuiltinModule`,
    );
  }
  return module as T;
}

/** `node:net`. */
export const net = (): Net => builtin<Net>("node:net");
/** `node:fs`. */
export const fs = (): Fs => builtin<Fs>("node:fs");
/** `node:os`. */
export const os = (): Os => builtin<Os>("node:os");
/** `node:path`. */
export const path = (): Path => builtin<Path>("node:path");
/** `node:child_process`. */
export const childProcess = (): ChildProcesses =>
  builtin<ChildProcesses>("node:child_process");
/** `node:url`. */
export const url = (): Url => builtin<Url>("node:url");
