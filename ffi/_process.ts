/**
 * Exit and signal hooks for runtimes with a Node-compatible `process`
 * (Bun and Node), shared so that each adapter does not write them again.
 *
 * @module
 */

import type { RuntimeAdapter } from "./types.ts";

/** The part of Node's `process` object the adapters use. */
export interface NodeLikeProcess {
  getBuiltinModule(id: string): unknown;
  on(event: string, listener: () => void): unknown;
  exit(code: number): never;
  versions: Record<string, string | undefined>;
  /** Node's permission model: present only when `--permission` is on. */
  permission?: { has(scope: string, reference?: string): boolean };
}

/** `onExit`, `onSignal` and `exit` over a Node-compatible process. */
export function processHooks(
  process: NodeLikeProcess,
): Pick<RuntimeAdapter, "onExit" | "onSignal" | "exit"> {
  return {
    onExit(listener) {
      process.on("exit", listener);
    },
    onSignal(signal, listener) {
      process.on(signal, listener);
    },
    exit: (code) => process.exit(code),
  };
}
