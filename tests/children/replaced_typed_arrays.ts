/**
 * Child of tests/hostile_replaced_constructor_test.ts: imports the main
 * and keys entries, then replaces every typed-array constructor the
 * library uses with a recorder before the first secret (so the process
 * table, the first pool arena and the Ed25519 tables are made after the
 * replacement), and prints how often each was called, as JSON.
 *
 * @module
 */

const { SecretBuffer, SecretPool } = await import("../../mod.ts");
const { Ed25519Key, ed25519Verify } = await import("../../keys.ts");
const message = new Uint8Array(16);

const names = [
  "Uint8Array",
  "Int8Array",
  "Uint16Array",
  "Int32Array",
  "Uint32Array",
  "BigInt64Array",
  "Float64Array",
] as const;
const calls: Record<string, number> = {};
const host = globalThis as unknown as Record<string, unknown>;
for (const name of names) {
  calls[name] = 0;
  const Real = host[name] as new (...args: unknown[]) => object;
  host[name] = class extends Real {
    constructor(...args: unknown[]) {
      calls[name]++;
      super(...args);
    }
  };
}

using secret = SecretBuffer.random(32);
secret.read(() => {});
using pool = new SecretPool();
using slot = pool.alloc(32);
slot.write(() => {});
using key = Ed25519Key.generate();
const signature = key.sign(message);
const valid = ed25519Verify(key.publicKey, message, signature);
console.log(JSON.stringify({ calls, valid }));
