/**
 * Child for the crypto forensic test. Runs one function of `./crypto`
 * (argument 1: hmac, hkdf, scrypt, scryptSync, encrypt, decrypt, or the
 * keyed contexts: hmacKey (mac and verify, SHA-256 and SHA-512, both
 * rests), aeadKey (encrypt and decrypt, both rests)) once or under load
 * (argument 2: "once" or "load": 4,000 calls from 32 concurrent async
 * tasks, 10,000 for the contexts), then scans this process's present pages for every secret
 * involved: first while they are alive and at rest, without forcing a GC,
 * leaving out their own guarded pages; then after every SecretBuffer is
 * destroyed, leaving out nothing. Also looks for the key XOR the HMAC
 * pads (the padded key blocks) and, for encryption, the keystream over the
 * plaintext, for hmacKey the two keyed SHA-256 states a context keeps
 * (found once, in the context's own slot, while it lives), and for each
 * secret's 32-bit words as the 8-byte doubles an
 * interpreter boxes numbers into (V8 does, for a number that is not a
 * small integer). Controls: each live secret is found in its own pages, and a
 * heap array is found on the heap, and "leak" (a plain heap copy of the
 * key) must be seen. Prints one JSON line.
 *
 * @module
 */

import { SecretBuffer, stats } from "../../mod.ts";
import {
  type AeadKey,
  aeadKey,
  decrypt,
  encrypt,
  hkdf,
  hmac,
  type HmacKey,
  hmacKey,
  scrypt,
  scryptSync,
} from "../../crypto.ts";
import { hmacKeyRange } from "../../src/crypto/hmac_key.ts";
import { aeadKeyRange } from "../../src/crypto/aead_key.ts";
import { Hmac } from "../../src/crypto/_hmac.ts";
import { SHA256 } from "../../src/crypto/_sha2.ts";
import { withWork } from "../../src/crypto/_work.ts";
import { needleOf } from "../_forensics.ts";
import { type Needle, scanMemoryAll } from "../../src/doctor/_scan.ts";
import {
  boxedWordNeedles,
  countBoxed,
  leakOneWord,
  underLoad,
} from "../_boxed.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const args = host.Deno?.args ?? host.process.argv.slice(2);
const fn = args[0];
const load = args[1] === "load";
const TASKS = 32;
const contexts = fn === "hmacKey" || fn === "aeadKey";
const CALLS = load ? (contexts ? 10_000 : 4000) : 1;

const before = stats();
const control = new Uint8Array(48).map((_, i) => (i * 151 + 7) & 0xff);
const salt = new TextEncoder().encode("forensic salt");
const info = new TextEncoder().encode("forensic info");
const scryptParams = { salt, N: 16, r: 1, p: 1, length: 32 };

const key = SecretBuffer.random(32);
const plaintext = SecretBuffer.random(48);
const passphrase = SecretBuffer.random(20);
const live: SecretBuffer[] = [key, plaintext, passphrase];
let message: Uint8Array | undefined;
// The contexts under test, made on the first call; destroyed before the
// second scan.
let macKeys: HmacKey[] | undefined;
let sealKeys: AeadKey[] | undefined;
// The negative control's copies, kept alive on purpose.
const leaked: Uint8Array[] = [];
let leakedWord = 0;

