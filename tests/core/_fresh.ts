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

import { copyFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const core = fileURLToPath(new URL("../../src/core/", import.meta.url));

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
    rmSync(dir, { recursive: true, force: true });
  }
}
