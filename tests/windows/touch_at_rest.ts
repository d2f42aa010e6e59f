/**
 * Child for the Windows fence tests: prints the address it is about to
 * touch, then touches memory that must fault. Modes: `start` and `end`
 * (the first user byte at rest, for each placement) and `guard` (the
 * trailing guard page, from inside an open scope) and `quarantined` (a
 * destroyed buffer whose view escaped, so its range stays reserved).
 * Reaching the last line means the fence failed.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";
import { native } from "../../src/core/_native.ts";

const mode = (globalThis as unknown as { process: { argv: string[] } })
  .process.argv[2];

if (mode === "guard") {
  const key = SecretBuffer.alloc(32);
  key.read(() => {
    const guard = key.address + BigInt(key.size);
    console.log(`touch 0x${guard.toString(16)}`);
    console.log(new Uint8Array(native().view(guard, 1))[0]);
  });
} else if (mode === "quarantined") {
  const key = SecretBuffer.alloc(32);
  key.read((view) => void (view.buffer as ArrayBuffer).transfer());
  const address = key.address;
  key.destroy();
  console.log(`touch 0x${address.toString(16)}`);
  console.log(new Uint8Array(native().view(address, 1))[0]);
} else {
  const placement = mode === "start" ? "start" : "end";
  const key = SecretBuffer.from(new Uint8Array(32).fill(7), { placement });
  let kept: Uint8Array = new Uint8Array(0);
  key.read((bytes) => {
    kept = bytes;
  });
  console.log(`touch 0x${key.address.toString(16)}`);
  console.log(kept[0]);
}
console.log("survived");
