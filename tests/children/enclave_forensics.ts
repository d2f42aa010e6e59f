/**
 * Child for the Enclave forensic test: seals a random secret of the size
 * given as argument, opens it, destroys the opened buffer, destroys the
 * enclave, and after each step scans this process's present pages for the
 * plaintext, the key, the keystream that covers the plaintext (which, with
 * the heap ciphertext, would give the plaintext back), and the enclave's
 * HChaCha20 subkey (derived material the cipher library may leave), and
 * the Poly1305 one-time key block (counter 0), reported and, since the
 * cipher core keeps it in guarded memory, required absent too. Live guarded
 * buffers are excluded. A fresh process, so no other test's heap muddies
 * the figures. Prints one JSON line.
 *
 * @module
 */

import { SecretBuffer, stats } from "../../mod.ts";
import { Enclave } from "../../enclave.ts";
import { currentCoffer } from "../../src/enclave/_coffer.ts";
import { ciphertextForTesting } from "../../src/enclave/enclave.ts";
import { ChaCha } from "../../src/crypto/_chacha.ts";
import { chachaBlock } from "../_chacha_block.ts";
import { needleOf } from "../_forensics.ts";
import {
  type Needle,
  scanMemory,
  scanMemoryAll,
} from "../../src/doctor/_scan.ts";
import { boxedWordNeedles } from "../_boxed.ts";

const host = globalThis as unknown as {
  Deno?: { args: string[] };
  process: { argv: string[] };
};
const size = Number(host.Deno?.args[0] ?? host.process.argv[2]);
const NONCE = 24;

const before = stats();
const source = SecretBuffer.random(size);
const plaintext = needleOf(source);
const enclave = Enclave.seal(source);
const coffer = currentCoffer();
// The key as a needle, formed only in guarded memory.
const key = (() => {
  using whole = SecretBuffer.alloc(32);
  whole.write((bytes) => coffer.deriveInto(bytes));
  return needleOf(whole);
})();
const halves = coffer.halvesForTesting().map((half): [bigint, bigint] => [
  half.address,
  half.address + BigInt(half.size),
]);
// The enclave's subkey, derived in guarded memory by the core's
// HChaCha20 (whose state is guarded too), and the ChaCha20 block at
// counter 0 under it: its first 32 bytes are the Poly1305 one-time key.
const [subkey, oneTimeKey] = (() => {
  using work = SecretBuffer.alloc(256, { placement: "start" });
  return work.write((bytes) => {
    coffer.deriveInto(bytes.subarray(0, 32));
    const nonce = ciphertextForTesting(enclave)!.subarray(0, 24);
    const word =
      (nonce[0] | nonce[1] << 8 | nonce[2] << 16 | nonce[3] << 24) >>> 0;
    const chacha = new ChaCha(bytes, 128);
    chacha.init(bytes, 0, word, nonce, 4);
    chacha.subkeyInto(bytes, 32);
    chacha.wipe();
    bytes.fill(0, 0, 32);
    const tail = new Uint8Array(12);
    tail.set(nonce.subarray(16), 4);
    chachaBlock(bytes.subarray(32, 64), tail, 0, bytes.subarray(64));
    return [needleOf(bytes.subarray(32, 64)), needleOf(bytes.subarray(64, 96))];
  });
})();

const count = (needle: Needle, exclude: [bigint, bigint][] = []) =>
  scanMemory(needle, [...halves, ...exclude]).hits.length;

// The key's and the subkey's words as numbers an interpreter boxes (V8
// does, above the small-integer range): built in guarded memory.
const boxed: Needle[] = (() => {
  using work = SecretBuffer.alloc(64, { placement: "start" });
  return work.write((bytes) => {
    coffer.deriveInto(bytes.subarray(0, 32));
    const nonce = ciphertextForTesting(enclave)!.subarray(0, 24);
    const word =
      (nonce[0] | nonce[1] << 8 | nonce[2] << 16 | nonce[3] << 24) >>> 0;
    using state = SecretBuffer.alloc(128, { placement: "start" });
    state.write((area) => {
      const chacha = new ChaCha(area, 0);
      chacha.init(bytes, 0, word, nonce, 4);
      chacha.subkeyInto(bytes, 32);
    });
    return boxedWordNeedles(bytes);
  });
})();
const boxedCount = () =>
  scanMemoryAll(boxed).reduce((sum, result) => sum + result.hits.length, 0);

const report: Record<string, unknown> = { size };
report.sourceDestroyed = source.state === "destroyed";
report.afterSeal = {
  plaintext: count(plaintext),
  key: count(key),
  subkey: count(subkey),
  keyWordsBoxed: boxedCount(),
};
report.oneTimeKey = { afterSeal: count(oneTimeKey) };

const opened = enclave.open();
const openedRange: [bigint, bigint] = [
  opened.address,
  opened.address + BigInt(size),
];
// The keystream over the plaintext, as ciphertext XOR plaintext XOR mask:
// the heap holds only that masked form.
const ciphertext = ciphertextForTesting(enclave)!;
const keystream: Needle = opened.read((bytes) => {
  const mask = plaintext.mask;
  const masked = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    masked[i] = ciphertext[NONCE + i] ^ bytes[i] ^ mask[i];
  }
  return { masked, mask };
});
report.opened = {
  matches: opened.read((bytes) =>
    bytes.every((b, i) => b === (plaintext.masked[i] ^ plaintext.mask[i]))
  ),
  // The control: the scan does see the plaintext in the opened buffer.
  plaintextInOpened:
    scanMemory(plaintext, halves).hits.filter((a) =>
      a >= openedRange[0] && a < openedRange[1]
    ).length,
  plaintextElsewhere: count(plaintext, [openedRange]),
  key: count(key),
  keystreamOverPlaintext: count(keystream),
  subkey: count(subkey),
  keyWordsBoxed: boxedCount(),
};
(report.oneTimeKey as Record<string, number>).opened = count(oneTimeKey);
opened.destroy();
report.afterOpenedDestroyed = {
  plaintext: count(plaintext),
  key: count(key),
  keystreamOverPlaintext: count(keystream),
  subkey: count(subkey),
};
enclave.destroy();
report.afterEnclaveDestroyed = {
  plaintext: scanMemory(plaintext).hits.length,
  key: scanMemory(key).hits.length,
  keystreamOverPlaintext: scanMemory(keystream).hits.length,
  subkey: scanMemory(subkey).hits.length,
  keyWordsBoxed: boxedCount(),
};
(report.oneTimeKey as Record<string, number>).afterEnclaveDestroyed =
  scanMemory(oneTimeKey).hits.length;
const control = new Uint8Array(size).map((_, i) => (i * 151 + 7) & 0xff);
report.heapControl = scanMemory(needleOf(control)).hits.length;
report.statsRestored = JSON.stringify(stats()) === JSON.stringify(before);
console.log(JSON.stringify(report));
