/**
 * A fresh instance of a module of src/core, with module state of its own:
 * the named files are copied into a new temporary folder and the first one
 * is imported from there. A module that keeps process state (the process
 * table, the map-count threshold) can then be tested without touching the
 * instance the rest of the process uses, and two instances stand for two
 * threads. (A query string does not do it: Bun keys modules by path.)
 *
 * @module
 */

import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const core = fileURLToPath(new URL("../../src/core/", import.meta.url));

/**
 * Best effort: Bun for Windows under Wine fails the removal of a folder
 * whose modules it has loaded (EFAULT); there the folder is in the run's
 * own Wine prefix, which tests/windows/run.sh deletes afterwards.
 */
function removeQuietly(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Left for the prefix's removal (see above).
  }
}

/**
 * Imports a private copy of `src/core/<files[0]>`; `files` must name every
 * module of src/core it imports at run time (type-only imports are erased).
 */
export async function fresh<T>(files: readonly string[]): Promise<T> {
  const known = new Set(readdirSync(core));
  const dir = mkdtempSync(join(tmpdir(), "secmem-fresh-"));
  try {
    for (const file of files) {
      if (!known.has(file)) throw new Error(`fresh: no src/core/${file}`);
      copyFileSync(join(core, file), join(dir, file));
    }
    return await import(pathToFileURL(join(dir, files[0])).href) as T;
  } finally {
    removeQuietly(dir);
  }
}

/**
 * A stand-in for src/core/_native.ts in a private copy: `native()` answers
 * what the test installed with `useNativeForTesting`, and nothing opens
 * the real FFI layer (its ffi/ imports would not resolve from the copy).
 */
export const NATIVE_STUB = `
let installed;
export function native() {
  if (installed === undefined) throw new Error("fresh: no native layer installed");
  return installed;
}
export function useNativeForTesting(memory) {
  installed = memory;
}
`;

/**
 * Private copies of several modules of src/core that import each other,
 * and `stubs` (file name to source) in place of others: every module is
 * imported from the one copy, so they share their state with each other
 * and with nothing else. Returns each module by file name.
 */
export async function freshGraph(
  files: readonly string[],
  stubs: Readonly<Record<string, string>> = {},
): Promise<Record<string, unknown>> {
  const known = new Set(readdirSync(core));
  const dir = mkdtempSync(join(tmpdir(), "secmem-fresh-"));
  try {
    for (const file of files) {
      if (!known.has(file)) throw new Error(`fresh: no src/core/${file}`);
      copyFileSync(join(core, file), join(dir, file));
    }
    for (const [file, source] of Object.entries(stubs)) {
      writeFileSync(join(dir, file), source);
    }
    const modules: Record<string, unknown> = {};
    for (const file of [...files, ...Object.keys(stubs)]) {
      modules[file] = await import(pathToFileURL(join(dir, file)).href);
    }
    return modules;
  } finally {
    removeQuietly(dir);
  }
}