/** One call of the function under test; what it returns, kept or not. */
async function call(keep: boolean): Promise<void> {
  let out: SecretBuffer | undefined;
  switch (fn) {
    case "hmac":
      hmac("SHA-256", key, plaintext);
      hmac("SHA-512", key, plaintext);
      break;
    case "hkdf":
      out = hkdf("SHA-256", key, { salt, info, length: 32 });
      break;
    case "scrypt":
      out = await scrypt(passphrase, scryptParams);
      break;
    case "scryptSync":
      out = scryptSync(passphrase, scryptParams);
      break;
    case "encrypt":
      message = encrypt(key, plaintext, { aad: salt });
      break;
    case "decrypt":
      message ??= encrypt(key, plaintext, { aad: salt });
      out = decrypt(key, message, { aad: salt });
      break;
    case "hmacKey": {
      macKeys ??= [
        hmacKey("SHA-256", key),
        hmacKey("SHA-256", key, { rest: "readwrite" }),
        hmacKey("SHA-512", key),
      ];
      for (const context of macKeys) {
        const tag = context.mac(plaintext);
        if (!context.verify(plaintext, tag)) throw new Error("verify failed");
      }
      break;
    }
    case "aeadKey": {
      sealKeys ??= [aeadKey(key), aeadKey(key, { rest: "readwrite" })];
      message = sealKeys[0].encrypt(plaintext, { aad: salt });
      out = sealKeys[1].decrypt(message, { aad: salt });
      break;
    }
    case "leak":
      // Not a crypto call: a plain heap copy, which the scan must see.
      if (leaked.length === 0) leaked.push(key.read((k) => k.slice()));
      // And one key word as an unsigned number, which V8 boxes: the
      // first word whose top bit is set.
      if (leakedWord === 0) leakedWord = key.read(leakOneWord);
      break;
    default:
      throw new Error(`unknown function ${fn}`);
  }
  if (out === undefined) return;
  if (keep) live.push(out);
  else out.destroy();
}

await call(true);
await underLoad(TASKS, CALLS, () => call(false));

/** `secret` XOR a constant byte, as a needle (the padded key blocks). */
const xorNeedle = (secret: SecretBuffer, byte: number): Needle => {
  const needle = needleOf(secret);
  return {
    masked: needle.masked.map((b) => b ^ byte),
    mask: needle.mask,
  };
};

const needles: Record<string, Needle> = {
  key: needleOf(key),
  keyXorIpad: xorNeedle(key, 0x36),
  keyXorOpad: xorNeedle(key, 0x5c),
  plaintext: needleOf(plaintext),
  passphrase: needleOf(passphrase),
};
if (live.length > 3) needles.output = needleOf(live[3]);
// The keyed SHA-256 states an HMAC context keeps (inner, outer), made the
// way the context makes them, in guarded memory.
const states: SecretBuffer[] = [];
if (fn === "hmacKey") {
  const inner = SecretBuffer.alloc(32);
  const outer = SecretBuffer.alloc(32);
  withWork(Hmac.size(SHA256) + 64, (area) => {
    const mac = new Hmac(SHA256, area, 0);
    key.read((k) => mac.init(k, 0, 32));
    mac.saveKeyed(area, Hmac.size(SHA256));
    const at = Hmac.size(SHA256);
    inner.write((b) => {
      for (let i = 0; i < 32; i++) b[i] = area[at + i];
    });
    outer.write((b) => {
      for (let i = 0; i < 32; i++) b[i] = area[at + 32 + i];
    });
  });
  states.push(inner, outer);
  needles.innerState = needleOf(inner);
  needles.outerState = needleOf(outer);
}
if ((fn === "encrypt" || fn === "aeadKey") && message !== undefined) {
  // Ciphertext XOR plaintext XOR mask: the heap holds only that.
  const sealed = message;
  needles.keystream = plaintext.read((bytes) => {
    const mask = needles.plaintext.mask;
    return {
      masked: bytes.map((b, i) => sealed[24 + i] ^ b ^ mask[i]),
      mask,
    };
  });
}
const names = Object.keys(needles);

// Words of each secret as numbers an interpreter boxed on its heap (both
// byte orders, signed and unsigned), and the key and the passphrase XOR
// the HMAC pads (they are HMAC keys).
const boxed: Record<string, Needle[]> = {};
const boxedOf = (buffer: SecretBuffer, xors: number[]) =>
  buffer.read((bytes) => xors.flatMap((x) => boxedWordNeedles(bytes, x)));
