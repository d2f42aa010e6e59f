/**
 * Evidence for two claims about waiting on a terminal, each through a real
 * pty (tests/children/input_pty.py, claims_pty_ask.py): the passphrase prompt waits with
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

const python = spawnSync("python3", ["-c", "import pty"]).status === 0;
const ptyOnly = linuxOnly ||
  (python ? false : "needs python3 with the pty module to drive a terminal");

const hex = (text: string) =>
  Array.from(
    new TextEncoder().encode(text),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");

/**
 * Runs `command` on a pty; types `keys` once `cue` shows (through `driver`,
 * a script of tests/children/); returns what the terminal showed.
 */
function onTerminal(
  cue: string,
  keys: string,
  command: string[],
  driver = "input_pty.py",
): string {
  const script = fileURLToPath(childScript(driver));
  const run = spawnSync("python3", [script, cue, hex(keys), "--", ...command], {
    encoding: "utf8",
    timeout: 90_000,
    env: { ...processEnv(), NO_COLOR: "1" },
  });
  assert.equal(run.status, 0, `the child failed: ${run.stdout}${run.stderr}`);
  return run.stdout.replaceAll("\r", "");
}

function processEnv(): Record<string, string> {
  return (globalThis as unknown as { process: { env: Record<string, string> } })
    .process.env;
}

test("the prompt waits with timers: an interval ticks while it waits", () => {
  const shown = onTerminal(
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
      const granted = onTerminal("Allow?", "y\r", command, "claims_pty_ask.py");
      assert.match(granted, /Deno requests read access to "[^"]*key"/, granted);
      assert.match(granted, /^size 6$/m, granted);
      const denied = onTerminal("Allow?", "n\r", command, "claims_pty_ask.py");
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
