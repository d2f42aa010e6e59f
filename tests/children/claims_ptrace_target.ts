/**
 * Child for tests/claims_memory_test.ts: holds a secret-memory buffer and
 * an anonymous one, both filled with the same marker (not a secret: the
 * test compares what it reads from outside), prints their addresses and
 * its pid as one JSON line, and waits to be killed.
 *
 * @module
 */

import { SecretBuffer } from "../../mod.ts";

const secret = SecretBuffer.alloc(32, { backend: "secretmem" });
const anonymous = SecretBuffer.alloc(32);
for (const buffer of [secret, anonymous]) {
  buffer.write((bytes) => bytes.fill(0x5a));
}
const host = globalThis as unknown as { process: { pid: number } };
console.log(JSON.stringify({
  pid: host.process.pid,
  secret: String(secret.address),
  anonymous: String(anonymous.address),
}));
// Keep both reachable: a dropped buffer is wiped and unmapped by the
// finalizer, which Bun's collector runs within seconds.
setInterval(() => void (secret.size + anonymous.size), 1000);
