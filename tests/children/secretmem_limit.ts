/**
 * Child for the secretmem lock-limit test, run without CAP_IPC_LOCK under a
 * small RLIMIT_MEMLOCK: allocates secret-memory buffers until the limit
 * refuses one, then asks `auto` for one more. Prints one JSON line; a
 * SIGBUS instead would mean the limit struck at first touch.
 *
 * @module
 */

import { SecretBuffer, type SecretMemoryError, stats } from "../../mod.ts";

const held: SecretBuffer[] = [];
let code = "none";
try {
  for (let i = 0; i < 1000; i++) {
    const buffer = SecretBuffer.alloc(64, { backend: "secretmem" });
    buffer.write((bytes) => bytes.fill(7));
    held.push(buffer);
  }
} catch (error) {
  code = (error as SecretMemoryError).code;
}
const atLimit = stats();
const auto = SecretBuffer.alloc(64, { backend: "auto", lock: "best-effort" });
const autoBackend = auto.backend;
const autoLocked = stats().lockedBytes > atLimit.lockedBytes;
auto.destroy();
const readable = held.every((b) => b.read((bytes) => bytes[63] === 7));
for (const buffer of held) buffer.destroy();
console.log(JSON.stringify({
  allocated: held.length,
  code,
  liveAtLimit: atLimit.liveBuffers,
  secretmemAtLimit: atLimit.secretmemBuffers,
  autoBackend,
  autoLocked,
  readable,
  liveAfter: stats().liveBuffers,
}));
