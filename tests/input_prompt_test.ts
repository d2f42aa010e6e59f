/**
 * Tests for `promptSecret`, through a real pseudo-terminal: a Python
 * driver (tests/children/input_pty.py) runs a child on a new pty, waits
 * for the prompt, types keys, and returns everything the terminal showed.
 *
 * @module
 */

import { promptSecret } from "../mod.ts";
import { test } from "./_harness.ts";
import assert from "node:assert/strict";
import { assertRejectsCode } from "./_error_code.ts";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { linuxOnly } from "./_platform.ts";
import { onTerminal, ptyOnly } from "./_tools.ts";

/** Runs the prompt child on a pty, typing `keys`; returns what it showed. */
function typeIn(keys: string, mode = "show"): string {
  const command = runtimeCommand(childScript("input_prompt.ts"), [mode]);
  const run = onTerminal([["Passphrase: ", keys]], command);
  assert.deepEqual(run.status, 0, `the child failed: ${run.shown}`);
  return run.shown;
}

function hexOf(text: string): string {
  return Array.from(
    new TextEncoder().encode(text),
    (b) => b.toString(16).padStart(2, "0"),
  ).join("");
}

test(
  "the prompt reads a passphrase with echo off and restores the terminal",
  () => {
    const shown = typeIn("correct horse\r");
    assert(shown.startsWith("Passphrase: \n"), JSON.stringify(shown));
    assert(!shown.includes("correct"), `the passphrase was echoed: ${shown}`);
    assert(shown.includes(`size 13\nhex ${hexOf("correct horse")}\n`), shown);
    assert(shown.includes("terminal restored"), shown);
  },
  { skip: ptyOnly },
);

test("the prompt takes UTF-8 and ends at a newline as well", () => {
  const shown = typeIn("pässwörd\n");
  assert(shown.includes(`hex ${hexOf("pässwörd")}\n`), shown);
}, { skip: ptyOnly });

test("backspace, ^H and Ctrl-U edit the line in the guarded buffer", () => {
  const shown = typeIn("abcd\x7f\x7fxy\x08z\x15kept\x7fp\r");
  assert(shown.includes(`size 4\nhex ${hexOf("kepp")}\n`), shown);
  assert(shown.includes("terminal restored"), shown);
  const wide = typeIn("pä€\x7f\x7fx\r");
  assert(
    wide.includes(`hex ${hexOf("px")}\n`),
    "backspace removes a character",
  );
  const extra = typeIn("\x7f\x7fok\r");
  assert(extra.includes(`hex ${hexOf("ok")}\n`), "backspace on empty input");
}, { skip: ptyOnly });

test("Ctrl-C cancels with CANCELLED and restores the terminal", () => {
  const shown = typeIn("secret\x03");
  assert(shown.includes("error CANCELLED\nterminal restored"), shown);
  assert(!shown.includes("secret"), shown);
}, { skip: ptyOnly });

test("Ctrl-D cancels on an empty line and is ignored after input", () => {
  const empty = typeIn("\x04");
  assert(empty.includes("error CANCELLED\nterminal restored"), empty);
  const typed = typeIn("ab\x04c\r");
  assert(typed.includes(`hex ${hexOf("abc")}\n`), typed);
}, { skip: ptyOnly });

test(
  "typing past maxSize fails with TOO_LARGE and restores the terminal",
  () => {
    const shown = typeIn(`${"x".repeat(65)}\r`);
    assert(shown.includes("error TOO_LARGE\nterminal restored"), shown);
  },
  { skip: ptyOnly },
);

test("the prompt refuses a pipe unless allowPipe is set", () => {
  const refused = runChild(childScript("input_prompt.ts"), ["show"], {
    input: "piped\n",
  });
  assert(refused.stdout.includes("error NOT_A_TERMINAL"), refused.stdout);
  const allowed = runChild(childScript("input_prompt.ts"), ["pipe"], {
    input: "piped\r\nsecond line\n",
  });
  assert(
    allowed.stdout.includes(`size 5\nhex ${hexOf("piped")}`),
    allowed.stdout + allowed.stderr,
  );
  assert.deepEqual(allowed.stderr, "Passphrase: ", "the prompt goes to stderr");
  const last = runChild(childScript("input_prompt.ts"), ["pipe"], {
    input: "no newline",
  });
  assert(last.stdout.includes(`hex ${hexOf("no newline")}`), last.stdout);
  const none = runChild(childScript("input_prompt.ts"), ["pipe"], {
    input: "",
  });
  assert(none.stdout.includes("error CANCELLED"), none.stdout);
}, { skip: linuxOnly });

test("promptSecret checks its arguments before touching the terminal", async () => {
  await assertRejectsCode(
    () => promptSecret(1 as unknown as string),
    "INVALID_ARGUMENT",
  );
  await assertRejectsCode(
    () => promptSecret("x", { allowPipe: "yes" as unknown as boolean }),
    "INVALID_ARGUMENT",
  );
  await assertRejectsCode(
    () => promptSecret("x", { maxSize: -2 }),
    "INVALID_SIZE",
  );
});

/** Runs examples/prompt_passphrase.ts on a pty, answering both prompts. */
function runExample(first: string, second: string) {
  const example = new URL("../examples/prompt_passphrase.ts", import.meta.url)
    .href;
  return onTerminal(
    [["New passphrase: ", first], ["Repeat it: ", second]],
    runtimeCommand(example),
  );
}

test(
  "the prompt example accepts matching passphrases and refuses others",
  () => {
    const same = runExample("open sesame\r", "open sesame\r");
    assert.deepEqual(same.status, 0, same.shown);
    assert(same.shown.includes("Passphrase accepted: 11 bytes"), same.shown);
    assert(!same.shown.includes("sesame"), "a passphrase was echoed");
    const differ = runExample("open sesame\r", "open sesamf\r");
    assert.deepEqual(differ.status, 1, differ.shown);
    assert(differ.shown.includes("differ"), differ.shown);
    const cancelled = runExample("\x03", "");
    assert.deepEqual(cancelled.status, 1, cancelled.shown);
    assert(cancelled.shown.includes("cancelled (Ctrl-C)"), cancelled.shown);
  },
  { skip: ptyOnly },
);
