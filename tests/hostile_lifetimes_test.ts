/**
 * Adversarial suite, class 6: lifetimes. SIGHUP joins SIGINT and SIGTERM
 * under catchInterrupt; Deno's exits on an uncaught exception and an
 * unhandled rejection wipe (Bun and Node run their exit hook already); the
 * prompt yields to the event loop, so a signal during it is handled and
 * the terminal restored, and it accepts exactly maxSize keys.
 *
 * Workers ended by `terminate()`, which runs no code of ours, are in
 * hostile_workers_test.ts.
 *
 * @module
 */

import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { childScript, runtimeCommand } from "./_child.ts";
import { runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

function processEnv(): Record<string, string> {
  return (globalThis as unknown as { process: { env: Record<string, string> } })
    .process.env;
}

for (const [signal, code] of [["SIGHUP", 129], ["SIGTERM", 143]] as const) {
  test(`catchInterrupt wipes on ${signal} and exits ${code}`, () => {
    const child = runChild(childScript("hostile.ts"), ["interrupt", signal]);
    assert(child.stdout.includes("live 1"), child.stdout + child.stderr);
    assert.equal(
      child.status,
      code,
      `status ${child.status} signal ${child.signal}: ${child.stdout}`,
    );
    assert(child.stdout.includes("live at exit 0"), child.stdout);
    assert(!child.stdout.includes("still running"), child.stdout);
  }, { skip: linuxOnly });
}

for (const how of ["throw", "reject"]) {
  test(`an uncaught ${how} ends the process with every buffer wiped`, () => {
    const child = runChild(childScript("hostile.ts"), ["fatal", how]);
    assert(child.stdout.includes("live 1"), child.stdout + child.stderr);
    assert(
      child.stdout.includes("live at fatal exit 0"),
      `no wipe on an uncaught ${how}: ${child.stdout}`,
    );
    assert.notEqual(child.status, 0);
  }, { skip: linuxOnly });
}

const python = spawnSync("python3", ["-c", "import pty"]).status === 0;
const ptyOnly = linuxOnly ||
  (python ? false : "needs python3 with the pty module to drive a terminal");

function onTerminal(
  keys: string,
  mode: string,
): { status: number | null; shown: string } {
  const hex = Array.from(
    new TextEncoder().encode(keys),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
  const run = spawnSync("python3", [
    fileURLToPath(childScript("input_pty.py")),
    "Passphrase: ",
    hex,
    "--",
    ...runtimeCommand(childScript("input_prompt.ts"), [mode]),
  ], {
    encoding: "utf8",
    timeout: 90_000,
    env: { ...processEnv(), NO_COLOR: "1" },
  });
  return { status: run.status, shown: run.stdout.replaceAll("\r", "") };
}

test("the prompt accepts exactly maxSize keys, and refuses one more", () => {
  const exact = onTerminal(`${"x".repeat(64)}\r`, "show");
  assert(exact.shown.includes("size 64"), exact.shown);
  assert(exact.shown.includes("terminal restored"), exact.shown);
  const over = onTerminal(`${"x".repeat(65)}\r`, "show");
  assert(over.shown.includes("error TOO_LARGE"), over.shown);
}, { skip: ptyOnly });

test(
  "SIGTERM during the prompt under catchInterrupt exits 143 with the terminal restored",
  () => {
    // The child signals itself from a timer once the prompt waits: a prompt
    // that blocked the thread would never let the timer run.
    const run = onTerminal("", "sigterm");
    assert.equal(run.status, 143, run.shown);
    assert(run.shown.includes("terminal restored at exit"), run.shown);
  },
  { skip: ptyOnly },
);
