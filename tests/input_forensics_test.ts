/**
 * Forensic proof for each input path: a child reads a secret it alone
 * holds (random bytes the shell wrote to a file, or keys typed on a
 * pseudo-terminal by a driver process), builds a masked needle, destroys
 * the buffer, and scans its own memory: 0 copies must be left. Each path
 * also runs a control that keeps one heap copy, which the scan must find,
 * so a 0 means "gone", not "unseen".
 *
 * The test process never holds the secret bytes: the file comes from
 * /dev/urandom through the shell, and the child builds the needle itself.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runtime, test as register } from "./_harness.ts";
import assert from "node:assert/strict";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { isWindows, linuxOnly } from "./_platform.ts";
import { onTerminal, ptyOnly } from "./_tools.ts";

// These tests pass descriptor numbers from node:fs. On Windows those are C
// runtime descriptors, not the handles ReadFile/WriteFile take, so the
// number-taking forms are POSIX-only for now.
const posixDescriptors: string | false = isWindows
  ? "descriptor numbers from node:fs are C runtime descriptors on Windows, not handles"
  : false;
const test: typeof register = (name, body, options = {}) =>
  register(name, body, { skip: posixDescriptors || options.skip });

const folder = mkdtempSync(join(tmpdir(), "secmem-forensics-"));

/**
 * A fresh 32-byte secret file written by the shell; returns its path. The
 * `-hex` and `-base64` paths get the secret as text, as key files are
 * written: spaces and line breaks inside (od, base64 -w 20), a newline at
 * the end.
 */
function secretFile(name: string): string {
  const path = join(folder, name);
  const encode = name.startsWith("file-hex")
    ? " | od -An -tx1 -v"
    : name.startsWith("file-base64")
    ? " | base64 -w 20"
    : "";
  const made = spawnSync("/bin/sh", [
    "-c",
    `head -c 32 /dev/urandom${encode} > '${path}'`,
  ]);
  assert.deepEqual(made.status, 0, "could not make the secret file");
  return path;
}

/** Copies found by the child after reading the file through `how`. */
function copiesAfter(how: string, mode: "destroy" | "control"): number {
  const path = secretFile(`${how}-${mode}`);
  const run = runChild(childScript("input_scan.ts"), [path, how, mode], {
    // Only the stdin path reads it, but every child gets the same stdin.
    shellPrefix: `cat '${path}' |`,
  });
  const match = /^size 32 copies (\d+) scanned \d+$/m.exec(run.stdout);
  assert(match !== null, `unexpected output: ${run.stdout}${run.stderr}`);
  return Number(match[1]);
}

const paths = ["file", "file-sync", "fd", "stdin", "file-hex", "file-base64"];
if (runtime === "deno") paths.push("deno-fsfile", "stream");

for (const how of paths) {
  test(
    `after reading a secret via ${how} and destroying it, 0 copies are left`,
    () => {
      assert.deepEqual(copiesAfter(how, "destroy"), 0, "copies found");
      assert(copiesAfter(how, "control") >= 1, "the control copy was not seen");
    },
    { skip: linuxOnly },
  );
}

test("after a prompt and destroy, 0 copies of the passphrase are left", () => {
  const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  const scan = (mode: string): number => {
    // The driver types it: only the driver and the test (another process)
    // ever hold it; the child reads it a byte at a time into guarded pages.
    const phrase = Array.from(
      { length: 32 },
      () => letters[Math.floor(Math.random() * letters.length)],
    ).join("");
    const run = onTerminal(
      [["Passphrase: ", `${phrase}\r`]],
      runtimeCommand(childScript("input_prompt.ts"), [mode]),
    );
    const match = /size 32\ncopies (\d+)/.exec(run.shown);
    assert(match !== null, `unexpected output: ${run.shown}`);
    return Number(match[1]);
  };
  assert.deepEqual(scan("scan"), 0, "copies found");
  assert(scan("scan-control") >= 1, "the control copy was not seen");
}, {
  skip: ptyOnly,
});

test("forensic test files are removed", () => {
  rmSync(folder, { recursive: true, force: true });
});
