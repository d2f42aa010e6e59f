/**
 * Child of tests/startup_globals_test.ts: makes the globals that some
 * runtimes load lazily (Deno's timers, Node's `crypto` and `performance`)
 * accessors that count their reads, imports the main entry and makes the
 * first secret, then makes nonces through the crypto, Enclave and age
 * entries, and prints the counts at both points as JSON.
 *
 * @module
 */

const host = globalThis as unknown as Record<string, unknown>;
const names = [
  "setTimeout",
  "setImmediate",
  "setInterval",
  "clearInterval",
  "crypto",
] as const;
const reads: Record<string, number> = {};
for (const name of names) {
  reads[name] = 0;
  const slot = Object.getOwnPropertyDescriptor(globalThis, name);
  const read = slot?.get;
  const value = slot?.value;
  Object.defineProperty(globalThis, name, {
    configurable: true,
    get() {
      reads[name]++;
      return read === undefined ? value : Reflect.apply(read, globalThis, []);
    },
  });
}

const { SecretBuffer } = await import("../../mod.ts");
const key = SecretBuffer.random(32);
const atFirstSecret = { ...reads };
// And the modules that make nonces: crypto's encrypt, an Enclave, age.
const { encrypt } = await import("../../crypto.ts");
const { Enclave } = await import("../../enclave.ts");
const { ageEncrypt } = await import("../../age.ts");
const { X25519Key } = await import("../../keys.ts");
encrypt(key, new Uint8Array(4));
Enclave.seal(key).destroy();
using recipient = X25519Key.generate();
ageEncrypt(new Uint8Array(4), { recipients: [recipient.ageRecipient] });
key.destroy();
console.log(
  JSON.stringify({
    reads: atFirstSecret,
    afterNonces: reads,
    named: typeof Object.getOwnPropertyDescriptor(host, "setTimeout")?.get,
  }),
);
