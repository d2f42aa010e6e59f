/**
 * Child of tests/startup_globals_test.ts: imports the main entry, then
 * replaces the runtime's public generator (as a polyfill or a hostile
 * dependency loaded later would), then imports the crypto entry and
 * encrypts twice under one key. Prints how often the replaced generator
 * was called and whether the two nonces differ, as JSON.
 *
 * @module
 */

const { SecretBuffer } = await import("../../mod.ts");

const host = globalThis as unknown as {
  crypto: { getRandomValues(view: Uint8Array): Uint8Array };
};
let replacedCalls = 0;
// The same bytes every time: a nonce from here repeats.
host.crypto.getRandomValues = (view: Uint8Array) => {
  replacedCalls++;
  return view.fill(7);
};

const { encrypt } = await import("../../crypto.ts");
using key = SecretBuffer.random(32);
const plaintext = new Uint8Array(4);
const first = encrypt(key, plaintext.slice()).slice(0, 24);
const second = encrypt(key, plaintext.slice()).slice(0, 24);
console.log(JSON.stringify({
  replacedCalls,
  noncesDiffer: first.some((byte, i) => byte !== second[i]),
}));
