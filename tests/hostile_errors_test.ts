/**
 * Adversarial suite, errors that say what to do: every error names the
 * value at fault (never a secret's bytes) and the next step. A base64 or
 * hex text with a stray character names that character and its index; a
 * `SECMEM_LOCK` the runtime would not let secmem read is named by the
 * `MEMLOCK_LIMIT` error it leads to (Deno without `--allow-env`, in a child
 * without CAP_IPC_LOCK under a 64 KiB RLIMIT_MEMLOCK).
 *
 * @module
 */

import assert from "node:assert/strict";
import { SecretBuffer, stats } from "../mod.ts";
import { childScript, runChild, runtimeCommand } from "./_child.ts";
import { assertThrowsCode } from "./_error_code.ts";
import { describeChild, lastJson, which } from "./_forensics.ts";
import { runtime, test } from "./_harness.ts";
import { linuxOnly } from "./_platform.ts";

test("fromBase64 with a trailing newline names the newline, its index, and how to strip it", () => {
  const error = assertThrowsCode(
    () => SecretBuffer.fromBase64("AQID\n"),
    "INVALID_ARGUMENT",
  );
  assert.match(error.message, /newline/);
  assert.match(error.message, /index 4/);
  assert.match(error.message, /whitespace .*not accepted/);
  assert.match(error.message, /replace\(/);
  // Not the length complaint that hid the newline before.
  assert.doesNotMatch(error.message, /cannot be whole base64/);
});

test("decoding errors name the character at fault and where it is, never a digit of the secret", () => {
  const before = stats();
  const cases: [() => unknown, RegExp[]][] = [
    [() => SecretBuffer.fromBase64(" AQID"), [/a space at index 0/]],
    [() => SecretBuffer.fromBase64("AQIDBA\r\n"), [
      /carriage return/,
      /index 6/,
    ]],
    [() => SecretBuffer.fromBase64("AQ\tD"), [/tab/, /index 2/]],
    [() => SecretBuffer.fromBase64("A*=="), [/"\*" at index 1/]],
    [() => SecretBuffer.fromBase64("AQ=D"), [/padding/, /index 2/, /end/]],
    [() => SecretBuffer.fromBase64("AQ==="), [/padding/, /index 2/]],
    [() => SecretBuffer.fromBase64("AQIDB"), [/5 characters/, /truncation/]],
    [() => SecretBuffer.fromBase64("AQ="), [/groups of 4/]],
    [() => SecretBuffer.fromHex("00\n"), [
      /newline/,
      /index 2/,
      /not accepted/,
    ]],
    [() => SecretBuffer.fromHex("0x00"), [/"x" at index 1/, /0x prefix/]],
    [() => SecretBuffer.fromHex("a\u00e90b"), [/U\+00E9 at index 1/]],
    [() => SecretBuffer.fromHex("abc"), [
      /3 characters is an odd number/,
      /two hex digits/,
    ]],
    [() => SecretBuffer.fromHex(new Uint8Array(2) as unknown as string), [
      /a Uint8Array/,
      /SecretBuffer\.from/,
    ]],
  ];
  for (const [decode, patterns] of cases) {
    const error = assertThrowsCode(decode, "INVALID_ARGUMENT");
    for (const pattern of patterns) assert.match(error.message, pattern);
  }
  // Unused bits set in the last character: its index, but not the character,
  // which is a digit of the secret.
  const secretDigit = assertThrowsCode(
    () => SecretBuffer.fromBase64("AQJ"),
    "INVALID_ARGUMENT",
  );
  assert.match(secretDigit.message, /last character \(index 2\)/);
  assert.doesNotMatch(secretDigit.message, /"J"|\bJ\b/);
  assert.deepEqual(stats(), before, "a refused text left something mapped");
});

test("a source that is not a Uint8Array is named, with the call that takes it", () => {
  const text = assertThrowsCode(
    () => SecretBuffer.from("hunter2" as unknown as Uint8Array),
    "INVALID_ARGUMENT",
  );
  assert.match(text.message, /a string of length 7/);
  assert.match(text.message, /fromText/);
  assert.doesNotMatch(text.message, /hunter2/);
  const raw = assertThrowsCode(
    () => SecretBuffer.from(new ArrayBuffer(4) as unknown as Uint8Array),
    "INVALID_ARGUMENT",
  );
  assert.match(raw.message, /new Uint8Array\(buffer\)/);
});

const LIMIT = 65536;
const WRAPPER = [
  "setpriv",
  "--inh-caps=-ipc_lock",
  "--bounding-set=-ipc_lock",
  "prlimit",
  `--memlock=${LIMIT}`,
  "--",
];
const tools = linuxOnly ||
  (which("setpriv") && which("prlimit")
    ? false
    : "needs setpriv and prlimit (util-linux)");

interface Refusal {
  code: string;
  message: string;
  made: number;
}

function underLowLimit(
  env: Record<string, string>,
  command: string[] = runtimeCommand(childScript("hostile_errors.ts")),
): Refusal {
  const result = runChild(childScript("hostile_errors.ts"), [], {
    commandOverride: [...WRAPPER, ...command],
    env,
    timeout: 120_000,
  });
  assert.equal(result.status, 0, describeChild(result));
  return lastJson<Refusal>(result.stdout);
}

function denoWithoutEnv(args: string[] = []): string[] {
  const host = globalThis as unknown as { Deno: { execPath(): string } };
  return [
    host.Deno.execPath(),
    "run",
    "--allow-ffi",
    "--allow-read",
    "--quiet",
    new URL(childScript("hostile_errors.ts")).pathname,
    ...args,
  ];
}

test(
  "Deno without --allow-env: the MEMLOCK_LIMIT error says SECMEM_LOCK could not be read and how to fix it",
  () => {
    const refusal = underLowLimit(
      { SECMEM_LOCK: "best-effort" },
      denoWithoutEnv(),
    );
    assert.equal(refusal.code, "MEMLOCK_LIMIT", refusal.message);
    assert(refusal.made < 100);
    assert.match(refusal.message, /RLIMIT_MEMLOCK/);
    assert.match(refusal.message, /SECMEM_LOCK could not be read/);
    assert.match(refusal.message, /--allow-env=SECMEM_LOCK/);
    assert.match(refusal.message, /configure\(\{ lock/);
  },
  { skip: tools || (runtime === "deno" ? false : "Deno's permissions") },
);

test(
  "Deno without --allow-env but configure({ lock }) called: no word of the variable",
  () => {
    const refusal = underLowLimit(
      { SECMEM_LOCK: "best-effort" },
      denoWithoutEnv(["configure"]),
    );
    assert.equal(refusal.code, "MEMLOCK_LIMIT", refusal.message);
    assert.doesNotMatch(refusal.message, /SECMEM_LOCK/);
  },
  { skip: tools || (runtime === "deno" ? false : "Deno's permissions") },
);

test(
  "where SECMEM_LOCK can be read, the MEMLOCK_LIMIT error names the limit and the way out, and no refusal",
  () => {
    const refusal = underLowLimit({ SECMEM_LOCK: "required" });
    assert.equal(refusal.code, "MEMLOCK_LIMIT", refusal.message);
    assert.match(refusal.message, /RLIMIT_MEMLOCK\) is 65536 bytes/);
    assert.match(refusal.message, /ulimit -l/);
    assert.match(refusal.message, /lock: "best-effort"/);
    assert.doesNotMatch(refusal.message, /could not be read/);
  },
  { skip: tools },
);
