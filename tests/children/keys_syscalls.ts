/**
 * Child for tests/keys_syscalls_test.ts, run under `strace -f -c`: sets
 * up, warms up, then repeats one workload `count` times, so that a run
 * with count 0 has the same start-up and the difference is the workload's.
 *
 * Usage: keys_syscalls.ts <workload> <count>
 * - sign: `Ed25519Key.sign` of 64 bytes
 * - verify: `ed25519Verify` of that signature
 * - agree: `X25519Key.agree`, and the shared secret destroyed
 *
 * @module
 */

import { Ed25519Key, ed25519Verify, X25519Key } from "../../keys.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const [workload, countText] = host.Deno?.args ?? host.process.argv.slice(2);
const count = Number(countText);

const signer = Ed25519Key.generate();
const message = new Uint8Array(64).fill(7);
const signature = signer.sign(message);
const publicKey = signer.publicKey;
const agreer = X25519Key.generate();
const peer = X25519Key.generate().publicKey;
const one: Record<string, () => void> = {
  sign: () => void signer.sign(message),
  verify: () => {
    if (!ed25519Verify(publicKey, message, signature)) throw new Error("bad");
  },
  agree: () => agreer.agree(peer).destroy(),
};
const step = one[workload];
if (step === undefined) throw new Error(`unknown workload ${workload}`);
// Warm-up: loads the native layer, maps the work areas, fills the canary
// pool and lets the JIT settle.
for (let i = 0; i < 64; i++) step();
for (let i = 0; i < count; i++) step();
signer.destroy();
agreer.destroy();
console.log(`done ${workload} ${count}`);
