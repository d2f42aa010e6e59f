/**
 * Child for tests/claims_decode_test.ts: `atob` is replaced, before secmem
 * loads, by one that counts its calls and then decodes as the original
 * does, so a decoder that used it (taken at load or looked up later) is
 * counted. Decodes a random 32-byte key from base64 and from hex, builds a
 * masked needle of it, destroys the buffers and scans the process's
 * memory. Mode `control` also keeps the key as `atob` decodes it (a heap
 * copy, which the scan must find). Prints `equal B atob S/T copies N`:
 * S calls of `atob` while secmem decoded, T in all (the control's own).
 *
 * Usage: claims_decode.ts <plain|control>
 *
 * @module
 */

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
  atob(text: string): string;
};
const [mode] = host.Deno?.args ?? host.process.argv.slice(2);

const original = host.atob;
let calls = 0;
host.atob = (text: string) => {
  calls++;
  return original(text);
};
const { SecretBuffer } = await import("../../mod.ts");
const { scanMemory } = await import("../../src/doctor/_scan.ts");
const { needleOf } = await import("../_forensics.ts");

// The key's text, built character by character from a guarded key, so no
// byte array or binary string of the key is ever on the heap.
const ALPHABET =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const source = SecretBuffer.random(32);
const [hex, base64] = source.read((key) => {
  let hex = "";
  let base64 = "";
  for (const byte of key) hex += byte.toString(16).padStart(2, "0");
  for (let i = 0; i < key.length; i += 3) {
    const n = (key[i] << 16) | ((key[i + 1] ?? 0) << 8) | (key[i + 2] ?? 0);
    base64 += ALPHABET[n >> 18] + ALPHABET[(n >> 12) & 63] +
      (i + 1 < key.length ? ALPHABET[(n >> 6) & 63] : "=") +
      (i + 2 < key.length ? ALPHABET[n & 63] : "=");
  }
  return [hex, base64];
});

const fromBase64 = SecretBuffer.fromBase64(base64);
const fromHex = SecretBuffer.fromHex(hex);
const needle = needleOf(fromBase64);
const same = fromBase64.equals(fromHex) && source.equals(fromHex);
const atobCalls = calls;
let kept: Uint8Array | undefined;
if (mode === "control") {
  kept = Uint8Array.from(host.atob(base64), (c) => c.charCodeAt(0));
}
fromBase64.destroy();
fromHex.destroy();
source.destroy();
const copies = scanMemory(needle).hits.length;
kept?.fill(0);
console.log(`equal ${same} atob ${atobCalls}/${calls} copies ${copies}`);
