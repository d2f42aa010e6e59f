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
import { childScript, runtimeCommand } from "./_child.ts";
import { runChild } from "./_child.ts";
import { test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";
import { onTerminal as typeOn, ptyOnly, type TerminalRun } from "./_tools.ts";

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

function onTerminal(keys: string, mode: string): TerminalRun {
  return typeOn(
    [["Passphrase: ", keys]],
    runtimeCommand(childScript("input_prompt.ts"), [mode]),
  );
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
