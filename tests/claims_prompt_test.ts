/**
 * Evidence for two claims about waiting on a terminal, each through a real
 * pty (tests/children/input_pty.py): the passphrase prompt waits with
 * timers, so the thread runs other work while it waits; and in Deno, a
 * read permission in state "prompt" is asked on the terminal, as Deno's
 * own file calls ask, and the answer is obeyed.
 *
 * @module
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import assert from "node:assert/strict";
import { childScript, runtimeCommand } from "./_child.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { onTerminal } from "./_tools.ts";

const python = spawnSync("python3", ["-c", "import pty"]).status === 0;
const ptyOnly = linuxOnly ||
  (python ? false : "needs python3 with the pty module to drive a terminal");

/** Runs `command` on a pty, typing `keys` at `cue`; the screen, if it exits 0. */
function answered(
  cue: string,
  keys: string,
  command: string[],
  settle = false,
): string {
  const run = onTerminal([[cue, keys]], command, { settle });
  assert.equal(run.status, 0, `the child failed: ${run.shown}`);
  return run.shown;
}

test("the prompt waits with timers: an interval ticks while it waits", () => {
  const shown = answered(
    "ticks 5 while waiting",
    "abc\r",
    runtimeCommand(childScript("claims_prompt.ts"), ["timers"]),
  );
  assert.match(shown, /^size 3 after 5 or more ticks$/m, shown);
}, { skip: ptyOnly });

test(
  'Deno: a read permission in state "prompt" is asked on the terminal, and the answer obeyed',
  () => {
    const folder = mkdtempSync(join(tmpdir(), "secmem-ask-"));
    try {
      const file = join(folder, "key");
      writeFileSync(file, "secret");
      const deno = (globalThis as unknown as { Deno: { execPath(): string } })
        .Deno.execPath();
      // No --allow-read and no --no-prompt: the file's read is "prompt".
      const command = [
        deno,
        "run",
        "--allow-ffi",
        "--quiet",
        fileURLToPath(childScript("claims_prompt.ts")),
        "read",
        file,
      ];
      const granted = answered("Allow?", "y\r", command, true);
      assert.match(granted, /Deno requests read access to "[^"]*key"/, granted);
      assert.match(granted, /^size 6$/m, granted);
      const denied = answered("Allow?", "n\r", command, true);
      assert.match(denied, /^error PERMISSION_DENIED$/m, denied);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  },
  {
    skip: ptyOnly ||
      (runtime === "deno"
        ? false
        : "Deno's permission prompt; this is not Deno"),
  },
);
