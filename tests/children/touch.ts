/**
 * Child for the fence tests: touches guarded memory the way the mode says,
 * and prints `survived` if the process is still alive afterwards.
 * Modes: `read-at-rest`, `write-at-rest`, `overflow`, `underflow`.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { native } from "../../src/core/_native.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process?: { argv: string[] };
};
const mode = host.Deno?.args[0] ?? host.process!.argv[2];

const buffer = SecretBuffer.random(32);
let view: Uint8Array | undefined;
buffer.read((bytes) => {
  view = bytes;
});
console.log(`address 0x${buffer.address.toString(16)}`);

let value = 0;
switch (mode) {
  case "read-at-rest":
    value = view![0];
    break;
  case "write-at-rest":
    view![0] = 1;
    break;
  case "overflow":
    // One byte past the end, written natively while the buffer is open.
    buffer.protect("readwrite");
    native().wipe(buffer.address + BigInt(buffer.size), 1);
    break;
  case "underflow": {
    // Before the canary and the slack: the leading guard page.
    buffer.protect("readwrite");
    const pageSize = native().pageSize;
    native().wipe(buffer.address - BigInt(pageSize), 1);
    break;
  }
}
console.log(`survived ${value}`);
