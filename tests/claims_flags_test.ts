/**
 * Evidence for what the README tells a Node 26 user about the warning
 * `node:ffi` prints: without flags a program that allocates prints
 * `ExperimentalWarning: FFI is an experimental feature` on stderr;
 * `--disable-warning=ExperimentalWarning` hides that kind and no other
 * (the program still allocates and prints); `--no-warnings=…` ignores its
 * value and hides every warning, which is why the README advises the
 * former. Node only: Deno and Bun print no such warning.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

const mod = fileURLToPath(new URL("../mod.ts", import.meta.url));
const program = `import { SecretBuffer } from ${JSON.stringify(mod)};
const key = SecretBuffer.random(32);
console.log(String(key));
key.destroy();
process.emitWarning("a warning of another kind", "DeprecationWarning");
`;

function node(flags: string[]): { stdout: string; stderr: string } {
  const host = globalThis as unknown as { process: { execPath: string } };
  const run = spawnSync(
    host.process.execPath,
    [...flags, "--input-type=module", "-e", program],
    { encoding: "utf8", timeout: 60_000 },
  );
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout, "SecretBuffer(32 bytes, noaccess)\n", run.stderr);
  return { stdout: run.stdout, stderr: run.stderr };
}

const warning = /ExperimentalWarning: FFI is an experimental feature/;

test(
  "Node prints node:ffi's ExperimentalWarning; --disable-warning=ExperimentalWarning hides only it, --no-warnings hides all",
  () => {
    const plain = node([]).stderr;
    assert.match(plain, warning);
    assert.match(plain, /DeprecationWarning: a warning of another kind/);
    const quiet = node(["--disable-warning=ExperimentalWarning"]).stderr;
    assert.doesNotMatch(quiet, /ExperimentalWarning/);
    // Only that kind is hidden: the program's own warning still shows.
    assert.match(quiet, /DeprecationWarning: a warning of another kind/);
    // `--no-warnings=ExperimentalWarning` is `--no-warnings`: all go.
    assert.equal(node(["--no-warnings=ExperimentalWarning"]).stderr, "");
  },
  { skip: linuxOnly || (runtime !== "node" && "node:ffi's warning") },
);
