/**
 * Child for the age forensic test: encrypts a random guarded plaintext to
 * an X25519 identity 50 times, decrypts each file, then scans this
 * process's present pages for the plaintext, the identity's scalar and
 * one file key (recovered into guarded memory by unwrapping a stanza by
 * hand), as bytes and as boxed 32-bit words: first alive and at rest (no
 * forced GC) outside their own guarded pages, then after every buffer is
 * destroyed. Control: a heap array is found on the heap. Prints one JSON
 * line.
 *
 * @module
 */

import { SecretBuffer, stats } from "../../mod.ts";
import { hkdf } from "../../crypto.ts";
import { ageDecrypt, ageEncrypt } from "../../age.ts";
import { X25519Key } from "../../keys.ts";
import { openInto, spanOf } from "../../src/crypto/_aead.ts";
import { needleOf } from "../_forensics.ts";
import { type Needle, scanMemoryAll } from "../../src/doctor/_scan.ts";
import { boxedWordNeedles } from "../_boxed.ts";

const before = stats();
const control = new Uint8Array(48).map((_, i) => (i * 151 + 7) & 0xff);
const scalar = SecretBuffer.random(32);
const identity = X25519Key.fromBytes(scalar);
// The key keeps its own guarded copy of the scalar (found once, alive).
const scalarNeedle = needleOf(scalar);
scalar.destroy();
const plaintext = SecretBuffer.random(70_000);
const outputs: SecretBuffer[] = [];
let file: Uint8Array = new Uint8Array(0);
for (let i = 0; i < 20; i++) {
  file = ageEncrypt(plaintext, { recipients: [identity.ageRecipient] });
  const out = ageDecrypt(file, { identities: [identity] });
  if (i === 0) outputs.push(out);
  else out.destroy();
}

// The last file's key, unwrapped by hand into guarded memory.
const header = new TextDecoder().decode(file.subarray(0, 200)).split("\n");
const b64 = (s: string) =>
  Uint8Array.from(
    atob(s + "=".repeat((4 - s.length % 4) % 4)),
    (c) => c.charCodeAt(0),
  );
const share = b64(header[1].split(" ")[2]);
const body = b64(header[2]);
const fileKey = SecretBuffer.alloc(16);
{
  using shared = identity.agree(share);
  using wrap = hkdf("SHA-256", shared, {
    salt: new Uint8Array([...share, ...identity.publicKey]),
    info: new TextEncoder().encode("age-encryption.org/v1/X25519"),
    length: 32,
  });
  const ok = fileKey.write((fk) =>
    wrap.read((k) =>
      openInto(
        spanOf(k),
        spanOf(new Uint8Array(12)),
        spanOf(new Uint8Array(0)),
        spanOf(body),
        fk,
        0,
      )
    )
  );
  if (!ok) throw new Error("could not unwrap the file key");
}

const names = ["plaintext", "scalar", "fileKey"];
const needles: Needle[] = [
  needleOf(plaintext),
  scalarNeedle,
  needleOf(fileKey),
];
// The plaintext's first 256 bytes as boxed words (the whole of it is too many needles).
const boxedPlain = plaintext.read((b) => boxedWordNeedles(b.subarray(0, 256)));
const boxedKeys = fileKey.read((b) => boxedWordNeedles(b));
const live = [plaintext, fileKey, ...outputs];
const own = live.map((b) =>
  [b.address, b.address + BigInt(b.size)] as [bigint, bigint]
);
const outside = (hits: bigint[]) =>
  hits.filter((a) => !own.some(([s, e]) => s <= a && a < e)).length;

const all = scanMemoryAll([...needles, ...boxedPlain, ...boxedKeys]);
const alive: Record<string, number> = {};
names.forEach((n, i) => alive[n] = outside(all[i].hits));
const boxedAlive = all.slice(names.length).reduce(
  (s, r) => s + outside(r.hits),
  0,
);

identity.destroy();
for (const buffer of live) buffer.destroy();
const after = scanMemoryAll([
  ...needles,
  needleOf(control),
  ...boxedPlain,
  ...boxedKeys,
]);
const destroyed: Record<string, number> = {};
names.forEach((n, i) => destroyed[n] = after[i].hits.length);
const boxedDestroyed = after.slice(names.length + 1).reduce(
  (s, r) => s + r.hits.length,
  0,
);

console.log(JSON.stringify({
  alive,
  destroyed,
  boxedAlive,
  boxedDestroyed,
  heapControl: after[names.length].hits.length,
  statsRestored: JSON.stringify(stats()) === JSON.stringify(before),
}));
