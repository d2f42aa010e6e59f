/**
 * Child for the secretmem core-dump test: holds a secret-memory buffer
 * open for reading (so nothing but the backend keeps it out of the dump)
 * and a heap control array, prints both as masked needles, and aborts.
 * Run with `ulimit -c unlimited` in an empty directory.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { LINUX_LIBC_CANDIDATES } from "../../ffi/linux.ts";
import { loadAdapter } from "../../ffi/load.ts";
import { needleOf } from "../_forensics.ts";

const libc = loadAdapter().open(LINUX_LIBC_CANDIDATES, {
  abort: { parameters: [], result: "void" },
});
const hex = (bytes: Uint8Array) =>
  [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");

const secret = SecretBuffer.random(32, { backend: "secretmem" });
secret.protect("readonly");
const control = new Uint8Array(32);
for (let i = 0; i < 32; i++) control[i] = (i * 151 + 89 + Date.now()) & 0xff;
const s = needleOf(secret);
const c = needleOf(control);
console.log(JSON.stringify({
  secret: { masked: hex(s.masked), mask: hex(s.mask) },
  control: { masked: hex(c.masked), mask: hex(c.mask) },
  // Keep the control reachable until the crash.
  first: control[0] + secret.view[0] * 0,
}));
libc.abort();
