/**
 * Child for the core-dump proof: holds S1 in a SecretBuffer at rest, S3 in
 * a SecretBuffer held open (readonly), and the control S2 in an ordinary
 * Uint8Array; prints the three as masked needles, then aborts (`abort`) or
 * waits to be dumped by gcore and killed (`wait`).
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { emit, needleHex, needleOf } from "../_forensics.ts";
import { testLibc } from "../_test_libc.ts";

const mode =
  ("Deno" in globalThis
    ? (globalThis as unknown as { Deno: { args: string[] } }).Deno.args
    : (globalThis as unknown as { process: { argv: string[] } }).process.argv
      .slice(2))[0];

const libc = testLibc();
const atRest = SecretBuffer.random(32);
const open = SecretBuffer.random(32);
open.protect("readonly");
const control = new Uint8Array(32);
// Math.random rather than crypto: the control must only be recognisable.
for (let i = 0; i < control.length; i++) {
  control[i] = 1 + Math.floor(Math.random() * 255);
}
(globalThis as Record<string, unknown>).keepControl = control;

emit({
  pid: libc.getpid(),
  atRest: needleHex(needleOf(atRest)),
  open: needleHex(needleOf(open)),
  control: needleHex(needleOf(control)),
  openState: open.state,
  restState: atRest.state,
});

if (mode === "abort") {
  // Let the output drain first: Bun writes to a pipe asynchronously.
  setTimeout(() => libc.abort(), 100);
} else {
  setInterval(() => control[0] === 256, 60_000);
}
