/**
 * An agent whose socket's directories cannot be checked for who can write
 * them refuses to start (fail closed), as the README says: Deno with read
 * permission for the socket's own directory only.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { test } from "./_harness.ts";
import { childScript } from "./_child.ts";
import { linuxOnly } from "./_platform.ts";

const DENO = fileURLToPath(
  new URL("../node_modules/.bin/deno", import.meta.url),
);
const ROOT = fileURLToPath(new URL("..", import.meta.url));

function startIn(directory: string, socket: string, read: string): string {
  const r = spawnSync(DENO, [
    "run",
    "--quiet",
    "--no-prompt",
    "--allow-ffi",
    "--allow-env",
    "--allow-net",
    `--allow-write=${directory}`,
    read,
    fileURLToPath(childScript("agent_unchecked_dir.ts")),
    socket,
  ], { encoding: "utf8", timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split("\n").pop()!;
}

test(
  "agent: a socket whose directories cannot be checked (Deno reading only its own) is refused with OS_ERROR and never made; with read permission it starts",
  () => {
    const directory = mkdtempSync(join(tmpdir(), "secmem-unchecked-"));
    try {
      const socket = join(directory, "a.sock");
      const refused = startIn(
        directory,
        socket,
        `--allow-read=${directory},${ROOT}`,
      );
      assert.match(
        refused,
        /^OS_ERROR: .*cannot check who can write the directories above it/,
      );
      assert.equal(existsSync(socket), false, "no socket was made");
      // The control: the same start, allowed to read the directories above.
      assert.equal(startIn(directory, socket, "--allow-read"), "started");
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  },
  { skip: linuxOnly },
);