boxed.key = boxedOf(key, [0, 0x36, 0x5c]);
boxed.plaintext = boxedOf(plaintext, [0]);
boxed.passphrase = boxedOf(passphrase, [0, 0x36, 0x5c]);
if (live.length > 3) boxed.output = boxedOf(live[3], [0]);
if (fn === "hmacKey") {
  boxed.innerState = boxedOf(states[0], [0]);
  boxed.outerState = boxedOf(states[1], [0]);
}
if ((fn === "encrypt" || fn === "aeadKey") && message !== undefined) {
  // The keystream words over the plaintext, formed in guarded memory.
  const sealed = message;
  using stream = SecretBuffer.alloc(48);
  stream.write((out) =>
    plaintext.read((bytes) => {
      for (let i = 0; i < 48; i++) out[i] = sealed[24 + i] ^ bytes[i];
    })
  );
  boxed.keystream = boxedOf(stream, [0]);
}
const boxedNames = Object.keys(boxed);
const boxedNeedles = boxedNames.flatMap((name) => boxed[name]);
const boxedCounts = (results: { hits: bigint[] }[]) =>
  countBoxed(boxed, results);

const ranges = (buffers: SecretBuffer[]) =>
  buffers.map((b) =>
    [b.address, b.address + BigInt(b.size)] as [bigint, bigint]
  );

// The contexts' own slots: guarded memory where their state belongs.
const contextRanges = [
  ...(macKeys ?? []).map((k) => hmacKeyRange(k)!),
  ...(sealKeys ?? []).map((k) => aeadKeyRange(k)!),
];
const owners: Record<string, SecretBuffer | undefined> = {
  key,
  plaintext,
  passphrase,
  output: live[3],
};
// Alive, at rest, no forced GC: hits outside the live guarded pages.
const all = scanMemoryAll([...names.map((n) => needles[n]), ...boxedNeedles]);
const boxedAlive = boxedCounts(all.slice(names.length));
const own = [...ranges(live), ...ranges(states), ...contextRanges];
const alive: Record<string, number> = {};
const inOwnPage: Record<string, number> = {};
const inContexts: Record<string, number> = {};
const expectedInContexts: Record<string, number> = {};
names.forEach((name, i) => {
  const hits = all[i].hits;
  alive[name] = hits.filter((a) => !own.some(([s, e]) => s <= a && a < e))
    .length;
  const owner = owners[name];
  if (owner !== undefined && name in needles) {
    const [[s, e]] = ranges([owner]);
    inOwnPage[name] = hits.filter((a) => s <= a && a < e).length;
  }
  // Each context holds its state once, in its own slot: the key for an
  // aeadKey, the keyed states for the SHA-256 hmacKeys (two of them).
  const held = fn === "aeadKey" && name === "key"
    ? 2
    : fn === "hmacKey" && name.endsWith("State")
    ? 2
    : 0;
  if (held > 0) {
    inContexts[name] = hits.filter((a) =>
      contextRanges.some(([s, e]) => s <= a && a < e)
    ).length;
    expectedInContexts[name] = held;
  }
});

for (const context of [...(macKeys ?? []), ...(sealKeys ?? [])]) {
  context.destroy();
}
for (const state of states) state.destroy();

for (const buffer of live) buffer.destroy();
const after = scanMemoryAll([
  ...names.map((n) => needles[n]),
  needleOf(control),
  ...boxedNeedles,
]);
const boxedDestroyed = boxedCounts(after.slice(names.length + 1));
const destroyed: Record<string, number> = {};
names.forEach((name, i) => destroyed[name] = after[i].hits.length);

console.log(JSON.stringify({
  fn,
  calls: CALLS,
  alive,
  destroyed,
  inOwnPage,
  inContexts,
  expectedInContexts,
  boxedAlive,
  boxedDestroyed,
  leakedWord: leakedWord !== 0,
  heapControl: after[names.length].hits.length,
  scannedBytes: after[0].bytesScanned,
  statsRestored: JSON.stringify(stats()) === JSON.stringify(before),
}));
